//! Security events over real HTTP on SQLite and PostgreSQL: the audit table's rows (event, user, session, IP,
//! user agent) for sign-up, failed and good sign-ins, refreshes, token theft, sign-outs, revocations, lockouts
//! and rate limits; the app's hook; the Prometheus counters; nothing written with the audit log off; old rows
//! pruned by the maintenance task.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Backend, EventRecorder, TestServer, Tokens};
use fauna_session_server::hooks::SessionHooks;
use fauna_session_server::security::{RevokeReason, SecurityEvent};
use serde_json::{Value, json};

both_backends!(
    audit_rows_follow_a_session_to_token_theft,
    lockouts_and_rate_limits_are_events_without_the_email,
    revocations_say_why,
    the_audit_log_off_writes_nothing,
    maintenance_prunes_old_audit_rows,
    a_flood_of_refusals_is_two_rows_a_window,
    the_audit_table_keeps_at_most_max_rows,
    the_binary_writes_the_audit_table_with_the_flag_only,
    a_password_reset_revokes_every_session_with_a_reason,
    a_panicking_hook_does_not_fail_the_request,
    a_failing_audit_write_does_not_fail_the_request,
);

const UA: &str = "security-test/1.0 (audit)";

/// One `audit_log` row.
#[derive(Debug, Clone)]
struct Row {
    event: String,
    user_id: Option<String>,
    session_handle: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Value,
}

type RawRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

async fn audit_rows(s: &TestServer) -> Vec<Row> {
    audit_rows_of(&s.database_url).await
}

async fn audit_rows_of(database_url: &str) -> Vec<Row> {
    let sql =
        "SELECT event, user_id, session_handle, ip, user_agent, detail FROM audit_log ORDER BY id";
    let raw: Vec<RawRow> = on_database!(database_url, |p| sqlx::query_as(sql)
        .fetch_all(&p)
        .await
        .unwrap());
    raw.into_iter()
        .map(
            |(event, user_id, session_handle, ip, user_agent, detail)| Row {
                event,
                user_id,
                session_handle,
                ip,
                user_agent,
                detail: serde_json::from_str(&detail).unwrap(),
            },
        )
        .collect()
}

/// Run one statement on the server's database.
async fn execute(s: &TestServer, sql: &str) {
    on_database!(&s.database_url, |p| {
        sqlx::query(sql).execute(&p).await.unwrap();
    });
}

/// The audit rows once there are at least `n` (written in the background; waits up to 10 s).
async fn wait_for_rows(s: &TestServer, n: usize) -> Vec<Row> {
    wait_for_rows_of(&s.database_url, n).await
}

async fn wait_for_rows_of(database_url: &str, n: usize) -> Vec<Row> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = audit_rows_of(database_url).await;
        if rows.len() >= n || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn events(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|r| r.event.as_str()).collect()
}

/// A client sending [`UA`].
fn browser() -> reqwest::Client {
    reqwest::Client::builder().user_agent(UA).build().unwrap()
}

async fn credentials(
    s: &TestServer,
    http: &reqwest::Client,
    path: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    s.credentials_with(http, path, email, password).await
}

/// Signs in (or up), returning the session's tokens, handle and user id.
async fn session(
    s: &TestServer,
    http: &reqwest::Client,
    path: &str,
    email: &str,
) -> (Tokens, String, String) {
    let r = credentials(s, http, path, email, "secret123").await;
    assert_eq!(r.status(), 200);
    let t = Tokens::from_response(r.headers()).expect("tokens");
    let p = common::jwt_payload(&t.access);
    let handle = p["sessionHandle"].as_str().unwrap().to_owned();
    let user = p["sub"].as_str().unwrap().to_owned();
    (t, handle, user)
}

async fn refresh(s: &TestServer, http: &reqwest::Client, t: &Tokens) -> reqwest::Response {
    t.apply_refresh(
        http.post(s.at("/auth/session/refresh"))
            .header("rid", "session"),
    )
    .send()
    .await
    .unwrap()
}

async fn sign_out(s: &TestServer, http: &reqwest::Client, t: &Tokens, scope: &str) {
    let r = t
        .apply(http.post(s.at("/auth/signout")).header("rid", "session"))
        .json(&json!({ "scope": scope }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn email() -> String {
    format!(
        "u{}@example.com",
        fauna_session_server::users::new_user_id()
    )
}

async fn audited(
    b: Backend,
    f: impl FnOnce(&mut fauna_session_server::SessionConfig),
) -> (TestServer, Arc<EventRecorder>) {
    let recorder = Arc::new(EventRecorder::default());
    let hooks = recorder.clone();
    let s = TestServer::start(b, move |c| {
        c.audit_log.enabled = true;
        c.hooks = hooks;
        f(c);
    })
    .await;
    (s, recorder)
}

async fn audit_rows_follow_a_session_to_token_theft(b: Backend) {
    let (s, recorder) = audited(b, |_| {}).await;
    let http = browser();
    let e = email();
    let (t_up, up_handle, user) = session(&s, &http, "/auth/signup", &e).await;
    let r = credentials(&s, &http, "/auth/signin", &e, "wrong-password1").await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["status"],
        "WRONG_CREDENTIALS_ERROR"
    );
    let (t0, handle, _) = session(&s, &http, "/auth/signin", &e).await;
    // Refresh, refresh with the child (promotes it), then replay the first refresh token: theft.
    let r = refresh(&s, &http, &t0).await;
    assert_eq!(r.status(), 200);
    let mut t1 = t0.clone();
    t1.update(r.headers());
    assert_eq!(refresh(&s, &http, &t1).await.status(), 200);
    let r = refresh(&s, &http, &t0).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "token theft detected"
    );
    sign_out(&s, &http, &t_up, "local").await;

    let expected = [
        "sign_up",
        "sign_in_failed",
        "sign_in",
        "refresh",
        "refresh",
        "token_theft",
        "sign_out",
    ];
    let rows = wait_for_rows(&s, expected.len()).await;
    assert_eq!(events(&rows), expected, "{rows:#?}");
    for r in &rows {
        assert_eq!(r.ip.as_deref(), Some("127.0.0.1"), "{r:?}");
        assert_eq!(r.user_agent.as_deref(), Some(UA), "{r:?}");
        let text = format!("{r:?}");
        assert!(!text.contains(&e), "no email in the audit table: {text}");
        assert!(
            !text.contains("secret123") && !text.contains(&t0.refresh),
            "{text}"
        );
    }
    let who = |i: usize| {
        (
            rows[i].user_id.as_deref(),
            rows[i].session_handle.as_deref(),
        )
    };
    assert_eq!(who(0), (Some(user.as_str()), Some(up_handle.as_str())));
    assert_eq!(who(1), (None, None));
    assert_eq!(
        rows[1].detail["email"],
        s.engine.email_fingerprint(&e.to_uppercase()).as_str(),
        "a failed sign-in carries the email's fingerprint"
    );
    for r in &rows[2..6] {
        assert_eq!(
            (r.user_id.as_deref(), r.session_handle.as_deref()),
            (Some(user.as_str()), Some(handle.as_str())),
            "{r:?}"
        );
    }
    assert_eq!(who(6), (Some(user.as_str()), Some(up_handle.as_str())));
    assert_eq!(rows[6].detail["scope"], "local");

    // The hook saw the same events, theft with who and where.
    assert_eq!(recorder.names(), expected);
    let theft = recorder.first("token_theft").unwrap();
    let SecurityEvent::TokenTheft {
        user_id,
        session_handle,
        client,
        ..
    } = theft
    else {
        panic!("{theft:?}")
    };
    assert_eq!((user_id, session_handle), (user.clone(), handle.clone()));
    assert_eq!(
        client.ip.map(|ip| ip.to_string()).as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(client.user_agent.as_deref(), Some(UA));

    // And /metrics counts them (the existing counters keep their names).
    let m = |event: &str| format!("fauna_session_security_events_total{{event=\"{event}\"}}");
    assert_eq!(s.metric(&m("token_theft")).await, 1);
    assert_eq!(s.metric(&m("refresh")).await, 2);
    assert_eq!(s.metric(&m("sign_in_failed")).await, 1);
    assert_eq!(s.metric(&m("lockout_started")).await, 0);
    assert_eq!(s.metric("fauna_session_token_theft_total").await, 1);
    assert_eq!(s.metric("fauna_session_audit_rows_dropped_total").await, 0);
}

async fn lockouts_and_rate_limits_are_events_without_the_email(b: Backend) {
    let (s, recorder) = audited(b, |c| {
        c.lockout.threshold = 2;
        c.rate_limits.email_exists_per_minute = 1;
    })
    .await;
    let http = browser();
    let e = email();
    let fingerprint = s.engine.email_fingerprint(&e);
    for status in [200, 429, 429] {
        let r = credentials(&s, &http, "/auth/signin", &e, "wrong-password1").await;
        assert_eq!(r.status(), status);
    }
    let exists = format!("/auth/emailpassword/email/exists?email={e}");
    assert_eq!(http.get(s.at(&exists)).send().await.unwrap().status(), 200);
    assert_eq!(http.get(s.at(&exists)).send().await.unwrap().status(), 429);

    let expected = [
        "sign_in_failed",
        "sign_in_failed",
        "lockout_started",
        "sign_in_locked_out",
        "rate_limited",
    ];
    let rows = wait_for_rows(&s, expected.len()).await;
    assert_eq!(events(&rows), expected, "{rows:#?}");
    assert_eq!(recorder.names(), expected);
    for r in &rows[..4] {
        assert_eq!(r.detail["email"], fingerprint.as_str(), "{r:?}");
    }
    assert!(rows[2].detail["backoffSecs"].as_u64().unwrap() >= 1);
    assert!(rows[3].detail["retryAfterSecs"].as_u64().unwrap() >= 1);
    assert_eq!(rows[4].detail["path"], "/auth/emailpassword/email/exists");
    for r in &rows {
        assert_eq!(r.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(r.user_agent.as_deref(), Some(UA));
        assert!(!format!("{r:?}").contains(&e), "{r:?}");
    }
    let m = |event: &str| format!("fauna_session_security_events_total{{event=\"{event}\"}}");
    assert_eq!(s.metric(&m("lockout_started")).await, 1);
    assert_eq!(s.metric(&m("sign_in_locked_out")).await, 1);
    assert_eq!(s.metric(&m("rate_limited")).await, 1);
}

async fn revocations_say_why(b: Backend) {
    let (s, _) = audited(b, |_| {}).await;
    let http = browser();
    let e = email();
    let (a, a_handle, user) = session(&s, &http, "/auth/signup", &e).await;
    let (_, b_handle, _) = session(&s, &http, "/auth/signin", &e).await;
    let (_, c_handle, _) = session(&s, &http, "/auth/signin", &e).await;
    let (_, d_handle, _) = session(&s, &http, "/auth/signin", &e).await;
    // From a: end b as a device; the app revokes c; a signs out globally (ending d and itself).
    let r = a
        .apply(http.delete(s.at(&format!("/auth/sessions/{b_handle}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s.engine.revoke_session(&c_handle).await.unwrap());
    sign_out(&s, &http, &a, "global").await;

    let rows = wait_for_rows(&s, 8).await;
    let tail: Vec<_> = rows[4..]
        .iter()
        .map(|r| {
            (
                r.event.as_str(),
                r.session_handle.as_deref().unwrap(),
                r.detail
                    .get("reason")
                    .or(r.detail.get("scope"))
                    .and_then(Value::as_str),
                r.ip.as_deref(),
            )
        })
        .collect();
    let ip = Some("127.0.0.1");
    assert_eq!(
        tail,
        [
            (
                "revoked",
                b_handle.as_str(),
                Some(RevokeReason::Device.as_str()),
                ip
            ),
            ("revoked", c_handle.as_str(), Some("api"), None),
            ("revoked", d_handle.as_str(), Some("sign_out"), ip),
            ("sign_out", a_handle.as_str(), Some("global"), ip),
        ],
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.user_id.as_deref() == Some(user.as_str()))
    );
}

async fn the_audit_log_off_writes_nothing(b: Backend) {
    let recorder = Arc::new(EventRecorder::default());
    let hooks = recorder.clone();
    let s = TestServer::start(b, move |c| c.hooks = hooks).await;
    let http = browser();
    let e = email();
    let (t, _, _) = session(&s, &http, "/auth/signup", &e).await;
    credentials(&s, &http, "/auth/signin", &e, "wrong-password1").await;
    assert_eq!(refresh(&s, &http, &t).await.status(), 200);
    sign_out(&s, &http, &t, "local").await;
    // Events still go to the hook and the counters.
    assert_eq!(
        recorder.names(),
        ["sign_up", "sign_in_failed", "refresh", "sign_out"]
    );
    assert_eq!(
        s.metric("fauna_session_security_events_total{event=\"sign_up\"}")
            .await,
        1
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(audit_rows(&s).await.is_empty());
}

async fn maintenance_prunes_old_audit_rows(b: Backend) {
    let (s, _) = audited(b, |_| {}).await;
    let day = 24 * 3600 * 1000_i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (age_days, event) in [(91, "old"), (89, "recent")] {
        execute(
            &s,
            &format!(
                "INSERT INTO audit_log (at, event, detail) VALUES ({}, '{event}', '{{}}')",
                now - age_days * day
            ),
        )
        .await;
    }
    let http = browser();
    session(&s, &http, "/auth/signup", &email()).await;
    assert_eq!(
        events(&wait_for_rows(&s, 3).await),
        ["old", "recent", "sign_up"]
    );
    s.engine.maintenance().await.unwrap();
    assert_eq!(events(&audit_rows(&s).await), ["recent", "sign_up"]);
}

/// 40 refusals of one client on one route in a window are two events (log lines, hook calls, audit rows):
/// the first at once (`count` 1), the other 39 as one when the window is over; the counter counts all 40.
/// Before, each refusal was a row (one client wrote ~32,000 in 20 s).
async fn a_flood_of_refusals_is_two_rows_a_window(b: Backend) {
    let (s, recorder) = audited(b, |c| {
        c.rate_limits.email_exists_per_minute = 1;
        c.audit_log.rate_limited_window = Duration::from_secs(1);
    })
    .await;
    let http = browser();
    let exists = s.at(&format!(
        "/auth/emailpassword/email/exists?email={}",
        email()
    ));
    assert_eq!(http.get(&exists).send().await.unwrap().status(), 200);
    for _ in 0..40 {
        assert_eq!(http.get(&exists).send().await.unwrap().status(), 429);
    }
    let rows = wait_for_rows(&s, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows_now = audit_rows(&s).await;
    assert_eq!(
        rows_now.len(),
        1,
        "one row while the window lasts: {rows_now:#?}"
    );
    assert_eq!(rows[0].detail["count"], 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.engine.maintenance().await.unwrap();
    let rows = wait_for_rows(&s, 2).await;
    assert_eq!(events(&rows), ["rate_limited", "rate_limited"]);
    assert_eq!(rows[1].detail["count"], 39);
    assert_eq!(rows[1].detail["path"], "/auth/emailpassword/email/exists");
    assert_eq!(rows[1].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(recorder.names(), ["rate_limited", "rate_limited"]);
    let m = "fauna_session_security_events_total{event=\"rate_limited\"}";
    assert_eq!(s.metric(m).await, 40);
    // Nothing is left to summarise.
    s.engine.maintenance().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(audit_rows(&s).await.len(), 2);
}

/// `max_rows`: the maintenance task deletes the oldest rows beyond the cap.
async fn the_audit_table_keeps_at_most_max_rows(b: Backend) {
    let (s, _) = audited(b, |c| c.audit_log.max_rows = 3).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for i in 0..10 {
        execute(
            &s,
            &format!(
                "INSERT INTO audit_log (at, event, detail) VALUES ({}, 'e{i}', '{{}}')",
                now + i
            ),
        )
        .await;
    }
    s.engine.maintenance().await.unwrap();
    assert_eq!(events(&audit_rows(&s).await), ["e7", "e8", "e9"]);
}

async fn the_binary_writes_the_audit_table_with_the_flag_only(b: Backend) {
    use common::process::ServerProcess;
    for (flag, expected) in [
        (None, &[][..]),
        (Some("--audit-log"), &["sign_up", "sign_in_failed"][..]),
    ] {
        let (url, _dir) = common::fresh_database(b).await;
        let s = ServerProcess::start(&url, flag.as_slice());
        let e = email();
        assert_eq!(s.sign_up(&e).await.status(), 200);
        assert_eq!(s.sign_in(&e, "wrong-password1").await.status(), 200);
        if expected.is_empty() {
            // Nothing should come: give a wrong background write time to show up.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let rows = wait_for_rows_of(&url, expected.len()).await;
        assert_eq!(events(&rows), expected, "{flag:?}");
        assert!(rows.iter().all(|r| r.ip.as_deref() == Some("127.0.0.1")));
    }
}

async fn a_password_reset_revokes_every_session_with_a_reason(b: Backend) {
    use fauna_session_server::email::{EmailConfig, Mailer};
    let sink = common::smtp::SmtpSink::start();
    let smtp_url = sink.url();
    let (s, _) = audited(b, move |c| {
        c.accounts.mailer = Some(
            Mailer::new(&EmailConfig {
                smtp_url,
                website_domain: "http://127.0.0.1:8000".into(),
                ..EmailConfig::default()
            })
            .unwrap(),
        );
    })
    .await;
    let http = browser();
    let e = email();
    let (_, first, user) = session(&s, &http, "/auth/signup", &e).await;
    let (_, second, _) = session(&s, &http, "/auth/signin", &e).await;
    let r = http
        .post(s.at("/auth/user/password/reset/token"))
        .json(&json!({"formFields": [{"id": "email", "value": e}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = sink.wait_for(&e, 1).await[0].token("reset-password");
    let r = http
        .post(s.at("/auth/user/password/reset"))
        .json(&json!({"method": "token", "token": token,
                      "formFields": [{"id": "password", "value": "new-pass-42"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "OK");

    let rows = wait_for_rows(&s, 4).await;
    let mut revoked: Vec<_> = rows[2..]
        .iter()
        .map(|r| {
            assert_eq!(r.event, "revoked", "{r:?}");
            assert_eq!(r.detail["reason"], "password_reset");
            assert_eq!(r.user_id.as_deref(), Some(user.as_str()));
            assert_eq!(
                (r.ip.as_deref(), r.user_agent.as_deref()),
                (Some("127.0.0.1"), Some(UA))
            );
            r.session_handle.clone().unwrap()
        })
        .collect();
    revoked.sort();
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(revoked, both);
}

struct Panics;

impl SessionHooks for Panics {
    fn runs_on_refresh(&self) -> bool {
        false
    }
    fn on_security_event(&self, event: &SecurityEvent) {
        panic!("alerting is broken ({})", event.name());
    }
}

async fn a_panicking_hook_does_not_fail_the_request(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.hooks = Arc::new(Panics);
        c.audit_log.enabled = true;
    })
    .await;
    let http = browser();
    let (t, _, _) = session(&s, &http, "/auth/signup", &email()).await;
    assert_eq!(refresh(&s, &http, &t).await.status(), 200);
    // The other sinks still got the events.
    assert_eq!(events(&wait_for_rows(&s, 2).await), ["sign_up", "refresh"]);
    assert_eq!(
        s.metric("fauna_session_security_events_total{event=\"refresh\"}")
            .await,
        1
    );
}

async fn a_failing_audit_write_does_not_fail_the_request(b: Backend) {
    let (s, recorder) = audited(b, |_| {}).await;
    // The table is gone: every audit write fails.
    execute(&s, "DROP TABLE audit_log").await;
    let http = browser();
    let (t, _, _) = session(&s, &http, "/auth/signup", &email()).await;
    assert_eq!(refresh(&s, &http, &t).await.status(), 200);
    sign_out(&s, &http, &t, "local").await;
    assert_eq!(recorder.names(), ["sign_up", "refresh", "sign_out"]);
    // The lost rows are counted (written in the background: wait up to 10 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut dropped = 0;
    while dropped < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        dropped = s.metric("fauna_session_audit_rows_dropped_total").await;
    }
    assert_eq!(dropped, 3);
}

/// The binary's JSON log carries each security event with its target and fields, and no email.
#[tokio::test]
async fn the_binary_logs_security_events_as_json_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(common::process::BIN);
    command
        .args(["--log-format", "json"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("t.sqlite").display()),
        )
        .env("FAUNA_SESSION_LOG", "info");
    let server = common::process::Binary::start(command);
    let e = email();
    let r = browser()
        .post(format!("{}/auth/signin", server.url()))
        .header("rid", "emailpassword")
        .json(&json!({"formFields": [
            {"id": "email", "value": e}, {"id": "password", "value": "wrong-password1"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The event is logged (synchronously, line by line) before the answer is sent: stop and read the log.
    let out = server.kill();
    assert!(!out.contains(&e), "the email is in the log: {out}");
    let event = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["target"] == "fauna_session::security")
        .unwrap_or_else(|| panic!("no security event in: {out}"));
    let fields = &event["fields"];
    assert_eq!(fields["event"], "sign_in_failed", "{event}");
    assert_eq!(fields["client_ip"], "127.0.0.1", "{event}");
    assert_eq!(fields["user_agent"], UA, "{event}");
    assert!(
        fields["detail"].as_str().unwrap().contains("\"email\":"),
        "{event}"
    );
}
