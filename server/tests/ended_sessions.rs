//! Security, second round, over HTTP: an ended session's access token stops acting (on the account routes on
//! every instance, everywhere on the instance that ended it), `HEAD` is rate-limited and tells nothing by its
//! length, the public key documents never allow credentials, the SQLite file is private.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};

use common::process::{BIN, ServerProcess};
use common::{Backend, TestServer, Tokens, json_body};
use fauna_session_server::VerifyOptions;
use serde_json::json;

/// `GET /auth/sessions` (the device list) with `t`.
async fn list_sessions(s: &TestServer, t: &Tokens) -> reqwest::Response {
    t.apply(s.http.get(s.at("/auth/sessions")))
        .send()
        .await
        .expect("sessions")
}

/// `POST /auth/signout` with `scope`, with `t`.
async fn sign_out(s: &TestServer, t: &Tokens, scope: &str) -> reqwest::Response {
    t.apply(s.http.post(s.at("/auth/signout")).header("rid", "session"))
        .json(&json!({ "scope": scope }))
        .send()
        .await
        .expect("signout")
}

/// A second session of `t`'s user, through sign-in.
async fn second_session(s: &TestServer, email: &str) -> Tokens {
    let r = s
        .http
        .post(s.at("/auth/signin"))
        .header("st-auth-mode", "header")
        .header("rid", "emailpassword")
        .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": "secret123"}]}))
        .send()
        .await
        .expect("signin");
    assert_eq!(r.status(), 200);
    Tokens::from_response(r.headers()).expect("tokens")
}

async fn signed_up(s: &TestServer) -> (Tokens, String) {
    let r = s.signup("header").await;
    assert_eq!(r.status(), 200);
    let t = Tokens::from_response(r.headers()).expect("tokens");
    let body = json_body(r).await;
    (
        t,
        body["user"]["emails"][0]
            .as_str()
            .expect("email")
            .to_owned(),
    )
}

/// After sign-out, the old access token is refused at once: on `/sessioninfo` (the instance that ended it
/// remembers the handle) and on the account routes, so it can neither list nor end the user's new session.
async fn a_signed_out_token_cannot_touch_the_new_session(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let (old, email) = signed_up(&s).await;
    assert_eq!(sign_out(&s, &old, "local").await.status(), 200);
    let new = second_session(&s, &email).await;

    assert_eq!(s.session_info(&old).await.status(), 401);
    assert_eq!(list_sessions(&s, &old).await.status(), 401);
    assert_eq!(sign_out(&s, &old, "global").await.status(), 401);
    // The new session is untouched.
    assert_eq!(s.session_info(&new).await.status(), 200);
    let listed = json_body(list_sessions(&s, &new).await).await;
    assert_eq!(
        listed["sessions"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}

/// A session ended on another instance (here: deleted from the shared database behind this engine's back)
/// is refused by the account routes, which look the session up; stateless routes accept the token until it
/// expires unless they ask for `VerifyOptions::check_database`.
async fn account_routes_check_the_database(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let (victim, email) = signed_up(&s).await;
    let attacker = second_session(&s, &email).await;
    let other = TestServer::start_on(&s.database_url, |_| {}).await;
    let handle = common::jwt_payload(&attacker.access)["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    assert!(other.engine.revoke_session(&handle).await.expect("revoke"));

    // This instance did not end it: its stateless verification still accepts the token until it expires…
    assert_eq!(s.session_info(&attacker).await.status(), 200);
    // …but no account route does.
    assert_eq!(list_sessions(&s, &attacker).await.status(), 401);
    let victim_handle = common::jwt_payload(&victim.access)["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    let r = attacker
        .apply(
            s.http
                .delete(s.at(&format!("/auth/sessions/{victim_handle}")))
                .header("rid", "session"),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 401);
    assert_eq!(sign_out(&s, &attacker, "global").await.status(), 401);
    assert_eq!(s.session_info(&victim).await.status(), 200);
    assert_eq!(list_sessions(&s, &victim).await.status(), 200);
    // A route that asks for the database check refuses it too.
    let r = attacker
        .apply(s.http.get(s.at("/test/checked")))
        .send()
        .await
        .expect("checked");
    assert_eq!(r.status(), 401);
    let r = victim
        .apply(s.http.get(s.at("/test/checked")))
        .send()
        .await
        .expect("checked");
    assert_eq!(r.status(), 200);

    // Once this instance reads the revocations recorded in the shared database (every second with
    // `spawn_maintenance`), its stateless verification refuses the token too; the victim's stays good.
    s.engine.sync_revocations().await.expect("sync");
    assert_eq!(s.session_info(&attacker).await.status(), 401);
    assert_eq!(s.session_info(&victim).await.status(), 200);
}

/// With maintenance running, a session ended on one instance is refused by another within about a
/// `revocation_sync_interval`, and an instance started later learns of it on its first read.
async fn an_ended_session_is_refused_on_every_instance(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.revocation_sync_interval = std::time::Duration::from_millis(200);
    })
    .await;
    let _maintenance = s.engine.spawn_maintenance();
    let (kept, email) = signed_up(&s).await;
    let ended = second_session(&s, &email).await;
    let other = TestServer::start_on(&s.database_url, |_| {}).await;
    assert_eq!(sign_out(&other, &ended, "local").await.status(), 200);
    let mut refused = false;
    for _ in 0..50 {
        if s.session_info(&ended).await.status() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "the other instance's sign-out reached this one within 5 s"
    );
    assert_eq!(s.session_info(&kept).await.status(), 200);
    let later = TestServer::start_on(&s.database_url, |_| {}).await;
    assert_eq!(
        later.session_info(&ended).await.status(),
        200,
        "not read yet"
    );
    later.engine.sync_revocations().await.expect("sync");
    assert_eq!(later.session_info(&ended).await.status(), 401);
    assert_eq!(later.session_info(&kept).await.status(), 200);
}

/// Revoking every session of a user (as a password reset does) ends their tokens at once on this instance.
async fn revoking_all_sessions_ends_their_tokens(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let (a, email) = signed_up(&s).await;
    let c = second_session(&s, &email).await;
    let user = common::jwt_payload(&a.access)["sub"]
        .as_str()
        .expect("sub")
        .to_owned();
    assert_eq!(s.session_info(&a).await.status(), 200);
    s.engine
        .revoke_all_sessions_for_user(&user)
        .await
        .expect("revoke");
    assert_eq!(s.session_info(&a).await.status(), 401);
    assert_eq!(s.session_info(&c).await.status(), 401);
    let fresh = second_session(&s, &email).await;
    assert_eq!(s.session_info(&fresh).await.status(), 200);
}

both_backends!(
    a_signed_out_token_cannot_touch_the_new_session,
    account_routes_check_the_database,
    revoking_all_sessions_ends_their_tokens,
    an_ended_session_is_refused_on_every_instance,
    head_is_rate_limited_with_get,
);

#[test]
fn verify_options_build() {
    let o = VerifyOptions::default();
    assert!(!o.check_database);
    let o = o.check_database(true).anti_csrf_check(Some(false));
    assert!(o.check_database);
    assert_eq!(o.anti_csrf_check, Some(false));
}

/// `HEAD` on the email-exists route is counted by the per-IP limit (shared with `GET`).
async fn head_is_rate_limited_with_get(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.rate_limits.email_exists_per_minute = 5;
    })
    .await;
    let (_, known) = signed_up(&s).await;
    let head = |email: String| {
        let url = s.at(&format!("/auth/emailpassword/email/exists?email={email}"));
        let http = s.http.clone();
        async move { http.head(url).send().await.expect("head") }
    };
    let a = head(known.clone()).await;
    let b = head("nobody-here@example.com".to_owned()).await;
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    // Known and unknown emails answer HEAD with the same headers: no length tells them apart.
    for r in [&a, &b] {
        assert_eq!(r.headers().get("content-length"), None, "{:?}", r.headers());
    }
    let names = |r: &reqwest::Response| {
        let mut n: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
        n.retain(|k| k != "date");
        n.sort();
        n
    };
    assert_eq!(names(&a), names(&b));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(head(known.clone()).await.status().as_u16());
    }
    assert!(
        statuses.contains(&429),
        "HEAD must count against the route's limit: {statuses:?}"
    );
    // The GET shares the count.
    let r = s
        .http
        .get(s.at(&format!("/auth/emailpassword/email/exists?email={known}")))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 429);
}

/// The JWKS and the OpenID configuration answer `*` and never `Access-Control-Allow-Credentials`; the FDI
/// routes still allow credentials for the configured origin only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_key_documents_never_allow_credentials() {
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    for origin in ["http://127.0.0.1:8000", "https://evil.example"] {
        for path in [
            "/auth/jwt/jwks.json",
            "/auth/.well-known/openid-configuration",
            "/.well-known/openid-configuration",
        ] {
            let r = s
                .http
                .get(s.at(path))
                .header("origin", origin)
                .send()
                .await
                .expect("get");
            assert_eq!(r.status(), 200, "{path}");
            assert!(
                r.headers()
                    .get("access-control-allow-credentials")
                    .is_none(),
                "{path} from {origin}: {:?}",
                r.headers()
            );
        }
    }
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, s.at("/auth/session/refresh"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("http://127.0.0.1:8000").await.expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-credentials")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let other = preflight("https://evil.example").await.expect("preflight");
    assert!(
        other
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// A new SQLite database and its `-wal`/`-shm` files are owner-only; an existing file others may read is
/// refused with a message naming the fix and the flag, and opened with `--allow-readable-db`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_files_are_private() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("sessions.sqlite");
    let url = format!("sqlite://{}", file.display());
    {
        let s = ServerProcess::start(&url, &[]);
        let r = s.sign_up(&common::process::email()).await;
        assert_eq!(r.status(), 200);
        for name in [
            "sessions.sqlite",
            "sessions.sqlite-wal",
            "sessions.sqlite-shm",
        ] {
            let p = dir.path().join(name);
            assert!(p.exists(), "{name}");
            assert_eq!(mode(&p), 0o600, "{name}");
        }
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = Command::new(BIN)
        .env("DATABASE_URL", &url)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("chmod 600"), "{text}");
    assert!(text.contains("--allow-readable-db"), "{text}");
    assert!(!text.contains("panicked"), "{text}");

    let s = ServerProcess::start(&url, &["--allow-readable-db"]);
    let r = s
        .http
        .get(format!("{}/health", s.url))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 200);
}
