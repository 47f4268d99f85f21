//! Token transport on the wire: reading tokens from requests and writing tokens, `front-token` and clears to
//! responses, in cookie mode or header mode (fdi-backend.md §2.10).

use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use crate::config::SessionConfig;
use crate::crypto::b64std;

pub(crate) use fauna_session_protocol::TokenTransfer;
use fauna_session_protocol::{cookie, front_token as front, header};

/// Access-token cookie name.
pub(crate) const ACCESS_TOKEN_COOKIE: &str = cookie::ACCESS_TOKEN;
/// Refresh-token cookie name.
pub(crate) const REFRESH_TOKEN_COOKIE: &str = cookie::REFRESH_TOKEN;
/// Legacy cookie whose presence forces a refresh.
pub(crate) const LEGACY_ID_REFRESH_COOKIE: &str = cookie::LEGACY_ID_REFRESH_TOKEN;
/// Anti-CSRF request and response header.
pub(crate) const ANTI_CSRF_HEADER: &str = header::ANTI_CSRF;
/// Recipe id request header (also satisfies VIA_CUSTOM_HEADER anti-CSRF).
pub(crate) const RID_HEADER: &str = header::RID;

/// Transport for a new session: `st-auth-mode: cookie` ⇒ cookie; anything else (or missing) ⇒ header.
pub(crate) fn transfer_for_new_session(headers: &HeaderMap) -> TokenTransfer {
    match headers
        .get(header::AUTH_MODE)
        .and_then(|v| v.to_str().ok())
        .and_then(TokenTransfer::parse_header)
    {
        Some(TokenTransfer::Cookie) => TokenTransfer::Cookie,
        _ => TokenTransfer::Header,
    }
}

/// `Access-Control-Expose-Headers` value: every response header the browser reads.
fn exposed_headers() -> HeaderValue {
    static VALUE: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();
    VALUE
        .get_or_init(|| {
            HeaderValue::from_str(&header::EXPOSED_HEADERS.join(", "))
                .unwrap_or_else(|_| HeaderValue::from_static(""))
        })
        .clone()
}

/// Parse `Cookie` header values into `(name, value)` pairs, in order, duplicates kept. Never fails: pieces that
/// are not `name=value` are skipped; surrounding quotes of a value are removed.
pub fn parse_cookies<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for header in values {
        for piece in header.split(';') {
            let Some((name, value)) = piece.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            out.push((name, value));
        }
    }
    out
}

/// All values of cookie `name` on a request.
pub(crate) fn cookie_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    let values = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    parse_cookies(values)
        .into_iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .collect()
}

/// The `Authorization: Bearer …` token, if any.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether the request carries any session tokens in `transfer`.
pub(crate) fn has_tokens(headers: &HeaderMap, transfer: TokenTransfer) -> bool {
    match transfer {
        TokenTransfer::Header => bearer_token(headers).is_some(),
        TokenTransfer::Cookie => {
            !cookie_values(headers, ACCESS_TOKEN_COOKIE).is_empty()
                || !cookie_values(headers, REFRESH_TOKEN_COOKIE).is_empty()
        }
    }
}

/// The `front-token` value: standard base64 of `{"uid","ate","up"}`.
pub fn front_token(
    user_id: &str,
    access_token_expiry_ms: i64,
    payload: &Map<String, Value>,
) -> String {
    let body =
        json!({(front::UID): user_id, (front::ATE): access_token_expiry_ms, (front::UP): payload});
    b64std(body.to_string().as_bytes())
}

/// Decode a `front-token` back into `(uid, ate, up)`.
pub fn parse_front_token(token: &str) -> Option<(String, i64, Map<String, Value>)> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let mut v: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    let uid = v.remove(front::UID)?.as_str()?.to_owned();
    let ate = v.remove(front::ATE)?.as_i64()?;
    let Value::Object(up) = v.remove(front::UP)? else {
        return None;
    };
    Some((uid, ate, up))
}

/// An access token to send.
#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    /// The JWT.
    pub token: String,
    /// Its claims.
    pub claims: Map<String, Value>,
    /// User id (for the front-token).
    pub user_id: String,
    /// Expiry, ms.
    pub expiry_ms: i64,
}

/// A refresh token to send.
#[derive(Debug, Clone)]
pub struct IssuedRefreshToken {
    /// The opaque token.
    pub token: String,
    /// Expiry, ms.
    pub expiry_ms: i64,
}

/// Changes a handler made to the session that must appear on its response.
#[derive(Debug, Clone, Default)]
pub struct ResponseChanges {
    access: Option<(IssuedAccessToken, TokenTransfer)>,
    refresh: Option<(IssuedRefreshToken, TokenTransfer)>,
    anti_csrf: Option<String>,
    clear: Vec<TokenTransfer>,
}

impl ResponseChanges {
    /// Send a new access token (and front-token) in `transfer`.
    pub fn set_access_token(&mut self, token: IssuedAccessToken, transfer: TokenTransfer) {
        self.clear.retain(|t| *t != transfer);
        self.access = Some((token, transfer));
    }

    /// Send a new refresh token in `transfer`.
    pub fn set_refresh_token(&mut self, token: IssuedRefreshToken, transfer: TokenTransfer) {
        self.clear.retain(|t| *t != transfer);
        self.refresh = Some((token, transfer));
    }

    /// Send an `anti-csrf` header.
    pub fn set_anti_csrf(&mut self, token: String) {
        self.anti_csrf = Some(token);
    }

    /// Clear the session's tokens in `transfer` (and send `front-token: remove`).
    pub fn clear(&mut self, transfer: TokenTransfer) {
        self.access = self.access.take().filter(|(_, t)| *t != transfer);
        self.refresh = self.refresh.take().filter(|(_, t)| *t != transfer);
        if !self.clear.contains(&transfer) {
            self.clear.push(transfer);
        }
    }

    /// Clear tokens in both transports.
    pub fn clear_all(&mut self) {
        self.clear(TokenTransfer::Cookie);
        self.clear(TokenTransfer::Header);
        self.anti_csrf = None;
    }

    /// Whether there is anything to write.
    pub fn is_empty(&self) -> bool {
        self.access.is_none()
            && self.refresh.is_none()
            && self.anti_csrf.is_none()
            && self.clear.is_empty()
    }

    /// Write the changes into response headers.
    pub fn apply(&self, config: &SessionConfig, headers: &mut HeaderMap) {
        if self.is_empty() {
            return;
        }
        let refresh_path = config.refresh_path();
        for t in &self.clear {
            match t {
                TokenTransfer::Cookie => {
                    append_cookie(headers, config, ACCESS_TOKEN_COOKIE, "", "/", 0);
                    append_cookie(headers, config, REFRESH_TOKEN_COOKIE, "", &refresh_path, 0);
                }
                TokenTransfer::Header => {
                    set_header(headers, header::ACCESS_TOKEN, "");
                    set_header(headers, header::REFRESH_TOKEN, "");
                }
            }
        }
        if let Some((at, t)) = &self.access {
            match t {
                TokenTransfer::Cookie => {
                    let year_ms = 365 * 24 * 3600 * 1000;
                    append_cookie(
                        headers,
                        config,
                        ACCESS_TOKEN_COOKIE,
                        &at.token,
                        "/",
                        crate::crypto::now_ms() + year_ms,
                    );
                }
                TokenTransfer::Header => set_header(headers, header::ACCESS_TOKEN, &at.token),
            }
            set_header(
                headers,
                header::FRONT_TOKEN,
                &front_token(&at.user_id, at.expiry_ms, &at.claims),
            );
        } else if !self.clear.is_empty() {
            set_header(headers, header::FRONT_TOKEN, front::REMOVE);
        }
        if let Some((rt, t)) = &self.refresh {
            match t {
                TokenTransfer::Cookie => append_cookie(
                    headers,
                    config,
                    REFRESH_TOKEN_COOKIE,
                    &rt.token,
                    &refresh_path,
                    rt.expiry_ms,
                ),
                TokenTransfer::Header => set_header(headers, header::REFRESH_TOKEN, &rt.token),
            }
        }
        if let Some(a) = &self.anti_csrf {
            set_header(headers, ANTI_CSRF_HEADER, a);
        } else if !self.clear.is_empty() && self.access.is_none() {
            headers.remove(ANTI_CSRF_HEADER);
        }
        let expose = HeaderName::from_static("access-control-expose-headers");
        if !headers
            .get_all(&expose)
            .iter()
            .any(|v| v.to_str().is_ok_and(|s| s.contains(header::FRONT_TOKEN)))
        {
            headers.append(expose, exposed_headers());
        }
    }
}

fn set_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

fn append_cookie(
    headers: &mut HeaderMap,
    config: &SessionConfig,
    name: &str,
    value: &str,
    path: &str,
    expires_ms: i64,
) {
    let mut c = format!(
        "{name}={value}; Expires={}; HttpOnly; Path={path}; SameSite={}",
        http_date(expires_ms / 1000),
        config.cookie_same_site().as_str()
    );
    if config.cookie_secure() {
        c.push_str("; Secure");
    }
    if let Some(d) = &config.cookie_domain {
        c.push_str("; Domain=");
        c.push_str(d.trim());
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        headers.append(SET_COOKIE, v);
    }
}

/// IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`) of Unix seconds.
pub(crate) fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = secs.max(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)],
        MONTHS[usize::try_from(m - 1).unwrap_or(0)],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn cookies_parse() {
        let c = parse_cookies([
            "a=1; sAccessToken=x.y.z",
            "b=\"q\";junk; =v; sAccessToken=2",
        ]);
        assert_eq!(
            c,
            vec![
                ("a", "1"),
                ("sAccessToken", "x.y.z"),
                ("b", "q"),
                ("sAccessToken", "2")
            ]
        );
    }

    #[test]
    fn front_token_round_trip() {
        let up = json!({"sub": "1", "x": [1, 2]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let t = front_token("1", 99, &up);
        assert_eq!(parse_front_token(&t), Some(("1".into(), 99, up)));
    }
}
