//! The `fauna-session-server` binary, spawned as a process: flags, env, static files, logs, graceful shutdown.

use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::process::{BIN, Binary};

#[test]
fn help_lists_flags_and_env() {
    let out = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--database-url",
        "--api-base-path",
        "--website-origin",
        "--access-token-lifetime",
        "--refresh-token-lifetime",
        "--session-max-lifetime",
        "FAUNA_SESSION_SESSION_MAX_LIFETIME",
        "--cookie-secure",
        "--cookie-same-site",
        "--cookie-domain",
        "--anti-csrf",
        "--static-dir",
        "--metrics",
        "--log",
        "DATABASE_URL",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}");
    }
    let out = Command::new(BIN)
        .args(["--anti-csrf", "SOMETIMES"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "bad flag values are rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_app_static_files_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).expect("mkdir");
    std::fs::write(web.join("index.html"), "<h1>app</h1>").expect("write");
    std::fs::write(web.join("app.js"), "console.log(1)").expect("write");
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .args(["--static-dir", "web", "--log", "debug"])
        .env("FAUNA_SESSION_METRICS", "1")
        .env("FAUNA_SESSION_WEBSITE_ORIGIN", "http://127.0.0.1:8000")
        .env("FAUNA_SESSION_ACCESS_TOKEN_LIFETIME", "120");
    let server = Binary::start(command);
    let base = server.url();
    let http = reqwest::Client::new();
    assert!(
        dir.path().join("fauna-session.sqlite").exists(),
        "default SQLite file created in the working dir"
    );

    let get = |p: &str| http.get(format!("{base}{p}")).send();
    assert_eq!(
        get("/").await.expect("index").text().await.expect("text"),
        "<h1>app</h1>"
    );
    assert_eq!(
        get("/app.js")
            .await
            .expect("js")
            .text()
            .await
            .expect("text"),
        "console.log(1)"
    );
    assert_eq!(
        get("/some/spa/route")
            .await
            .expect("spa")
            .text()
            .await
            .expect("text"),
        "<h1>app</h1>"
    );
    assert_eq!(
        get("/health")
            .await
            .expect("health")
            .json::<Value>()
            .await
            .expect("json"),
        json!({"status": "ok"})
    );

    let password = "pa55word-very-secret";
    let r = http
        .post(format!("{base}/auth/signup"))
        .header("st-auth-mode", "header")
        .json(&json!({"formFields": [{"id": "email", "value": "bin@example.com"}, {"id": "password", "value": password}]}))
        .send()
        .await
        .expect("signup");
    assert_eq!(r.status(), 200);
    let at = r.headers()["st-access-token"]
        .to_str()
        .expect("at")
        .to_owned();
    let rt = r.headers()["st-refresh-token"]
        .to_str()
        .expect("rt")
        .to_owned();
    let exp_minus_iat = {
        use base64::Engine as _;
        let p: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(at.split('.').nth(1).expect("p"))
                .expect("b64"),
        )
        .expect("json");
        p["exp"].as_i64().expect("exp") - p["iat"].as_i64().expect("iat")
    };
    assert_eq!(exp_minus_iat, 120, "access-token lifetime from env");
    let info: Value = http
        .get(format!("{base}/sessioninfo"))
        .bearer_auth(&at)
        .send()
        .await
        .expect("sessioninfo")
        .json()
        .await
        .expect("json");
    assert!(info["sessionHandle"].is_string() && info["userId"].is_string());
    assert!(info["accessTokenPayload"]["iss"].is_string());
    let metrics = get("/metrics")
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("fauna_session_sessions_created_total 1"),
        "{metrics}"
    );
    // Bad refresh token, to get some error logging.
    let _ = http
        .post(format!("{base}/auth/session/refresh"))
        .bearer_auth(format!("{rt}x"))
        .send()
        .await;

    let (status, logs) = server.terminate();
    assert!(status.success(), "graceful exit, got {status}");
    assert!(logs.contains("listening"), "{logs}");
    for secret in [&at, &rt, &password.to_owned()] {
        assert!(
            !logs.contains(secret.as_str()),
            "logs must not contain secrets"
        );
    }
    let sig = at.rsplit('.').next().expect("sig");
    assert!(!logs.contains(sig));
}
