//! The crate's error type.

use alloc::string::String;

use crate::config::ConfigError;
use crate::front_token::FrontTokenError;

/// Everything that can go wrong. `Clone + Send + Sync`: JavaScript errors are kept as their message text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A session function was called before `init`.
    #[error("init function not called")]
    NotInitialised,
    /// The configuration was rejected.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// There is no session.
    #[error("No session exists")]
    NoSession,
    /// The session expired and could not be refreshed.
    #[error("Could not refresh session")]
    CouldNotRefresh,
    /// A `front-token` header or `sFrontToken` cookie could not be read.
    #[error("malformed front token: {0}")]
    MalformedFrontToken(#[from] FrontTokenError),
    /// The refresh endpoint answered with this non-2xx status (other than the session-expired one).
    #[error("the session refresh endpoint answered {status}")]
    RefreshFailed {
        /// HTTP status of the refresh response.
        status: u16,
    },
    /// A successful refresh response had no `front-token` header (check the backend's CORS expose-headers).
    #[error(
        "The 'front-token' header is missing from a successful refresh-session response. The most likely causes are proxy settings (e.g.: 'front-token' missing from 'access-control-expose-headers') or a custom refresh endpoint overwriting the response headers."
    )]
    MissingFrontToken,
    /// Every refresh-and-retry attempt of a request still ended in the session-expired status.
    #[error(
        "Received a {status} response from {url}. Attempted to refresh the session and retry the request with the updated session tokens {attempts} times, but each attempt has failed."
    )]
    RetryLimit {
        /// The session-expired status.
        status: u16,
        /// The request URL.
        url: String,
        /// Refreshes made.
        attempts: u32,
    },
    /// Cookie writes do not stick (blocked cookies), so a refresh cannot establish a session.
    #[error(
        "Failed to retrieve local session state from cookies after a successful session refresh. This indicates a configuration error or that the browser is preventing cookie writes."
    )]
    CookieWriteFailed,
    /// The sign-out endpoint answered `{status: "GENERAL_ERROR", message}`.
    #[error("{0}")]
    General(String),
    /// The access-token payload has no `faunadbToken` claim.
    #[error("the access token payload has no faunadbToken claim")]
    NoFaunaToken,
    /// Even a fresh session's token is not valid for the requested time (longer than the access-token lifetime).
    #[error("the faunadbToken cannot be valid for the requested time, even after a refresh")]
    FaunaTokenTooShort,
    /// The payload did not deserialise into the requested type.
    #[error("the access token payload does not match the requested type: {0}")]
    Payload(String),
    /// A JavaScript error (network failure, a hook that threw, …), as its message.
    #[error("{0}")]
    Js(String),
}

/// Appends the decimal digits of `n` (no `core::fmt`, keeps the wasm build small).
pub(crate) fn push_u32(s: &mut String, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits; `push_str` of one-byte slices avoids `push(char)`'s UTF-8 encoder.
    for &b in buf.get(i..).unwrap_or(&[]) {
        let d = usize::from(b - b'0');
        s.push_str("0123456789".get(d..=d).unwrap_or(""));
    }
}

impl Error {
    /// The error's message, built without `core::fmt` (the JavaScript API uses this).
    pub fn message(&self) -> String {
        match self {
            Error::NotInitialised => "init function not called".into(),
            Error::Config(e) => e.message(),
            Error::NoSession => "No session exists".into(),
            Error::CouldNotRefresh => "Could not refresh session".into(),
            Error::MalformedFrontToken(e) => {
                let mut s = String::from("malformed front token: ");
                s.push_str(e.message());
                s
            }
            Error::RefreshFailed { status } => {
                let mut s = String::from("the session refresh endpoint answered ");
                push_u32(&mut s, u32::from(*status));
                s
            }
            Error::MissingFrontToken => "The 'front-token' header is missing from a successful refresh-session response. The most likely causes are proxy settings (e.g.: 'front-token' missing from 'access-control-expose-headers') or a custom refresh endpoint overwriting the response headers.".into(),
            Error::RetryLimit { status, url, attempts } => {
                let mut s = String::from("Received a ");
                push_u32(&mut s, u32::from(*status));
                s.push_str(" response from ");
                s.push_str(url);
                s.push_str(". Attempted to refresh the session and retry the request with the updated session tokens ");
                push_u32(&mut s, *attempts);
                s.push_str(" times, but each attempt has failed.");
                s
            }
            Error::CookieWriteFailed => "Failed to retrieve local session state from cookies after a successful session refresh. This indicates a configuration error or that the browser is preventing cookie writes.".into(),
            Error::General(m) | Error::Js(m) => m.clone(),
            Error::NoFaunaToken => "the access token payload has no faunadbToken claim".into(),
            Error::FaunaTokenTooShort => "the faunadbToken cannot be valid for the requested time, even after a refresh".into(),
            Error::Payload(m) => {
                let mut s = String::from("the access token payload does not match the requested type: ");
                s.push_str(m);
                s
            }
        }
    }
}
