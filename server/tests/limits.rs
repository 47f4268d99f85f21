//! The server's limits over real HTTP against the binary, on SQLite and PostgreSQL: the bounded password-hashing
//! pool (503 + Retry-After when full) and the per-client-IP rate limits (429 + Retry-After, X-Forwarded-For only
//! from trusted proxies, defaults that let an office behind one address work).

mod common;

use common::Backend;
use common::process::{ServerProcess, email, retry_later};
use serde_json::json;

async fn server(backend: Backend, args: &[&str]) -> (ServerProcess, Option<tempfile::TempDir>) {
    let (url, dir) = common::fresh_database(backend).await;
    (ServerProcess::start(&url, args), dir)
}

async fn full_hashing_pool_answers_503_at_once(backend: Backend) {
    let (s, _dir) = server(
        backend,
        &[
            "--password-hash-threads",
            "1",
            "--password-hash-queue",
            "0",
            "--rate-limit-signin",
            "0",
        ],
    )
    .await;
    // One hash at a time and no queue: of 40 sign-ins sent together, those that find the pool busy are refused.
    let attempts = (0..40).map(|i| {
        let s = &s;
        async move {
            let r = s
                .sign_in(&format!("nobody{i}@example.com"), "wrong1234")
                .await;
            retry_later(r).await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for (status, retry_after, body) in &answers {
        match status {
            200 => assert_eq!(body["status"], "WRONG_CREDENTIALS_ERROR"),
            503 => {
                busy += 1;
                assert_eq!(*retry_after, Some(1));
                assert_eq!(body, &json!({"message": "server busy"}));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(busy > 0, "no sign-in found the pool full: {answers:?}");
    assert!(busy < 40, "every sign-in was refused");
    // The pool frees up: sign-up and sign-in work afterwards.
    let e = email();
    assert_eq!(s.sign_up(&e).await.status(), 200);
    let r = s.sign_in(&e, "secret123").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "OK");
}

#[tokio::test]
async fn full_hashing_pool_answers_503_at_once_sqlite() {
    full_hashing_pool_answers_503_at_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn full_hashing_pool_answers_503_at_once_postgres() {
    full_hashing_pool_answers_503_at_once(Backend::Postgres).await;
}

/// The defaults let an office behind one NAT address work: 50 sign-ups in a minute, 100 concurrent refreshes.
async fn default_limits_allow_office_bursts(backend: Backend) {
    let (s, _dir) = server(backend, &[]).await;
    let mut refresh_tokens = Vec::new();
    let e = email();
    for i in 0..50 {
        let r = if i == 0 {
            s.sign_up(&e).await
        } else {
            s.sign_up(&email()).await
        };
        assert_eq!(r.status(), 200, "sign-up {i}");
        refresh_tokens.push(r.headers()["st-refresh-token"].to_str().unwrap().to_owned());
    }
    for i in 0..50 {
        let r = s.sign_in(&e, "secret123").await;
        assert_eq!(r.status(), 200, "sign-in {i}");
        refresh_tokens.push(r.headers()["st-refresh-token"].to_str().unwrap().to_owned());
    }
    let refreshes = refresh_tokens.iter().map(|t| s.refresh(t));
    let answers = futures_util::future::join_all(refreshes).await;
    assert_eq!(answers.len(), 100);
    for r in answers {
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn default_limits_allow_office_bursts_sqlite() {
    default_limits_allow_office_bursts(Backend::Sqlite).await;
}

#[tokio::test]
async fn default_limits_allow_office_bursts_postgres() {
    default_limits_allow_office_bursts(Backend::Postgres).await;
}

async fn per_ip_limits_answer_429_with_retry_after(backend: Backend) {
    let (s, _dir) = server(
        backend,
        &[
            "--rate-limit-signup",
            "3",
            "--rate-limit-signin",
            "2",
            "--rate-limit-refresh",
            "0",
        ],
    )
    .await;
    let mut refresh = String::new();
    for _ in 0..3 {
        let r = s.sign_up(&email()).await;
        assert_eq!(r.status(), 200);
        refresh = r.headers()["st-refresh-token"].to_str().unwrap().to_owned();
    }
    let (status, retry_after, body) = retry_later(s.sign_up(&email()).await).await;
    assert_eq!(status, 429);
    assert_eq!(body, json!({"message": "too many requests"}));
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Other routes keep their own counts; refresh is unlimited here (0 disables).
    for _ in 0..2 {
        assert_eq!(s.sign_in("x@example.com", "wrong1234").await.status(), 200);
    }
    assert_eq!(s.sign_in("x@example.com", "wrong1234").await.status(), 429);
    for _ in 0..20 {
        let r = s.refresh(&refresh).await;
        assert_eq!(r.status(), 200);
        refresh = r.headers()["st-refresh-token"].to_str().unwrap().to_owned();
    }
}

#[tokio::test]
async fn per_ip_limits_answer_429_with_retry_after_sqlite() {
    per_ip_limits_answer_429_with_retry_after(Backend::Sqlite).await;
}

#[tokio::test]
async fn per_ip_limits_answer_429_with_retry_after_postgres() {
    per_ip_limits_answer_429_with_retry_after(Backend::Postgres).await;
}

async fn forwarded_for_counts_only_behind_a_trusted_proxy(backend: Backend) {
    let sign_in = |s: &ServerProcess, xff: &'static str| {
        let s = s.url.clone();
        let http = reqwest::Client::new();
        async move {
            http.post(format!("{s}/auth/signin"))
                .header("rid", "emailpassword")
                .header("x-forwarded-for", xff)
                .json(&json!({"formFields": [
                    {"id": "email", "value": "x@example.com"},
                    {"id": "password", "value": "wrong1234"},
                ]}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // No trusted proxy: the header is ignored, every request counts for the socket's address.
    let (open, _d1) = server(backend, &["--rate-limit-signin", "2"]).await;
    assert_eq!(sign_in(&open, "198.51.100.1").await, 200);
    assert_eq!(sign_in(&open, "198.51.100.2").await, 200);
    assert_eq!(sign_in(&open, "198.51.100.3").await, 429);
    // Behind a trusted proxy (this test's loopback client), the forwarded client is counted.
    let (proxied, _d2) = server(
        backend,
        &[
            "--rate-limit-signin",
            "2",
            "--trusted-proxy",
            "127.0.0.1/32",
        ],
    )
    .await;
    assert_eq!(sign_in(&proxied, "198.51.100.1").await, 200);
    assert_eq!(sign_in(&proxied, "198.51.100.1").await, 200);
    assert_eq!(sign_in(&proxied, "198.51.100.1").await, 429);
    // A client cannot escape by prepending a forged address: the proxy's own entry is the rightmost.
    assert_eq!(sign_in(&proxied, "203.0.113.5, 198.51.100.1").await, 429);
    assert_eq!(sign_in(&proxied, "198.51.100.2").await, 200);
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy_sqlite() {
    forwarded_for_counts_only_behind_a_trusted_proxy(Backend::Sqlite).await;
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy_postgres() {
    forwarded_for_counts_only_behind_a_trusted_proxy(Backend::Postgres).await;
}

#[test]
fn help_lists_every_limit_with_its_env_variable() {
    let out = std::process::Command::new(common::process::BIN)
        .arg("--help")
        .output()
        .expect("--help");
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, env) in [
        ("--rate-limit-signin", "FAUNA_SESSION_RATE_LIMIT_SIGNIN"),
        ("--rate-limit-signup", "FAUNA_SESSION_RATE_LIMIT_SIGNUP"),
        (
            "--rate-limit-email-exists",
            "FAUNA_SESSION_RATE_LIMIT_EMAIL_EXISTS",
        ),
        ("--rate-limit-refresh", "FAUNA_SESSION_RATE_LIMIT_REFRESH"),
        ("--rate-limit-signout", "FAUNA_SESSION_RATE_LIMIT_SIGNOUT"),
        ("--trusted-proxy", "FAUNA_SESSION_TRUSTED_PROXY"),
        (
            "--password-hash-threads",
            "FAUNA_SESSION_PASSWORD_HASH_THREADS",
        ),
        ("--password-hash-queue", "FAUNA_SESSION_PASSWORD_HASH_QUEUE"),
        ("--lockout-threshold", "FAUNA_SESSION_LOCKOUT_THRESHOLD"),
        ("--lockout-window", "FAUNA_SESSION_LOCKOUT_WINDOW"),
        (
            "--lockout-account-threshold",
            "FAUNA_SESSION_LOCKOUT_ACCOUNT_THRESHOLD",
        ),
        ("--body-timeout", "FAUNA_SESSION_BODY_TIMEOUT"),
        ("--max-requests-per-ip", "FAUNA_SESSION_MAX_REQUESTS_PER_IP"),
        (
            "--max-connections-per-ip",
            "FAUNA_SESSION_MAX_CONNECTIONS_PER_IP",
        ),
        ("--audit-log-max-rows", "FAUNA_SESSION_AUDIT_LOG_MAX_ROWS"),
        ("--allow-readable-db", "FAUNA_SESSION_ALLOW_READABLE_DB"),
    ] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
        assert!(help.contains(env), "{env} missing:\n{help}");
    }
}

/// Peak resident memory (VmHWM) of process `pid`, MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

/// 400 sign-ups, 8 at a time, keep the server's peak memory near what its hashing threads need (19 MiB each):
/// each hash borrows its working memory from a free list. Before, each hash allocated its own on whichever
/// blocking thread ran it and the allocator's per-thread arenas kept it: 2,000 sign-ups peaked at 681 MiB.
/// (`scripts/flood.sh signup` prints the figures.)
async fn sign_ups_keep_memory_bounded(backend: Backend) {
    let (s, _dir) = server(
        backend,
        &["--password-hash-threads", "2", "--rate-limit-signup", "0"],
    )
    .await;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let worker = || async {
        while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 400 {
            let r = s.sign_up(&email()).await;
            assert!(matches!(r.status().as_u16(), 200 | 503), "{}", r.status());
        }
    };
    futures_util::future::join_all((0..8).map(|_| worker())).await;
    let peak = peak_rss_mib(s.pid());
    assert!(peak < 160, "peak RSS {peak} MiB after 400 sign-ups");
}

#[tokio::test]
async fn sign_ups_keep_memory_bounded_sqlite() {
    sign_ups_keep_memory_bounded(Backend::Sqlite).await;
}

#[tokio::test]
async fn sign_ups_keep_memory_bounded_postgres() {
    sign_ups_keep_memory_bounded(Backend::Postgres).await;
}
