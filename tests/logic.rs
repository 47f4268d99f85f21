//! Native unit tests of the pure logic (no browser): URL scoping table, config normalisation, cookie strings,
//! front-token decoding, local-session-state decisions, events, retry budget, clock skew.
#![cfg(not(target_arch = "wasm32"))]

use fauna_session::config::{Config, ConfigError, TokenTransferMethod};
use fauna_session::cookies;
use fauna_session::front_token::{self, FrontTokenError};
use fauna_session::scope::ScopeError;
use fauna_session::state::{self, AfterLock, LocalSessionState, RetryBudget};
use fauna_session::{Error, Event};

#[path = "shared/scope_cases.rs"]
mod scope_cases;

/// The scoping tables (`tests/shared/scope_cases.rs`) with this crate's own URL parser; `tests/browser_scoping.rs`
/// runs the same tables with the browser's.
#[test]
fn url_scoping_tables() {
    scope_cases::check_all();
}

#[test]
fn config_defaults_and_validation() {
    let n = Config::new("127.0.0.1:3001")
        .normalise("127.0.0.1")
        .unwrap();
    assert_eq!(n.api_domain, "http://127.0.0.1:3001");
    assert_eq!(n.api_base_path, "/auth");
    assert_eq!(n.refresh_url, "http://127.0.0.1:3001/auth/session/refresh");
    assert_eq!(n.sign_out_url, "http://127.0.0.1:3001/auth/signout");
    assert_eq!(
        (n.session_expired_status_code, n.invalid_claim_status_code),
        (401, 403)
    );
    assert_eq!(n.token_transfer_method, TokenTransferMethod::Cookie);
    assert_eq!(n.session_token_frontend_domain, "127.0.0.1");
    assert!(n.auto_add_credentials && !n.is_in_iframe);
    assert_eq!(n.max_retry_attempts_for_session_refresh, 10);
    assert_eq!(n.cookie_domain("127.0.0.1"), None);

    let mut c = Config::new("https://api.example.com");
    c.api_base_path = "/".into();
    c.session_token_frontend_domain = Some(".example.com".into());
    let n = c.normalise("www.example.com").unwrap();
    assert_eq!(n.refresh_url, "https://api.example.com/session/refresh");
    assert_eq!(n.cookie_domain("www.example.com"), Some(".example.com"));

    let mut c = Config::new("https://api.example.com");
    c.invalid_claim_status_code = 401;
    assert_eq!(c.normalise("x.com"), Err(ConfigError::SameStatusCodes));
    assert_eq!(
        ConfigError::SameStatusCodes.message(),
        "sessionExpiredStatusCode and invalidClaimStatusCode cannot be the same."
    );
    assert_eq!(
        Config::new("/auth").normalise("x.com"),
        Err(ConfigError::Scope(ScopeError::InvalidDomain))
    );
    assert_eq!(
        ConfigError::NegativeRetryAttempts.message(),
        "maxRetryAttemptsForSessionRefresh must be greater than or equal to 0."
    );
    assert_eq!(
        TokenTransferMethod::parse("header"),
        Some(TokenTransferMethod::Header)
    );
    assert_eq!(TokenTransferMethod::parse("bearer"), None);
}

#[test]
fn cookie_strings() {
    assert_eq!(
        cookies::build("sFrontToken", "abc=", cookies::FOREVER, None, false),
        "sFrontToken=abc=;expires=Fri, 31 Dec 9999 23:59:59 GMT;path=/;samesite=lax"
    );
    assert_eq!(
        cookies::build("sAntiCsrf", "", cookies::EPOCH, Some(".example.com"), true),
        "sAntiCsrf=;expires=Thu, 01 Jan 1970 00:00:00 GMT;domain=.example.com;path=/;samesite=none;secure"
    );
    let jar = "a=1; sFrontToken=first; st-last-access-token-update=17; sFrontToken=last==";
    assert_eq!(cookies::get(jar, "sFrontToken"), Some("last=="));
    assert_eq!(cookies::get(jar, "st-last-access-token-update"), Some("17"));
    assert_eq!(cookies::get(jar, "a"), Some("1"));
    assert_eq!(cookies::get(jar, "FrontToken"), None);
    assert_eq!(cookies::get("", "a"), None);
    assert_eq!(cookies::get("xsFrontToken=1", "sFrontToken"), None);
}

#[test]
fn front_token_decoding() {
    let json = r#"{"uid":"ü","ate":1,"up":{"faunadbToken":"fnX"}}"#;
    let b64 = std_b64(json.as_bytes());
    assert_eq!(front_token::decode(&b64).as_deref(), Ok(json));
    assert_eq!(
        front_token::decode(b64.trim_end_matches('=')).as_deref(),
        Ok(json)
    );
    assert_eq!(front_token::decode("%%%"), Err(FrontTokenError::Base64));
    assert_eq!(front_token::decode("a"), Err(FrontTokenError::Base64));
    assert_eq!(front_token::decode("QQ==="), Err(FrontTokenError::Base64));
    assert_eq!(
        front_token::decode(&std_b64(&[0xff, 0xfe])),
        Err(FrontTokenError::Utf8)
    );
    for len in 0..40 {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(front_token::base64_decode(&std_b64(&bytes)).unwrap(), bytes);
    }
}

#[cfg(feature = "serde")]
#[test]
fn front_token_typed_parse() {
    #[derive(Debug, serde::Deserialize)]
    struct Up {
        #[serde(rename = "faunadbToken")]
        fauna: String,
    }
    let t = front_token::parse::<Up>(&std_b64(
        br#"{"uid":"u","ate":2,"up":{"faunadbToken":"fnX"}}"#,
    ))
    .unwrap();
    assert_eq!(
        (t.uid.as_str(), t.ate, t.up.fauna.as_str()),
        ("u", 2.0, "fnX")
    );
    assert_eq!(
        front_token::parse::<Up>(&std_b64(b"[1]")).unwrap_err(),
        FrontTokenError::Shape
    );
}

fn std_b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[test]
fn local_session_state_and_lock_decisions() {
    use LocalSessionState::*;
    assert_eq!(
        LocalSessionState::from_cookies(Some("1"), Some("f")),
        Exists("1".into())
    );
    assert_eq!(LocalSessionState::from_cookies(Some("1"), None), NotExists);
    assert_eq!(LocalSessionState::from_cookies(None, Some("f")), MayExist);
    assert_eq!(LocalSessionState::from_cookies(None, None), MayExist);
    let e1 = Exists("1".into());
    let e2 = Exists("2".into());
    assert_eq!(state::after_lock(&e1, &e1), AfterLock::Refresh);
    assert_eq!(state::after_lock(&e1, &e2), AfterLock::Retry);
    assert_eq!(
        state::after_lock(&e1, &NotExists),
        AfterLock::SessionExpired
    );
    assert_eq!(
        state::after_lock(&MayExist, &NotExists),
        AfterLock::SessionExpired
    );
    assert_eq!(state::after_lock(&MayExist, &e1), AfterLock::Retry);
    assert_eq!(state::after_lock(&NotExists, &e1), AfterLock::Retry);
    assert_eq!(state::after_lock(&MayExist, &MayExist), AfterLock::Refresh);
    assert_eq!(state::after_lock(&e1, &MayExist), AfterLock::Refresh);
}

#[test]
fn session_update_events() {
    let ev = |was, status, h| state::session_update_event(was, status, h, 401);
    assert_eq!(ev(false, 200, Some("eyJ")), Some(Event::SessionCreated));
    assert_eq!(ev(true, 200, Some("eyJ")), None);
    assert_eq!(ev(true, 200, Some("remove")), Some(Event::SignOut));
    assert_eq!(
        ev(true, 401, Some("remove")),
        Some(Event::Unauthorised {
            session_expired_or_revoked: true
        })
    );
    assert_eq!(ev(false, 401, Some("remove")), None);
    assert_eq!(ev(true, 401, None), None);
    assert_eq!(
        Event::ApiInvalidClaim {
            claim_validation_errors: "[]".into()
        }
        .action(),
        "API_INVALID_CLAIM"
    );
}

#[test]
fn retry_budget_counts() {
    let mut b = RetryBudget::new(3);
    assert!(b.take() && b.take() && b.take());
    assert!(!b.take());
    assert_eq!(b.used(), 3);
    let mut zero = RetryBudget::new(0);
    assert!(!zero.take());
}

#[test]
fn after_response_refreshes_until_the_budget_is_spent() {
    use state::ResponseStep::*;
    // 401 expired, 403 invalid claim, at most 2 refreshes.
    assert_eq!(state::after_response(401, 401, 403, 0, 2), Refresh);
    assert_eq!(state::after_response(401, 401, 403, 1, 2), Refresh);
    assert_eq!(state::after_response(401, 401, 403, 2, 2), RetryLimit);
    assert_eq!(state::after_response(401, 401, 403, 0, 0), RetryLimit);
    assert_eq!(state::after_response(403, 401, 403, 0, 2), InvalidClaim);
    assert_eq!(state::after_response(200, 401, 403, 0, 2), Done);
    assert_eq!(state::after_response(500, 401, 403, 5, 2), Done);
    // Configured statuses are honoured, not the defaults.
    assert_eq!(state::after_response(401, 440, 403, 0, 2), Done);
    assert_eq!(state::after_response(440, 440, 403, 0, 2), Refresh);
}

#[test]
fn sign_out_steps() {
    use state::SignOutStep::*;
    assert_eq!(state::sign_out_step(200, 401), Done);
    assert_eq!(state::sign_out_step(204, 401), Done);
    assert_eq!(state::sign_out_step(401, 401), SessionGone);
    assert_eq!(state::sign_out_step(440, 440), SessionGone);
    assert_eq!(state::sign_out_step(401, 440), Failed);
    assert_eq!(state::sign_out_step(300, 401), Failed);
    assert_eq!(state::sign_out_step(500, 401), Failed);
}

#[test]
fn clock_skew() {
    // Server 60 s ahead: iat (s) is 60 s after the client's now.
    let skew = state::clock_skew_ms(1_060.0, 1_000_000.0);
    assert_eq!(skew, 60_000.0);
    assert_eq!(state::adjusted_now(1_000_000.0, skew), 1_060_000.0);
    assert_eq!(state::adjusted_now(1_000_000.0, 6_999.0), 1_000_000.0);
    assert_eq!(state::adjusted_now(1_000_000.0, -7_000.0), 993_000.0);
    assert!(state::expired(1_000.0, 1_001.0));
    assert!(!state::expired(1_000.0, 1_000.0));
    assert!(state::valid_for(61_000.0, 1_000.0, 60_000.0));
    assert!(!state::valid_for(60_999.0, 1_000.0, 60_000.0));
}

#[test]
fn error_messages_match_display() {
    let errors = [
        Error::NotInitialised,
        Error::Config(ConfigError::SameStatusCodes),
        Error::Config(ConfigError::InvalidOption("isInIframe")),
        Error::NoSession,
        Error::CouldNotRefresh,
        Error::MalformedFrontToken(FrontTokenError::Base64),
        Error::RefreshFailed { status: 500 },
        Error::MissingFrontToken,
        Error::RetryLimit {
            status: 401,
            url: "http://a/b".into(),
            attempts: 10,
        },
        Error::CookieWriteFailed,
        Error::General("boom".into()),
        Error::NoFaunaToken,
        Error::FaunaTokenTooShort,
        Error::Payload("x".into()),
        Error::Js("y".into()),
    ];
    for e in errors {
        assert_eq!(e.to_string(), e.message());
    }
    fn assert_send_sync_clone<T: Send + Sync + Clone + std::error::Error>() {}
    assert_send_sync_clone::<Error>();
}
