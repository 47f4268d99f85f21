//! The frontend cookies that hold session state, shared by every tab and readable by the SuperTokens JS SDK
//! (their names come from `fauna-session-protocol`).
//!
//! ```
//! use fauna_session::cookies::{build, get, FRONT_TOKEN, FOREVER};
//! let s = build(FRONT_TOKEN, "abc", FOREVER, Some(".example.com"), false);
//! assert_eq!(s, "sFrontToken=abc;expires=Fri, 31 Dec 9999 23:59:59 GMT;domain=.example.com;path=/;samesite=lax");
//! assert_eq!(get("a=1; sFrontToken=xyz; b=2", FRONT_TOKEN), Some("xyz"));
//! ```

use alloc::string::String;

use fauna_session_protocol::cookie;

/// Front token (`front-token` header as received): user id, access-token expiry and payload.
pub const FRONT_TOKEN: &str = cookie::FRONT_TOKEN;
/// Client timestamp (ms) of the last front-token write: the session's version and existence marker.
pub const LAST_ACCESS_TOKEN_UPDATE: &str = cookie::LAST_ACCESS_TOKEN_UPDATE;
/// Anti-CSRF token (cookie mode with anti-CSRF `VIA_TOKEN`).
pub const ANTI_CSRF: &str = cookie::ANTI_CSRF;
/// Header-mode access token.
pub const ACCESS_TOKEN: &str = cookie::HEADER_ACCESS_TOKEN;
/// Header-mode refresh token.
pub const REFRESH_TOKEN: &str = cookie::HEADER_REFRESH_TOKEN;
/// Legacy cookie, cleared on every front-token write.
pub const LEGACY_ID_REFRESH_TOKEN: &str = cookie::LEGACY_FRONTEND_ID_REFRESH_TOKEN;
/// `localStorage` key of the persisted clock skew.
pub const CLOCK_SKEW_KEY: &str = "__st_clockSkewInMillis";

/// Expiry of cookies kept "forever".
pub const FOREVER: &str = "Fri, 31 Dec 9999 23:59:59 GMT";
/// Expiry that deletes a cookie.
pub const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";
/// Lifetime of the header-mode token cookies, in ms (as the SuperTokens SDK).
pub const HEADER_TOKEN_LIFETIME_MS: f64 = 3_153_600_000.0;

/// Builds a `document.cookie` assignment: `name=value;expires=…;[domain=…;]path=/;samesite=lax` (or
/// `samesite=none;secure` inside iframes).
#[allow(
    clippy::single_char_add_str,
    reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
)]
pub fn build(
    name: &str,
    value: &str,
    expires: &str,
    domain: Option<&str>,
    in_iframe: bool,
) -> String {
    let mut s = String::with_capacity(name.len() + value.len() + 96);
    s.push_str(name);
    s.push_str("=");
    s.push_str(value);
    s.push_str(";expires=");
    s.push_str(expires);
    if let Some(d) = domain {
        s.push_str(";domain=");
        s.push_str(d);
    }
    s.push_str(";path=/;samesite=");
    s.push_str(if in_iframe { "none;secure" } else { "lax" });
    s
}

/// Reads cookie `name` from a `document.cookie` string; the last occurrence wins (as the SuperTokens SDK).
pub fn get<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    let mut rest = Some(cookies);
    while let Some(r) = rest {
        let (item, next) = match crate::text::split_once_byte(r, b';') {
            Some((item, next)) => (item, Some(next)),
            None => (r, None),
        };
        rest = next;
        let item = crate::text::trim_start_byte(item, b' ');
        if let Some(v) = item.strip_prefix(name).and_then(|r| r.strip_prefix("=")) {
            found = Some(v);
        }
    }
    found
}
