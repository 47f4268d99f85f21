//! Native unit tests of the accounts API's pure decisions: device-list URLs, what a revoke answer means, the
//! sign-out scopes (no browser).
#![cfg(not(target_arch = "wasm32"))]

use fauna_session::devices::{self, Revoked, SignOutScope};

#[test]
fn sessions_urls_encode_the_handle() {
    let u = |h| devices::sessions_url("http://127.0.0.1:3001", "/auth", h);
    assert_eq!(u(None), "http://127.0.0.1:3001/auth/sessions");
    assert_eq!(
        u(Some("0b5e-4c1d_x.y~z")),
        "http://127.0.0.1:3001/auth/sessions/0b5e-4c1d_x.y~z"
    );
    assert_eq!(
        u(Some("../signout?a=b#c d/é")),
        "http://127.0.0.1:3001/auth/sessions/..%2Fsignout%3Fa%3Db%23c%20d%2F%C3%A9"
    );
    assert_eq!(u(Some("")), "http://127.0.0.1:3001/auth/sessions/");
    assert_eq!(
        devices::sessions_url("https://api.example.com", "", None),
        "https://api.example.com/sessions"
    );
}

#[test]
fn revoke_answers() {
    assert_eq!(devices::revoked(200, 401), Revoked::Ended);
    assert_eq!(devices::revoked(204, 401), Revoked::Ended);
    assert_eq!(devices::revoked(404, 401), Revoked::NotFound);
    assert_eq!(devices::revoked(401, 401), Revoked::NoSession);
    assert_eq!(devices::revoked(440, 440), Revoked::NoSession);
    assert_eq!(devices::revoked(401, 440), Revoked::Failed);
    for s in [400, 403, 429, 500, 503, 302] {
        assert_eq!(devices::revoked(s, 401), Revoked::Failed, "{s}");
    }
}

#[test]
fn sign_out_scopes() {
    assert_eq!(SignOutScope::default(), SignOutScope::Local);
    for s in [
        SignOutScope::Local,
        SignOutScope::Others,
        SignOutScope::Global,
    ] {
        assert_eq!(SignOutScope::parse(s.as_str()), Some(s));
    }
    for bad in ["", "Local", "GLOBAL", "other", "all", " local"] {
        assert_eq!(SignOutScope::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        SignOutScope::Local.body(),
        None,
        "the protocol's body-less sign-out"
    );
    assert_eq!(SignOutScope::Others.body(), Some(r#"{"scope":"others"}"#));
    assert_eq!(SignOutScope::Global.body(), Some(r#"{"scope":"global"}"#));
    assert!(SignOutScope::Local.ends_this_session());
    assert!(SignOutScope::Global.ends_this_session());
    assert!(!SignOutScope::Others.ends_this_session());
}

mod claims {
    use fauna_session::claims::{
        self, CLOCK_THRESHOLD_SECONDS, ClaimError, EmailVerificationClaim, IsVerified, Seen,
    };

    const NOW: f64 = 1_800_000_000_000.0;

    #[test]
    fn is_verified_arguments() {
        assert_eq!(
            EmailVerificationClaim::is_verified(None, None),
            Ok(IsVerified::default())
        );
        let v = IsVerified::default();
        assert_eq!(v.refetch_time_on_false_seconds(), 10.0);
        assert_eq!(v.max_age_seconds(), None);
        assert_eq!(v.id(), "st-ev");
        assert!(
            EmailVerificationClaim::is_verified(Some(CLOCK_THRESHOLD_SECONDS), Some(7.0)).is_ok()
        );
        for bad in [6.999, 0.0, -1.0, f64::NAN] {
            assert_eq!(
                EmailVerificationClaim::is_verified(Some(bad), None),
                Err(ClaimError::RefetchTimeTooShort),
                "{bad}"
            );
            assert_eq!(
                EmailVerificationClaim::is_verified(None, Some(bad)),
                Err(ClaimError::MaxAgeTooShort),
                "{bad}"
            );
        }
        assert!(
            ClaimError::MaxAgeTooShort
                .to_string()
                .contains("maxAgeInSeconds")
        );
    }

    /// (value, age of `t` in seconds or None, refetch, max age, should refresh?)
    type Row = (Seen, Option<f64>, f64, Option<f64>, bool);
    const REFRESH_TABLE: &[Row] = &[
        (Seen::Missing, None, 10.0, None, true),
        (Seen::Missing, Some(0.0), 10.0, None, true),
        (Seen::False, Some(0.0), 10.0, None, false),
        (Seen::False, Some(9.9), 10.0, None, false),
        (Seen::False, Some(10.0), 10.0, None, false),
        (Seen::False, Some(10.1), 10.0, None, true),
        (Seen::False, None, 10.0, None, false),
        (Seen::True, Some(1.0e6), 10.0, None, false),
        (Seen::True, Some(299.0), 10.0, Some(300.0), false),
        (Seen::True, Some(301.0), 10.0, Some(300.0), true),
        (Seen::False, Some(20.0), 30.0, None, false),
        (Seen::False, Some(31.0), 30.0, None, true),
        (Seen::False, Some(8.0), 30.0, Some(7.0), true),
        (Seen::Other, Some(1.0e6), 10.0, None, false),
        (Seen::Other, Some(8.0), 10.0, Some(7.0), true),
        // A `t` in the future (a client clock behind the server's): not stale.
        (Seen::False, Some(-60.0), 10.0, Some(7.0), false),
    ];

    #[test]
    fn when_the_claim_is_fetched_again() {
        for &(seen, age, refetch, max_age, want) in REFRESH_TABLE {
            let v = EmailVerificationClaim::is_verified(Some(refetch), max_age).unwrap();
            let t = age.map(|a| NOW - a * 1000.0);
            assert_eq!(
                v.should_refresh(seen, t, NOW),
                want,
                "{seen:?} age {age:?} refetch {refetch} max {max_age:?}"
            );
        }
    }

    #[test]
    fn only_true_passes() {
        let v = IsVerified::default();
        assert!(v.is_valid(Seen::True));
        for s in [Seen::False, Seen::Missing, Seen::Other] {
            assert!(!v.is_valid(s), "{s:?}");
        }
        assert_eq!(EmailVerificationClaim::value(Seen::True), Some(true));
        assert_eq!(EmailVerificationClaim::value(Seen::False), Some(false));
        assert_eq!(EmailVerificationClaim::value(Seen::Missing), None);
        assert_eq!(EmailVerificationClaim::value(Seen::Other), None);
        assert_eq!(claims::WRONG_VALUE, "wrong value");
    }

    #[test]
    fn email_verify_url() {
        assert_eq!(
            claims::email_verify_url("http://127.0.0.1:3001", "/auth"),
            "http://127.0.0.1:3001/auth/user/email/verify"
        );
        assert_eq!(
            claims::email_verify_url("https://api.example.com", ""),
            "https://api.example.com/user/email/verify"
        );
    }
}
