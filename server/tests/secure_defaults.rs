//! Secure defaults of the binary, over real HTTP and its process output: no database URL in `--help`,
//! `sqlite://path` created when missing, startup errors that name the flag, non-loopback plain HTTP refused,
//! the email-exists route off on request, a request body limit, logs without ANSI codes and as JSON.

mod common;

use std::process::{Command, Stdio};

use common::Backend;
use common::process::{BIN, ServerProcess};

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
