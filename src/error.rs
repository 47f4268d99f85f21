//! The crate's error type.

use alloc::string::String;

use crate::config::ConfigError;
use crate::front_token::FrontTokenError;
use crate::text::{display_from_message, push_u32};

/// Everything that can go wrong. `Clone + Send + Sync`: JavaScript errors are kept as their message text.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A session function was called before `init`.
    NotInitialised,
    /// The configuration was rejected.
    Config(ConfigError),
    /// There is no session.
    NoSession,
    /// The session expired and could not be refreshed.
    CouldNotRefresh,
    /// A `front-token` header or `sFrontToken` cookie could not be read.
    MalformedFrontToken(FrontTokenError),
    /// The refresh endpoint answered with this non-2xx status (other than the session-expired one).
    RefreshFailed {
        /// HTTP status of the refresh response.
        status: u16,
    },
    /// A successful refresh response had no `front-token` header (check the backend's CORS expose-headers).
    MissingFrontToken,
    /// Every refresh-and-retry attempt of a request still ended in the session-expired status.
    RetryLimit {
        /// The session-expired status.
        status: u16,
        /// The request URL.
        url: String,
        /// Refreshes made.
        attempts: u32,
    },
    /// Cookie writes do not stick (blocked cookies), so a refresh cannot establish a session.
    CookieWriteFailed,
    /// The sign-out endpoint answered `{status: "GENERAL_ERROR", message}`.
    General(String),
    /// The access-token payload has no `faunadbToken` claim.
    NoFaunaToken,
    /// Even a fresh session's token is not valid for the requested time (longer than the access-token lifetime).
    FaunaTokenTooShort,
    /// The payload did not deserialise into the requested type.
    Payload(String),
    /// A JavaScript error (network failure, a hook that threw, …), as its message.
    Js(String),
}

impl Error {
    /// The error's message (also its `Display`), built without `core::fmt` (the JavaScript API throws it).
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

display_from_message!(Error);

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<FrontTokenError> for Error {
    fn from(e: FrontTokenError) -> Self {
        Error::MalformedFrontToken(e)
    }
}
