//! Answers that tell a client to come back later, and the limits that give them.
//!
//! Every such answer is JSON `{"message": …}` with a `Retry-After` header (whole seconds):
//! `429 Too Many Requests` when a limit on the client or the account is reached, `503 Service Unavailable`
//! when the server is at capacity. Neither ends a session: a browser library must retry later.

mod admission;
mod client_ip;
mod open_counts;
pub(crate) mod per_ip;

pub use admission::RequestLimits;
pub use client_ip::TrustedProxies;
pub(crate) use open_counts::{OpenCounts, OpenSlot};
pub use per_ip::RateLimits;
pub(crate) use per_ip::{PerIpLimiter, key as client_key};

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A "come back in `retry_after_secs`" answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetryLater {
    /// 429 or 503.
    pub(crate) status: StatusCode,
    /// The `message` of the body.
    pub(crate) message: &'static str,
    /// `Retry-After`, seconds (at least 1).
    pub(crate) retry_after_secs: u64,
}

impl RetryLater {
    /// `429 {"message": "too many requests"}`.
    pub(crate) fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "too many requests",
            retry_after_secs,
        }
    }

    /// `503 {"message": "server busy"}`: password hashing is at capacity.
    pub(crate) fn busy() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "server busy",
            retry_after_secs: crate::hashing::BUSY_RETRY_AFTER_SECS,
        }
    }
}

impl IntoResponse for RetryLater {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(json!({"message": self.message}))).into_response();
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs.max(1)),
        );
        res
    }
}
