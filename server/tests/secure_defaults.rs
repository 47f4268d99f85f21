//! Secure defaults of the binary, over real HTTP and its process output: no database URL in `--help`,
//! `sqlite://path` created when missing, startup errors that name the flag, non-loopback plain HTTP refused,
//! the email-exists route off on request, a request body limit, a request timeout against slow clients, `/metrics`
//! on its own address, logs without ANSI codes and as JSON.

mod common;

use std::process::{Command, Stdio};

use common::Backend;
use common::process::{BIN, ServerProcess, response_head};

fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn help_never_prints_the_database_url() {
    let (ok, help) = run_to_end(
        &["--help"],
        &[("DATABASE_URL", "postgres://app:hunter2@db.internal/app")],
    );
    assert!(ok);
    assert!(!help.contains("hunter2"), "{help}");
    assert!(!help.contains("db.internal"), "{help}");
    for flag in [
        "--allow-insecure-http",
        "--disable-email-exists",
        "--log-format",
        "--request-timeout",
        "--max-body-bytes",
        "--max-concurrent-requests",
        "--metrics-listen",
        "--audit-log",
        "--audit-log-retention",
    ] {
        assert!(help.contains(flag), "{flag} missing");
    }
}

#[test]
fn a_startup_error_names_the_flag_to_fix() {
    let (ok, out) = run_to_end(
        &["--listen", "127.0.0.1:0"],
        &[(
            "DATABASE_URL",
            "sqlite:///nonexistent-dir/x/sessions.sqlite",
        )],
    );
    assert!(!ok);
    assert!(out.contains("--database-url"), "{out}");
}

#[test]
fn plain_http_on_a_public_address_is_refused_naming_the_flag() {
    // Refused before the database is opened or any socket bound (the URL is unusable anyway).
    let (ok, out) = run_to_end(
        &["--listen", "0.0.0.0:0"],
        &[(
            "DATABASE_URL",
            "sqlite:///nonexistent-dir/x/sessions.sqlite",
        )],
    );
    assert!(!ok);
    assert!(out.contains("--allow-insecure-http"), "{out}");
    assert!(out.contains("not https"), "{out}");
    let (ok, out) = run_to_end(
        &[
            "--listen",
            "0.0.0.0:0",
            "--api-domain",
            "https://api.example.com",
            "--cookie-secure",
            "false",
        ],
        &[(
            "DATABASE_URL",
            "sqlite:///nonexistent-dir/x/sessions.sqlite",
        )],
    );
    assert!(!ok);
    assert!(out.contains("not Secure"), "{out}");
}

#[tokio::test]
async fn a_sqlite_path_is_created_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new.sqlite");
    let s = ServerProcess::start(&format!("sqlite://{}", file.display()), &[]);
    let res = s
        .http
        .get(format!("{}/health", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(file.exists());
}

async fn email_exists_can_be_turned_off(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let on = ServerProcess::start(&url, &[]);
    let off = ServerProcess::start(&url, &["--disable-email-exists"]);
    let path = "/auth/emailpassword/email/exists?email=a@example.com";
    let res = on
        .http
        .get(format!("{}{path}", on.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = off
        .http
        .get(format!("{}{path}", off.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn email_exists_can_be_turned_off_sqlite() {
    email_exists_can_be_turned_off(Backend::Sqlite).await;
}

#[tokio::test]
async fn email_exists_can_be_turned_off_postgres() {
    email_exists_can_be_turned_off(Backend::Postgres).await;
}

async fn request_bodies_are_bounded(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let s = ServerProcess::start(&url, &["--max-body-bytes", "1024"]);
    let big = format!(
        r#"{{"formFields": [{{"id": "email", "value": "{}@example.com"}}, {{"id": "password", "value": "x1"}}]}}"#,
        "a".repeat(4096)
    );
    let res = s
        .http
        .post(format!("{}/auth/signin", s.url))
        .header("content-type", "application/json")
        .header("rid", "emailpassword")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // Normal bodies still pass.
    let res = s.sign_in("a@example.com", "wrong1234").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn request_bodies_are_bounded_sqlite() {
    request_bodies_are_bounded(Backend::Sqlite).await;
}

#[tokio::test]
async fn request_bodies_are_bounded_postgres() {
    request_bodies_are_bounded(Backend::Postgres).await;
}

#[test]
fn logs_have_no_ansi_codes_off_a_terminal_and_can_be_json() {
    let db = "sqlite:///nonexistent-dir/x/sessions.sqlite";
    let (_, text) = run_to_end(&["--listen", "127.0.0.1:0"], &[("DATABASE_URL", db)]);
    assert!(text.contains("--database-url"), "{text}");
    assert!(!text.contains('\u{1b}'), "ANSI escape in: {text:?}");
    let (_, json) = run_to_end(
        &["--listen", "127.0.0.1:0", "--log-format", "json"],
        &[("DATABASE_URL", db)],
    );
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("level").is_some(), "{line}");
    }
}

/// The binary with `--request-timeout 1` on a fresh SQLite file, and its `host:port`.
fn impatient_server() -> (ServerProcess, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let s = ServerProcess::start(&db, &["--request-timeout", "1"]);
    let addr = s.url.trim_start_matches("http://").to_owned();
    (s, addr, dir)
}

/// `n` health checks, each answered within 10 s.
async fn others_are_answered(s: &ServerProcess, n: usize) {
    for _ in 0..n {
        let res = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            s.http.get(format!("{}/health", s.url)).send(),
        )
        .await
        .expect("health answered within 10 s")
        .unwrap();
        assert_eq!(res.status(), 200);
    }
}

/// Whether the server closes `stream` (EOF or reset) within 10 s.
async fn closed_within_10_s(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> bool {
    use tokio::io::AsyncReadExt as _;
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
    })
    .await
    .is_ok()
}

/// `--request-timeout 1`: a client that sends its headers and then trickles (or never finishes) its body gets
/// 408 and the connection ends, while other clients keep being answered.
#[tokio::test]
async fn a_slow_client_gets_408_and_others_are_still_served() {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt as _;

    let (s, addr, _dir) = impatient_server();
    let head = format!(
        "POST /auth/signin HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\n\
         rid: emailpassword\r\ncontent-length: 200\r\n\r\n"
    );

    // Never completes its body.
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(b"{\"formFields\"").await.unwrap();

    // Trickles its body, one byte every 100 ms (it would take 20 s to finish), on its own task.
    let mut trickling = tokio::net::TcpStream::connect(&addr).await.unwrap();
    trickling.write_all(head.as_bytes()).await.unwrap();
    let (mut read_half, mut write_half) = trickling.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if write_half.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    // Meanwhile other clients are answered.
    others_are_answered(&s, 5).await;

    let stalled_head = tokio::time::timeout(Duration::from_secs(10), response_head(&mut stalled))
        .await
        .expect("the stalled client is answered within 10 s");
    assert!(stalled_head.starts_with("HTTP/1.1 408"), "{stalled_head:?}");
    let trickle_head = tokio::time::timeout(Duration::from_secs(10), response_head(&mut read_half))
        .await
        .expect("the trickling client is answered within 10 s");
    assert!(trickle_head.starts_with("HTTP/1.1 408"), "{trickle_head:?}");
    trickle.abort();

    // The timed-out connections are closed: reading further ends (EOF or reset) instead of hanging.
    assert!(
        closed_within_10_s(&mut stalled).await,
        "the stalled connection stays open"
    );

    // And a normal sign-in still works afterwards.
    let res = s.sign_in("nobody@example.com", "wrong1234").await;
    assert_eq!(res.status(), 200);
}

/// `--metrics-listen`: the counters are served on that address only; the main listener answers 404 for them.
async fn metrics_can_listen_on_their_own_address(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let mut s = ServerProcess::start(&url, &["--metrics-listen", "127.0.0.1:0"]);
    let metrics_addr = s.wait_for_log("serving GET /metrics", "metrics_listen");
    assert_eq!(s.sign_up(&common::process::email()).await.status(), 200);
    let main = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404, "main listener must not serve /metrics");
    let private = s
        .http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(private.status(), 200);
    let text = private.text().await.unwrap();
    assert!(
        text.contains("\nfauna_session_sessions_created_total 1\n"),
        "{text}"
    );
    // Only the counters are there: no FDI routes, no health, no session info.
    for path in ["/health", "/auth/signin", "/sessioninfo"] {
        let res = s
            .http
            .get(format!("http://{metrics_addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path} on the metrics listener");
    }
    // Without it, --metrics serves them on the main listener as before.
    let plain = ServerProcess::start(&url, &["--metrics"]);
    let res = plain
        .http
        .get(format!("{}/metrics", plain.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn metrics_can_listen_on_their_own_address_sqlite() {
    metrics_can_listen_on_their_own_address(Backend::Sqlite).await;
}

#[tokio::test]
async fn metrics_can_listen_on_their_own_address_postgres() {
    metrics_can_listen_on_their_own_address(Backend::Postgres).await;
}

#[test]
fn a_busy_metrics_address_is_a_startup_error_naming_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let (ok, out) = run_to_end(
        &["--listen", "127.0.0.1:0", "--metrics-listen", &addr],
        &[("DATABASE_URL", &db)],
    );
    assert!(!ok);
    assert!(out.contains("--metrics-listen"), "{out}");
}

/// `--request-timeout 1` also bounds the header phase: a connection that sends half its request headers, one
/// that sends nothing, and an idle keep-alive connection are closed, while other clients are answered.
#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    use tokio::io::AsyncWriteExt as _;

    let (s, addr, _dir) = impatient_server();

    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let head = response_head(&mut idle).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head:?}");

    others_are_answered(&s, 3).await;

    for (name, stream) in [
        ("half", &mut half),
        ("silent", &mut silent),
        ("idle", &mut idle),
    ] {
        assert!(
            closed_within_10_s(stream).await,
            "the {name} connection is still open after 10 s"
        );
    }
}
