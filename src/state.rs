//! Pure decisions of the refresh algorithm: local session state, what to do after taking the refresh lock,
//! which event a response causes, retry counting and clock skew.
//!
//! ```
//! use fauna_session::state::{LocalSessionState, after_lock, AfterLock};
//! let pre = LocalSessionState::from_cookies(Some("1700000000000"), Some("front"));
//! // Another caller refreshed while we waited for the lock: just retry.
//! let post = LocalSessionState::from_cookies(Some("1700000000999"), Some("front2"));
//! assert_eq!(after_lock(&pre, &post), AfterLock::Retry);
//! assert_eq!(after_lock(&pre, &pre), AfterLock::Refresh);
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::event::Event;

/// What the frontend cookies say about the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSessionState {
    /// Front token and last-update marker present; carries the marker (compared for equality only).
    Exists(String),
    /// Marker present but no front token: known to be logged out.
    NotExists,
    /// No marker: first visit or wiped cookies; a refresh may recover a session.
    MayExist,
}

impl LocalSessionState {
    /// State from the `st-last-access-token-update` and `sFrontToken` cookie values.
    pub fn from_cookies(last_access_token_update: Option<&str>, front_token: Option<&str>) -> Self {
        match (last_access_token_update, front_token) {
            (Some(l), Some(_)) => LocalSessionState::Exists(l.to_owned()),
            (Some(_), None) => LocalSessionState::NotExists,
            (None, _) => LocalSessionState::MayExist,
        }
    }

    /// True for [`LocalSessionState::Exists`].
    pub fn exists(&self) -> bool {
        matches!(self, LocalSessionState::Exists(_))
    }
}

/// What to do once the refresh lock is held (or could not be taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLock {
    /// Known logged out: give up (fires `UNAUTHORISED{false}` when the lock was held).
    SessionExpired,
    /// Someone else refreshed or logged in meanwhile: retry the request without refreshing.
    Retry,
    /// Call the refresh endpoint.
    Refresh,
}

/// Compares the state seen before the request (`pre`) with the state now (`post`).
pub fn after_lock(pre: &LocalSessionState, post: &LocalSessionState) -> AfterLock {
    match (pre, post) {
        (_, LocalSessionState::NotExists) => AfterLock::SessionExpired,
        (LocalSessionState::Exists(a), LocalSessionState::Exists(b)) if a != b => AfterLock::Retry,
        (LocalSessionState::Exists(_), LocalSessionState::Exists(_)) => AfterLock::Refresh,
        (_, LocalSessionState::Exists(_)) => AfterLock::Retry,
        _ => AfterLock::Refresh,
    }
}

/// Like [`after_lock`] when the lock could not be taken in time: `Refresh` here means "try the lock again".
pub fn lock_timed_out(pre: &LocalSessionState, post: &LocalSessionState) -> AfterLock {
    after_lock(pre, post)
}

/// The event a response's `front-token` header causes (`fireSessionUpdateEventsIfNecessary`).
pub fn session_update_event(
    was_logged_in: bool,
    status: u16,
    front_token_header: Option<&str>,
    session_expired_status_code: u16,
) -> Option<Event> {
    let header = front_token_header?;
    if header == "remove" {
        if !was_logged_in {
            return None;
        }
        if status == session_expired_status_code {
            Some(Event::Unauthorised {
                session_expired_or_revoked: true,
            })
        } else {
            Some(Event::SignOut)
        }
    } else if was_logged_in {
        None
    } else {
        Some(Event::SessionCreated)
    }
}

/// Counts refresh-and-retry cycles of one request against `maxRetryAttemptsForSessionRefresh`.
#[derive(Debug, Clone, Copy)]
pub struct RetryBudget {
    used: u32,
    max: u32,
}

impl RetryBudget {
    /// A budget of `max` refreshes.
    pub fn new(max: u32) -> Self {
        RetryBudget { used: 0, max }
    }
    /// Takes one attempt; false once the budget is spent (the request then fails).
    pub fn take(&mut self) -> bool {
        if self.used >= self.max {
            return false;
        }
        self.used += 1;
        true
    }
    /// Attempts used so far.
    pub fn used(&self) -> u32 {
        self.used
    }
}

/// What an intercepted request does after an attempt's response ([`after_response`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStep {
    /// Hand the response to the caller.
    Done,
    /// The session-expired status with retries left: refresh (single flight) and retry.
    Refresh,
    /// The session-expired status after `maxRetryAttemptsForSessionRefresh` refreshes: fail with the retry limit.
    RetryLimit,
    /// The invalid-claim status: fire `API_INVALID_CLAIM` from the body, then hand the response over.
    InvalidClaim,
}

/// The step after an attempt answered `status`, `refreshes_used` refresh-and-retry cycles into a request
/// (the same budget as [`RetryBudget`]).
pub fn after_response(
    status: u16,
    session_expired_status_code: u16,
    invalid_claim_status_code: u16,
    refreshes_used: u32,
    max_refreshes: u32,
) -> ResponseStep {
    if status == session_expired_status_code {
        if refreshes_used >= max_refreshes {
            ResponseStep::RetryLimit
        } else {
            ResponseStep::Refresh
        }
    } else if status == invalid_claim_status_code {
        ResponseStep::InvalidClaim
    } else {
        ResponseStep::Done
    }
}

/// What a sign-out does with the sign-out endpoint's status ([`sign_out_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutStep {
    /// The session-expired status: the session is gone already (the interceptor cleared it); done.
    SessionGone,
    /// Another non-2xx status: fail with the response.
    Failed,
    /// 2xx: run `postAPIHook`, then check the body for `GENERAL_ERROR`.
    Done,
}

/// The sign-out's step for `status`.
pub fn sign_out_step(status: u16, session_expired_status_code: u16) -> SignOutStep {
    if status == session_expired_status_code {
        SignOutStep::SessionGone
    } else if status >= 300 {
        SignOutStep::Failed
    } else {
        SignOutStep::Done
    }
}

/// Skews smaller than this (ms) are ignored.
pub const CLOCK_SKEW_THRESHOLD_MS: f64 = 7_000.0;

/// Clock skew (server minus client, ms) from a new access token's `iat` (seconds) and the client clock.
pub fn clock_skew_ms(iat_seconds: f64, client_now_ms: f64) -> f64 {
    iat_seconds * 1000.0 - client_now_ms
}

/// The server's "now" as estimated by the client: `client_now + skew`, ignoring skews under 7 s.
pub fn adjusted_now(client_now_ms: f64, skew_ms: f64) -> f64 {
    if skew_ms.abs() >= CLOCK_SKEW_THRESHOLD_MS {
        client_now_ms + skew_ms
    } else {
        client_now_ms
    }
}

/// True if an access token expiring at `ate_ms` (server clock) has expired by the adjusted clock.
pub fn expired(ate_ms: f64, adjusted_now_ms: f64) -> bool {
    ate_ms < adjusted_now_ms
}

/// True if a token valid until `valid_until_ms` still has `min_validity_ms` left at `adjusted_now_ms`.
pub fn valid_for(valid_until_ms: f64, adjusted_now_ms: f64, min_validity_ms: f64) -> bool {
    valid_until_ms - adjusted_now_ms >= min_validity_ms
}
