//! Native unit tests of the pure decisions behind the Fauna-managed requests, the tabs that agree and the
//! failures that don't sign you out (no browser).
#![cfg(not(target_arch = "wasm32"))]

use fauna_session::Event;
use fauna_session::config::{Config, ConfigError};
use fauna_session::failure::{self, RefreshFailure, Stored};
use fauna_session::fauna::{
    self, FaunaConfig, FaunaConfigError, FaunaEndpoint, FaunaStep, TokenAction,
};
use fauna_session::state::{AfterLock, LocalSessionState};
use fauna_session::tabs::{self, Holder, LockStep, LockWait, Seen, TabChange, TabMessage};

/// (endpoint, request URL, Fauna's?) — scheme, host and port must all match.
const ENDPOINT_TABLE: &[(&str, &str, bool)] = &[
    (
        "http://127.0.0.1:8443",
        "http://127.0.0.1:8443/query/1",
        true,
    ),
    (
        "http://127.0.0.1:8443/",
        "http://127.0.0.1:8443/query/1",
        true,
    ),
    ("http://127.0.0.1:8443", "http://127.0.0.1:8443", true),
    (
        "http://127.0.0.1:8443",
        "http://127.0.0.1:3001/query/1",
        false,
    ),
    (
        "http://127.0.0.1:8443",
        "https://127.0.0.1:8443/query/1",
        false,
    ),
    (
        "http://127.0.0.1:8443",
        "http://localhost:8443/query/1",
        false,
    ),
    ("http://127.0.0.1:8443", "http://127.0.0.1/query/1", false),
    (
        "https://db.fauna.com",
        "https://db.fauna.com:443/query/1",
        true,
    ),
    (
        "https://db.fauna.com:443",
        "https://db.fauna.com/query/1",
        true,
    ),
    ("https://db.fauna.com", "https://DB.Fauna.com/query/1", true),
    (
        "https://db.fauna.com",
        "https://db.fauna.com:8443/query/1",
        false,
    ),
    ("https://db.fauna.com", "http://db.fauna.com/query/1", false),
    (
        "https://db.fauna.com",
        "https://api.db.fauna.com/query/1",
        false,
    ),
    ("https://db.fauna.com", "https://fauna.com/query/1", false),
    (
        "https://db.fauna.com",
        "https://db.fauna.com.evil.example/query/1",
        false,
    ),
    (
        "https://db.fauna.com",
        "https://db.fauna.com@evil.example/query/1",
        false,
    ),
    (
        "https://db.fauna.com",
        "https://db.fauna.com/query/1?x=1#y",
        true,
    ),
    (
        "https://proxy.example.com/fauna",
        "https://proxy.example.com/fauna/query/1",
        true,
    ),
    (
        "https://proxy.example.com/fauna/",
        "https://proxy.example.com/fauna/query/1",
        true,
    ),
    (
        "https://proxy.example.com/fauna",
        "https://proxy.example.com/faunax/query/1",
        false,
    ),
    (
        "https://proxy.example.com/fauna",
        "https://proxy.example.com/query/1",
        false,
    ),
    ("http://[::1]:8443", "http://[::1]:8443/query/1", true),
    ("http://[::1]:8443", "http://[::1]:8444/query/1", false),
    ("http://127.0.0.1:8443", "/query/1", false),
    (
        "http://127.0.0.1:8443",
        "ftp://127.0.0.1:8443/query/1",
        false,
    ),
    ("http://127.0.0.1:8443", "", false),
];

#[test]
fn fauna_endpoint_matching_is_exact_on_scheme_host_and_port() {
    for &(endpoint, url, expected) in ENDPOINT_TABLE {
        let e = FaunaEndpoint::parse(endpoint).unwrap();
        assert_eq!(e.matches(url), expected, "{endpoint} vs {url}");
    }
}

#[test]
fn fauna_endpoint_parsing() {
    let e = FaunaEndpoint::parse(" https://db.fauna.com:443/ ").unwrap();
    assert_eq!(e.origin(), "https://db.fauna.com");
    assert_eq!(e.query_url(), "https://db.fauna.com/query/1");
    let p = FaunaEndpoint::parse("https://proxy.example.com/fauna/").unwrap();
    assert_eq!(p.query_url(), "https://proxy.example.com/fauna/query/1");
    for bad in [
        "",
        "db.fauna.com",
        "/query",
        "ftp://db.fauna.com",
        "https://",
        "http://a b",
    ] {
        assert_eq!(
            FaunaEndpoint::parse(bad),
            Err(FaunaConfigError::InvalidEndpoint),
            "{bad:?}"
        );
    }
}

#[test]
fn fauna_config_defaults_and_validation() {
    let f = FaunaConfig::new("http://127.0.0.1:8443");
    assert_eq!(f.min_validity_seconds, fauna::DEFAULT_MIN_VALIDITY_SECONDS);
    assert_eq!(f.normalise().unwrap().min_validity_ms, 5_000.0);
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let mut f = FaunaConfig::new("http://127.0.0.1:8443");
        f.min_validity_seconds = bad;
        assert_eq!(f.normalise(), Err(FaunaConfigError::InvalidMinValidity));
    }
    let mut c = Config::new("http://127.0.0.1:3001");
    assert_eq!(c.normalise("127.0.0.1").unwrap().fauna, None);
    c.fauna = Some(FaunaConfig::new("localhost:8443"));
    let err = c.normalise("127.0.0.1").unwrap_err();
    assert_eq!(err, ConfigError::Fauna(FaunaConfigError::InvalidEndpoint));
    assert_eq!(
        err.message(),
        "fauna.endpoint must be an absolute http or https URL"
    );
    c.fauna = Some(FaunaConfig::new("http://localhost:8443"));
    let n = c.normalise("127.0.0.1").unwrap();
    assert!(
        n.fauna
            .unwrap()
            .endpoint
            .matches("http://localhost:8443/query/1")
    );
}

#[test]
fn token_min_validity_decision() {
    let now = 1_700_000_000_000.0;
    // exactly the minimum left is enough; a millisecond less is not
    assert_eq!(
        fauna::token_action(now + 10_000.0, now, 10_000.0),
        TokenAction::Use
    );
    assert_eq!(
        fauna::token_action(now + 9_999.0, now, 10_000.0),
        TokenAction::RefreshFirst
    );
    // already expired
    assert_eq!(
        fauna::token_action(now - 1.0, now, 0.0),
        TokenAction::RefreshFirst
    );
    assert_eq!(fauna::token_action(now, now, 0.0), TokenAction::Use);
}

#[test]
fn a_fauna_401_retries_once_and_other_statuses_go_to_the_caller() {
    assert_eq!(
        fauna::after_fauna_status(401, false),
        FaunaStep::RefreshAndRetry
    );
    assert_eq!(fauna::after_fauna_status(401, true), FaunaStep::Done);
    for s in [200, 400, 403, 429, 440, 500, 503] {
        assert_eq!(fauna::after_fauna_status(s, false), FaunaStep::Done, "{s}");
    }
    assert_eq!(fauna::bearer("fnE123"), "Bearer fnE123");
}

#[cfg(feature = "serde")]
mod wire {
    use fauna_session::fauna::wire::{FaunaError, QueryFailure, parse_response, request_body};
    use serde_json::json;

    #[test]
    fn request_bodies() {
        assert_eq!(request_body("1 + 1", &json!(null)), r#"{"query":"1 + 1"}"#);
        assert_eq!(request_body("1 + 1", &json!({})), r#"{"query":"1 + 1"}"#);
        assert_eq!(
            request_body("Note.byId(id)", &json!({"id": "1"})),
            r#"{"query":"Note.byId(id)","arguments":{"id":"1"}}"#
        );
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Page {
        data: Vec<serde_json::Value>,
    }

    #[test]
    fn success_data_is_deserialised() {
        let body = r#"{"data":{"data":[{"id":"1"},{"id":"2"}],"after":null},"static_type":"Set<Note>","summary":"","txn_ts":17,"stats":{"compute_ops":1},"schema_version":0}"#;
        let page: Page = parse_response(200, body).unwrap();
        assert_eq!(page.data.len(), 2);
        assert!(matches!(
            parse_response::<String>(200, body),
            Err(FaunaError::Decode(_))
        ));
        assert!(matches!(
            parse_response::<i64>(200, ""),
            Err(FaunaError::Protocol { status: 200, .. })
        ));
    }

    #[test]
    fn errors_follow_the_driver_classes() {
        let err = |status, code: &str| {
            let body = json!({"error": {"code": code, "message": "m"}, "summary": "s"}).to_string();
            parse_response::<i64>(status, &body).unwrap_err()
        };
        let failure = |code: &str| QueryFailure {
            code: code.into(),
            message: "m".into(),
            summary: Some("s".into()),
        };
        assert_eq!(
            err(401, "unauthorized"),
            FaunaError::Unauthorized("m".into())
        );
        assert_eq!(err(400, "forbidden"), FaunaError::Forbidden("m".into()));
        assert_eq!(
            err(400, "invalid_request"),
            FaunaError::InvalidRequest("m".into())
        );
        assert_eq!(
            err(400, "invalid_query"),
            FaunaError::InvalidQuery(failure("invalid_query"))
        );
        assert_eq!(
            err(409, "contended_transaction"),
            FaunaError::Contended("m".into())
        );
        assert_eq!(
            err(429, "limit_exceeded"),
            FaunaError::Throttled("m".into())
        );
        assert_eq!(err(440, "time_out"), FaunaError::Timeout("m".into()));
        assert_eq!(err(503, "time_out"), FaunaError::Timeout("m".into()));
        assert_eq!(
            err(400, "document_not_found"),
            FaunaError::Runtime(failure("document_not_found"))
        );
        assert_eq!(
            err(500, "internal_error"),
            FaunaError::Protocol {
                status: 500,
                message: "m".into()
            }
        );
        let abort = json!({"error": {"code": "abort", "message": "Query aborted.", "abort": "oops"}, "summary": ""});
        match parse_response::<i64>(400, &abort.to_string()).unwrap_err() {
            FaunaError::Abort { failure, value } => {
                assert_eq!(value, json!("oops"));
                assert_eq!(failure.message, "Query aborted.");
            }
            e => panic!("{e:?}"),
        }
        let constraint = json!({"error": {"code": "constraint_failure", "message": "x",
            "constraint_failures": [{"paths": [["document"]], "message": "Expected document"}]}});
        assert!(matches!(
            parse_response::<i64>(400, &constraint.to_string()).unwrap_err(),
            FaunaError::ConstraintFailure { failures, .. } if failures[0]["paths"] == json!([["document"]])
        ));
        // Fauna's last-resort bodies: `error` is a string, or the body is not JSON at all.
        assert_eq!(
            parse_response::<i64>(500, r#"{"error":"internal server error"}"#).unwrap_err(),
            FaunaError::Protocol {
                status: 500,
                message: "internal server error".into()
            }
        );
        assert_eq!(
            parse_response::<i64>(502, "Bad Gateway").unwrap_err(),
            FaunaError::Protocol {
                status: 502,
                message: "Bad Gateway".into()
            }
        );
    }
}

#[test]
fn tab_messages_round_trip_for_the_events_other_tabs_hear() {
    let events = [
        Event::SignOut,
        Event::Unauthorised {
            session_expired_or_revoked: true,
        },
        Event::RefreshSession,
        Event::SessionCreated,
    ];
    for (i, e) in events.iter().enumerate() {
        let m = TabMessage::new(e, "t1", i as u32).unwrap();
        let back = TabMessage::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
        assert_eq!(&back.event(), e);
        assert_eq!(back.sender(), "t1");
    }
    assert_eq!(
        TabMessage::new(&Event::SignOut, "t1", 0).unwrap().change(),
        TabChange::SignOut
    );
    assert!(TabMessage::new(&Event::AccessTokenPayloadUpdated, "t1", 0).is_none());
    // A 401 to a request made without a known session: the session's end was sent by the tab that saw it.
    let known_gone = Event::Unauthorised {
        session_expired_or_revoked: false,
    };
    assert!(TabMessage::new(&known_gone, "t1", 0).is_none());
    // An older sender's message of that kind is still read.
    let old = TabMessage::decode("fs1 UNAUTHORISED t1 3").unwrap();
    assert_eq!(old.event(), known_gone);
    assert!(
        TabMessage::new(
            &Event::ApiInvalidClaim {
                claim_validation_errors: "[]".into()
            },
            "t1",
            0
        )
        .is_none()
    );
    assert!(TabMessage::new(&Event::SignOut, "", 0).is_none());
    assert!(TabMessage::new(&Event::SignOut, "a b", 0).is_none());
}

#[test]
fn foreign_or_corrupt_tab_messages_are_ignored() {
    for bad in [
        "",
        "fs1",
        "fs1 SIGN_OUT",
        "fs1 SIGN_OUT t1",
        "fs2 SIGN_OUT t1 1",
        "fs1 SIGNOUT t1 1",
        "fs1 SIGN_OUT t1 x",
        "fs1 SIGN_OUT t1 -1",
        "fs1 SIGN_OUT t1 1 extra",
        "fs1 SIGN_OUT t1 99999999999",
        "fs1 SIGN_OUT  1",
        "{\"action\":\"SIGN_OUT\"}",
    ] {
        assert_eq!(TabMessage::decode(bad), None, "{bad:?}");
    }
    assert_eq!(tabs::CHANNEL, "fauna-session");
}

#[test]
fn each_message_fires_once_per_tab() {
    let mut seen = Seen::default();
    let m = |sender: &str, seq| TabMessage::new(&Event::RefreshSession, sender, seq).unwrap();
    assert!(seen.first_time(&m("a", 1), "me"));
    assert!(
        !seen.first_time(&m("a", 1), "me"),
        "the same message via storage"
    );
    assert!(
        seen.first_time(&m("b", 1), "me"),
        "another tab's first message"
    );
    assert!(seen.first_time(&m("a", 2), "me"));
    assert!(
        !seen.first_time(&m("a", 1), "me"),
        "an older one arriving late"
    );
    assert!(!seen.first_time(&m("me", 5), "me"), "own message");
    // many tabs: memory stays bounded, and the newest senders are still known
    for i in 0..100 {
        assert!(seen.first_time(&m(&format!("t{i}"), 1), "me"));
    }
    assert!(!seen.first_time(&m("t99", 1), "me"));
}

#[test]
fn lock_waits_are_bounded_and_stale_holders_cleared() {
    let w = LockWait::default();
    assert_eq!(w.timeout_ms, 10_000.0);
    let now = 1_000_000.0;
    assert_eq!(w.step(0.0, now, Holder::Free), LockStep::Take);
    assert_eq!(
        w.step(0.0, now, Holder::RefreshedAt(now - 1_000.0)),
        LockStep::Wait
    );
    assert_eq!(
        w.step(0.0, now, Holder::RefreshedAt(now - 5_000.0)),
        LockStep::Wait
    );
    assert_eq!(
        w.step(0.0, now, Holder::RefreshedAt(now - 5_001.0)),
        LockStep::ClearStale
    );
    assert_eq!(
        w.step(0.0, now, Holder::RefreshedAt(now + 60_000.0)),
        LockStep::Wait
    );
    assert_eq!(
        w.step(0.0, now, Holder::RefreshedAt(f64::NAN)),
        LockStep::ClearStale
    );
    assert_eq!(w.step(0.0, now, Holder::Unreadable), LockStep::ClearStale);
    for h in [Holder::Free, Holder::Unreadable, Holder::RefreshedAt(now)] {
        assert_eq!(w.step(10_000.0, now, h), LockStep::GiveUp);
    }
    assert!(!w.web_lock_timed_out(9_999.0));
    assert!(w.web_lock_timed_out(10_000.0));
}

#[test]
fn after_a_lock_timeout_the_waiter_goes_on_without_refreshing() {
    let exists = LocalSessionState::Exists("1".into());
    assert_eq!(tabs::after_lock_timeout(&exists), AfterLock::Retry);
    assert_eq!(
        tabs::after_lock_timeout(&LocalSessionState::MayExist),
        AfterLock::Retry
    );
    assert_eq!(
        tabs::after_lock_timeout(&LocalSessionState::NotExists),
        AfterLock::SessionExpired
    );
}

#[test]
fn only_the_session_expired_status_ends_the_session() {
    let c = |s| failure::classify_refresh(s, 401);
    assert_eq!(c(None), RefreshFailure::Transient);
    for s in [500, 502, 503, 504, 599] {
        assert_eq!(c(Some(s)), RefreshFailure::Transient, "{s}");
    }
    assert_eq!(c(Some(429)), RefreshFailure::Transient);
    assert_eq!(c(Some(401)), RefreshFailure::SessionEnded);
    for s in [400, 403, 404, 409] {
        assert_eq!(c(Some(s)), RefreshFailure::Rejected, "{s}");
    }
    // a custom session-expired status
    assert_eq!(
        failure::classify_refresh(Some(440), 440),
        RefreshFailure::SessionEnded
    );
    assert_eq!(
        failure::classify_refresh(Some(401), 440),
        RefreshFailure::Rejected
    );
    assert!(RefreshFailure::SessionEnded.ends_session());
    assert!(!RefreshFailure::Transient.ends_session());
    assert!(!RefreshFailure::Rejected.ends_session());
}

#[test]
fn offline_refreshes_wait_a_bounded_time() {
    assert_eq!(failure::offline_wait(true), None);
    assert_eq!(failure::offline_wait(false), Some(failure::OFFLINE_WAIT_MS));
    const { assert!(failure::OFFLINE_WAIT_MS <= 30_000.0) };
}

#[test]
fn corrupt_stored_state_is_no_session() {
    for ok in ["1700000000000", "1700000000000.5", "0"] {
        assert!(failure::is_timestamp(ok), "{ok}");
    }
    for bad in [
        "",
        "x",
        "17e5",
        "-1",
        "1.",
        ".5",
        "1.2.3",
        " 1",
        "NaN",
        "123456789012345678901",
    ] {
        assert!(!failure::is_timestamp(bad), "{bad:?}");
    }
    let s = failure::stored_state;
    assert_eq!(
        s(Some("1"), Some("t"), true),
        Stored::State(LocalSessionState::Exists("1".into()))
    );
    assert_eq!(
        s(Some("1"), None, false),
        Stored::State(LocalSessionState::NotExists)
    );
    assert_eq!(
        s(None, None, false),
        Stored::State(LocalSessionState::MayExist)
    );
    assert_eq!(s(Some("1"), Some("%%%"), false), Stored::Corrupt);
    assert_eq!(s(Some("not a number"), Some("t"), true), Stored::Corrupt);
    assert_eq!(s(Some("not a number"), None, false), Stored::Corrupt);
    assert_eq!(s(None, Some("%%%"), false), Stored::Corrupt);
}

#[test]
fn a_lock_waiter_stops_waiting_once_another_tab_refreshed_or_the_session_ended() {
    let old = LocalSessionState::Exists("1".into());
    let refreshed = LocalSessionState::Exists("2".into());
    // Nothing changed: keep waiting for the lock, then refresh.
    assert!(tabs::still_needs_lock(&old, &old));
    assert!(tabs::still_needs_lock(
        &LocalSessionState::MayExist,
        &LocalSessionState::MayExist
    ));
    // Another tab refreshed, or signed in: retry without the lock.
    assert!(!tabs::still_needs_lock(&old, &refreshed));
    assert!(!tabs::still_needs_lock(
        &LocalSessionState::MayExist,
        &refreshed
    ));
    // The session is gone: stop too (the caller then does what it would with the lock: SessionExpired).
    assert!(!tabs::still_needs_lock(&old, &LocalSessionState::NotExists));
}
