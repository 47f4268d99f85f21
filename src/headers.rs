//! The session headers of a request: which headers the interceptor sets, for `fetch` and `XMLHttpRequest` alike.
//!
//! The browser backend reads the caller's headers and the frontend cookies, asks this module, and applies the
//! answer: every [`SetHeader`] replaces a header of that name. The rules are the SuperTokens SDK's (`doRequest`,
//! `onUnauthorisedResponse`, `signOut`); every name comes from `fauna-session-protocol`, whose CORS lists the
//! server uses.
//!
//! ```
//! use fauna_session::config::TokenTransferMethod;
//! use fauna_session::headers::{for_request, Caller, SessionTokens};
//! let tokens = SessionTokens::from_cookies("st-access-token=a; st-refresh-token=r", true);
//! let set = for_request(TokenTransferMethod::Header, &tokens, &Caller::default());
//! let names: Vec<_> = set.iter().map(|h| (h.name, h.value.as_ref())).collect();
//! assert_eq!(names, [("rid", "anti-csrf"), ("st-auth-mode", "header"), ("authorization", "Bearer a")]);
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use fauna_session_protocol::{FDI_VERSION_HEADER_VALUE, TokenTransfer, header};

use crate::cookies;

/// One header to set (replacing any value of that name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetHeader<'a> {
    /// Lowercase header name.
    pub name: &'static str,
    /// Its value.
    pub value: Cow<'a, str>,
}

fn set<'a>(name: &'static str, value: impl Into<Cow<'a, str>>) -> SetHeader<'a> {
    SetHeader {
        name,
        value: value.into(),
    }
}

/// The session's tokens as the frontend cookies hold them, and whether a session is known to exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTokens<'a> {
    /// The local session state said "exists" (before the request was sent).
    pub session_exists: bool,
    /// `sAntiCsrf`.
    pub anti_csrf: Option<&'a str>,
    /// Header-mode access token (`st-access-token` cookie).
    pub access_token: Option<&'a str>,
    /// Header-mode refresh token (`st-refresh-token` cookie).
    pub refresh_token: Option<&'a str>,
}

impl<'a> SessionTokens<'a> {
    /// Reads the tokens from one `document.cookie` string.
    pub fn from_cookies(document_cookie: &'a str, session_exists: bool) -> Self {
        SessionTokens {
            session_exists,
            anti_csrf: cookies::get(document_cookie, cookies::ANTI_CSRF),
            access_token: cookies::get(document_cookie, cookies::ACCESS_TOKEN),
            refresh_token: cookies::get(document_cookie, cookies::REFRESH_TOKEN),
        }
    }
}

/// What the caller already put on the request (after [`is_own_bearer`] dropped a copy of our token).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller {
    /// The caller set `rid` (kept: it names the caller's recipe).
    pub rid: bool,
    /// The caller set `authorization` to something of its own (kept, and no Bearer token of ours is added).
    pub authorization: bool,
}

/// True if the caller's `Authorization` value is `Bearer <our access token>` (scheme in any case, token exact):
/// a copy of our own token, which the interceptor drops once when it takes the request, and then writes fresh on
/// every attempt (so a retry after a refresh never resends the stale token).
pub fn is_own_bearer(value: &str, access_token: Option<&str>) -> bool {
    let prefix = header::BEARER_PREFIX;
    access_token.is_some_and(|a| {
        value.len() == prefix.len() + a.len()
            && value
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            && value.get(prefix.len()..) == Some(a)
    })
}

fn bearer(token: &str) -> String {
    let mut v = String::with_capacity(header::BEARER_PREFIX.len() + token.len());
    v.push_str(header::BEARER_PREFIX);
    v.push_str(token);
    v
}

fn anti_csrf<'a>(out: &mut Vec<SetHeader<'a>>, tokens: &SessionTokens<'a>) {
    if tokens.session_exists
        && let Some(t) = tokens.anti_csrf
    {
        out.push(set(header::ANTI_CSRF, t));
    }
}

/// The headers of one attempt of an intercepted app request: `anti-csrf` when a session exists, `rid:
/// anti-csrf` unless the caller set a `rid`, `st-auth-mode`, and in header mode `Authorization: Bearer <access
/// token>` when both tokens are stored and the caller did not authorise the request itself.
pub fn for_request<'a>(
    transfer: TokenTransfer,
    tokens: &SessionTokens<'a>,
    caller: &Caller,
) -> Vec<SetHeader<'a>> {
    let mut out = Vec::with_capacity(4);
    anti_csrf(&mut out, tokens);
    if !caller.rid {
        out.push(set(header::RID, header::RID_ANTI_CSRF));
    }
    out.push(set(header::AUTH_MODE, transfer.as_str()));
    if transfer == TokenTransfer::Header
        && !caller.authorization
        && let (Some(access), Some(_)) = (tokens.access_token, tokens.refresh_token)
    {
        out.push(set(header::AUTHORIZATION, bearer(access)));
    }
    out
}

/// The headers of the refresh call: `anti-csrf` when a session existed, `rid: session`, `fdi-version`,
/// `st-auth-mode`, and in header mode `Authorization: Bearer <refresh token>` when one is stored.
pub fn for_refresh<'a>(transfer: TokenTransfer, tokens: &SessionTokens<'a>) -> Vec<SetHeader<'a>> {
    let mut out = Vec::with_capacity(5);
    anti_csrf(&mut out, tokens);
    out.extend(for_sign_out());
    out.push(set(header::AUTH_MODE, transfer.as_str()));
    if transfer == TokenTransfer::Header
        && let Some(refresh) = tokens.refresh_token
    {
        out.push(set(header::AUTHORIZATION, bearer(refresh)));
    }
    out
}

/// The headers the sign-out call starts with (`rid: session`, `fdi-version`); being an intercepted request, it
/// then gets [`for_request`]'s.
pub fn for_sign_out() -> [SetHeader<'static>; 2] {
    [
        set(header::RID, header::RID_SESSION),
        set(header::FDI_VERSION, FDI_VERSION_HEADER_VALUE),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use fauna_session_protocol::header::{CORS_ALLOWED_HEADERS, SENT_BY_BROWSER};

    fn all_tokens() -> impl Iterator<Item = SessionTokens<'static>> {
        let opt = [None, Some("t")];
        (0..16).map(move |i| SessionTokens {
            session_exists: i & 1 != 0,
            anti_csrf: opt[(i >> 1) & 1],
            access_token: opt[(i >> 2) & 1],
            refresh_token: opt[(i >> 3) & 1],
        })
    }

    fn names(v: &[SetHeader<'_>]) -> Vec<&'static str> {
        v.iter().map(|h| h.name).collect()
    }

    /// The server's CORS layer allows `CORS_ALLOWED_HEADERS`: every header any rule here sets must be in it.
    #[test]
    fn every_header_set_is_allowed_by_the_servers_cors_list() {
        for transfer in [TokenTransfer::Cookie, TokenTransfer::Header] {
            for tokens in all_tokens() {
                for (rid, authorization) in
                    [(false, false), (true, false), (false, true), (true, true)]
                {
                    let caller = Caller { rid, authorization };
                    let sets = [
                        for_request(transfer, &tokens, &caller),
                        for_refresh(transfer, &tokens),
                        for_sign_out().to_vec(),
                    ];
                    for h in sets.iter().flatten() {
                        assert!(SENT_BY_BROWSER.contains(&h.name), "{}", h.name);
                        assert!(CORS_ALLOWED_HEADERS.contains(&h.name), "{}", h.name);
                    }
                    for set in &sets {
                        let mut n = names(set);
                        n.sort_unstable();
                        n.dedup();
                        assert_eq!(n.len(), set.len(), "a header set twice: {set:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn request_headers_follow_the_sdk() {
        let t = SessionTokens {
            session_exists: true,
            anti_csrf: Some("csrf"),
            access_token: Some("acc"),
            refresh_token: Some("ref"),
        };
        let h = for_request(TokenTransfer::Header, &t, &Caller::default());
        assert_eq!(
            h,
            [
                set(header::ANTI_CSRF, "csrf"),
                set(header::RID, "anti-csrf"),
                set(header::AUTH_MODE, "header"),
                set(header::AUTHORIZATION, "Bearer acc"),
            ]
        );
        // The caller's rid and authorization are kept.
        let caller = Caller {
            rid: true,
            authorization: true,
        };
        assert_eq!(
            names(&for_request(TokenTransfer::Header, &t, &caller)),
            ["anti-csrf", "st-auth-mode"]
        );
        // Cookie mode: no bearer; no anti-csrf without a session; no bearer without the refresh token.
        assert_eq!(
            names(&for_request(TokenTransfer::Cookie, &t, &Caller::default())),
            ["anti-csrf", "rid", "st-auth-mode"]
        );
        let no_session = SessionTokens {
            session_exists: false,
            refresh_token: None,
            ..t
        };
        assert_eq!(
            names(&for_request(
                TokenTransfer::Header,
                &no_session,
                &Caller::default()
            )),
            ["rid", "st-auth-mode"]
        );
    }

    #[test]
    fn refresh_and_sign_out_headers() {
        let t = SessionTokens {
            session_exists: true,
            anti_csrf: Some("csrf"),
            access_token: None,
            refresh_token: Some("ref"),
        };
        assert_eq!(
            for_refresh(TokenTransfer::Header, &t),
            [
                set(header::ANTI_CSRF, "csrf"),
                set(header::RID, "session"),
                set(header::FDI_VERSION, FDI_VERSION_HEADER_VALUE),
                set(header::AUTH_MODE, "header"),
                set(header::AUTHORIZATION, "Bearer ref"),
            ]
        );
        assert_eq!(
            names(&for_refresh(
                TokenTransfer::Cookie,
                &SessionTokens::default()
            )),
            ["rid", "fdi-version", "st-auth-mode"]
        );
        assert_eq!(names(&for_sign_out()), ["rid", "fdi-version"]);
    }

    #[test]
    fn own_bearer_is_recognised_exactly() {
        assert!(is_own_bearer("Bearer abc", Some("abc")));
        assert!(is_own_bearer("bearer abc", Some("abc")));
        assert!(is_own_bearer("BEARER abc", Some("abc")));
        assert!(!is_own_bearer("Bearer abd", Some("abc")));
        assert!(!is_own_bearer("Bearer ABC", Some("abc")));
        assert!(!is_own_bearer("Bearer abc ", Some("abc")));
        assert!(!is_own_bearer("Basic  abc", Some("abc")));
        assert!(!is_own_bearer("Bearerxabc", Some("abc")));
        assert!(!is_own_bearer("Bearer abc", None));
        assert!(!is_own_bearer("", Some("")));
        assert!(is_own_bearer("Bearer ", Some("")));
    }

    #[test]
    fn tokens_come_from_one_cookie_string() {
        let t = SessionTokens::from_cookies(
            "sAntiCsrf=c; st-access-token=a; x=1; st-refresh-token=r",
            true,
        );
        assert_eq!(
            t,
            SessionTokens {
                session_exists: true,
                anti_csrf: Some("c"),
                access_token: Some("a"),
                refresh_token: Some("r"),
            }
        );
    }
}
