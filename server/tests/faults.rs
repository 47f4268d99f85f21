//! Faults: the database failing mid-refresh, and session hooks failing. Nothing half-made, nothing lost.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestServer, Tokens, jwt_payload};
use fauna_session_server::hooks::{HookError, RevokedSession, SessionHooks, SessionMint};
use serde_json::{Value, json};

/// A refresh whose write fails (SQLite locked by another writer) answers 5xx; the same token works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_mid_refresh_keeps_token_usable() {
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    let t0 = s.new_session("header").await;
    let r = s.refresh(&t0).await;
    let mut t1 = t0.clone();
    t1.update(r.headers());
    // Refreshing with the unused child must promote it (a write). Hold the write lock from another connection.
    let mut locker = {
        use sqlx::ConnectOptions as _;
        use std::str::FromStr as _;
        sqlx::sqlite::SqliteConnectOptions::from_str(&s.database_url)
            .expect("url")
            .connect()
            .await
            .expect("connect")
    };
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut locker)
        .await
        .expect("lock");
    let r = s.refresh(&t1).await;
    assert!(
        r.status().is_server_error(),
        "locked database → 5xx, got {}",
        r.status()
    );
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "session store unavailable"})
    );
    sqlx::query("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("unlock");
    let r = s.refresh(&t1).await;
    assert_eq!(r.status(), 200, "the refresh token survived the failure");
    t1.update(r.headers());
    assert_eq!(s.session_info(&t1).await.status(), 200);
    assert_eq!(
        s.refresh(&t0).await.status(),
        401,
        "the grandparent is now a theft"
    );
}

/// PostgreSQL stopped mid-session: refresh answers 5xx, after a restart the same refresh token works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_mid_refresh_keeps_token_usable() {
    let s = TestServer::start(Backend::Postgres, |_| {}).await;
    let t0 = s.new_session("cookie").await;
    let cluster = common::cluster();
    tokio::task::spawn_blocking(|| common::cluster().stop())
        .await
        .expect("stop");
    let r = s.refresh(&t0).await;
    assert!(
        r.status().is_server_error(),
        "database down → 5xx, got {}",
        r.status()
    );
    // Verification of the access token is stateless and keeps working.
    assert_eq!(s.session_info(&t0).await.status(), 200);
    tokio::task::spawn_blocking(|| common::cluster().start())
        .await
        .expect("start");
    let _ = cluster;
    let mut ok = false;
    for _ in 0..20 {
        let r = s.refresh(&t0).await;
        if r.status() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ok, "the refresh token works after recovery");
}

#[derive(Default)]
struct FlakyHooks {
    fail_create: AtomicBool,
    fail_refresh: AtomicBool,
    minted: AtomicUsize,
    revoked: Mutex<Vec<RevokedSession>>,
}

#[async_trait::async_trait]
impl SessionHooks for FlakyHooks {
    async fn on_create(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
        if self.fail_create.load(Ordering::SeqCst) {
            return Err(HookError::Unavailable {
                service: "fauna",
                cause: "test".into(),
            });
        }
        let n = self.minted.fetch_add(1, Ordering::SeqCst);
        mint.access_token_payload
            .insert("faunaToken".into(), json!(format!("tok-{n}")));
        mint.access_token_payload
            .insert("sub".into(), json!("protected claims are ignored"));
        mint.session_data.insert("faunaRef".into(), json!(n));
        Ok(())
    }

    async fn on_refresh(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
        if self.fail_refresh.load(Ordering::SeqCst) {
            return Err(HookError::Unavailable {
                service: "fauna",
                cause: "test".into(),
            });
        }
        assert_eq!(mint.access_token_lifetime, Duration::from_secs(3600));
        let n = self.minted.fetch_add(1, Ordering::SeqCst);
        mint.access_token_payload
            .insert("faunaToken".into(), json!(format!("tok-{n}")));
        mint.session_data.insert("faunaRef".into(), json!(n));
        Ok(())
    }

    async fn on_revoke(&self, revoked: &[RevokedSession]) {
        self.revoked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(revoked);
    }
}

async fn hooks_contract(b: Backend) {
    let hooks = Arc::new(FlakyHooks::default());
    let h = hooks.clone();
    let s = TestServer::start(b, move |c| c.hooks = h).await;
    // on_create adds claims and data.
    let t = s.new_session("header").await;
    let p = jwt_payload(&t.access);
    assert_eq!(p["faunaToken"], "tok-0");
    assert_ne!(p["sub"], "protected claims are ignored");
    let handle = p["sessionHandle"].as_str().expect("handle").to_owned();
    assert_eq!(
        s.engine.session_data(&handle).await.expect("data")["faunaRef"],
        0
    );

    // on_refresh changes are persisted and appear in the new token.
    let r = s.refresh(&t).await;
    assert_eq!(r.status(), 200);
    let mut t1 = t.clone();
    t1.update(r.headers());
    assert_eq!(jwt_payload(&t1.access)["faunaToken"], "tok-1");
    assert_eq!(
        s.engine.session_data(&handle).await.expect("data")["faunaRef"],
        1
    );

    // on_refresh failure: 503, nothing written, the presented token stays usable.
    hooks.fail_refresh.store(true, Ordering::SeqCst);
    let r = s.refresh(&t1).await;
    assert_eq!(r.status(), 503);
    hooks.fail_refresh.store(false, Ordering::SeqCst);
    let r = s.refresh(&t1).await;
    assert_eq!(r.status(), 200);
    t1.update(r.headers());

    // on_create failure: 503 and no session stored.
    hooks.fail_create.store(true, Ordering::SeqCst);
    let r = s.signup("cookie").await;
    assert_eq!(r.status(), 503);
    assert!(Tokens::from_response(r.headers()).is_none());
    let user = {
        let body: Value = s
            .http
            .get(s.at("/auth/emailpassword/email/exists"))
            .query(&[("email", "nobody@x.io")])
            .send()
            .await
            .expect("req")
            .json()
            .await
            .expect("json");
        body
    };
    assert_eq!(user["exists"], false);
    let created = s
        .engine
        .create_session(
            "123",
            Default::default(),
            Default::default(),
            fauna_session_server::TokenTransfer::Header,
        )
        .await;
    assert!(matches!(
        created,
        Err(fauna_session_server::SessionError::Hook(_))
    ));
    assert!(
        s.engine
            .session_handles_for_user("123")
            .await
            .expect("handles")
            .is_empty()
    );
    hooks.fail_create.store(false, Ordering::SeqCst);

    // on_revoke sees sign-out with the session data.
    let r = t1
        .apply(s.http.post(s.at("/auth/signout")))
        .send()
        .await
        .expect("signout");
    assert_eq!(r.status(), 200);
    let revoked = hooks
        .revoked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].session_handle, handle);
    assert!(revoked[0].session_data.contains_key("faunaRef"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_contract_sqlite() {
    hooks_contract(Backend::Sqlite).await;
}
