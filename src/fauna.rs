//! Fauna requests managed by the session: which requests are Fauna's, when the session's `faunadbToken` must be
//! refreshed before one is sent, what a Fauna answer means for the session, and (feature `serde`) the FQL v10
//! wire format of the Rust client (`Session::fauna`).
//!
//! A request is Fauna's only when its scheme, host and port all equal the configured endpoint's (and its path lies
//! under the endpoint's path): `http://db.example.com` is not `https://db.example.com` nor
//! `http://db.example.com:8443`. Such a request gets `Authorization: Bearer <faunadbToken>` and never the
//! session's own headers.
//!
//! ```
//! use fauna_session::fauna::{FaunaEndpoint, TokenAction, token_action, after_fauna_status, FaunaStep};
//! let fauna = FaunaEndpoint::parse("http://127.0.0.1:8443").unwrap();
//! assert!(fauna.matches("http://127.0.0.1:8443/query/1"));
//! assert!(!fauna.matches("http://127.0.0.1:3001/query/1")); // another port: the session API, not Fauna
//! assert!(!fauna.matches("https://127.0.0.1:8443/query/1")); // another scheme
//! assert_eq!(fauna.query_url(), "http://127.0.0.1:8443/query/1");
//! // The access token expires in 4 s, the app wants 10 s of validity: refresh first.
//! assert_eq!(token_action(1_004_000.0, 1_000_000.0, 10_000.0), TokenAction::RefreshFirst);
//! assert_eq!(token_action(1_060_000.0, 1_000_000.0, 10_000.0), TokenAction::Use);
//! // A Fauna 401 refreshes the session and retries once; a second 401 is the answer.
//! assert_eq!(after_fauna_status(401, false), FaunaStep::RefreshAndRetry);
//! assert_eq!(after_fauna_status(401, true), FaunaStep::Done);
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::scope;

/// Default of [`FaunaConfig::min_validity_seconds`]: a request is sent with a token that lives at least this long.
pub const DEFAULT_MIN_VALIDITY_SECONDS: f64 = 5.0;

/// The status Fauna answers for a missing, expired or revoked secret.
pub const FAUNA_UNAUTHORIZED: u16 = 401;

/// The path of the FQL v10 query endpoint, below the endpoint.
pub const QUERY_PATH: &str = "/query/1";

/// Fauna options of `init` (`fauna: { endpoint, minValiditySeconds }`) and of the Rust `Config`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaunaConfig {
    /// Where Fauna answers, e.g. `https://db.fauna.com` or `http://localhost:8443`.
    pub endpoint: String,
    /// A request is sent only with a token that stays valid at least this long (seconds); below it the session is
    /// refreshed first. Default [`DEFAULT_MIN_VALIDITY_SECONDS`].
    pub min_validity_seconds: f64,
}

impl FaunaConfig {
    /// Fauna at `endpoint`, with the default minimum validity.
    pub fn new(endpoint: impl Into<String>) -> Self {
        FaunaConfig {
            endpoint: endpoint.into(),
            min_validity_seconds: DEFAULT_MIN_VALIDITY_SECONDS,
        }
    }

    /// Validates the endpoint and the minimum validity.
    pub fn normalise(&self) -> Result<FaunaSettings, FaunaConfigError> {
        let endpoint = FaunaEndpoint::parse(&self.endpoint)?;
        let s = self.min_validity_seconds;
        if !s.is_finite() || s < 0.0 {
            return Err(FaunaConfigError::InvalidMinValidity);
        }
        Ok(FaunaSettings {
            endpoint,
            min_validity_ms: s * 1000.0,
        })
    }
}

/// Validated Fauna options.
#[derive(Debug, Clone, PartialEq)]
pub struct FaunaSettings {
    /// Which requests are Fauna's.
    pub endpoint: FaunaEndpoint,
    /// [`FaunaConfig::min_validity_seconds`] in milliseconds.
    pub min_validity_ms: f64,
}

/// Why Fauna options were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FaunaConfigError {
    /// The endpoint is not an absolute `http(s)` URL.
    #[error("fauna.endpoint must be an absolute http or https URL")]
    InvalidEndpoint,
    /// `minValiditySeconds` is negative or not a number.
    #[error("fauna.minValiditySeconds must be a number >= 0")]
    InvalidMinValidity,
}

impl FaunaConfigError {
    /// The error's message without `core::fmt`.
    pub fn message(self) -> &'static str {
        match self {
            FaunaConfigError::InvalidEndpoint => {
                "fauna.endpoint must be an absolute http or https URL"
            }
            FaunaConfigError::InvalidMinValidity => {
                "fauna.minValiditySeconds must be a number >= 0"
            }
        }
    }
}

/// The Fauna endpoint: an origin (scheme, host, port) and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaunaEndpoint {
    origin: String,
    /// `""` for the root, else `/a/b` without a trailing `/`.
    path: String,
}

impl FaunaEndpoint {
    /// Parses an absolute `http(s)` URL (query and fragment are ignored).
    pub fn parse(endpoint: &str) -> Result<Self, FaunaConfigError> {
        let (origin, path) = scope::origin_and_path(endpoint.trim_ascii())
            .ok_or(FaunaConfigError::InvalidEndpoint)?;
        let path = crate::text::trim_end_byte(&path, b'/').to_owned();
        Ok(FaunaEndpoint { origin, path })
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// True if the absolute URL `url` goes to this endpoint: same scheme, host and port, and a path equal to the
    /// endpoint's or below it (segment-wise: `/fauna` does not cover `/faunax`).
    pub fn matches(&self, url: &str) -> bool {
        let Some((origin, path)) = scope::origin_and_path(url) else {
            return false;
        };
        if origin != self.origin {
            return false;
        }
        match path.strip_prefix(self.path.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with("/"),
            None => false,
        }
    }

    /// The FQL v10 query URL, `<endpoint>/query/1`.
    pub fn query_url(&self) -> String {
        let mut s = self.origin.clone();
        s.push_str(&self.path);
        s.push_str(QUERY_PATH);
        s
    }
}

/// What to do with the session's token before sending a Fauna request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    /// The token lives long enough: send it.
    Use,
    /// The token would live less than the minimum validity: refresh the session first.
    RefreshFirst,
}

/// Decides from the access token's expiry (`ate_ms`, server clock; the server mints the `faunadbToken` to outlive
/// the access token, so this is a lower bound of the Fauna token's), the server-clock now and the minimum
/// validity.
pub fn token_action(ate_ms: f64, adjusted_now_ms: f64, min_validity_ms: f64) -> TokenAction {
    if crate::state::valid_for(ate_ms, adjusted_now_ms, min_validity_ms) {
        TokenAction::Use
    } else {
        TokenAction::RefreshFirst
    }
}

/// What to do with a Fauna response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaunaStep {
    /// Hand the response to the caller.
    Done,
    /// The token was refused: refresh the session (single flight, shared with API 401s) and send once more.
    RefreshAndRetry,
}

/// Decides from a Fauna response's status and whether this request was already retried once (never a loop: the
/// second 401 goes to the caller, who sees the driver's `AuthenticationError`).
pub fn after_fauna_status(status: u16, retried: bool) -> FaunaStep {
    if status == FAUNA_UNAUTHORIZED && !retried {
        FaunaStep::RefreshAndRetry
    } else {
        FaunaStep::Done
    }
}

/// `Bearer <secret>`, the `Authorization` value of a Fauna request.
pub fn bearer(secret: &str) -> String {
    let mut s = String::with_capacity(secret.len() + 7);
    s.push_str("Bearer ");
    s.push_str(secret);
    s
}

#[cfg(feature = "serde")]
pub mod wire;
