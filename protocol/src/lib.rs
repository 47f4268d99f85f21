//! # fauna-session-protocol
//!
//! The names of the SuperTokens Frontend Driver Interface that both halves of fauna-session speak: the browser
//! library (`fauna-session`, built `no_std` for the npm package) and the server (`fauna-session-server`). One
//! definition, so the server's CORS layer allows every header the browser sends and exposes every header it reads,
//! and a renamed header cannot drift apart on one side.
//!
//! It lists the external protocol's names; it does not invent protocol, except for the one extension both halves
//! add, kept apart in [`accounts`]. `no_std`, no dependencies (`alloc` for the front-token decoder only).
//!
//! | module | what |
//! |---|---|
//! | [`header`] | request and response header names, the CORS allow and expose lists, `rid` values |
//! | [`cookie`] | the backend's HttpOnly cookies and the frontend's own cookies |
//! | [`front_token`] | the `front-token` header: field names, the `remove` marker, its decoder |
//! | [`path`] | default API base path and the endpoint paths |
//! | [`body`] | JSON field names and the 401/403 messages of error bodies |
//! | [`accounts`] | fauna-session's extension: the sign-out scope (`{"scope": …}` of `POST <base>/signout`) |
//!
//! ```
//! use fauna_session_protocol::{header, TokenTransfer};
//! assert!(header::CORS_ALLOWED_HEADERS.contains(&header::AUTH_MODE));
//! assert_eq!(TokenTransfer::parse("header"), Some(TokenTransfer::Header));
//! assert_eq!(TokenTransfer::Cookie.as_str(), "cookie");
//! ```
#![no_std]

extern crate alloc;

pub mod accounts;
pub mod front_token;

/// FDI versions the browser library speaks, oldest first (SuperTokens' `supported_fdi`; 1.16 is the first with
/// `st-last-access-token-update` and header-mode tokens).
pub const FDI_VERSIONS: [&str; 10] = [
    "1.16", "1.17", "1.18", "1.19", "2.0", "3.0", "3.1", "4.0", "4.1", "4.2",
];

/// [`FDI_VERSIONS`] as the `fdi-version` request header value (comma-separated, no spaces).
pub const FDI_VERSION_HEADER_VALUE: &str = "1.16,1.17,1.18,1.19,2.0,3.0,3.1,4.0,4.1,4.2";

/// The `faunadbToken` claim of the access-token payload: the session's short-lived Fauna secret.
pub const FAUNADB_TOKEN_CLAIM: &str = "faunadbToken";

/// Default status meaning "the access token expired or is missing: refresh, then retry".
pub const SESSION_EXPIRED_STATUS: u16 = 401;
/// Default status meaning "a claim check failed" (body lists `claimValidationErrors`).
pub const INVALID_CLAIM_STATUS: u16 = 403;

/// Request and response header names.
pub mod header {
    /// Recipe id. The browser sends [`RID_ANTI_CSRF`] on app requests (anti-CSRF "via custom header") and
    /// [`RID_SESSION`] on refresh and sign-out.
    pub const RID: &str = "rid";
    /// Versions of the FDI the client speaks ([`crate::FDI_VERSION_HEADER_VALUE`]).
    pub const FDI_VERSION: &str = "fdi-version";
    /// Anti-CSRF token: a response header the browser stores, and a request header it sends back.
    pub const ANTI_CSRF: &str = "anti-csrf";
    /// `Authorization: Bearer <token>` in header mode.
    pub const AUTHORIZATION: &str = "authorization";
    /// The client's token transfer method ([`crate::TokenTransfer::as_str`]).
    pub const AUTH_MODE: &str = "st-auth-mode";
    /// Apps send it with JSON bodies; the CORS layer must allow it.
    pub const CONTENT_TYPE: &str = "content-type";
    /// The front token (response): `base64(JSON {uid, ate, up})` or [`crate::front_token::REMOVE`].
    pub const FRONT_TOKEN: &str = "front-token";
    /// Header-mode access token (response); empty clears it.
    pub const ACCESS_TOKEN: &str = "st-access-token";
    /// Header-mode refresh token (response); empty clears it.
    pub const REFRESH_TOKEN: &str = "st-refresh-token";

    /// `rid` of app requests: satisfies the backend's anti-CSRF "via custom header" check.
    pub const RID_ANTI_CSRF: &str = "anti-csrf";
    /// `rid` of the session recipe's own calls (refresh, sign-out).
    pub const RID_SESSION: &str = "session";
    /// The `Authorization` scheme prefix the browser writes (the server compares the scheme case-insensitively).
    pub const BEARER_PREFIX: &str = "Bearer ";

    /// Every request header the browser library sets on a request.
    pub const SENT_BY_BROWSER: [&str; 5] = [RID, FDI_VERSION, ANTI_CSRF, AUTHORIZATION, AUTH_MODE];

    /// `Access-Control-Allow-Headers` of the server: what the browser sends, plus `content-type`.
    pub const CORS_ALLOWED_HEADERS: [&str; 6] = [
        CONTENT_TYPE,
        RID,
        FDI_VERSION,
        ANTI_CSRF,
        AUTHORIZATION,
        AUTH_MODE,
    ];

    /// `Access-Control-Expose-Headers` of the server: every response header the browser reads.
    pub const EXPOSED_HEADERS: [&str; 4] = [FRONT_TOKEN, ANTI_CSRF, ACCESS_TOKEN, REFRESH_TOKEN];
}

/// Cookie names.
pub mod cookie {
    /// Backend cookie (HttpOnly, path `/`): the access token in cookie mode.
    pub const ACCESS_TOKEN: &str = "sAccessToken";
    /// Backend cookie (HttpOnly, path `<base>/session/refresh`): the refresh token in cookie mode.
    pub const REFRESH_TOKEN: &str = "sRefreshToken";
    /// Legacy backend cookie whose presence makes the server answer 401 (forcing a refresh that migrates).
    pub const LEGACY_ID_REFRESH_TOKEN: &str = "sIdRefreshToken";

    /// Frontend cookie: the `front-token` header as received.
    pub const FRONT_TOKEN: &str = "sFrontToken";
    /// Frontend cookie: client time (ms) of the last front-token write; the session's version and existence
    /// marker.
    pub const LAST_ACCESS_TOKEN_UPDATE: &str = "st-last-access-token-update";
    /// Frontend cookie: the anti-CSRF token (cookie mode, anti-CSRF `VIA_TOKEN`).
    pub const ANTI_CSRF: &str = "sAntiCsrf";
    /// Frontend cookie: the header-mode access token (same name as the response header).
    pub const HEADER_ACCESS_TOKEN: &str = crate::header::ACCESS_TOKEN;
    /// Frontend cookie: the header-mode refresh token (same name as the response header).
    pub const HEADER_REFRESH_TOKEN: &str = crate::header::REFRESH_TOKEN;
    /// Legacy frontend cookie, cleared on every front-token write.
    pub const LEGACY_FRONTEND_ID_REFRESH_TOKEN: &str = "sIRTFrontend";
}

/// Endpoint paths.
pub mod path {
    /// Default API base path (`apiBasePath`).
    pub const DEFAULT_API_BASE_PATH: &str = "/auth";
    /// `POST <base>/session/refresh`: rotate the tokens.
    pub const REFRESH: &str = "/session/refresh";
    /// `POST <base>/signout`: revoke the session.
    pub const SIGN_OUT: &str = "/signout";
    /// `POST <base>/signup` (email-password recipe).
    pub const SIGN_UP: &str = "/signup";
    /// `POST <base>/signin` (email-password recipe).
    pub const SIGN_IN: &str = "/signin";
}

/// JSON bodies: field names and the messages of session errors.
pub mod body {
    /// `{"message": …}` of error bodies.
    pub const MESSAGE: &str = "message";
    /// `{"status": …}` of recipe answers (`"OK"`, `"GENERAL_ERROR"`, …).
    pub const STATUS: &str = "status";
    /// The 403 body's list of failed claims (`[{id, reason}]`).
    pub const CLAIM_VALIDATION_ERRORS: &str = "claimValidationErrors";
    /// `status` of a recipe answer that carries a `message` for the user.
    pub const GENERAL_ERROR: &str = "GENERAL_ERROR";

    /// 401 message: the access token expired (or a legacy cookie was sent); tokens untouched.
    pub const TRY_REFRESH_TOKEN: &str = "try refresh token";
    /// 401 message: no valid session.
    pub const UNAUTHORISED: &str = "unauthorised";
    /// 401 message: a refresh token was reused after its successor; the session is revoked.
    pub const TOKEN_THEFT_DETECTED: &str = "token theft detected";
    /// 403 message: a claim check failed.
    pub const INVALID_CLAIM: &str = "invalid claim";
}

/// How tokens travel between server and browser (the `st-auth-mode` request header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TokenTransfer {
    /// `sAccessToken` / `sRefreshToken` HttpOnly cookies (the browser's default).
    #[default]
    Cookie,
    /// `st-access-token` / `st-refresh-token` response headers, sent back as `Authorization: Bearer`.
    Header,
}

impl TokenTransfer {
    /// The `st-auth-mode` value: `"cookie"` or `"header"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenTransfer::Cookie => "cookie",
            TokenTransfer::Header => "header",
        }
    }

    /// Parses exactly `"cookie"` or `"header"` (a configuration option).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cookie" => Some(TokenTransfer::Cookie),
            "header" => Some(TokenTransfer::Header),
            _ => None,
        }
    }

    /// Parses an `st-auth-mode` header value as servers do: surrounding spaces and ASCII case ignored.
    pub fn parse_header(value: &str) -> Option<Self> {
        let v = value.trim();
        [TokenTransfer::Cookie, TokenTransfer::Header]
            .into_iter()
            .find(|t| v.eq_ignore_ascii_case(t.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdi_header_value_lists_the_versions() {
        let mut joined = alloc::string::String::new();
        for (i, v) in FDI_VERSIONS.iter().enumerate() {
            if i > 0 {
                joined.push(',');
            }
            joined.push_str(v);
        }
        assert_eq!(joined, FDI_VERSION_HEADER_VALUE);
    }

    #[test]
    fn cors_allows_every_header_the_browser_sends() {
        for h in header::SENT_BY_BROWSER {
            assert!(header::CORS_ALLOWED_HEADERS.contains(&h), "{h} not allowed");
        }
    }

    #[test]
    fn header_names_are_lowercase_tokens() {
        let all = header::CORS_ALLOWED_HEADERS
            .iter()
            .chain(header::EXPOSED_HEADERS.iter());
        for h in all {
            assert!(!h.is_empty());
            assert!(
                h.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{h}"
            );
        }
    }

    #[test]
    fn token_transfer_round_trips() {
        for t in [TokenTransfer::Cookie, TokenTransfer::Header] {
            assert_eq!(TokenTransfer::parse(t.as_str()), Some(t));
            assert_eq!(TokenTransfer::parse_header(t.as_str()), Some(t));
        }
        assert_eq!(TokenTransfer::parse("Cookie"), None);
        assert_eq!(
            TokenTransfer::parse_header(" Cookie "),
            Some(TokenTransfer::Cookie)
        );
        assert_eq!(TokenTransfer::parse_header("bearer"), None);
        assert_eq!(TokenTransfer::parse_header(""), None);
        assert_eq!(TokenTransfer::default(), TokenTransfer::Cookie);
    }
}
