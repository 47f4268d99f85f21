//! Throughput of session creation and refresh through the engine, on SQLite and on PostgreSQL.
//!
//! `cargo bench -p fauna-session-server --bench sessions` prints lines such as
//! `sqlite   create   2345/s` (no assertions: numbers only). PostgreSQL runs on a throwaway cluster started
//! like the tests' (needs Debian's `postgresql` server binaries); set `BENCH_SKIP_PG=1` to skip it.

#![allow(missing_docs, unreachable_pub)]

#[path = "../tests/common/pg.rs"]
mod pg;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fauna_session_server::store::SqlStore;
use fauna_session_server::{SessionConfig, SessionEngine, TokenTransfer};

const CONCURRENCY: usize = 32;

/// `cargo bench` passes `--bench`; under `cargo test --all-targets` the binary only smoke-tests briefly.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn run_for() -> Duration {
    if full_run() {
        Duration::from_secs(4)
    } else {
        Duration::from_millis(200)
    }
}

async fn run<F, Fut>(label: &str, what: &str, make: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = u64> + Send + 'static,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY).map(|i| tokio::spawn(make(i))).collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("bench task");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label:<9} {what:<24} {:>8.0}/s  ({total} in {secs:.2} s, {CONCURRENCY} concurrent)",
        total as f64 / secs
    );
}

async fn bench(label: &str, url: &str) {
    let store = SqlStore::connect(url).await.expect("connect");
    let engine = SessionEngine::new(SessionConfig::default(), Arc::new(store))
        .await
        .expect("engine");
    // Warm up.
    for _ in 0..50 {
        engine
            .create_session(
                "1",
                Default::default(),
                Default::default(),
                TokenTransfer::Header,
            )
            .await
            .expect("create");
    }
    let e = engine.clone();
    run(label, "session creations", move |i| {
        let e = e.clone();
        async move {
            let deadline = Instant::now() + run_for();
            let mut n = 0;
            while Instant::now() < deadline {
                e.create_session(
                    &format!("user{i}"),
                    Default::default(),
                    Default::default(),
                    TokenTransfer::Header,
                )
                .await
                .expect("create");
                n += 1;
            }
            n
        }
    })
    .await;
    let e = engine.clone();
    run(label, "refreshes (rotating)", move |i| {
        let e = e.clone();
        async move {
            let mut rt = e
                .create_session(
                    &format!("r{i}"),
                    Default::default(),
                    Default::default(),
                    TokenTransfer::Header,
                )
                .await
                .expect("create")
                .refresh_token
                .token;
            let deadline = Instant::now() + run_for();
            let mut n = 0;
            while Instant::now() < deadline {
                // Each refresh uses the previous child: a promotion (CAS write) every time.
                rt = e
                    .refresh_session(&rt, TokenTransfer::Header)
                    .await
                    .expect("refresh")
                    .refresh_token
                    .token;
                n += 1;
            }
            n
        }
    })
    .await;
    let e = engine.clone();
    run(label, "verifications (cached)", move |_| {
        let e = e.clone();
        async move {
            let at = e
                .create_session(
                    "v",
                    Default::default(),
                    Default::default(),
                    TokenTransfer::Header,
                )
                .await
                .expect("create")
                .access_token
                .token;
            let deadline = Instant::now() + run_for();
            let mut n = 0;
            while Instant::now() < deadline {
                e.verify_access_token(&at).await.expect("verify");
                n += 1;
                // Stateless verification never awaits I/O: yield so other tasks get the worker threads.
                tokio::task::yield_now().await;
            }
            n
        }
    })
    .await;
}

/// The ceiling: RS256 signatures and verifications per second on all cores (every creation and refresh
/// signs one token; a verification runs RSA once per distinct token, then hits the verification cache).
fn rsa_ceiling() {
    use fauna_session_server::testing::tokens::{sign, verify};
    use fauna_session_server::testing::{KeyRing, SigningKey};
    let key = Arc::new(SigningKey::generate(1));
    let ring = KeyRing::default();
    ring.set(vec![key.clone()]);
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), "1".into());
    claims.insert("exp".into(), i64::MAX.into());
    let token = sign(&key, &claims);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for what in ["RS256 signatures", "RS256 verifications"] {
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (key, claims, ring, token) =
                    (key.clone(), claims.clone(), ring.clone(), token.clone());
                std::thread::spawn(move || {
                    let deadline = Instant::now() + run_for();
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        if what == "RS256 signatures" {
                            std::hint::black_box(sign(&key, &claims));
                        } else {
                            std::hint::black_box(verify(&ring, &token, 0).expect("verifies"));
                        }
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let total: u64 = handles.into_iter().map(|h| h.join().expect("thread")).sum();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<9} {what:<24} {:>8.0}/s  ({threads} threads)",
            "cpu",
            total as f64 / secs
        );
    }
}

fn main() {
    rsa_ceiling();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.sqlite").display()
    );
    rt.block_on(bench("sqlite", &sqlite));
    if full_run() && std::env::var_os("BENCH_SKIP_PG").is_none() {
        let cluster = pg::PgCluster::start_new();
        rt.block_on(async {
            let admin = sqlx::PgPool::connect(&cluster.url("postgres"))
                .await
                .expect("admin");
            sqlx::query("CREATE DATABASE bench")
                .execute(&admin)
                .await
                .expect("create db");
            admin.close().await;
        });
        rt.block_on(bench("postgres", &cluster.url("bench")));
        cluster.stop();
    }
}
