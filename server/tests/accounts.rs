//! Password reset, email verification and devices over real HTTP, with a real SMTP server (aiosmtpd), on
//! SQLite and PostgreSQL; the Fauna user stores against the Fauna emulator.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::smtp::SmtpSink;
use common::{Backend, TestServer, Tokens, assert_cookies_cleared, front_token};
use fauna_session_server::SessionConfig;
use fauna_session_server::accounts::{EmailVerification, Rate};
use fauna_session_server::email::{EmailConfig, Mailer};
use serde_json::{Value, json};

both_backends!(
    password_reset_by_email,
    password_reset_token_expires,
    password_reset_bad_input,
    email_off_answers_general_error,
    rate_limits_per_ip_and_per_email,
    devices_listed_and_ended,
    signout_scopes,
    email_verification_required,
    email_verification_optional_and_off,
    fauna_users_password_reset,
    sql_users_with_fauna_password_reset_and_device_end,
    binary_flags_send_real_email,
);

const PASSWORD: &str = "secret123";

fn with_mail(sink: &SmtpSink) -> impl FnOnce(&mut SessionConfig) + use<> {
    let url = sink.url();
    move |c: &mut SessionConfig| {
        c.accounts.mailer = Some(
            Mailer::new(&EmailConfig {
                smtp_url: url,
                website_domain: "http://127.0.0.1:8000".into(),
                from: "Demo <no-reply@example.com>".into(),
                app_name: "Demo".into(),
                ..EmailConfig::default()
            })
            .expect("mailer"),
        );
    }
}

fn new_email() -> String {
    format!(
        "u{}@example.com",
        fauna_session_server::users::new_user_id()
    )
}

async fn form(s: &TestServer, path: &str, fields: Value, ua: &str) -> reqwest::Response {
    s.http
        .post(s.at(path))
        .header("st-auth-mode", "header")
        .header("rid", "emailpassword")
        .header("user-agent", ua)
        .json(&json!({ "formFields": fields }))
        .send()
        .await
        .expect("request")
}

async fn sign(
    s: &TestServer,
    path: &str,
    email: &str,
    password: &str,
    ua: &str,
) -> reqwest::Response {
    form(
        s,
        path,
        json!([{"id": "email", "value": email}, {"id": "password", "value": password}]),
        ua,
    )
    .await
}

/// Sign up and return the session's tokens.
async fn sign_up(s: &TestServer, email: &str, ua: &str) -> Tokens {
    let r = sign(s, "/auth/signup", email, PASSWORD, ua).await;
    assert_eq!(r.status(), 200);
    Tokens::from_response(r.headers()).expect("tokens")
}

async fn sign_in(s: &TestServer, email: &str, password: &str, ua: &str) -> Option<Tokens> {
    let r = sign(s, "/auth/signin", email, password, ua).await;
    assert_eq!(r.status(), 200);
    let tokens = Tokens::from_response(r.headers());
    let body: Value = r.json().await.expect("json");
    match body["status"].as_str() {
        Some("OK") => tokens,
        Some("WRONG_CREDENTIALS_ERROR") => None,
        other => panic!("sign-in answered {other:?}"),
    }
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn ask_reset(s: &TestServer, email: &str) -> (u16, Value) {
    json_of(
        form(
            s,
            "/auth/user/password/reset/token",
            json!([{"id": "email", "value": email}]),
            "t",
        )
        .await,
    )
    .await
}

async fn reset(s: &TestServer, token: &str, password: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.at("/auth/user/password/reset"))
        .header("rid", "emailpassword")
        .json(&json!({"method": "token", "token": token, "formFields": [{"id": "password", "value": password}]}))
        .send()
        .await
        .expect("reset");
    json_of(r).await
}

fn sha256_hex(s: &str) -> String {
    use std::fmt::Write as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes());
    d.as_ref().iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

async fn stored_token_hashes(s: &TestServer) -> Vec<String> {
    let pool_rows: Vec<String> = match &s.store {
        fauna_session_server::store::SqlStore::Sqlite { read, .. } => {
            sqlx::query_scalar("SELECT token_hash FROM account_tokens")
                .fetch_all(read)
                .await
        }
        fauna_session_server::store::SqlStore::Postgres(p) => {
            sqlx::query_scalar("SELECT token_hash FROM account_tokens")
                .fetch_all(p)
                .await
        }
    }
    .expect("tokens table");
    pool_rows
}

async fn password_reset_by_email(b: Backend) {
    let sink = SmtpSink::start();
    let s = TestServer::start(b, with_mail(&sink)).await;
    let email = new_email();
    let first = sign_up(&s, &email, "laptop").await;
    let second = sign_in(&s, &email, PASSWORD, "phone")
        .await
        .expect("second session");

    // Unknown emails get the same answer and no message.
    let stranger = new_email();
    assert_eq!(
        ask_reset(&s, &stranger).await,
        (200, json!({"status": "OK"}))
    );
    assert_eq!(
        ask_reset(&s, &format!("  {}  ", email.to_uppercase())).await,
        (200, json!({"status": "OK"}))
    );
    let mails = sink.wait_for(&email, 1).await;
    let mail = &mails[0];
    assert_eq!(mail.subject, "Password reset instructions");
    assert_eq!(mail.from, "no-reply@example.com");
    assert!(
        mail.text
            .contains("http://127.0.0.1:8000/auth/reset-password?token="),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("&tenantId=public") && mail.text.contains("1 hour"));
    assert!(mail.html.contains("Reset Password") && mail.html.contains("&amp;tenantId=public"));
    let token = mail.token("reset-password");
    assert_eq!(token.len(), 128);
    assert_eq!(
        sink.count_after(&stranger, Duration::from_millis(300))
            .await,
        0
    );

    // Only the hash is stored.
    let hashes = stored_token_hashes(&s).await;
    assert_eq!(hashes, vec![sha256_hex(&token)]);

    // A weak password is refused without burning the token.
    let (status, body) = reset(&s, &token, "short").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "FIELD_ERROR");
    assert_eq!(body["formFields"][0]["id"], "password");
    assert_eq!(
        reset(&s, &token, "new-pass-42").await,
        (200, json!({"status": "OK"}))
    );
    // Single use.
    assert_eq!(
        reset(&s, &token, "other-pass-43").await,
        (200, json!({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}))
    );
    assert_eq!(
        reset(&s, &"a".repeat(128), "other-pass-43").await.1,
        json!({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"})
    );
    // Every session of the user ended.
    for t in [&first, &second] {
        assert_eq!(s.refresh(t).await.status(), 401);
    }
    assert!(
        s.engine
            .session_handles_for_user(&user_of(&first))
            .await
            .expect("handles")
            .is_empty()
    );
    // The new password works, the old one not.
    assert!(sign_in(&s, &email, PASSWORD, "t").await.is_none());
    assert!(sign_in(&s, &email, "new-pass-42", "t").await.is_some());
}

/// The user id of a session's tokens.
fn user_of(t: &Tokens) -> String {
    common::jwt_payload(&t.access)["sub"]
        .as_str()
        .expect("sub")
        .to_owned()
}

async fn password_reset_token_expires(b: Backend) {
    let sink = SmtpSink::start();
    let mail = with_mail(&sink);
    let s = TestServer::start(b, |c| {
        mail(c);
        c.accounts.password_reset_token_lifetime = Duration::from_secs(1);
        c.accounts.per_email = Rate::new(10, Duration::from_secs(60));
    })
    .await;
    let email = new_email();
    sign_up(&s, &email, "t").await;
    ask_reset(&s, &email).await;
    ask_reset(&s, &email).await;
    let mails = sink.wait_for(&email, 2).await;
    assert!(mails[0].text.contains("1 second"));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        reset(&s, &mails[0].token("reset-password"), "new-pass-42")
            .await
            .1,
        json!({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"})
    );
    // Using one token (even an expired one) voids the user's others.
    ask_reset(&s, &email).await;
    let mails = sink.wait_for(&email, 3).await;
    let fresh = mails[2].token("reset-password");
    ask_reset(&s, &email).await;
    let newest = sink.wait_for(&email, 4).await[3].token("reset-password");
    assert_eq!(
        reset(&s, &fresh, "new-pass-42").await.1,
        json!({"status": "OK"})
    );
    assert_eq!(
        reset(&s, &newest, "new-pass-43").await.1,
        json!({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"})
    );
}

async fn password_reset_bad_input(b: Backend) {
    let sink = SmtpSink::start();
    let s = TestServer::start(b, with_mail(&sink)).await;
    let post = |path: &'static str, body: Value| {
        let req = s.http.post(s.at(path)).json(&body);
        async move { json_of(req.send().await.expect("request")).await }
    };
    let token_path = "/auth/user/password/reset/token";
    let reset_path = "/auth/user/password/reset";
    assert_eq!(
        post(token_path, json!({})).await,
        (400, json!({"message": "Missing input param: formFields"}))
    );
    assert_eq!(post(token_path, json!({"formFields": "x"})).await.0, 400);
    assert_eq!(
        post(
            token_path,
            json!({"formFields": [{"id": "email", "value": 5}]})
        )
        .await,
        (400, json!({"message": "email value must be a string"}))
    );
    assert_eq!(
        post(token_path, json!({"formFields": [{"id": "email", "value": "a@b.co"}, {"id": "password", "value": "x"}]}))
            .await,
        (400, json!({"message": "Are you sending too many formFields?"}))
    );
    assert_eq!(
        post(
            token_path,
            json!({"formFields": [{"id": "email", "value": "nope"}]})
        )
        .await,
        (
            200,
            json!({"status": "FIELD_ERROR", "formFields": [{"id": "email", "error": "Email is invalid"}]})
        )
    );
    assert_eq!(
        post(
            reset_path,
            json!({"formFields": [{"id": "password", "value": "good-pass-1"}]})
        )
        .await,
        (
            400,
            json!({"message": "Please provide the password reset token"})
        )
    );
    assert_eq!(
        post(
            reset_path,
            json!({"token": 7, "formFields": [{"id": "password", "value": "good-pass-1"}]})
        )
        .await,
        (
            400,
            json!({"message": "The password reset token must be a string"})
        )
    );
    assert_eq!(
        post(
            reset_path,
            json!({"token": "x", "formFields": [{"id": "password", "value": ""}]})
        )
        .await,
        (
            200,
            json!({"status": "FIELD_ERROR", "formFields": [{"id": "password", "error": "Field is not optional"}]})
        )
    );
    let r = s
        .http
        .post(s.at(reset_path))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 400);
}

async fn email_off_answers_general_error(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let email = new_email();
    sign_up(&s, &email, "t").await;
    assert_eq!(
        ask_reset(&s, &email).await,
        (
            200,
            json!({"status": "GENERAL_ERROR", "message": "Email is not configured on this server"})
        )
    );
}

async fn rate_limits_per_ip_and_per_email(b: Backend) {
    let sink = SmtpSink::start();
    let mail = with_mail(&sink);
    let s = TestServer::start(b, |c| {
        mail(c);
        c.rate_limits.account_email_per_minute = 4;
        c.rate_limits.account_token_per_minute = 1;
        c.accounts.per_email = Rate::new(1, Duration::from_secs(3600));
    })
    .await;
    let email = new_email();
    sign_up(&s, &email, "t").await;
    // Per email: the second request sends nothing and says so (before, it answered OK and the user waited
    // for an email that never came); an unknown address answers the same, so nothing tells them apart.
    let recently = json!({"status": "GENERAL_ERROR", "message": "An email was sent to this address recently. \
        Please check your inbox (and spam folder), or try again in 60 minutes."});
    assert_eq!(ask_reset(&s, &email).await.1, json!({"status": "OK"}));
    assert_eq!(ask_reset(&s, &email).await.1, recently);
    let unknown = new_email();
    assert_eq!(ask_reset(&s, &unknown).await.1, json!({"status": "OK"}));
    assert_eq!(ask_reset(&s, &unknown).await.1, recently);
    sink.wait_for(&email, 1).await;
    assert_eq!(
        sink.count_after(&email, Duration::from_millis(500)).await,
        1
    );
    // Per IP: the fifth request from this address is refused.
    let r = form(
        &s,
        "/auth/user/password/reset/token",
        json!([{"id": "email", "value": new_email()}]),
        "t",
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "too many requests"})
    );
    // Redeeming tokens has its own allowance (one per minute here).
    let redeem = || {
        s.http
            .post(s.at("/auth/user/password/reset"))
            .json(
                &json!({"token": "x", "formFields": [{"id": "password", "value": "good-pass-1"}]}),
            )
            .send()
    };
    let r = redeem().await.expect("reset");
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"})
    );
    assert_eq!(redeem().await.expect("reset").status(), 429);
}

/// `DELETE /auth/sessions/<handle>` as `t`.
async fn end_session(s: &TestServer, t: &Tokens, handle: &str) -> reqwest::Response {
    t.apply(s.http.delete(s.at(&format!("/auth/sessions/{handle}"))))
        .send()
        .await
        .expect("delete")
}

async fn list(s: &TestServer, t: &Tokens) -> (u16, Value) {
    json_of(
        t.apply(s.http.get(s.at("/auth/sessions")))
            .send()
            .await
            .expect("list"),
    )
    .await
}

async fn devices_listed_and_ended(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let email = new_email();
    let mut laptop = sign_up(&s, &email, "Laptop Firefox").await;
    let phone = sign_in(&s, &email, PASSWORD, "Phone Safari")
        .await
        .expect("phone");
    let other_user = sign_up(&s, &new_email(), "Other").await;

    let (status, body) = list(&s, &laptop).await;
    assert_eq!(status, 200);
    let sessions = body["sessions"].as_array().expect("sessions").clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["userAgent"], "Laptop Firefox");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["userAgent"], "Phone Safari");
    assert_eq!(sessions[1]["current"], false);
    for d in &sessions {
        assert_eq!(d["ip"], "127.0.0.1");
        assert!(d["timeCreated"].as_i64().is_some() && d["sessionHandle"].as_str().is_some());
    }
    let laptop_handle = sessions[0]["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    let phone_handle = sessions[1]["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    let before = sessions[0]["lastActive"].as_i64().expect("lastActive");

    // A refresh moves the last-active time.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let r = s.refresh(&laptop).await;
    assert_eq!(r.status(), 200);
    laptop.update(r.headers());
    let r = s.session_info(&laptop).await;
    laptop.update(r.headers());
    let (_, body) = list(&s, &laptop).await;
    let after = body["sessions"][0]["lastActive"]
        .as_i64()
        .expect("lastActive");
    assert!(after > before, "{after} > {before}");

    // Another user's session cannot be ended (nor seen).
    let r = end_session(&s, &other_user, &phone_handle).await;
    assert_eq!(
        json_of(r).await,
        (404, json!({"message": "session not found"}))
    );
    let (_, body) = list(&s, &other_user).await;
    assert_eq!(body["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(s.refresh(&phone).await.status(), 200, "still alive");

    // The laptop ends the phone's session.
    let phone_refresh = s.refresh(&phone).await;
    let mut phone = phone;
    phone.update(phone_refresh.headers());
    let r = end_session(&s, &laptop, &phone_handle).await;
    assert_eq!(json_of(r).await, (200, json!({"status": "OK"})));
    assert_eq!(s.refresh(&phone).await.status(), 401);
    let (_, body) = list(&s, &laptop).await;
    assert_eq!(body["sessions"].as_array().map(Vec::len), Some(1));
    // Ending its own session clears its tokens.
    let r = end_session(&s, &laptop, &laptop_handle).await;
    assert_eq!(r.status(), 200);
    assert_eq!(common::header(r.headers(), "front-token"), Some("remove"));
    assert_eq!(s.refresh(&laptop).await.status(), 401);
    // No session: 401.
    assert_eq!(
        s.http
            .get(s.at("/auth/sessions"))
            .send()
            .await
            .expect("list")
            .status(),
        401
    );
}

async fn signout_with(s: &TestServer, t: &Tokens, body: Option<Value>) -> reqwest::Response {
    let req = t.apply(s.http.post(s.at("/auth/signout")).header("rid", "session"));
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    req.send().await.expect("signout")
}

async fn signout_scopes(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let email = new_email();
    let a = sign_up(&s, &email, "a").await;
    let bee = sign_in(&s, &email, PASSWORD, "b").await.expect("b");
    let c = sign_in(&s, &email, PASSWORD, "c").await.expect("c");
    for (scope, shown) in [(json!("everywhere"), r#""everywhere""#), (json!(3), "3")] {
        let r = signout_with(&s, &a, Some(json!({ "scope": scope }))).await;
        let message = format!("Unsupported sign-out scope {shown} (local, others, global)");
        assert_eq!(json_of(r).await, (400, json!({ "message": message })));
    }
    // others: the caller stays.
    let r = signout_with(&s, &a, Some(json!({"scope": "others"}))).await;
    assert_eq!(json_of(r).await, (200, json!({"status": "OK"})));
    assert_eq!(s.refresh(&bee).await.status(), 401);
    assert_eq!(s.refresh(&c).await.status(), 401);
    let (_, body) = list(&s, &a).await;
    assert_eq!(body["sessions"].as_array().map(Vec::len), Some(1));
    // local (the default, empty body): only the caller.
    let d = sign_in(&s, &email, PASSWORD, "d").await.expect("d");
    let r = signout_with(&s, &d, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(common::header(r.headers(), "front-token"), Some("remove"));
    assert_eq!(s.refresh(&d).await.status(), 401);
    assert_eq!(list(&s, &a).await.0, 200);
    // global: all of them, the caller's tokens cleared (cookie mode shown).
    let cookie = {
        let r = s
            .http
            .post(s.at("/auth/signin"))
            .header("st-auth-mode", "cookie")
            .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}))
            .send()
            .await
            .expect("signin");
        Tokens::from_response(r.headers()).expect("cookie tokens")
    };
    let r = signout_with(&s, &cookie, Some(json!({"scope": "global"}))).await;
    assert_eq!(r.status(), 200);
    assert_cookies_cleared(r.headers());
    assert_eq!(s.refresh(&a).await.status(), 401);
    assert!(
        s.engine
            .session_handles_for_user(&user_of(&a))
            .await
            .expect("handles")
            .is_empty()
    );
}

fn st_ev(t: &Tokens) -> Value {
    common::jwt_payload(&t.access)["st-ev"].clone()
}

async fn ev_call(
    s: &TestServer,
    t: &Tokens,
    get: bool,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let req = if get {
        s.http.get(s.at(path))
    } else {
        s.http.post(s.at(path)).json(&body)
    };
    t.apply(req.header("rid", "emailverification"))
        .send()
        .await
        .expect("request")
}

/// `POST /auth/user/email/verify` with `body`.
async fn verify_email_with(s: &TestServer, t: &Tokens, body: Value) -> reqwest::Response {
    ev_call(s, t, false, "/auth/user/email/verify", body).await
}

async fn verification_server(b: Backend, sink: &SmtpSink, mode: EmailVerification) -> TestServer {
    let mail = with_mail(sink);
    TestServer::start(b, |c| {
        mail(c);
        c.accounts.email_verification = mode;
    })
    .await
}

async fn email_verification_required(b: Backend) {
    let sink = SmtpSink::start();
    let s = verification_server(b, &sink, EmailVerification::Required).await;
    let email = new_email();
    let mut one = sign_up(&s, &email, "one").await;
    let mut two = sign_in(&s, &email, PASSWORD, "two").await.expect("two");
    assert_eq!(st_ev(&one)["v"], false);
    assert!(st_ev(&one)["t"].as_i64().is_some());

    // Protected routes answer the protocol's 403 until verified; tokens stay.
    let r = s.session_info(&one).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("front-token").is_none());
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"message": "invalid claim", "claimValidationErrors": [{"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}]})
    );
    assert_eq!(list(&s, &one).await.0, 403);

    let r = ev_call(&s, &one, true, "/auth/user/email/verify", json!({})).await;
    one.update(r.headers());
    assert_eq!(
        json_of(r).await,
        (200, json!({"status": "OK", "isVerified": false}))
    );
    let r = ev_call(&s, &one, false, "/auth/user/email/verify/token", json!({})).await;
    one.update(r.headers());
    assert_eq!(json_of(r).await, (200, json!({"status": "OK"})));
    let mails = sink.wait_for(&email, 1).await;
    assert_eq!(mails[0].subject, "Email verification instructions");
    assert!(mails[0].text.contains("/auth/verify-email?token="));
    let token = mails[0].token("verify-email");

    // Bad input and unknown tokens.
    let r = verify_email_with(&s, &one, json!({"method": "token"})).await;
    assert_eq!(
        json_of(r).await,
        (
            400,
            json!({"message": "Please provide the email verification token"})
        )
    );
    let r = verify_email_with(&s, &one, json!({"method": "token", "token": "nope"})).await;
    assert_eq!(
        json_of(r).await,
        (
            200,
            json!({"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"})
        )
    );

    // Verifying with session one gives it a new token at once.
    let r = verify_email_with(&s, &one, json!({"method": "token", "token": token})).await;
    let front = front_token(r.headers()).expect("new front-token");
    one.update(r.headers());
    assert_eq!(json_of(r).await, (200, json!({"status": "OK"})));
    assert_eq!(front["up"]["st-ev"]["v"], true);
    assert_eq!(st_ev(&one)["v"], true);
    assert_eq!(s.session_info(&one).await.status(), 200);
    // Single use.
    let r = verify_email_with(&s, &one, json!({"method": "token", "token": token})).await;
    assert_eq!(
        json_of(r).await.1,
        json!({"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"})
    );

    // Session two: still false in its token, cleared by a refresh.
    assert_eq!(st_ev(&two)["v"], false);
    let r = s.refresh(&two).await;
    assert_eq!(r.status(), 200);
    two.update(r.headers());
    assert_eq!(st_ev(&two)["v"], true);
    assert_eq!(s.session_info(&two).await.status(), 200);

    // Already verified.
    let r = ev_call(&s, &one, false, "/auth/user/email/verify/token", json!({})).await;
    assert_eq!(
        json_of(r).await.1,
        json!({"status": "EMAIL_ALREADY_VERIFIED_ERROR"})
    );
    // New sessions start verified.
    let three = sign_in(&s, &email, PASSWORD, "three").await.expect("three");
    assert_eq!(st_ev(&three)["v"], true);

    // An unverified user can still sign out, and the verification routes need a session.
    let other = sign_up(&s, &new_email(), "x").await;
    assert_eq!(signout_with(&s, &other, None).await.status(), 200);
    let r = s
        .http
        .get(s.at("/auth/user/email/verify"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
}

async fn email_verification_optional_and_off(b: Backend) {
    let sink = SmtpSink::start();
    let s = verification_server(b, &sink, EmailVerification::Optional).await;
    let email = new_email();
    let one = sign_up(&s, &email, "one").await;
    assert_eq!(st_ev(&one)["v"], false);
    assert_eq!(
        s.session_info(&one).await.status(),
        200,
        "optional: nothing required"
    );
    // A password reset proves the email too.
    ask_reset(&s, &email).await;
    let token = sink.wait_for(&email, 1).await[0].token("reset-password");
    assert_eq!(
        reset(&s, &token, "new-pass-42").await.1,
        json!({"status": "OK"})
    );
    let again = sign_in(&s, &email, "new-pass-42", "t")
        .await
        .expect("signin");
    assert_eq!(st_ev(&again)["v"], true);

    let off = TestServer::start(b, with_mail(&sink)).await;
    let t = sign_up(&off, &new_email(), "t").await;
    assert!(common::jwt_payload(&t.access).get("st-ev").is_none());
    let r = ev_call(&off, &t, true, "/auth/user/email/verify", json!({})).await;
    assert_eq!(r.status(), 404);
}

/// The Fauna emulator on a loopback port, with a server key.
struct Fauna {
    endpoint: String,
    key: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fauna {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fauna {
    async fn start() -> Fauna {
        use fauna_emulator::{Config, Emulator};
        let router = Emulator::router(Config {
            collections: vec!["User".into()],
            token_role: "User:read".parse().expect("role"),
            ..Config::default()
        })
        .expect("emulator");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let mut f = Fauna {
            endpoint,
            key: "secret".into(),
            http: reqwest::Client::new(),
            task,
        };
        let key = f
            .query("secret", "Key.create({ role: 'server' }).secret")
            .await;
        f.key = key.1["data"].as_str().expect("key").to_owned();
        f
    }

    async fn query(&self, secret: &str, q: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/query/1", self.endpoint))
            .bearer_auth(secret)
            .json(&json!({"query": q, "arguments": {}}))
            .send()
            .await
            .expect("fauna query");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Whether a user token still works.
    async fn token_works(&self, token: &str) -> bool {
        self.query(token, "Query.identity()!.id").await.0 == 200
    }

    fn config(&self) -> fauna_session_server::fauna::FaunaConfig {
        fauna_session_server::fauna::FaunaConfig {
            endpoint: self.endpoint.clone(),
            access_faunadb_token_from_frontend: true,
            ..fauna_session_server::fauna::FaunaConfig::new(self.key.clone())
        }
    }
}

fn faunadb_token(t: &Tokens) -> String {
    common::jwt_payload(&t.access)["faunadbToken"]
        .as_str()
        .expect("faunadbToken")
        .to_owned()
}

/// A server whose sessions mint Fauna tokens, with users in Fauna (`fauna_users`) or in SQL.
async fn fauna_server(b: Backend, fauna: &Fauna, sink: &SmtpSink, fauna_users: bool) -> TestServer {
    use fauna_session_server::fauna::{FaunaHooks, FaunaUserStore, WithFaunaUserDocuments};
    let config = fauna_session_server::fauna::FaunaConfig {
        create_missing_user_documents: !fauna_users,
        ..fauna.config()
    };
    let mail = with_mail(sink);
    let hooks = Arc::new(FaunaHooks::new(config.clone()));
    TestServer::start_with_users(
        b,
        move |c| {
            mail(c);
            c.hooks = hooks;
        },
        move |store, _| {
            if fauna_users {
                Arc::new(FaunaUserStore::new(&config))
            } else {
                Arc::new(WithFaunaUserDocuments::new(
                    Arc::new(fauna_session_server::users::SqlUserStore::new(store)),
                    &config,
                ))
            }
        },
    )
    .await
}

/// Reset by email: the Credential (Fauna users) or SQL hash changes, sessions end, Fauna tokens die.
async fn reset_ends_fauna_tokens(b: Backend, fauna_users: bool) {
    let fauna = Fauna::start().await;
    let sink = SmtpSink::start();
    let s = fauna_server(b, &fauna, &sink, fauna_users).await;
    let email = new_email();
    let one = sign_up(&s, &email, "one").await;
    let two = sign_in(&s, &email, PASSWORD, "two").await.expect("two");
    let (t1, t2) = (faunadb_token(&one), faunadb_token(&two));
    assert!(fauna.token_works(&t1).await && fauna.token_works(&t2).await);
    ask_reset(&s, &email).await;
    let token = sink.wait_for(&email, 1).await[0].token("reset-password");
    assert_eq!(
        reset(&s, &token, "new-pass-42").await.1,
        json!({"status": "OK"})
    );
    assert!(
        !fauna.token_works(&t1).await,
        "Fauna token of session one deleted"
    );
    assert!(
        !fauna.token_works(&t2).await,
        "Fauna token of session two deleted"
    );
    assert_eq!(s.refresh(&one).await.status(), 401);
    assert!(sign_in(&s, &email, PASSWORD, "t").await.is_none());
    let fresh = sign_in(&s, &email, "new-pass-42", "t")
        .await
        .expect("new password");
    assert!(fauna.token_works(&faunadb_token(&fresh)).await);
}

async fn fauna_users_password_reset(b: Backend) {
    reset_ends_fauna_tokens(b, true).await;
}

async fn sql_users_with_fauna_password_reset_and_device_end(b: Backend) {
    reset_ends_fauna_tokens(b, false).await;
    // Ending a device's session deletes its Fauna token at once.
    let fauna = Fauna::start().await;
    let sink = SmtpSink::start();
    let s = fauna_server(b, &fauna, &sink, false).await;
    let email = new_email();
    let laptop = sign_up(&s, &email, "laptop").await;
    let phone = sign_in(&s, &email, PASSWORD, "phone").await.expect("phone");
    let (_, body) = list(&s, &laptop).await;
    let phone_handle = body["sessions"][1]["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    let r = end_session(&s, &laptop, &phone_handle).await;
    assert_eq!(r.status(), 200);
    assert!(!fauna.token_works(&faunadb_token(&phone)).await);
    assert!(fauna.token_works(&faunadb_token(&laptop)).await);
}

/// The server binary's email flags end to end: a process on a free port, the SMTP sink, required verification.
async fn binary_flags_send_real_email(b: Backend) {
    let sink = SmtpSink::start();
    let (database_url, _dir) = common::fresh_database(b).await;
    let mut command = std::process::Command::new(common::process::BIN);
    command.args([
        "--database-url",
        &database_url,
        "--smtp-url",
        &sink.url(),
        "--email-from",
        "Binary Demo <accounts@example.com>",
        "--website-domain",
        "http://app.example",
        "--app-name",
        "Binary Demo",
        "--email-verification",
        "required",
    ]);
    let server = common::process::Binary::start(command);
    let base = server.url();
    let http = reqwest::Client::new();
    let email = new_email();
    let r = http
        .post(format!("{base}/auth/signup"))
        .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}))
        .send()
        .await
        .expect("signup");
    let mut t = Tokens::from_response(r.headers()).expect("tokens");
    let r = t
        .apply(http.get(format!("{base}/sessioninfo")))
        .send()
        .await
        .expect("info");
    assert_eq!(r.status(), 403, "required verification");
    let r = t
        .apply(
            http.post(format!("{base}/auth/user/email/verify/token"))
                .header("rid", "emailverification"),
        )
        .send()
        .await
        .expect("verify token");
    t.update(r.headers());
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"status": "OK"})
    );
    let mail = sink.wait_for(&email, 1).await.remove(0);
    assert_eq!(mail.from, "accounts@example.com");
    assert!(mail.text.contains("Binary Demo"));
    assert!(
        mail.text
            .contains("http://app.example/auth/verify-email?token="),
        "{}",
        mail.text
    );
    let r = t
        .apply(
            http.post(format!("{base}/auth/user/email/verify"))
                .header("rid", "emailverification"),
        )
        .json(&json!({"method": "token", "token": mail.token("verify-email")}))
        .send()
        .await
        .expect("verify");
    t.update(r.headers());
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"status": "OK"})
    );
    let r = t
        .apply(http.get(format!("{base}/sessioninfo")))
        .send()
        .await
        .expect("info");
    assert_eq!(r.status(), 200);
    // The device list carries the loopback peer address (the binary serves with connect info).
    let r = t
        .apply(http.get(format!("{base}/auth/sessions")))
        .send()
        .await
        .expect("sessions");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["sessions"][0]["ip"], "127.0.0.1");
}
