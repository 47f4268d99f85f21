//! Frontend session state: the protocol's cookies (shared by every tab and by the SuperTokens JS SDK), the
//! front token, the tokens of a response, and the server's clock.
//!
//! No session state is cached in memory: every read goes to `document.cookie`, so tabs and frames agree (only the
//! last front token that parsed is remembered, so that an unchanged session is not decoded again on every request).

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::cell::RefCell;

use wasm_bindgen::JsValue;

use super::events;
use super::settings::{self, Settings};
use super::sys;
use crate::cookies::{self, FOREVER};
use crate::error::Error;
use crate::event::Event;
use crate::failure::{self, Stored};
use crate::front_token::{self, FrontTokenError};
use crate::state::{self, LocalSessionState};
use fauna_session_protocol::header;

fn write_cookie(settings: &Settings, name: &str, value: &str, expires: &str) {
    let host = sys::page_hostname();
    sys::set_document_cookie(&cookies::build(
        name,
        value,
        expires,
        settings.config.cookie_domain(&host),
        settings.config.is_in_iframe,
    ));
}

fn clear_cookie(settings: &Settings, name: &str) {
    write_cookie(settings, name, "", cookies::EPOCH);
}

/// The local session state, as the cookies say now (no refresh).
///
/// Stored state that cannot be read (a corrupt `sFrontToken` or `st-last-access-token-update`) is cleared and
/// reported as no session: it never makes a call throw.
pub(crate) fn state() -> LocalSessionState {
    let all = sys::document_cookie();
    // An empty value is a cleared cookie (a browser may still list it for a moment), not a corrupt one.
    let last = cookies::get(&all, cookies::LAST_ACCESS_TOKEN_UPDATE).filter(|v| !v.is_empty());
    let front = cookies::get(&all, cookies::FRONT_TOKEN).filter(|v| !v.is_empty());
    let readable = front.is_some_and(readable_front_token);
    match failure::stored_state(last, front, readable) {
        Stored::State(s) => s,
        Stored::Corrupt => {
            clear_corrupt();
            LocalSessionState::NotExists
        }
    }
}

sys::page_local!(READABLE: RefCell<String> = RefCell::new(String::new()));

/// Whether `raw` parses as a front token. The parse depends on the text alone, so the last token that parsed is
/// remembered: a request with an unchanged session does not decode it again.
fn readable_front_token(raw: &str) -> bool {
    if READABLE.with(|r| *r.borrow() == raw) {
        return true;
    }
    let ok = parse_front_token(raw).is_ok();
    if ok {
        READABLE.with(|r| raw.clone_into(&mut r.borrow_mut()));
    }
    ok
}

/// Clears an unreadable stored session (as a `front-token: remove` would), leaving "known signed out".
fn clear_corrupt() {
    if let Ok(settings) = settings::current() {
        let _ = set_front_token(settings, front_token::REMOVE);
    }
}

/// Server-clock "now" (client clock plus the persisted skew).
pub(crate) fn adjusted_now() -> f64 {
    let skew = sys::storage_number(cookies::CLOCK_SKEW_KEY);
    let skew = if skew.is_finite() { skew } else { 0.0 };
    state::adjusted_now(sys::now_ms(), skew)
}

/// Parses a front token into its JSON object, checking its shape.
pub(crate) fn parse_front_token(raw: &str) -> Result<JsValue, Error> {
    let json = sys::base64_utf8_text(raw)?;
    let shape = Error::MalformedFrontToken(FrontTokenError::Shape);
    let v = sys::json_parse(&json).ok_or_else(|| shape.clone())?;
    let up = sys::get(&v, front_token::UP);
    if sys::get(&v, front_token::UID).as_string().is_none()
        || sys::get(&v, front_token::ATE).as_f64().is_none()
        || !up.is_object()
        || up.is_null()
    {
        return Err(shape);
    }
    Ok(v)
}

/// The stored front token, parsed; `None` without one.
///
/// An unreadable one is cleared and reported as none.
pub(crate) fn front_token() -> Result<Option<JsValue>, Error> {
    let Some(raw) = sys::cookie(cookies::FRONT_TOKEN).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match parse_front_token(&raw) {
        Ok(v) => Ok(Some(v)),
        Err(_) => {
            clear_corrupt();
            Ok(None)
        }
    }
}

/// `ate` (access-token expiry, server clock) of a parsed front token.
pub(crate) fn expiry(front_token: &JsValue) -> f64 {
    sys::get(front_token, front_token::ATE)
        .as_f64()
        .unwrap_or(0.0)
}

/// `FrontToken.setItem`: stores a new front token, or clears the session for `remove`.
pub(crate) fn set_front_token(settings: &Settings, value: &str) -> Result<(), Error> {
    let new = if value == front_token::REMOVE {
        None
    } else {
        Some(parse_front_token(value)?)
    };
    let now = sys::now_ms();
    write_cookie(
        settings,
        cookies::LAST_ACCESS_TOKEN_UPDATE,
        &sys::number_text(now, 10),
        FOREVER,
    );
    if sys::cookie(cookies::LEGACY_ID_REFRESH_TOKEN).is_some() {
        clear_cookie(settings, cookies::LEGACY_ID_REFRESH_TOKEN);
    }
    let Some(new) = new else {
        for name in [
            cookies::FRONT_TOKEN,
            cookies::ACCESS_TOKEN,
            cookies::REFRESH_TOKEN,
            cookies::ANTI_CSRF,
        ] {
            clear_cookie(settings, name);
        }
        return Ok(());
    };
    let old = sys::cookie(cookies::FRONT_TOKEN);
    write_cookie(settings, cookies::FRONT_TOKEN, value, FOREVER);
    let up = sys::get(&new, front_token::UP);
    if let Some(iat) = sys::get(&up, "iat").as_f64() {
        // A number: `setItem` stores its `toString()`.
        let skew = JsValue::from_f64(state::clock_skew_ms(iat, now));
        sys::storage_set(cookies::CLOCK_SKEW_KEY, &skew);
    }
    if let Some(old) = old {
        let changed = match parse_front_token(&old) {
            Ok(o) => sys::stringify(&sys::get(&o, front_token::UP)) != sys::stringify(&up),
            Err(_) => true,
        };
        if changed {
            events::fire(settings, &Event::AccessTokenPayloadUpdated, None);
        }
    }
    Ok(())
}

/// `saveTokensFromHeaders`: stores the tokens a response carries, reading its headers through `header`.
pub(crate) fn save_tokens(
    settings: &Settings,
    header: impl Fn(&str) -> Option<String>,
) -> Result<(), Error> {
    for (h, cookie) in [
        (header::REFRESH_TOKEN, cookies::REFRESH_TOKEN),
        (header::ACCESS_TOKEN, cookies::ACCESS_TOKEN),
    ] {
        if let Some(v) = header(h) {
            if v.is_empty() {
                clear_cookie(settings, cookie);
            } else {
                let expires = sys::utc_string(sys::now_ms() + cookies::HEADER_TOKEN_LIFETIME_MS);
                write_cookie(settings, cookie, &v, &expires);
            }
        }
    }
    if let Some(ft) = header(header::FRONT_TOKEN) {
        set_front_token(settings, &ft)?;
    }
    if let Some(ac) = header(header::ANTI_CSRF)
        && state().exists()
    {
        write_cookie(settings, cookies::ANTI_CSRF, &ac, FOREVER);
    }
    Ok(())
}

/// [`save_tokens`] for a fetch `Response`.
pub(crate) fn save_response_tokens(
    settings: &Settings,
    resp: &web_sys::Response,
) -> Result<(), Error> {
    save_tokens(settings, |name| response_header(resp, name))
}

/// A response header's value.
pub(crate) fn response_header(resp: &web_sys::Response, name: &str) -> Option<String> {
    sys::header(&sys::get(resp, "headers"), name)
}
