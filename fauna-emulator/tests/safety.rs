//! The emulator is safe on a developer's laptop: loopback binds only (unless told otherwise),
//! CORS for allowed origins only, no foreign `Host` (DNS rebinding), the root key on
//! `/_emulator/*`. Over real HTTP on a loopback port, and through the binary.

use fauna_emulator::{Config, Emulator};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

async fn start(config: Config) -> String {
    let addr = Emulator::bind(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..config
    })
    .await
    .unwrap()
    .spawn();
    format!("http://{addr}")
}

/// `POST /query/1` with the root key and `headers`: (status, CORS allow-origin header, body).
async fn query(base: &str, headers: &[(&str, &str)]) -> (StatusCode, Option<String>, Value) {
    let mut req = Client::new()
        .post(format!("{base}/query/1"))
        .bearer_auth("secret")
        .json(&json!({"query": "1 + 1"}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let allow = res
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), allow, res.json().await.unwrap_or(Value::Null))
}

async fn preflight(base: &str, origin: &str) -> (StatusCode, Option<String>) {
    let res = Client::new()
        .request(Method::OPTIONS, format!("{base}/query/1"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    let allow = res
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), allow)
}

#[tokio::test]
async fn non_loopback_bind_is_refused_without_insecure_listen() {
    // Refused before any socket is bound (so this test never listens on a public address).
    let err = Emulator::bind(Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Config::default()
    })
    .await
    .expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("--insecure-listen"), "{err}");
}

#[test]
fn the_binary_refuses_a_public_address_and_names_the_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fauna-emulator"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--insecure-listen"), "{stderr}");
}

#[tokio::test]
async fn default_cors_is_for_loopback_origins_only() {
    let base = start(Config::default()).await;
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:8000",
        "http://[::1]:3000",
    ] {
        let (status, allow) = preflight(&base, origin).await;
        assert_eq!(status, StatusCode::OK, "{origin}");
        assert_eq!(allow.as_deref(), Some(origin));
        let (status, allow, body) = query(&base, &[("origin", origin)]).await;
        assert_eq!(status, StatusCode::OK, "{origin}: {body}");
        assert_eq!(allow.as_deref(), Some(origin));
        assert_eq!(body["data"], 2);
    }
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "null",
    ] {
        let (status, allow) = preflight(&base, origin).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(allow, None, "{origin}");
        // Not run at all: a simple (non-preflighted) cross-site request cannot act either.
        let (status, allow, body) = query(&base, &[("origin", origin)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(allow, None);
        assert_eq!(body["error"]["code"], "forbidden");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--allow-origin")
        );
    }
    // Clients that send no Origin (drivers, servers) are unaffected.
    assert_eq!(query(&base, &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn listed_origins_replace_the_loopback_default() {
    let base = start(Config {
        allowed_origins: vec!["https://app.example.com".into()],
        ..Config::default()
    })
    .await;
    let (status, allow) = preflight(&base, "https://app.example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(allow.as_deref(), Some("https://app.example.com"));
    let (status, allow) = preflight(&base, "http://localhost:5173").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(allow, None);
}

#[tokio::test]
async fn a_foreign_host_name_is_refused_on_a_loopback_emulator() {
    // A DNS-rebinding page (evil.example resolving to 127.0.0.1) is same-origin to itself; its
    // requests carry `Host: evil.example:port`.
    let base = start(Config::default()).await;
    let port = base.rsplit(':').next().unwrap();
    let (status, _, body) = query(&base, &[("host", &format!("evil.example:{port}"))]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, _, _) = query(&base, &[("host", &format!("localhost:{port}"))]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn development_endpoints_need_the_root_key() {
    let base = start(Config {
        root_key: "s3cret-root".into(),
        ..Config::default()
    })
    .await;
    let http = Client::new();
    let fault = json!({"status": 503, "count": 1});
    for secret in [
        None,
        Some("secret"),
        Some("s3cret-root:server"),
        Some("nope"),
    ] {
        let mut stats = http.get(format!("{base}/_emulator/stats"));
        let mut inject = http.post(format!("{base}/_emulator/fault")).json(&fault);
        if let Some(s) = secret {
            stats = stats.bearer_auth(s);
            inject = inject.bearer_auth(s);
        }
        for req in [stats, inject] {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{secret:?}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    // The refused fault was not installed: a query still succeeds.
    let res = http
        .post(format!("{base}/query/1"))
        .bearer_auth("s3cret-root")
        .json(&json!({"query": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .get(format!("{base}/_emulator/stats"))
        .bearer_auth("s3cret-root")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stats: Value = res.json().await.unwrap();
    assert_eq!(stats["by_status"]["200"], 1);
}
