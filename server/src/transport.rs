//! Token transport on the wire: reading tokens from requests and writing tokens, `front-token` and clears to
//! responses, in cookie mode or header mode (the rules: `docs/session.md`, shown on [`Session`](crate::Session)).

use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use cookie::Cookie;

use crate::config::SessionConfig;
use crate::crypto::b64std;

pub(crate) use fauna_session_protocol::TokenTransfer;
use fauna_session_protocol::{cookie as cookie_name, front_token as front, header};

/// Access-token cookie name.
pub(crate) const ACCESS_TOKEN_COOKIE: &str = cookie_name::ACCESS_TOKEN;
/// Refresh-token cookie name.
pub(crate) const REFRESH_TOKEN_COOKIE: &str = cookie_name::REFRESH_TOKEN;
/// Legacy cookie whose presence forces a refresh.
pub(crate) const LEGACY_ID_REFRESH_COOKIE: &str = cookie_name::LEGACY_ID_REFRESH_TOKEN;
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
    /// `"v"` ⇒ `v` (RFC 6265 allows a quoted cookie value).
    fn unquote(v: &str) -> &str {
        v.strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v)
    }
    values
        .into_iter()
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter_map(|c| Some((c.name_raw()?, unquote(c.value_raw()?))))
        .collect()
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
pub(crate) struct ResponseChanges {
    access: Option<(IssuedAccessToken, TokenTransfer)>,
    refresh: Option<(IssuedRefreshToken, TokenTransfer)>,
    anti_csrf: Option<String>,
    clear: Vec<TokenTransfer>,
}

impl ResponseChanges {
    /// Send a new access token (and front-token) in `transfer`.
    pub(crate) fn set_access_token(&mut self, token: IssuedAccessToken, transfer: TokenTransfer) {
        self.clear.retain(|t| *t != transfer);
        self.access = Some((token, transfer));
    }

    /// Send a new refresh token in `transfer`.
    pub(crate) fn set_refresh_token(&mut self, token: IssuedRefreshToken, transfer: TokenTransfer) {
        self.clear.retain(|t| *t != transfer);
        self.refresh = Some((token, transfer));
    }

    /// Send an `anti-csrf` header.
    pub(crate) fn set_anti_csrf(&mut self, token: String) {
        self.anti_csrf = Some(token);
    }

    /// Clear the session's tokens in `transfer` (and send `front-token: remove`).
    pub(crate) fn clear(&mut self, transfer: TokenTransfer) {
        self.access = self.access.take().filter(|(_, t)| *t != transfer);
        self.refresh = self.refresh.take().filter(|(_, t)| *t != transfer);
        if !self.clear.contains(&transfer) {
            self.clear.push(transfer);
        }
    }

    /// Clear tokens in both transports.
    pub(crate) fn clear_all(&mut self) {
        self.clear(TokenTransfer::Cookie);
        self.clear(TokenTransfer::Header);
        self.anti_csrf = None;
    }

    /// Whether there is anything to write.
    pub(crate) fn is_empty(&self) -> bool {
        self.access.is_none()
            && self.refresh.is_none()
            && self.anti_csrf.is_none()
            && self.clear.is_empty()
    }

    /// Write the changes into response headers.
    pub(crate) fn apply(&self, config: &SessionConfig, headers: &mut HeaderMap) {
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
    if let Ok(v) = HeaderValue::from_str(&set_cookie(config, name, value, path, expires_ms)) {
        headers.append(SET_COOKIE, v);
    }
}

/// A `Set-Cookie` value for a session cookie: HttpOnly, the configured SameSite, Secure and Domain, expiring
/// at `expires_ms` (ms since epoch; the epoch itself clears the cookie). Written here, not by the `cookie` crate,
/// to keep the wire bytes: that crate orders attributes differently and drops a `Domain`'s leading dot.
fn set_cookie(
    config: &SessionConfig,
    name: &str,
    value: &str,
    path: &str,
    expires_ms: i64,
) -> String {
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
    c
}

/// IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`) of Unix seconds (before the epoch: the epoch).
pub(crate) fn http_date(secs: i64) -> String {
    let secs = u64::try_from(secs).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
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
    fn set_cookie_bytes() {
        let mut config = SessionConfig {
            api_domain: "https://api.example.com".into(),
            website_origins: vec!["https://app.example.org".into()],
            cookie_domain: Some(" .example.com ".into()),
            ..SessionConfig::default()
        };
        assert_eq!(
            set_cookie(&config, "sRefreshToken", "t.m", "/auth/session/refresh", 0),
            "sRefreshToken=t.m; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; \
             Path=/auth/session/refresh; SameSite=None; Secure; Domain=.example.com"
        );
        config.cookie_secure = Some(false);
        config.cookie_domain = None;
        assert_eq!(
            set_cookie(&config, "sAccessToken", "a.b.c", "/", 1_700_000_000_000),
            "sAccessToken=a.b.c; Expires=Tue, 14 Nov 2023 22:13:20 GMT; HttpOnly; Path=/; SameSite=None"
        );
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
