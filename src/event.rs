//! Session events, fired exactly when the SuperTokens frontend SDK fires them.

use alloc::string::String;

/// Something happened to the session. The JavaScript API passes `{action, userContext, ...}` to `onHandleEvent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A response carried a new front token while no session was known.
    SessionCreated,
    /// A refresh succeeded.
    RefreshSession,
    /// The access-token payload changed (fires before `RefreshSession`).
    AccessTokenPayloadUpdated,
    /// The session ended by a sign-out (or `sign_out` was called without a session).
    SignOut,
    /// The session is gone: `session_expired_or_revoked` is true when a known session was cleared by the backend.
    Unauthorised {
        /// True if a session existed and the backend cleared it; false if a request was made without one.
        session_expired_or_revoked: bool,
    },
    /// A response had the invalid-claim status and listed the failing claims.
    ApiInvalidClaim {
        /// The `claimValidationErrors` array, as JSON text.
        claim_validation_errors: String,
    },
}

impl Event {
    /// The event's `action` name (`"SESSION_CREATED"`, …).
    pub fn action(&self) -> &'static str {
        match self {
            Event::SessionCreated => "SESSION_CREATED",
            Event::RefreshSession => "REFRESH_SESSION",
            Event::AccessTokenPayloadUpdated => "ACCESS_TOKEN_PAYLOAD_UPDATED",
            Event::SignOut => "SIGN_OUT",
            Event::Unauthorised { .. } => "UNAUTHORISED",
            Event::ApiInvalidClaim { .. } => "API_INVALID_CLAIM",
        }
    }
}
