//! Device cookies (OWASP's "device cookies" against lockout abuse): a browser that signed in to an account
//! (or signed it up) gets a long-lived, HttpOnly cookie naming a random device id, bound to the account's email
//! by a keyed MAC. Its later sign-ins to that account are counted as that device's, apart from everyone else's,
//! so strangers' failed guesses can lock strangers out but never the devices the user has signed in from
//! ([`crate::AccountLockout`]). Set with cookie-mode sessions only (header mode sets no cookies).
//!
//! One cookie per account on a browser: `sDevice-<12 hex of the email's keyed fingerprint>`, value
//! `<device id>.<MAC>` (both base64url), `Path` the API base path, with the session cookies' `Secure`,
//! `SameSite` and `Domain`. A cookie that does not verify for the email tried is ignored.

use axum::http::{HeaderMap, HeaderValue};

use crate::crypto::{b64url, ct_eq, random_bytes, unb64url};
use crate::engine::SessionEngine;
use crate::transport::cookie_values;

/// How long a device stays known without signing in again: 400 days, the longest a browser keeps a cookie.
const MAX_AGE_SECS: u64 = 400 * 24 * 3600;

/// The cookie's name for the normalised `email`.
fn name(engine: &SessionEngine, email: &str) -> String {
    let fingerprint = engine.email_fingerprint(email);
    let short: String = fingerprint.as_str().chars().take(12).collect();
    format!("sDevice-{short}")
}

/// The device id of a request's device cookie for `email`, if one verifies.
pub(crate) fn verified(engine: &SessionEngine, headers: &HeaderMap, email: &str) -> Option<String> {
    cookie_values(headers, &name(engine, email))
        .into_iter()
        .find_map(|value| {
            let (device, mac) = value.split_once('.')?;
            let mac = unb64url(mac)?;
            let expected = engine.device_mac(email, device);
            (device.len() == 22 && ct_eq(&mac, &expected)).then(|| device.to_owned())
        })
}

/// The `Set-Cookie` value naming `device` (a new id when `None`) as a device of `email` (`None` if a configured
/// cookie domain cannot be written in a header).
pub(crate) fn set_cookie(
    engine: &SessionEngine,
    email: &str,
    device: Option<&str>,
) -> Option<HeaderValue> {
    let device = device.map_or_else(|| b64url(&random_bytes::<16>()), str::to_owned);
    let mac = b64url(&engine.device_mac(email, &device));
    let config = engine.config();
    let mut cookie = format!(
        "{}={device}.{mac}; Path={}; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite={}",
        name(engine, email),
        match config.base_path().as_str() {
            "" => "/".to_owned(),
            base => base.to_owned(),
        },
        config.cookie_same_site().as_str(),
    );
    if config.cookie_secure() {
        cookie.push_str("; Secure");
    }
    if let Some(domain) = &config.cookie_domain {
        cookie.push_str("; Domain=");
        cookie.push_str(domain);
    }
    HeaderValue::from_str(&cookie).ok()
}
