//! Property tests ("fuzzing") of the parsers that see attacker input: JWT, refresh token, cookie header,
//! front-token. Each property runs `CASES` inputs; run with `--nocapture` to see the counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use fauna_session_server::testing::{
    KeyRing, RefreshToken, SigningKey, front_token, parse_cookies, parse_front_token, tokens,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

const CASES: u32 = 20_000;

fn ring() -> &'static (KeyRing, Arc<SigningKey>) {
    static R: OnceLock<(KeyRing, Arc<SigningKey>)> = OnceLock::new();
    R.get_or_init(|| {
        let key = Arc::new(SigningKey::generate(1));
        let ring = KeyRing::default();
        ring.set(vec![key.clone()]);
        (ring, key)
    })
}

fn report(name: &str, counter: &AtomicU64) {
    eprintln!("fuzz {name}: {} inputs", counter.load(Ordering::Relaxed));
}

fn jwt_like() -> impl Strategy<Value = String> {
    let seg = "[A-Za-z0-9_\\-]{0,40}";
    prop_oneof![
        any::<String>(),
        (seg, seg, seg).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        (seg, seg).prop_map(|(a, b)| format!("eyJhbGciOiJSUzI1NiIsImtpZCI6ImQtMSJ9.{a}.{b}")),
    ]
}

static JWT_RUNS: AtomicU64 = AtomicU64::new(0);
static JWT_MUT_RUNS: AtomicU64 = AtomicU64::new(0);
static RT_RUNS: AtomicU64 = AtomicU64::new(0);
static COOKIE_RUNS: AtomicU64 = AtomicU64::new(0);
static FRONT_RUNS: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn jwt_parser_never_panics_or_accepts_garbage(s in jwt_like()) {
        JWT_RUNS.fetch_add(1, Ordering::Relaxed);
        let _ = tokens::decode(&s);
        prop_assert!(tokens::verify(&ring().0, &s, 0).is_err());
    }

    #[test]
    fn jwt_any_single_byte_change_is_rejected(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        JWT_MUT_RUNS.fetch_add(1, Ordering::Relaxed);
        static TOKEN: OnceLock<String> = OnceLock::new();
        let token = TOKEN.get_or_init(|| {
            let mut claims = Map::new();
            claims.insert("sub".into(), "1".into());
            claims.insert("exp".into(), i64::MAX.into());
            tokens::sign(&ring().1, &claims)
        });
        let mut bytes = token.as_bytes().to_vec();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        if let Ok(s) = String::from_utf8(bytes) {
            prop_assert!(tokens::verify(&ring().0, &s, 0).is_err(), "mutated token accepted: {s}");
        }
    }

    #[test]
    fn refresh_token_parser(s in any::<String>(), handle in any::<[u8; 16]>(), flip in any::<prop::sample::Index>()) {
        RT_RUNS.fetch_add(1, Ordering::Relaxed);
        let key = b"fuzz-key-fuzz-key-fuzz-key-12345";
        prop_assert!(RefreshToken::parse(key, &s).is_err());
        let t = RefreshToken::new(handle, None);
        let enc = t.encode(key);
        prop_assert_eq!(RefreshToken::parse(key, &enc).ok(), Some(t));
        let mut b = enc.into_bytes();
        let i = flip.index(b.len());
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        if let Ok(s) = String::from_utf8(b) {
            prop_assert!(RefreshToken::parse(key, &s).is_err());
        }
    }

    #[test]
    fn cookie_header_parser(headers in prop::collection::vec(any::<String>(), 0..4)) {
        COOKIE_RUNS.fetch_add(1, Ordering::Relaxed);
        let pairs = parse_cookies(headers.iter().map(String::as_str));
        for (name, value) in pairs {
            prop_assert!(!name.is_empty());
            prop_assert!(!name.contains(';') && !value.contains(';'));
        }
    }

    #[test]
    fn front_token_round_trip(uid in any::<String>(), ate in any::<i64>(), keys in prop::collection::vec(("[a-zA-Z]{1,8}", any::<i32>()), 0..6)) {
        FRONT_RUNS.fetch_add(1, Ordering::Relaxed);
        let up: Map<String, Value> = keys.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
        let t = front_token(&uid, ate, &up);
        prop_assert_eq!(parse_front_token(&t), Some((uid, ate, up)));
    }
}

#[test]
fn zz_report_counts() {
    // Runs alongside the properties; the counts are final once the others finish (run with --test-threads=1).
    for (name, c) in [
        ("jwt parser", &JWT_RUNS),
        ("jwt mutation", &JWT_MUT_RUNS),
        ("refresh token", &RT_RUNS),
        ("cookie header", &COOKIE_RUNS),
        ("front token", &FRONT_RUNS),
    ] {
        report(name, c);
    }
}
