//! URL scoping: which requests the interceptor touches.
//!
//! These functions follow the SuperTokens frontend SDK's normalisation rules exactly (the same inputs give the
//! same answers), so an app can move between that SDK and this crate without its interception scope changing:
//!
//! * [`normalise_url_domain`] turns `apiDomain` into `scheme://host[:port]`;
//! * [`normalise_url_path`] turns `apiBasePath` into `/a/b` (or `""` for `/`);
//! * [`normalise_session_scope`] turns `sessionTokenFrontendDomain`/`sessionTokenBackendDomain` into a bare host,
//!   keeping a leading `.` (except for `localhost` and IP addresses);
//! * [`should_intercept`] decides whether a request URL gets the session headers.
//!
//! In a browser the URLs are read by the browser's own parser (`new URL`, as the SDK reads them); elsewhere by a
//! parser of this crate's that reads what scoping needs as that one does. The crate's scoping tables hold both to
//! the same answers.
//!
//! ```
//! use fauna_session::scope::should_intercept;
//! // Ports and schemes are ignored: only host names are compared.
//! assert_eq!(should_intercept("http://api.example.com:8080/x", "https://api.example.com", None), Ok(true));
//! assert_eq!(should_intercept("https://example.com/", "https://api.example.com", None), Ok(false));
//! // A backend domain widens the scope to a domain and its subdomains.
//! assert_eq!(should_intercept("https://a.b.example.com", "https://api.example.com", Some(".example.com")), Ok(true));
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::text::{contains, has_byte, split_once_byte, trim};
#[cfg(not(target_arch = "wasm32"))]
use crate::text::{find_any, rsplit_once_byte, small_number, trim_start_byte};

/// A value that could not be normalised. The messages are the SuperTokens SDK's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeError {
    /// An `apiDomain` or request URL that is not a domain (for example a bare path).
    InvalidDomain,
    /// An `apiBasePath` that cannot be read as a path.
    InvalidPath,
    /// A `sessionTokenFrontendDomain`/`sessionTokenBackendDomain` that has no host.
    InvalidSessionScope,
}

impl ScopeError {
    /// The error's message (also its `Display`), without `core::fmt` (keeps the wasm build small).
    pub fn message(self) -> &'static str {
        match self {
            ScopeError::InvalidDomain => "Please provide a valid domain name",
            ScopeError::InvalidPath => "Please provide a valid URL path",
            ScopeError::InvalidSessionScope => "Please provide a valid sessionScope",
        }
    }
}

crate::text::display_from_message!(ScopeError);

/// The parts of an absolute `http(s)` URL that scoping needs, as the WHATWG URL parser gives them.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    https: bool,
    /// Lowercased host name (IPv6 addresses keep their brackets).
    hostname: String,
    /// Port; empty when it is the scheme's default.
    port: String,
    /// At least `/`, without query or fragment.
    path: String,
}

impl Parsed {
    #[allow(
        clippy::single_char_add_str,
        reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
    )]
    fn host(&self) -> String {
        let mut h = self.hostname.clone();
        if !self.port.is_empty() {
            h.push_str(":");
            h.push_str(&self.port);
        }
        h
    }
}

fn strip_scheme(s: &str) -> Option<(bool, &str)> {
    if let Some(r) = s.strip_prefix("https://") {
        Some((true, r))
    } else {
        s.strip_prefix("http://").map(|r| (false, r))
    }
}

/// Parses `http://…`/`https://…` (the scheme as the SuperTokens SDK requires it: lowercase, with `//`); `None`
/// where `new URL()` would throw. In the browser the browser's own URL parser reads the rest (`new URL()`, as the
/// SDK does, through `driver.js`: no URL parser in the wasm); elsewhere [`parse_rest`], which reads what scoping
/// needs as that parser does (`tests/browser_scoping.rs` holds the two to the same answers).
fn parse(url: &str) -> Option<Parsed> {
    let (https, rest) = strip_scheme(url)?;
    #[cfg(target_arch = "wasm32")]
    {
        let _ = rest;
        let parts = crate::wasm::sys::url_parts(url)?;
        let (hostname, rest) = split_once_byte(&parts, b' ')?;
        let (port, path) = split_once_byte(rest, b' ')?;
        Some(Parsed {
            https,
            hostname: hostname.to_owned(),
            port: port.to_owned(),
            path: path.to_owned(),
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    parse_rest(https, rest)
}

/// [`parse`] after the scheme, without the browser.
#[cfg(not(target_arch = "wasm32"))]
fn parse_rest(https: bool, rest: &str) -> Option<Parsed> {
    let end = find_any(rest, b"/?#\\").unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let tail = rest.get(end..)?;
    let authority = rsplit_once_byte(authority, b'@').map_or(authority, |(_, host)| host);
    let (hostname, port) = if authority.starts_with("[") {
        let (inside, after) = split_once_byte(authority, b']')?;
        let port = match after.strip_prefix(":") {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (authority.get(..inside.len() + 1)?, port)
    } else {
        match split_once_byte(authority, b':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if hostname.is_empty()
        || hostname.bytes().any(|b| {
            b <= b' '
                || matches!(
                    b,
                    b'<' | b'>' | b'^' | b'|' | b'%' | b'"' | b'`' | b'{' | b'}'
                )
        })
    {
        return None;
    }
    let port = match port {
        None | Some("") => "",
        Some(p) => {
            if small_number(p)? > 65535 {
                return None;
            }
            let p = trim_start_byte(p, b'0');
            let p = if p.is_empty() { "0" } else { p };
            if (https && p == "443") || (!https && p == "80") {
                ""
            } else {
                p
            }
        }
    };
    let path = tail
        .get(..find_any(tail, b"?#").unwrap_or(tail.len()))
        .unwrap_or("");
    Some(Parsed {
        https,
        hostname: hostname.to_ascii_lowercase(),
        port: port.to_owned(),
        path: if path.is_empty() { "/" } else { path }.to_owned(),
    })
}

/// True for dotted-quad IPv4 addresses (the SDK's `isAnIpAddress`).
pub fn is_ip_address(s: &str) -> bool {
    let mut n = 0;
    for part in s.as_bytes().split(|&b| b == b'.') {
        n += 1;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        if part.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0')) > 255 {
            return false;
        }
    }
    n == 4
}

/// Normalises a domain to `scheme://host[:port]`.
///
/// Without a scheme, `localhost` and IP addresses get `http://`, everything else `https://`.
///
/// ```
/// use fauna_session::scope::normalise_url_domain;
/// assert_eq!(normalise_url_domain("api.example.com/path").unwrap(), "https://api.example.com");
/// assert_eq!(normalise_url_domain("localhost:3001").unwrap(), "http://localhost:3001");
/// assert!(normalise_url_domain("/auth").is_err());
/// ```
pub fn normalise_url_domain(input: &str) -> Result<String, ScopeError> {
    normalise_domain(input, false)
}

fn normalise_domain(input: &str, ignore_protocol: bool) -> Result<String, ScopeError> {
    let input = trim(input);
    if let Some(p) = parse(input) {
        let mut out = String::new();
        if ignore_protocol {
            if p.hostname.starts_with("localhost") || is_ip_address(&p.hostname) {
                out.push_str("http://");
            } else {
                out.push_str("https://");
            }
        } else {
            out.push_str(if p.https { "https://" } else { "http://" });
        }
        out.push_str(&p.host());
        return Ok(out);
    }
    if input.starts_with("/") || strip_scheme(input).is_some() {
        return Err(ScopeError::InvalidDomain);
    }
    let input = input.strip_prefix(".").unwrap_or(input);
    if has_byte(input, b'.') || input.starts_with("localhost") {
        let mut with = String::from("https://");
        with.push_str(input);
        if parse(&with).is_some() {
            return normalise_domain(&with, true);
        }
    }
    Err(ScopeError::InvalidDomain)
}

fn domain_given(input: &str) -> bool {
    if !has_byte(input, b'.') || input.starts_with("/") {
        return false;
    }
    if let Some(p) = parse(input) {
        return has_byte(&p.hostname, b'.');
    }
    let mut with = String::from("http://");
    with.push_str(input);
    parse(&with).is_some_and(|p| has_byte(&p.hostname, b'.'))
}

/// Normalises a path: lowercased, leading `/`, no trailing `/`, no query or fragment; `/` becomes `""`.
///
/// ```
/// use fauna_session::scope::normalise_url_path;
/// assert_eq!(normalise_url_path("auth/").unwrap(), "/auth");
/// assert_eq!(normalise_url_path("/").unwrap(), "");
/// assert_eq!(normalise_url_path("https://api.example.com/one/two?x=1").unwrap(), "/one/two");
/// ```
#[allow(
    clippy::single_char_add_str,
    reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
)]
pub fn normalise_url_path(input: &str) -> Result<String, ScopeError> {
    let input = trim(input).to_ascii_lowercase();
    if let Some(p) = parse(&input) {
        return Ok(p.path.strip_suffix("/").unwrap_or(&p.path).to_owned());
    }
    if strip_scheme(&input).is_some() {
        return Err(ScopeError::InvalidPath);
    }
    if domain_given(&input) || input.starts_with("localhost") {
        let mut with = String::from("http://");
        with.push_str(&input);
        return normalise_url_path(&with);
    }
    let mut with = String::from("http://example.com");
    if !input.starts_with("/") {
        with.push_str("/");
    }
    with.push_str(&input);
    if parse(&with).is_none() {
        return Err(ScopeError::InvalidPath);
    }
    normalise_url_path(&with)
}

/// Normalises a cookie/session scope domain to a bare, lowercased host name.
///
/// A leading `.` is kept (it means "and subdomains"), except for `localhost` and IP addresses.
///
/// ```
/// use fauna_session::scope::normalise_session_scope;
/// assert_eq!(normalise_session_scope("https://API.example.com:8080/x").unwrap(), "api.example.com");
/// assert_eq!(normalise_session_scope(".example.com").unwrap(), ".example.com");
/// assert_eq!(normalise_session_scope(".localhost").unwrap(), "localhost");
/// ```
pub fn normalise_session_scope(input: &str) -> Result<String, ScopeError> {
    let lowered = trim(input).to_ascii_lowercase();
    let stripped = lowered.strip_prefix(".").unwrap_or(&lowered);
    let mut with = String::new();
    if strip_scheme(stripped).is_none() {
        with.push_str("http://");
    }
    with.push_str(stripped);
    let host = parse(&with)
        .ok_or(ScopeError::InvalidSessionScope)?
        .hostname;
    if host == "localhost" || is_ip_address(&host) {
        return Ok(host);
    }
    if trim(input).starts_with(".") {
        let mut dotted = String::from(".");
        dotted.push_str(&host);
        return Ok(dotted);
    }
    Ok(host)
}

/// True if `hostname` or one of its parent domains equals `scope` (with or without a leading `.`).
///
/// Note that, as in the SuperTokens SDK, a scope of `.com` matches every `.com` host.
pub fn matches_domain_or_subdomain(hostname: &str, scope: &str) -> bool {
    let mut candidate = hostname;
    loop {
        if candidate == scope || scope.strip_prefix(".") == Some(candidate) {
            return true;
        }
        match split_once_byte(candidate, b'.') {
            Some((_, parent)) => candidate = parent,
            None => return false,
        }
    }
}

/// Marks a URL that is never intercepted (the SuperTokens SDK's).
pub(crate) const DO_NOT_INTERCEPT: &str = "superTokensDoNotDoInterception";

/// Decides whether a request to `url` is intercepted (gets the session headers and refresh handling).
///
/// * a URL containing `superTokensDoNotDoInterception` anywhere is never intercepted;
/// * otherwise its host name must equal `api_domain`'s (ports and schemes are ignored);
/// * or, when `backend_domain` is set, be that domain or a subdomain of it.
///
/// `url` may omit the scheme (`api.example.com/x`); a relative path is an error
/// ([`ScopeError::InvalidDomain`]) — the browser backend resolves relative URLs against the page first.
/// An empty `api_domain` matches nothing.
pub fn should_intercept(
    url: &str,
    api_domain: &str,
    backend_domain: Option<&str>,
) -> Result<bool, ScopeError> {
    if contains(url, DO_NOT_INTERCEPT) {
        return Ok(false);
    }
    let normalised = normalise_url_domain(url)?;
    let hostname = parse(&normalised)
        .ok_or(ScopeError::InvalidDomain)?
        .hostname;
    let mut matched = false;
    if !api_domain.is_empty() {
        let api = normalise_url_domain(api_domain)?;
        matched = parse(&api).is_some_and(|p| p.hostname == hostname);
    }
    match backend_domain {
        Some(backend) if !matched => {
            let scope = normalise_session_scope(backend)?;
            Ok(matches_domain_or_subdomain(&hostname, &scope))
        }
        _ => Ok(matched),
    }
}

/// [`should_intercept`] for options already normalised, as [`Normalised`](crate::config::Normalised) holds them:
/// `api_domain` by [`normalise_url_domain`] (or empty) and `backend_scope` by [`normalise_session_scope`]. Both
/// normalisations give their own output back, so the answer is `should_intercept`'s, without normalising the two
/// again on every request; a `url` `should_intercept` refuses is not intercepted. (Its first lines are
/// `should_intercept`'s; a helper for the two costs the npm build 34-85 B gzipped, `scripts/size-report.sh`.)
///
/// ```
/// use fauna_session::scope::{normalise_session_scope, normalise_url_domain, should_intercept_normalised};
/// let api = normalise_url_domain("API.example.com:3000").unwrap();
/// let backend = normalise_session_scope(".example.com").unwrap();
/// assert!(should_intercept_normalised("https://api.example.com/x", &api, None));
/// assert!(should_intercept_normalised("https://a.example.com/x", "", Some(&backend)));
/// assert!(!should_intercept_normalised("/relative", &api, Some(&backend)));
/// ```
pub fn should_intercept_normalised(
    url: &str,
    api_domain: &str,
    backend_scope: Option<&str>,
) -> bool {
    if contains(url, DO_NOT_INTERCEPT) {
        return false;
    }
    let Some(hostname) = normalise_url_domain(url)
        .ok()
        .and_then(|n| parse(&n).map(|p| p.hostname))
    else {
        return false;
    };
    parse(api_domain).is_some_and(|p| p.hostname == hostname)
        || backend_scope.is_some_and(|scope| matches_domain_or_subdomain(&hostname, scope))
}

/// Origin (`scheme://host[:port]`, host lowercased, default port left out) and path (`/` at least, without query
/// or fragment) of an absolute `http(s)` URL with a lowercase scheme (as `new URL(…).href` gives it), as the
/// WHATWG URL parser reads them; `None` for anything else.
///
/// ```
/// use fauna_session::scope::origin_and_path;
/// assert_eq!(origin_and_path("http://Db.Example.com:80/query/1?x#y"), Some(("http://db.example.com".into(), "/query/1".into())));
/// assert_eq!(origin_and_path("https://db.example.com:8443"), Some(("https://db.example.com:8443".into(), "/".into())));
/// assert_eq!(origin_and_path("/query/1"), None);
/// ```
pub fn origin_and_path(url: &str) -> Option<(String, String)> {
    let p = parse(url)?;
    let mut origin = String::from(if p.https { "https://" } else { "http://" });
    origin.push_str(&p.host());
    Some((origin, p.path))
}

/// Host name of an absolute `http(s)` URL, lowercased (used by the browser backend).
pub fn hostname(url: &str) -> Option<String> {
    parse(url).map(|p| p.hostname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses() {
        assert!(is_ip_address("10.0.255.1"));
        assert!(!is_ip_address("10.0.256.1"));
        assert!(!is_ip_address("10.0.1"));
        assert!(!is_ip_address("1.2.3.4.5"));
        assert!(!is_ip_address("1..3.4"));
    }
}
