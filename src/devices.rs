//! The signed-in user's devices: which URL lists or ends a session, what an answer means, and the sign-out scopes.
//! Pure decisions; the browser backend sends the requests.
//!
//! The routes are fauna-session-server's (`GET <apiBasePath>/sessions`, `DELETE <apiBasePath>/sessions/<handle>`,
//! `POST <apiBasePath>/signout` with `{"scope": …}`).
//!
//! ```
//! use fauna_session::devices::{self, Revoked, SignOutScope};
//! assert_eq!(
//!     devices::sessions_url("https://api.example.com", "/auth", Some("a/b")),
//!     "https://api.example.com/auth/sessions/a%2Fb"
//! );
//! assert_eq!(devices::revoked(404, 401), Revoked::NotFound);
//! assert_eq!(SignOutScope::parse("others"), Some(SignOutScope::Others));
//! assert_eq!(SignOutScope::Others.body(), Some(r#"{"scope":"others"}"#));
//! assert!(!SignOutScope::Others.ends_this_session());
//! ```

use alloc::string::String;

/// Which sessions a sign-out ends (one definition with the server: its wire names are the protocol crate's).
pub use fauna_session_protocol::accounts::SignOutScope;

/// `<apiDomain><apiBasePath>/sessions`, or with `handle` `…/sessions/<handle>` (the handle percent-encoded: any
/// byte but `A-Z a-z 0-9 - . _ ~`).
pub fn sessions_url(api_domain: &str, api_base_path: &str, handle: Option<&str>) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut url = String::with_capacity(api_domain.len() + api_base_path.len() + 48);
    url.push_str(api_domain);
    url.push_str(api_base_path);
    url.push_str("/sessions");
    if let Some(handle) = handle {
        url.push('/');
        for &b in handle.as_bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                url.push(char::from(b));
            } else {
                url.push('%');
                url.push(char::from(HEX[usize::from(b >> 4)]));
                url.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    url
}

/// What the answer to `DELETE …/sessions/<handle>` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// 2xx: the session ended.
    Ended,
    /// 404: no live session of this user has that handle (unknown, already ended, or another user's).
    NotFound,
    /// The session-expired status after the refresh failed: the caller has no session.
    NoSession,
    /// Anything else (an invalid claim, a rate limit, a server error): the caller gets the response.
    Failed,
}

/// Classifies the status of a `DELETE …/sessions/<handle>` answer (`session_expired_status`: the configured
/// `sessionExpiredStatusCode`).
pub fn revoked(status: u16, session_expired_status: u16) -> Revoked {
    match status {
        200..=299 => Revoked::Ended,
        404 => Revoked::NotFound,
        s if s == session_expired_status => Revoked::NoSession,
        _ => Revoked::Failed,
    }
}

/// One of the user's live sessions, as `GET <apiBasePath>/sessions` lists it (the Rust API's
/// `Session::list_sessions`; the JavaScript `listSessions` hands out the server's objects as they are).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session's handle (for `revoke_session`).
    pub session_handle: String,
    /// Created, in milliseconds since the epoch.
    pub time_created: f64,
    /// Last refreshed (or created), in milliseconds since the epoch.
    pub last_active: f64,
    /// When its refresh token expires, in milliseconds since the epoch.
    pub expiry: f64,
    /// The `User-Agent` of the request that created it, if the server recorded one.
    pub user_agent: Option<String>,
    /// The IP address that created it, if the server recorded one.
    pub ip: Option<String>,
    /// True for this page's session.
    pub current: bool,
}
