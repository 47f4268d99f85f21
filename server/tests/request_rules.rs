//! Input the server refuses or normalises, over real HTTP on SQLite and PostgreSQL: emails bounded, mailable
//! and Unicode-normalised; state-changing requests only from an allowed `Origin` and only with JSON bodies; a
//! password-reset request that answers alike for known and unknown emails even when the store fails.

mod common;

use common::smtp::SmtpSink;
use common::{Backend, TestServer, Tokens};
use fauna_session_server::email::{EmailConfig, Mailer};
use serde_json::{Value, json};

both_backends!(
    emails_are_bounded_mailable_and_normalised,
    state_changing_requests_need_an_allowed_origin_and_json,
    a_reset_answers_alike_for_known_and_unknown_even_when_the_store_fails,
);

/// `POST {path}` with an email/password form; the status and JSON body.
async fn credentials(s: &TestServer, path: &str, email: &str, password: &str) -> (u16, Value) {
    let r = s.credentials(path, email, password).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn invalid_email() -> Value {
    json!({"status": "FIELD_ERROR", "formFields": [{"id": "email", "error": "Email is invalid"}]})
}

/// Over 254 bytes, control characters, address metacharacters: refused (before, a 60 KB address was stored).
/// A composed and a decomposed `é` are one account; an internationalised domain is stored in its IDNA form.
async fn emails_are_bounded_mailable_and_normalised(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let huge = format!("{}@example.com", "a".repeat(60_000));
    let long = format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        "b".repeat(62),
        "c".repeat(61),
        "d".repeat(61)
    );
    assert_eq!(long.len(), 255);
    for bad in [
        huge.as_str(),
        long.as_str(),
        "a\u{7}b@example.com",
        "a\u{0}@example.com",
        "\"a b\"@example.com",
        "a<b>@example.com",
        "a,b@example.com",
        "a..b@example.com",
    ] {
        assert_eq!(
            credentials(&s, "/auth/signup", bad, "secret123").await,
            (200, invalid_email()),
            "{:?}",
            bad.get(..40)
        );
    }
    let longest = &long[1..];
    assert_eq!(longest.len(), 254);
    let (status, body) = credentials(&s, "/auth/signup", longest, "secret123").await;
    assert_eq!((status, &body["status"]), (200, &json!("OK")), "{body}");

    // NFC: the decomposed form signs up, the composed one is the same account.
    let decomposed = "jose\u{301}@example.com";
    let composed = "jos\u{e9}@example.com";
    let (_, body) = credentials(&s, "/auth/signup", decomposed, "secret123").await;
    assert_eq!(body["status"], "OK", "{body}");
    assert_eq!(body["user"]["emails"][0], composed);
    let (_, body) = credentials(&s, "/auth/signup", composed, "secret123").await;
    assert_eq!(body["status"], "FIELD_ERROR", "{body}");
    let (_, body) = credentials(&s, "/auth/signin", composed, "secret123").await;
    assert_eq!(body["status"], "OK", "{body}");

    // IDNA: the Unicode and the ASCII domain are one account, kept in ASCII.
    let (_, body) = credentials(&s, "/auth/signup", "User@Bücher.de", "secret123").await;
    assert_eq!(body["status"], "OK", "{body}");
    assert_eq!(body["user"]["emails"][0], "user@xn--bcher-kva.de");
    let (_, body) = credentials(&s, "/auth/signin", "user@xn--bcher-kva.de", "secret123").await;
    assert_eq!(body["status"], "OK", "{body}");
    // A domain IDNA refuses is not an email.
    assert_eq!(
        credentials(&s, "/auth/signup", "a@b\u{200b}ad-.de", "secret123").await,
        (200, invalid_email())
    );
}

/// With anti-CSRF off (a same-site app), a page on another port of the same host could POST a `text/plain`
/// sign-out with the user's cookies and no preflight. Now: a foreign `Origin` answers 403 and changes
/// nothing, a non-JSON body answers 415; the configured website, the API's own origin and a same-host page
/// pass; reads are not affected.
async fn state_changing_requests_need_an_allowed_origin_and_json(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.website_origins = vec!["http://site.example:8000".into()];
        c.anti_csrf = Some(fauna_session_server::AntiCsrf::None);
    })
    .await;
    let r = s.signup("cookie").await;
    assert_eq!(r.status(), 200);
    let t = Tokens::from_response(r.headers()).expect("tokens");
    let info = || async {
        t.apply(s.http.get(s.at("/sessioninfo")))
            .send()
            .await
            .unwrap()
            .status()
    };
    let sign_out = |origin: Option<&str>, content_type: &str, body: &str| {
        let mut rb = t
            .apply(s.http.post(s.at("/auth/signout")))
            .header("content-type", content_type)
            .body(body.to_owned());
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        rb.send()
    };

    let r = sign_out(Some("http://127.0.0.1:9999"), "text/plain", "{}")
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none(), "no cookie cleared");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "origin not allowed"})
    );
    for origin in ["null", "https://evil.example"] {
        let r = sign_out(Some(origin), "application/json", "{}")
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin}");
    }
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = sign_out(None, content_type, "{}").await.unwrap();
        assert_eq!(r.status(), 415, "{content_type}");
    }
    assert_eq!(info().await, 200, "the session is untouched");

    // The configured website and a same-host page may; reads from anywhere are unaffected.
    let r = s
        .http
        .get(s.at("/auth/emailpassword/email/exists?email=a@example.com"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let same_host = s.url.clone();
    let r = credentials_from(&s, &same_host).await;
    assert_eq!(r, 200);
    let r = sign_out(Some("http://site.example:8000"), "application/json", "{}")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(info().await, 401, "signed out");
}

/// A sign-in form from a page at `origin`; its status.
async fn credentials_from(s: &TestServer, origin: &str) -> u16 {
    s.http
        .post(s.at("/auth/signin"))
        .header("origin", origin)
        .header("rid", "emailpassword")
        .json(&json!({"formFields": [
            {"id": "email", "value": "nobody@example.com"},
            {"id": "password", "value": "secret123"},
        ]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The reset request is answered before its email is looked up: with the token table gone, a known email
/// answers `OK` like an unknown one (before, a known email's failing insert answered 500: an oracle).
async fn a_reset_answers_alike_for_known_and_unknown_even_when_the_store_fails(b: Backend) {
    let sink = SmtpSink::start();
    let smtp_url = sink.url();
    let s = TestServer::start(b, move |c| {
        c.accounts.mailer = Some(
            Mailer::new(&EmailConfig {
                smtp_url,
                website_domain: "http://127.0.0.1:8000".into(),
                ..EmailConfig::default()
            })
            .expect("mailer"),
        );
    })
    .await;
    let known = format!(
        "k{}@example.com",
        fauna_session_server::users::new_user_id()
    );
    assert_eq!(
        credentials(&s, "/auth/signup", &known, "secret123").await.1["status"],
        "OK"
    );
    let ask = |email: String| {
        let http = s.http.clone();
        let url = s.at("/auth/user/password/reset/token");
        async move {
            let r = http
                .post(url)
                .header("rid", "emailpassword")
                .json(&json!({"formFields": [{"id": "email", "value": email}]}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Working store: both OK, the known one gets its email.
    assert_eq!(ask(known.clone()).await, (200, json!({"status": "OK"})));
    assert_eq!(
        ask("unknown-1@example.com".into()).await,
        (200, json!({"status": "OK"}))
    );
    sink.wait_for(&known, 1).await;

    on_database!(&s.database_url, |p| {
        sqlx::query("DROP TABLE account_tokens")
            .execute(&p)
            .await
            .expect("drop");
    });
    let known_again = ask(known.clone()).await;
    let unknown = ask("unknown-2@example.com".into()).await;
    assert_eq!(known_again, (200, json!({"status": "OK"})));
    assert_eq!(known_again, unknown);
}
