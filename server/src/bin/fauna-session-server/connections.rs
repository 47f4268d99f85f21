//! Serving HTTP/1.1 connections with a deadline on reading each request's headers.
//!
//! `axum::serve` sets no timer on hyper, so a client that opens a connection and sends its headers slowly (or
//! nothing at all, or stays idle between keep-alive requests) holds the connection and its task for ever:
//! enough of them exhaust the process's file descriptors. The request timeout (tower-http) only starts once the
//! headers are in. This accept loop gives hyper a timer and a header-read timeout, hands every request its
//! [`ConnectInfo`] (the per-IP limits and the devices read it), caps the connections one client IP holds
//! ([`PerIpConnections`]) and shuts down gracefully.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use fauna_session_server::TrustedProxies;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// How long a graceful shutdown waits for open connections before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// At most `max` open connections per peer address; a trusted proxy's peer address is not capped (its
/// connections carry many clients, which the per-request limits tell apart).
#[derive(Debug, Clone)]
pub(crate) struct PerIpConnections {
    max: usize,
    proxies: TrustedProxies,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open connection of a peer, counted until dropped (with the connection's task).
struct Counted {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl PerIpConnections {
    pub(crate) fn new(max: usize, proxies: TrustedProxies) -> Self {
        Self {
            max,
            proxies,
            open: Arc::default(),
        }
    }

    /// Count a new connection from `ip`: `Err(())` when the peer already has `max` open.
    fn admit(&self, ip: IpAddr) -> Result<Option<Counted>, ()> {
        if self.proxies.trusts(ip) {
            return Ok(None);
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return Err(());
        }
        *n += 1;
        Ok(Some(Counted {
            open: self.open.clone(),
            ip,
        }))
    }
}

/// Serve `app` on `listener` until `shutdown` completes. A connection whose request headers do not arrive
/// within `header_timeout` (from the start of a request, or of the idle time before the next one) is closed;
/// `None` waits for ever. A peer over `cap` has its new connection closed at once.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Option<Duration>,
    cap: Option<PerIpConnections>,
    shutdown: impl Future<Output = ()>,
) {
    let mut refused_logged = std::time::Instant::now() - Duration::from_secs(60);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // E.g. out of file descriptors: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let counted = match cap.as_ref().map(|c| c.admit(peer.ip())) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(counted))) => Some(counted),
            Some(Err(())) => {
                // One line a minute at most: the refusals themselves must not flood the log.
                if refused_logged.elapsed() >= Duration::from_secs(60) {
                    refused_logged = std::time::Instant::now();
                    tracing::warn!(peer = %peer.ip(), "a client IP is at --max-connections-per-ip; its new connections are closed");
                }
                drop(stream);
                continue;
            }
        };
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _counted = counted;
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}
