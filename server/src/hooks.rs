//! Hooks run around session lifecycle events.
//!
//! The Fauna integration (`fauna` module) implements [`SessionHooks`] to mint a short-lived Fauna token for
//! every session and refresh, and to delete the tokens of revoked sessions. Any other integration can do the
//! same; the default, [`NoHooks`], does nothing.
//!
//! ```
//! use fauna_session_server::hooks::{HookError, SessionHooks, SessionMint};
//!
//! struct AddRole;
//!
//! #[async_trait::async_trait]
//! impl SessionHooks for AddRole {
//!     async fn on_create(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
//!         mint.access_token_payload.insert("role".into(), "reader".into());
//!         Ok(())
//!     }
//! }
//! ```

use std::time::Duration;

use serde_json::{Map, Value};

/// Work run around session lifecycle events (the Fauna integration implements it).
#[async_trait::async_trait]
pub trait SessionHooks: Send + Sync + 'static {
    /// Before a new session is stored. May add claims / session data.
    ///
    /// `Err` ⇒ nothing is stored and the client gets a 503 body.
    async fn on_create(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
        let _ = mint;
        Ok(())
    }

    /// On every successful refresh, before anything is written. Changes are persisted with the refresh and
    /// appear in the new access token.
    ///
    /// `Err` ⇒ nothing is written, the presented refresh token stays usable, and the client gets 503.
    async fn on_refresh(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
        let _ = mint;
        Ok(())
    }

    /// Whether [`on_refresh`](Self::on_refresh) does anything. `false` lets the engine promote a refresh token
    /// in a single database round trip (no row is read first). Default `true`.
    fn runs_on_refresh(&self) -> bool {
        true
    }

    /// After sessions were revoked (sign-out, revoke, revoke-all, theft). Errors are logged, not returned.
    async fn on_revoke(&self, revoked: &[RevokedSession]) {
        let _ = revoked;
    }

    /// Every [`SecurityEvent`](crate::security::SecurityEvent) (sign-ins, failures, rate limits, lockouts,
    /// sign-outs, refreshes, token theft, revocations), e.g. to alert on theft. Default: nothing.
    ///
    /// It is synchronous on purpose and runs on the request's task, after the event is logged and counted:
    /// it cannot hold the request up by awaiting, and must not block either. Send alerts (HTTP, email) from a
    /// task of its own (`tokio::spawn`) or through a bounded channel; see the example on
    /// [`SecurityEvent`](crate::security::SecurityEvent). A panic in it is caught and logged; the request goes
    /// on.
    fn on_security_event(&self, event: &crate::security::SecurityEvent) {
        let _ = event;
    }
}

/// The session being created or refreshed, as a hook sees it.
#[derive(Debug)]
pub struct SessionMint<'a> {
    /// The session's user id.
    pub user_id: &'a str,
    /// The session handle (a UUID v4 string).
    pub session_handle: &'a str,
    /// Lifetime of the access token about to be issued.
    pub access_token_lifetime: Duration,
    /// The app's access-token claims (public: visible to the frontend). Protected claim names are ignored.
    pub access_token_payload: &'a mut Map<String, Value>,
    /// Private session data, stored in the database only.
    pub session_data: &'a mut Map<String, Value>,
}

/// A session that was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSession {
    /// Handle of the revoked session.
    pub session_handle: String,
    /// Its user id.
    pub user_id: String,
    /// The private session data it had when it was revoked (e.g. to find tokens to delete).
    pub session_data: Map<String, Value>,
}

/// Why a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// A service the hook depends on could not be reached or refused the request.
    #[error("{service} unavailable: {cause}")]
    Unavailable {
        /// Name of the service (e.g. `"fauna"`).
        service: &'static str,
        /// Human-readable cause; must not contain secrets.
        cause: String,
    },
}

/// Hooks that do nothing (the default).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl SessionHooks for NoHooks {
    fn runs_on_refresh(&self) -> bool {
        false
    }
}
