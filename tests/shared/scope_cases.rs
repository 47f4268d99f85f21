//! The URL scoping tables, shared by the native tests (`tests/logic.rs`, this crate's own URL parser) and the
//! browser tests (`tests/browser_scoping.rs`, where `scope` reads URLs with the browser's `new URL`, as the
//! SuperTokens SDK does): both parsers must give every answer here.
#![allow(dead_code, unreachable_pub)]

use fauna_session::scope::{self, ScopeError};

/// (request URL, apiDomain, sessionTokenBackendDomain, intercepted?) — ports and schemes are ignored.
pub const SCOPE_TABLE: &[(&str, &str, Option<&str>, bool)] = &[
    // api domain only
    ("api.example.com", "https://api.example.com", None, true),
    (
        "http://api.example.com",
        "http://api.example.com",
        None,
        true,
    ),
    (
        "https://api.example.com",
        "http://api.example.com",
        None,
        true,
    ),
    (
        "https://api.example.com:3000",
        "http://api.example.com:3000",
        None,
        true,
    ),
    (
        "https://api.example.com:3002",
        "https://api.example.com:3001",
        None,
        true,
    ),
    ("localhost:3000", "localhost:3000", None, true),
    ("localhost:3001", "localhost:3000", None, true),
    ("localhost:3001", "localhost", None, true),
    (
        "http://localhost:3000",
        "https://localhost:3000",
        None,
        true,
    ),
    ("localhost", "https://localhost", None, true),
    ("127.0.0.1:3000", "127.0.0.1:3000", None, true),
    ("http://127.0.0.1", "https://127.0.0.1", None, true),
    (
        "http://127.0.0.1:3001/auth/session/refresh",
        "http://127.0.0.1:3001",
        None,
        true,
    ),
    ("http://API.Example.com/x", "api.example.com", None, true),
    (
        "https://user:pw@api.example.com/x",
        "api.example.com",
        None,
        true,
    ),
    ("localhost:3001", "example.com", None, false),
    (
        "https://example.com",
        "https://api.example.com",
        None,
        false,
    ),
    (
        "https://api.example.com",
        "https://a.api.example.com",
        None,
        false,
    ),
    (
        "https://api.example.com",
        "https://example.com",
        None,
        false,
    ),
    (
        "https://example.com:3001",
        "https://api.example.com:3001",
        None,
        false,
    ),
    (
        "http://127.0.0.2:3001",
        "http://127.0.0.1:3001",
        None,
        false,
    ),
    (
        "http://127.0.0.1:3001/x?superTokensDoNotDoInterception",
        "http://127.0.0.1:3001",
        None,
        false,
    ),
    (
        "http://127.0.0.1:3001/x#superTokensDoNotDoInterception",
        "http://127.0.0.1:3001",
        None,
        false,
    ),
    // backend domain
    ("api.example.com", "", Some("api.example.com"), true),
    (
        "http://api.example.com",
        "",
        Some("http://api.example.com"),
        true,
    ),
    ("api.example.com", "", Some(".example.com"), true),
    (
        "https://sub.api.example.com",
        "",
        Some(".api.example.com"),
        true,
    ),
    (
        "https://sub.api.example.com",
        "",
        Some(".example.com"),
        true,
    ),
    (
        "https://sub.api.example.com:3000",
        "",
        Some(".example.com:3000"),
        true,
    ),
    (
        "https://sub.api.example.com:3000",
        "",
        Some(".example.com:3001"),
        true,
    ),
    (
        "https://sub.api.example.com:3000",
        "",
        Some("https://sub.api.example.com"),
        true,
    ),
    (
        "https://api.example.com:3000",
        "",
        Some(".api.example.com"),
        true,
    ),
    ("localhost:3000", "", Some("localhost:3000"), true),
    ("https://localhost:3000", "", Some(".localhost:3000"), true),
    ("http://a.localhost:3000", "", Some(".localhost:3000"), true),
    (
        "http://127.0.0.1:3000",
        "",
        Some("https://127.0.0.1:3010"),
        true,
    ),
    ("https://sub.api.example.com:3000", "", Some(".com"), true),
    (
        "https://sub1.api.example.co.uk:3000",
        "",
        Some(".api.example.co.uk"),
        true,
    ),
    (
        "https://api.example.co.uk:3000",
        "",
        Some("api.example.co.uk"),
        true,
    ),
    (
        "https://other.example.org",
        "https://api.example.com",
        Some(".example.org"),
        true,
    ),
    (
        "https://sub.api.example.com:3000",
        "",
        Some("example.com"),
        true,
    ),
    (
        "https://api.example.com:3000",
        "",
        Some(".a.api.example.com"),
        false,
    ),
    (
        "https://sub.api.example.com:3000",
        "",
        Some("localhost"),
        false,
    ),
    (
        "https://sub.api.example.co.uk:3000",
        "",
        Some("api.example.co.uk"),
        true,
    ),
    (
        "https://sub.api.example.co.uk",
        "",
        Some("example.co.uk"),
        true,
    ),
    (
        "https://sub.api.example.co.uk",
        "",
        Some("other.co.uk"),
        false,
    ),
    ("https://evil-example.com", "", Some(".example.com"), false),
    (
        "https://example.com.evil.org",
        "https://example.com",
        Some("example.com"),
        false,
    ),
];

pub fn url_scoping_table() {
    for &(url, api, backend, expected) in SCOPE_TABLE {
        assert_eq!(
            scope::should_intercept(url, api, backend),
            Ok(expected),
            "{url} / {api} / {backend:?}"
        );
    }
}

/// With the options normalised first (as `init` does), the per-request check answers as `should_intercept`: the
/// two normalisations are idempotent. A URL `should_intercept` refuses is not intercepted.
pub fn url_scoping_with_normalised_options_answers_the_same() {
    let urls = SCOPE_TABLE.iter().map(|row| row.0).chain([
        "/some/path",
        "http://",
        "http://a.com:99999",
        "https://x.superTokensDoNotDoInterception.com",
    ]);
    for url in urls {
        for &(_, api, backend, _) in SCOPE_TABLE {
            let n_api = if api.is_empty() {
                String::new()
            } else {
                scope::normalise_url_domain(api).unwrap()
            };
            let n_backend = backend.map(|b| scope::normalise_session_scope(b).unwrap());
            assert_eq!(
                scope::normalise_url_domain(&n_api).unwrap_or_default(),
                n_api,
                "{api}: idempotent"
            );
            assert_eq!(
                n_backend
                    .as_deref()
                    .map(|b| scope::normalise_session_scope(b).unwrap()),
                n_backend,
                "{backend:?}: idempotent"
            );
            assert_eq!(
                scope::should_intercept_normalised(url, &n_api, n_backend.as_deref()),
                scope::should_intercept(url, api, backend).unwrap_or(false),
                "{url} / {api} / {backend:?}"
            );
        }
    }
}

pub fn url_scoping_errors() {
    assert_eq!(
        scope::should_intercept("/some/path", "", Some("api.example.co.uk")),
        Err(ScopeError::InvalidDomain)
    );
    assert_eq!(
        scope::should_intercept("/some/path", "api.example.co.uk", None),
        Err(ScopeError::InvalidDomain)
    );
    assert_eq!(
        scope::should_intercept("http://", "api.example.com", None),
        Err(ScopeError::InvalidDomain)
    );
    assert_eq!(
        scope::should_intercept("http://a.com:99999", "a.com", None),
        Err(ScopeError::InvalidDomain)
    );
}

pub fn domain_normalisation() {
    for (input, out) in [
        ("http://api.example.com", "http://api.example.com"),
        ("https://api.example.com", "https://api.example.com"),
        ("http://api.example.com?hello=1", "http://api.example.com"),
        ("http://api.example.com/hello", "http://api.example.com"),
        ("http://api.example.com:8080", "http://api.example.com:8080"),
        ("https://api.example.com:443", "https://api.example.com"),
        ("http://api.example.com:80/x", "http://api.example.com"),
        ("api.example.com/", "https://api.example.com"),
        ("api.example.com#random", "https://api.example.com"),
        (".example.com", "https://example.com"),
        ("  api.example.com  ", "https://api.example.com"),
        ("localhost", "http://localhost"),
        ("localhost:3000", "http://localhost:3000"),
        ("127.0.0.1:3001", "http://127.0.0.1:3001"),
        ("https://127.0.0.1:3001", "https://127.0.0.1:3001"),
    ] {
        assert_eq!(
            scope::normalise_url_domain(input).as_deref(),
            Ok(out),
            "{input}"
        );
    }
    for bad in ["/auth", "", "nodots", "http://"] {
        assert_eq!(
            scope::normalise_url_domain(bad),
            Err(ScopeError::InvalidDomain),
            "{bad}"
        );
    }
}

pub fn path_normalisation() {
    for (input, out) in [
        ("exists?email=john.doe%40gmail.com", "/exists"),
        (
            "/auth/email/exists?email=john.doe%40gmail.com",
            "/auth/email/exists",
        ),
        ("exists", "/exists"),
        ("http://api.example.com", ""),
        ("http://api.example.com/", ""),
        ("http://api.example.com/hello/", "/hello"),
        ("http://api.example.com:8080/one/two", "/one/two"),
        ("http://api.example.com/one/two#random2", "/one/two"),
        ("api.example.com/one/two", "/one/two"),
        (".example.com/one/two", "/one/two"),
        ("1.2.3.4/one/two", "/one/two"),
        ("/one/two", "/one/two"),
        ("one/two/", "/one/two"),
        ("/one/two/#random", "/one/two"),
        ("/", ""),
        ("/auth", "/auth"),
        ("/Auth/", "/auth"),
        ("", ""),
    ] {
        assert_eq!(
            scope::normalise_url_path(input).as_deref(),
            Ok(out),
            "{input}"
        );
    }
}

pub fn session_scope_normalisation() {
    for (input, out) in [
        ("api.example.com", "api.example.com"),
        ("http://api.example.com?hello=1", "api.example.com"),
        ("http://api.example.com:8080", "api.example.com"),
        ("api.example.com/?hello=1&bye=2", "api.example.com"),
        ("localhost", "localhost"),
        ("localhost:8080", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        (".api.example.com", ".api.example.com"),
        (".api.example.com/", ".api.example.com"),
        (".example.com", ".example.com"),
        (".localhost", "localhost"),
        (".localhost:8080", "localhost"),
        (".localhost.org", ".localhost.org"),
        (".127.0.0.1", "127.0.0.1"),
        ("EXAMPLE.com", "example.com"),
    ] {
        assert_eq!(
            scope::normalise_session_scope(input).as_deref(),
            Ok(out),
            "{input}"
        );
    }
    assert_eq!(
        scope::normalise_session_scope("http://"),
        Err(ScopeError::InvalidSessionScope)
    );
}

/// Every table above.
pub fn check_all() {
    url_scoping_table();
    url_scoping_with_normalised_options_answers_the_same();
    url_scoping_errors();
    domain_normalisation();
    path_normalisation();
    session_scope_normalisation();
}
