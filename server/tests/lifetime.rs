//! The absolute session lifetime (`SessionConfig::session_max_lifetime`) through real HTTP, on SQLite and on
//! PostgreSQL: past it a refresh answers 401 and the session is revoked, whichever refresh path it takes; the
//! store's compare-and-swap itself refuses a session that is too old; access tokens never outlive it.

mod common;

use std::time::Duration;

use common::process::{ServerProcess, email};
use common::{
    Backend, EventRecorder, TestServer, Tokens, assert_cookies_cleared, fresh_database, jwt_payload,
};
use std::sync::Arc;

use fauna_session_server::security::RevokeReason;
use fauna_session_server::store::{ChildPromotion, LineageUpdate, SessionStore as _};
use serde_json::{Value, json};

both_backends!(
    the_default_lifetime_ends_an_old_session,
    off_keeps_an_old_session,
    the_compare_and_swap_refuses_an_old_session,
    access_tokens_end_with_the_session,
    the_binary_flag_sets_the_lifetime,
    the_devices_list_leaves_out_an_old_session,
    maintenance_ends_old_sessions_nobody_uses,
);

const DAY_MS: i64 = 86_400_000;

fn handle(t: &Tokens) -> String {
    jwt_payload(&t.access)["sessionHandle"]
        .as_str()
        .expect("sessionHandle")
        .to_owned()
}

/// Moves the session's creation time `ms` into the past, straight in the database.
async fn age(s: &TestServer, b: Backend, handle: &str, ms: i64) {
    let sql = "UPDATE sessions SET created_at = created_at - $1 WHERE session_handle = $2";
    let n = match b {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&s.database_url)
                .await
                .expect("sqlite");
            let n = sqlx::query(sql).bind(ms).bind(handle).execute(&pool).await;
            pool.close().await;
            n.expect("age").rows_affected()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&s.database_url)
                .await
                .expect("postgres");
            let n = sqlx::query(sql).bind(ms).bind(handle).execute(&pool).await;
            pool.close().await;
            n.expect("age").rows_affected()
        }
    };
    assert_eq!(n, 1, "session row aged");
}

async fn assert_ended(s: &TestServer, r: reqwest::Response, handle: &str) {
    assert_eq!(r.status(), 401);
    let cookie_mode = r.headers().get("set-cookie").is_some();
    if cookie_mode {
        assert_cookies_cleared(r.headers());
    }
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "unauthorised"})
    );
    assert!(
        s.store.session(handle).await.expect("read").is_none(),
        "the session row is deleted"
    );
}

/// The default (on, 365 days): a session created 366 days ago ends at its next refresh, through the
/// one-statement promotion (header mode, a child token) and through the read-then-decide path (cookie mode, the
/// current token); a younger session is untouched.
async fn the_default_lifetime_ends_an_old_session(b: Backend) {
    let revocations = Arc::new(EventRecorder::default());
    let hooks = revocations.clone();
    let s = TestServer::start(b, |c| c.hooks = hooks).await;
    assert_eq!(
        s.engine.config().session_max_lifetime,
        Some(Duration::from_secs(365 * 86_400))
    );
    let revoked_before = s.metric("fauna_session_sessions_revoked_total").await;

    // A child token: its refresh is a promotion.
    let t0 = s.new_session("header").await;
    let r = s.refresh(&t0).await;
    assert_eq!(r.status(), 200);
    let mut child = t0.clone();
    child.update(r.headers());
    age(&s, b, &handle(&child), 366 * DAY_MS).await;
    assert_ended(&s, s.refresh(&child).await, &handle(&child)).await;

    // The current token (never refreshed): read, decide "current", no write.
    let c = s.new_session("cookie").await;
    age(&s, b, &handle(&c), 366 * DAY_MS).await;
    assert_ended(&s, s.refresh(&c).await, &handle(&c)).await;

    assert_eq!(
        s.metric("fauna_session_sessions_revoked_total").await - revoked_before,
        2
    );
    assert_eq!(
        revocations.revoke_reasons(),
        [RevokeReason::MaxLifetime, RevokeReason::MaxLifetime],
        "a security event says why"
    );
    // 364 days old: still refreshes.
    let young = s.new_session("header").await;
    age(&s, b, &handle(&young), 364 * DAY_MS).await;
    assert_eq!(s.refresh(&young).await.status(), 200);
}

/// `None` turns the absolute lifetime off: only the sliding refresh lifetime applies.
async fn off_keeps_an_old_session(b: Backend) {
    let s = TestServer::start(b, |c| c.session_max_lifetime = None).await;
    let t0 = s.new_session("header").await;
    age(&s, b, &handle(&t0), 10 * 365 * DAY_MS).await;
    let r = s.refresh(&t0).await;
    assert_eq!(r.status(), 200);
    let mut t1 = t0.clone();
    t1.update(r.headers());
    assert_eq!(s.refresh(&t1).await.status(), 200);
}

/// The age check is part of the conditional UPDATE, so an instance that read the row before the session got
/// too old cannot write past the limit.
async fn the_compare_and_swap_refuses_an_old_session(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let t = s.new_session("header").await;
    let h = handle(&t);
    let row = s.store.session(&h).await.expect("read").expect("row");
    let now = row.created_at + 1;
    let update = |created_after: i64| LineageUpdate {
        session_handle: &row.session_handle,
        expected_current: &row.current_hash2,
        expected_version: row.version,
        new_current: &row.current_hash2,
        new_parent: row.parent_hash2.as_deref(),
        expires_at: row.expires_at,
        access_token_payload: None,
        session_data: None,
        created_after,
        now,
    };
    assert!(
        !s.store
            .update_lineage(&update(row.created_at))
            .await
            .expect("cas"),
        "a session created at the cut-off is too old"
    );
    assert!(
        s.store
            .update_lineage(&update(row.created_at - 1))
            .await
            .expect("cas"),
        "a session created after the cut-off is written"
    );
    let row = s.store.session(&h).await.expect("read").expect("row");
    let promote = |created_after: i64| ChildPromotion {
        session_handle: &row.session_handle,
        parent_hash2: &row.current_hash2,
        new_current: "0000",
        expires_at: row.expires_at,
        now,
        created_after,
    };
    assert!(
        s.store
            .promote_child(&promote(row.created_at))
            .await
            .expect("promote")
            .is_none(),
        "no promotion of a session created at the cut-off"
    );
    assert!(
        s.store
            .promote_child(&promote(row.created_at - 1))
            .await
            .expect("promote")
            .is_some()
    );
}

/// With a 3 s lifetime: the access tokens of a sign-up, of a refresh and of a verify-time promotion expire at the
/// session's end (not an hour later); after the end the access token asks for a refresh (no database read), and
/// the refresh ends the session.
async fn access_tokens_end_with_the_session(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.session_max_lifetime = Some(Duration::from_secs(3));
    })
    .await;
    let t0 = s.new_session("header").await;
    let h = handle(&t0);
    let created_s = s
        .store
        .session(&h)
        .await
        .expect("read")
        .expect("row")
        .created_at
        / 1000;
    assert!(jwt_payload(&t0.access)["exp"].as_i64().expect("exp") <= created_s + 3);
    let r = s.refresh(&t0).await;
    assert_eq!(r.status(), 200);
    let mut t1 = t0.clone();
    t1.update(r.headers());
    assert!(jwt_payload(&t1.access)["exp"].as_i64().expect("exp") <= created_s + 3);
    let r = s.session_info(&t1).await;
    assert_eq!(r.status(), 200);
    t1.update(r.headers()); // the replacement token, verified statelessly from now on
    assert!(jwt_payload(&t1.access)["exp"].as_i64().expect("exp") <= created_s + 3);
    assert_eq!(s.session_info(&t1).await.status(), 200);

    // `exp` is in whole seconds and a token is valid through its `exp` second.
    tokio::time::sleep(Duration::from_millis(4_100)).await;
    let r = s.session_info(&t1).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "try refresh token"})
    );
    assert_ended(&s, s.refresh(&t1).await, &h).await;
}

/// `--session-max-lifetime` (env `FAUNA_SESSION_SESSION_MAX_LIFETIME`) on the binary: 2 s ends a session after 2 s;
/// `off` (like `0`) keeps it.
async fn the_binary_flag_sets_the_lifetime(b: Backend) {
    let (url, _dir) = fresh_database(b).await;
    let short = ServerProcess::start(&url, &["--session-max-lifetime", "2"]);
    let off = ServerProcess::start(&url, &["--session-max-lifetime", "off"]);
    let refresh_token = |r: &reqwest::Response| {
        r.headers()["st-refresh-token"]
            .to_str()
            .expect("refresh token")
            .to_owned()
    };
    let r = short.sign_up(&email()).await;
    assert_eq!(r.status(), 200);
    let ends = refresh_token(&r);
    let r = off.sign_up(&email()).await;
    assert_eq!(r.status(), 200);
    let stays = refresh_token(&r);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    // Each instance decides by its own flag (both share the database).
    let r = off.refresh(&stays).await;
    assert_eq!(r.status(), 200);
    let r = short.refresh(&ends).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "unauthorised"})
    );
    let r = off.refresh(&ends).await;
    assert_eq!(r.status(), 401, "the session was revoked, not just refused");
}

/// `GET {base}/sessions` lists a user's sessions without the one past its absolute lifetime, and reports each
/// session's expiry as the earlier of its sliding and absolute end.
async fn the_devices_list_leaves_out_an_old_session(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let email = email();
    let form = |path: &str| {
        s.http
            .post(s.at(path))
            .header("st-auth-mode", "header")
            .header("rid", "emailpassword")
            .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": "secret123"}]}))
            .send()
    };
    let r = form("/auth/signup").await.expect("signup");
    assert_eq!(r.status(), 200);
    let old = Tokens::from_response(r.headers()).expect("tokens");
    let r = form("/auth/signin").await.expect("signin");
    assert_eq!(r.status(), 200);
    let young = Tokens::from_response(r.headers()).expect("tokens");
    age(&s, b, &handle(&old), 366 * DAY_MS).await;
    age(&s, b, &handle(&young), 300 * DAY_MS).await;
    let listed: Value = young
        .apply(s.http.get(s.at("/auth/sessions")))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let sessions = listed["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1, "{listed}");
    assert_eq!(sessions[0]["sessionHandle"], handle(&young));
    let created = sessions[0]["timeCreated"].as_i64().expect("timeCreated");
    assert_eq!(
        sessions[0]["expiry"].as_i64(),
        Some(created + 365 * DAY_MS),
        "the absolute end comes before the sliding one (300 days old, 100 days sliding)"
    );
}

/// The maintenance task ends a session past the absolute lifetime even if it is never used again (before, it
/// ended only at its next use, its row and Fauna token kept meanwhile): revoked with reason `max_lifetime`, its
/// access token refused; a younger session is untouched.
async fn maintenance_ends_old_sessions_nobody_uses(b: Backend) {
    let revocations = Arc::new(EventRecorder::default());
    let hooks = revocations.clone();
    let s = TestServer::start(b, |c| c.hooks = hooks).await;
    let old = s.new_session("header").await;
    let young = s.new_session("header").await;
    age(&s, b, &handle(&old), 366 * DAY_MS).await;
    age(&s, b, &handle(&young), 364 * DAY_MS).await;
    s.engine.maintenance().await.expect("maintenance");
    assert!(
        s.store
            .session(&handle(&old))
            .await
            .expect("read")
            .is_none(),
        "the old session's row is deleted"
    );
    assert!(
        s.store
            .session(&handle(&young))
            .await
            .expect("read")
            .is_some()
    );
    assert_eq!(revocations.revoke_reasons(), [RevokeReason::MaxLifetime]);
    assert_eq!(s.session_info(&old).await.status(), 401);
    assert_eq!(s.session_info(&young).await.status(), 200);
}
