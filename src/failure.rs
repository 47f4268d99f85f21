//! Failures that don't sign you out: what a failed refresh means for the session, how long a refresh waits for
//! the network to come back, and what to do with stored session state that cannot be read.
//!
//! Only a refresh answered with the session-expired status ends the session. A network error, a `5xx` or a `429`
//! is the network's or the server's trouble, not the session's: the caller gets the failure, the session stays,
//! and the next request tries again.
//!
//! ```
//! use fauna_session::failure::{classify_refresh, RefreshFailure, stored_state, Stored};
//! assert_eq!(classify_refresh(None, 401), RefreshFailure::Transient);      // network error
//! assert_eq!(classify_refresh(Some(503), 401), RefreshFailure::Transient);
//! assert_eq!(classify_refresh(Some(429), 401), RefreshFailure::Transient);
//! assert_eq!(classify_refresh(Some(401), 401), RefreshFailure::SessionEnded);
//! assert!(!RefreshFailure::Transient.ends_session());
//! // A corrupt st-last-access-token-update cookie: cleared, and no session.
//! assert_eq!(stored_state(Some("garbage"), Some("eyJ9"), true), Stored::Corrupt);
//! ```

use crate::state::LocalSessionState;

/// What a refresh that did not succeed means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshFailure {
    /// Network error, `5xx` or `429`: keep the session, hand the failure to the caller, try again next time.
    Transient,
    /// The session-expired status: the backend ended the session; clear it and fire `UNAUTHORISED`.
    SessionEnded,
    /// Any other answer (a `4xx` such as 400 or 403): the caller gets it; the session is kept, since only the
    /// session-expired status says it is gone.
    Rejected,
}

impl RefreshFailure {
    /// True only for [`RefreshFailure::SessionEnded`].
    pub fn ends_session(self) -> bool {
        self == RefreshFailure::SessionEnded
    }
}

/// Classifies a failed refresh from its status (`None` when no response came: a network error).
pub fn classify_refresh(status: Option<u16>, session_expired_status: u16) -> RefreshFailure {
    match status {
        None => RefreshFailure::Transient,
        Some(s) if s == session_expired_status => RefreshFailure::SessionEnded,
        Some(429) => RefreshFailure::Transient,
        Some(s) if s >= 500 => RefreshFailure::Transient,
        Some(_) => RefreshFailure::Rejected,
    }
}

/// Longest wait (ms) of a refresh for the `online` event while `navigator.onLine` is false; then it is tried
/// anyway (the flag can be wrong, e.g. on a LAN without internet).
pub const OFFLINE_WAIT_MS: f64 = 10_000.0;

/// How long a refresh waits before going out: `Some(ms)` to wait for `online` at most that long while the browser
/// says it is offline, `None` to go at once.
pub fn offline_wait(on_line: bool) -> Option<f64> {
    if on_line { None } else { Some(OFFLINE_WAIT_MS) }
}

/// What the stored frontend state says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Readable: this state.
    State(LocalSessionState),
    /// Something cannot be read: clear the front token and the marker, and report no session. Never an error.
    Corrupt,
}

/// True if `value` is what the library writes as `st-last-access-token-update`: a decimal number of ms, maybe
/// with a fraction.
pub fn is_timestamp(value: &str) -> bool {
    let (int, frac) = match crate::text::split_once_byte(value, b'.') {
        Some((i, f)) => (i, Some(f)),
        None => (value, None),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// Checks the `st-last-access-token-update` and `sFrontToken` cookie values; `front_token_readable` says whether
/// the front token decodes to an object with `uid`, `ate` and `up` (the browser backend parses it).
pub fn stored_state(
    last_access_token_update: Option<&str>,
    front_token: Option<&str>,
    front_token_readable: bool,
) -> Stored {
    if last_access_token_update.is_some_and(|v| !is_timestamp(v)) {
        return Stored::Corrupt;
    }
    if front_token.is_some() && !front_token_readable {
        return Stored::Corrupt;
    }
    Stored::State(LocalSessionState::from_cookies(
        last_access_token_update,
        front_token,
    ))
}
