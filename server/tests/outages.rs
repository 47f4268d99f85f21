//! Outages the server rides through, over real HTTP against the binary with clients running throughout:
//! PostgreSQL stopped as by a crash in the middle of the load. Requests that need the database answer `503`
//! with `Retry-After` within the pool's 2 s acquire timeout (never a 500, never a hang to the request
//! timeout), verification keeps answering, `/health` says the database is down; when PostgreSQL is back the
//! same process recovers, and no session answered before the stop is lost.
//!
//! And SIGTERM under load: the server stops accepting, finishes every request in flight and exits 0.
//!
//! This file's PostgreSQL cluster is its own (one per test binary), so stopping it disturbs no other test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Backend;
use common::process::{ServerProcess, email, retry_later};
use serde_json::{Value, json};

/// A session's header-mode tokens from a sign-up or sign-in answer.
fn tokens(r: &reqwest::Response) -> (String, String) {
    let h = |n: &str| r.headers()[n].to_str().expect("ascii").to_owned();
    (h("st-access-token"), h("st-refresh-token"))
}

/// What one request of the load got: its status (or `0` for a transport error) and how long it took.
type Outcome = (u16, Duration);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_load_answers_503_then_recovers() {
    let (url, _) = common::fresh_database(Backend::Postgres).await;
    let s = ServerProcess::start(
        &url,
        &[
            "--rate-limit-signin",
            "0",
            "--rate-limit-signup",
            "0",
            "--rate-limit-refresh",
            "0",
        ],
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();

    // Sessions answered before the stop.
    let mut before = Vec::new();
    for _ in 0..5 {
        let r = s.sign_up(&email()).await;
        assert_eq!(r.status(), 200);
        before.push(tokens(&r));
    }
    let load_user = email();
    assert_eq!(s.sign_up(&load_user).await.status(), 200);

    // The load: sign-ins (the database) and session checks (stateless), until told to stop.
    let running = Arc::new(AtomicBool::new(true));
    let access = before[0].0.clone();
    let mut load = Vec::new();
    for i in 0..4 {
        let (base, http, running, user, access) = (
            s.url.clone(),
            http.clone(),
            running.clone(),
            load_user.clone(),
            access.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut seen: Vec<(bool, Outcome)> = Vec::new();
            while running.load(Ordering::Relaxed) {
                let needs_db = i % 2 == 0;
                let t = Instant::now();
                let r = if needs_db {
                    http.post(format!("{base}/auth/signin"))
                        .header("rid", "emailpassword")
                        .json(&json!({"formFields": [
                            {"id": "email", "value": user},
                            {"id": "password", "value": "secret123"},
                        ]}))
                        .send()
                        .await
                } else {
                    http.get(format!("{base}/sessioninfo"))
                        .bearer_auth(&access)
                        .send()
                        .await
                };
                let status = r.map_or(0, |r| r.status().as_u16());
                seen.push((needs_db, (status, t.elapsed())));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    tokio::task::spawn_blocking(|| common::cluster().stop_now())
        .await
        .expect("stop");
    // While it is down: a refresh answers 503 with Retry-After, soon; verification and /health answer.
    for _ in 0..3 {
        let t = Instant::now();
        let r = http
            .post(format!("{}/auth/session/refresh", s.url))
            .header("rid", "session")
            .bearer_auth(&before[1].1)
            .send()
            .await
            .expect("refresh answered");
        let (status, retry_after, body) = retry_later(r).await;
        assert_eq!(
            (status, retry_after, &body),
            (
                503,
                Some(1),
                &json!({"message": "session store unavailable"})
            )
        );
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        let r = http
            .get(format!("{}/sessioninfo", s.url))
            .bearer_auth(&before[1].0)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "verification needs no database");
    }
    let health: Value = http
        .get(format!("{}/health", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        json!({"status": "degraded", "database": "unavailable"})
    );

    tokio::task::spawn_blocking(|| common::cluster().start())
        .await
        .expect("start");
    let back = Instant::now();
    let mut recovered = false;
    while back.elapsed() < Duration::from_secs(15) {
        if s.sign_in(&load_user, "secret123").await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the same process works again once PostgreSQL is back"
    );
    running.store(false, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for task in load {
        outcomes.extend(task.await.unwrap());
    }

    // Throughout: database requests got 200 or 503 (never a 500, a reset or a hang), stateless ones 200.
    let db: Vec<&Outcome> = outcomes.iter().filter(|o| o.0).map(|o| &o.1).collect();
    let stateless: Vec<&Outcome> = outcomes.iter().filter(|o| !o.0).map(|o| &o.1).collect();
    assert!(db.iter().any(|o| o.0 == 503), "the load saw the outage");
    for (status, took) in &db {
        assert!(matches!(status, 200 | 503), "database request: {status}");
        assert!(
            *took < Duration::from_secs(5),
            "database request took {took:?}"
        );
    }
    for (status, _) in &stateless {
        assert_eq!(*status, 200, "a session check needs no database");
    }
    // No session answered before the stop is lost.
    for (_, refresh) in &before {
        assert_eq!(s.refresh(refresh).await.status(), 200);
    }
    // /health finds it back within a second of its cached answer.
    let mut healthy = false;
    for _ in 0..50 {
        let health: Value = http
            .get(format!("{}/health", s.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health == json!({"status": "ok"}) {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "/health reports the database back");
}

/// SIGTERM while 24 sign-ups are in flight (one hashing thread, so most of them are still queued): each gets
/// its whole answer (none is cut by a reset), the process exits 0, and then nothing listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_every_request_in_flight() {
    let (url, _dir) = common::fresh_database(Backend::Sqlite).await;
    let s = ServerProcess::start(
        &url,
        &[
            "--password-hash-threads",
            "1",
            "--password-hash-queue",
            "64",
            "--rate-limit-signup",
            "0",
        ],
    );
    let base = s.url.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let sign_ups: Vec<_> = (0..24)
        .map(|_| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("{base}/auth/signup"))
                    .header("rid", "emailpassword")
                    .json(&json!({"formFields": [
                        {"id": "email", "value": email()},
                        {"id": "password", "value": "secret123"},
                    ]}))
                    .send()
                    .await?;
                let status = r.status().as_u16();
                let body: Value = r.json().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = tokio::task::spawn_blocking(move || s.terminate());
    let mut done = 0;
    for task in sign_ups {
        let (status, body) = task
            .await
            .unwrap()
            .expect("an in-flight request gets its whole answer");
        assert_eq!((status, &body["status"]), (200, &json!("OK")), "{body}");
        done += 1;
    }
    assert_eq!(done, 24);
    let (exit, _log) = stopping.await.unwrap();
    assert!(exit.success(), "exit 0 after SIGTERM, got {exit}");
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "nothing listens after the exit"
    );
}
