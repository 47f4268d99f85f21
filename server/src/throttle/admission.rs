//! [`RequestLimits`]: what a request may hold before it is handled, and what no flood can take from everyone
//! else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde_json::json;
use tokio::sync::Semaphore;

use super::client_ip::TrustedProxies;
use super::{OpenCounts, RetryLater};

/// What a request may hold before it is handled, and what no flood can take from everyone else.
///
/// A slow client must not hold what others need. Request headers have a deadline of their own (the binary's
/// accept loop); this layer bounds the rest:
///
/// - each client IP has at most [`RequestLimits::max_requests_per_ip`] requests open at once (body reading
///   included); more answer `429` with `Retry-After`;
/// - a request body is read in full *before* the request takes one of the instance's
///   [`max_concurrent_requests`](RequestLimits::max_concurrent_requests) slots, within
///   [`body_timeout`](RequestLimits::body_timeout) (`408` beyond) and
///   [`max_body_bytes`](RequestLimits::max_body_bytes) (`413` beyond). A body sent a byte every few seconds
///   therefore holds one of its own client's slots for at most the body timeout, never a global one;
/// - [`exempt_paths`](RequestLimits::exempt_paths) (`/health`, `/metrics`) pass outside every bound here, so a
///   probe is answered whatever the load.
///
/// ```
/// use fauna_session_server::RequestLimits;
///
/// let app: axum::Router = axum::Router::new();
/// let limits = RequestLimits { max_requests_per_ip: 32, ..RequestLimits::default() };
/// let app = limits.apply(app);
/// # let _ = app;
/// ```
///
/// Every bound is on by default; `0` (or `None`) turns one off. Apply them to the outermost router with
/// [`RequestLimits::apply`] (the binary does), served with connect info so the per-IP bound sees each client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    /// Requests handled at once by the instance (default 1024). Counted once the body is in: more wait.
    pub max_concurrent_requests: usize,
    /// Requests one client IP (IPv6: its /64) may have open at once, from its first byte of body to its answer
    /// (default 128: an office behind one address refreshing 100 tabs at once fits). Beyond: `429`,
    /// `Retry-After: 1`.
    pub max_requests_per_ip: usize,
    /// How long reading a request's body may take (default 10 s). Beyond: `408`.
    pub body_timeout: Option<Duration>,
    /// Largest request body in bytes (default 64 KiB). Beyond: `413`.
    pub max_body_bytes: usize,
    /// Paths outside these bounds (default `/health` and `/metrics`).
    pub exempt_paths: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (default none, as [`RateLimits`](super::RateLimits)).
    pub trusted_proxies: TrustedProxies,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 1024,
            max_requests_per_ip: 128,
            body_timeout: Some(Duration::from_secs(10)),
            max_body_bytes: 64 * 1024,
            exempt_paths: vec!["/health".to_owned(), "/metrics".to_owned()],
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

impl RequestLimits {
    /// `app` with these bounds on every route (and its fallback).
    pub fn apply(&self, app: axum::Router) -> axum::Router {
        let state = Arc::new(Admission {
            limits: self.clone(),
            slots: (self.max_concurrent_requests > 0)
                .then(|| Semaphore::new(self.max_concurrent_requests)),
            open: OpenCounts::new(self.max_requests_per_ip),
        });
        app.layer(axum::middleware::from_fn_with_state(state, admit))
    }
}

struct Admission {
    limits: RequestLimits,
    slots: Option<Semaphore>,
    /// Open requests per client key.
    open: OpenCounts,
}

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
enum BodyRefused {
    TooLarge,
    TooSlow,
    Broken,
}

impl IntoResponse for BodyRefused {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
            Self::TooSlow => (StatusCode::REQUEST_TIMEOUT, "request body too slow"),
            Self::Broken => (StatusCode::BAD_REQUEST, "request body could not be read"),
        };
        (status, Json(json!({ "message": message }))).into_response()
    }
}

/// The whole body, at most `max` bytes (`0`: any size).
async fn read_body(body: Body, max: usize) -> Result<Bytes, BodyRefused> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyRefused::Broken)?;
        if max > 0 && buf.len() + chunk.len() > max {
            return Err(BodyRefused::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

async fn admit(State(admission): State<Arc<Admission>>, req: Request, next: Next) -> Response {
    let limits = &admission.limits;
    if limits.exempt_paths.iter().any(|p| p == req.uri().path()) {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let _client = match peer {
        Some(peer) if limits.max_requests_per_ip > 0 => {
            let ip = limits.trusted_proxies.client_ip(peer, req.headers());
            match admission.open.take(super::per_ip::key(ip)) {
                Some(slot) => Some(slot),
                None => return RetryLater::too_many_requests(1).into_response(),
            }
        }
        _ => None,
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if limits.max_body_bytes > 0 && declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return BodyRefused::TooLarge.into_response();
    }
    let (parts, body) = req.into_parts();
    let reading = read_body(body, limits.max_body_bytes);
    let body = match limits.body_timeout {
        Some(t) => tokio::time::timeout(t, reading)
            .await
            .unwrap_or(Err(BodyRefused::TooSlow)),
        None => reading.await,
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let _slot = match &admission.slots {
        // Never closed, so acquiring only waits.
        Some(slots) => slots.acquire().await.ok(),
        None => None,
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_read_whole_within_their_size() {
        assert_eq!(
            read_body(Body::from("0123456789"), 10).await,
            Ok(Bytes::from("0123456789"))
        );
        assert_eq!(
            read_body(Body::from("0123456789!"), 10).await,
            Err(BodyRefused::TooLarge)
        );
        assert_eq!(
            read_body(Body::from("any"), 0).await,
            Ok(Bytes::from("any"))
        );
    }
}
