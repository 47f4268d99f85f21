//! [`serve`]: HTTP/1.1 connections with a deadline on reading each request's headers, a cap on connections per
//! client IP and a graceful shutdown — what the `fauna-session-server` binary serves with, offered to embedders.
//!
//! `axum::serve` sets no timer on hyper, so a client that opens a connection and sends its headers slowly (or
//! nothing at all, or stays idle between keep-alive requests) holds the connection and its task for ever:
//! enough of them exhaust the process's file descriptors. The request timeout (tower-http) only starts once the
//! headers are in. This accept loop gives hyper a timer and a header-read timeout, hands every request its
//! [`ConnectInfo`] (the per-IP limits and the devices read it), caps the connections one client IP holds
//! ([`ServeOptions::max_connections_per_ip`]) and shuts down gracefully.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use crate::TrustedProxies;
use crate::throttle::{OpenCounts, OpenSlot};
use axum::Router;
use axum::extract::{ConnectInfo, Request};
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
struct PerIpConnections {
    open: OpenCounts,
    proxies: TrustedProxies,
}

impl PerIpConnections {
    fn new(max: usize, proxies: TrustedProxies) -> Self {
        Self {
            open: OpenCounts::new(max),
            proxies,
        }
    }

    /// Count a new connection from `ip` (held until the slot is dropped, with the connection's task):
    /// `Err(())` when the peer already has `max` open; no slot for a trusted proxy.
    fn admit(&self, ip: IpAddr) -> Result<Option<OpenSlot>, ()> {
        if self.proxies.trusts(ip) {
            return Ok(None);
        }
        self.open.take(ip).map(Some).ok_or(())
    }
}

/// How [`serve`] treats connections. Every bound is on by default.
///
/// ```
/// use std::time::Duration;
/// use fauna_session_server::serve::ServeOptions;
/// let o = ServeOptions::default();
/// assert_eq!(o.header_timeout, Some(Duration::from_secs(30)));
/// assert_eq!(o.max_connections_per_ip, 256);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long a connection may take to send a request's headers, or stay idle between requests, before it
    /// is closed (default 30 s; `None`: for ever). `axum::serve` sets none, so a client that sends its
    /// headers slowly holds its connection (and a file descriptor) for ever.
    pub header_timeout: Option<Duration>,
    /// Connections one peer address may hold; more are closed at once (default 256; `0`: no cap). A trusted
    /// proxy is never capped.
    pub max_connections_per_ip: usize,
    /// Proxies whose connections carry many clients (default none).
    pub trusted_proxies: TrustedProxies,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_timeout: Some(Duration::from_secs(30)),
            max_connections_per_ip: 256,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Serve `app` on `listener` until `shutdown` completes, then wait (at most 10 s) for open connections to
/// finish their requests. Every request carries its [`ConnectInfo`], so the per-IP limits and the devices see
/// each client.
///
/// ```no_run
/// # async fn run(engine: fauna_session_server::SessionEngine) -> std::io::Result<()> {
/// use fauna_session_server::serve::{ServeOptions, serve};
/// let app = fauna_session_server::RequestLimits::default().apply(engine.router().layer(engine.layer()));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
/// serve(listener, app, &ServeOptions::default(), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await;
/// # Ok(()) }
/// ```
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let header_timeout = options.header_timeout;
    let cap = (options.max_connections_per_ip > 0).then(|| {
        PerIpConnections::new(
            options.max_connections_per_ip,
            options.trusted_proxies.clone(),
        )
    });
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
                    tracing::warn!(peer = %peer.ip(), "a client IP is at its connection cap; its new connections are closed");
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
