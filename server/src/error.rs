//! Errors of the session engine and how they map onto the FDI wire protocol.

use crate::hooks::HookError;
use crate::store::StoreError;

/// Why a session operation failed. Each variant maps to the protocol's status and body
/// (see [`SessionError::status`] and [`SessionError::body`]).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The access token is missing a piece, expired, or otherwise unusable: the client should refresh.
    /// 401 `{"message":"try refresh token"}`, tokens untouched.
    #[error("try refresh token")]
    TryRefreshToken,
    /// No valid session. 401 `{"message":"unauthorised"}`; tokens cleared when `clear_tokens`.
    #[error("unauthorised")]
    Unauthorised {
        /// Whether the response clears the client's tokens.
        clear_tokens: bool,
    },
    /// A refresh token was reused after its successor was used; the session was revoked.
    /// 401 `{"message":"token theft detected"}`, tokens cleared.
    #[error("token theft detected")]
    TokenTheftDetected {
        /// The revoked session.
        session_handle: String,
        /// Its user.
        user_id: String,
    },
    /// A claim check failed. 403 `{"message":"invalid claim","claimValidationErrors":[…]}`.
    #[error("invalid claim")]
    InvalidClaims(Vec<ClaimValidationError>),
    /// The request was malformed. 400 `{"message":…}`.
    #[error("{0}")]
    BadInput(String),
    /// A session hook (e.g. Fauna) failed. 503; nothing was changed.
    #[error(transparent)]
    Hook(#[from] HookError),
    /// The database failed. 503; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Concurrent requests kept changing the session while this one tried to write it (every compare-and-swap
    /// attempt lost). 503 `{"message":"session busy, try again"}`; nothing was changed.
    #[error("session changed concurrently too often: {0}")]
    Contended(&'static str),
    /// A server-side bug or setup mistake (e.g. the [`Session`](crate::Session) extractor on a route without
    /// [`SessionLayer`](crate::SessionLayer), no signing key loaded). 500 `{"message":"internal error"}`.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// One failed claim check, as sent in an INVALID_CLAIMS body.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClaimValidationError {
    /// Claim id.
    pub id: String,
    /// Why it failed.
    pub reason: serde_json::Value,
}

impl SessionError {
    /// Shorthand for [`SessionError::Unauthorised`] that clears tokens.
    pub(crate) fn unauthorised() -> Self {
        Self::Unauthorised { clear_tokens: true }
    }

    /// HTTP status code of this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::TryRefreshToken | Self::Unauthorised { .. } | Self::TokenTheftDetected { .. } => {
                S::UNAUTHORIZED
            }
            Self::InvalidClaims(_) => S::FORBIDDEN,
            Self::BadInput(_) => S::BAD_REQUEST,
            Self::Hook(_) | Self::Store(_) | Self::Contended(_) => S::SERVICE_UNAVAILABLE,
            Self::Internal(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// JSON body of this error as the protocol defines it.
    pub fn body(&self) -> serde_json::Value {
        use fauna_session_protocol::body;
        use serde_json::json;
        match self {
            Self::TryRefreshToken => json!({"message": body::TRY_REFRESH_TOKEN}),
            Self::Unauthorised { .. } => json!({"message": body::UNAUTHORISED}),
            Self::TokenTheftDetected { .. } => json!({"message": body::TOKEN_THEFT_DETECTED}),
            Self::InvalidClaims(errs) => {
                json!({"message": body::INVALID_CLAIM, "claimValidationErrors": errs})
            }
            Self::BadInput(m) => json!({"message": m}),
            // Only the failing service is named; the cause goes to the log (SessionRejection logs it).
            Self::Hook(HookError::Unavailable { service, .. }) => {
                json!({"message": format!("{service} unavailable")})
            }
            Self::Store(_) => json!({"message": "session store unavailable"}),
            Self::Contended(_) => json!({"message": "session busy, try again"}),
            Self::Internal(_) => json!({"message": "internal error"}),
        }
    }

    /// Whether answering with this error clears the client's tokens.
    pub fn clears_tokens(&self) -> bool {
        match self {
            Self::Unauthorised { clear_tokens } => *clear_tokens,
            Self::TokenTheftDetected { .. } => true,
            _ => false,
        }
    }
}
