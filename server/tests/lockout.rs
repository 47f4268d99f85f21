//! Per-account back-off over real HTTP against the binary, on SQLite and PostgreSQL, and on two instances
//! sharing one PostgreSQL database: failed sign-ins counted in the database, 429 + Retry-After past the
//! threshold even with the right password, other accounts unaffected, a success resets the count.

mod common;

use common::Backend;
use common::process::{ServerProcess, email, retry_later};
use serde_json::{Value, json};

const ARGS: &[&str] = &[
    "--lockout-threshold",
    "3",
    "--lockout-window",
    "60",
    "--rate-limit-signin",
    "0",
];

/// A sign-in's outcome: `"OK"`, `"WRONG_CREDENTIALS_ERROR"`, or `"429 after N s"`.
async fn sign_in(s: &ServerProcess, email: &str, password: &str) -> String {
    let (status, retry_after, body) = retry_later(s.sign_in(email, password).await).await;
    match status {
        200 => body["status"].as_str().unwrap().to_owned(),
        429 => {
            assert_eq!(body, json!({"message": "too many requests"}));
            let secs = retry_after.expect("Retry-After");
            assert!((1..=60).contains(&secs), "{secs}");
            "429".to_owned()
        }
        other => panic!("unexpected {other}: {body}"),
    }
}

async fn backs_off_after_failures_even_with_the_right_password(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let s = ServerProcess::start(&url, ARGS);
    let (victim, bystander) = (email(), email());
    assert_eq!(s.sign_up(&victim).await.status(), 200);
    assert_eq!(s.sign_up(&bystander).await.status(), 200);
    for _ in 0..2 {
        assert_eq!(
            sign_in(&s, &victim, "guess1234").await,
            "WRONG_CREDENTIALS_ERROR"
        );
    }
    assert_eq!(sign_in(&s, &victim, "guess1234").await, "429");
    assert_eq!(sign_in(&s, &victim, "secret123").await, "429");
    assert_eq!(sign_in(&s, &bystander, "secret123").await, "OK");
    // Unknown emails back off the same way (a lockout says nothing about whether an account exists).
    let nobody = email();
    for _ in 0..2 {
        assert_eq!(
            sign_in(&s, &nobody, "guess1234").await,
            "WRONG_CREDENTIALS_ERROR"
        );
    }
    assert_eq!(sign_in(&s, &nobody, "guess1234").await, "429");
}

#[tokio::test]
async fn backs_off_after_failures_even_with_the_right_password_sqlite() {
    backs_off_after_failures_even_with_the_right_password(Backend::Sqlite).await;
}

#[tokio::test]
async fn backs_off_after_failures_even_with_the_right_password_postgres() {
    backs_off_after_failures_even_with_the_right_password(Backend::Postgres).await;
}

async fn a_success_resets_the_count(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let s = ServerProcess::start(&url, ARGS);
    let user = email();
    assert_eq!(s.sign_up(&user).await.status(), 200);
    for _ in 0..3 {
        for _ in 0..2 {
            assert_eq!(
                sign_in(&s, &user, "guess1234").await,
                "WRONG_CREDENTIALS_ERROR"
            );
        }
        assert_eq!(sign_in(&s, &user, "secret123").await, "OK");
    }
}

#[tokio::test]
async fn a_success_resets_the_count_sqlite() {
    a_success_resets_the_count(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_success_resets_the_count_postgres() {
    a_success_resets_the_count(Backend::Postgres).await;
}

#[tokio::test]
async fn two_instances_sharing_postgres_share_the_count() {
    let (url, _dir) = common::fresh_database(Backend::Postgres).await;
    let a = ServerProcess::start(&url, ARGS);
    let b = ServerProcess::start(&url, ARGS);
    let (victim, bystander) = (email(), email());
    assert_eq!(a.sign_up(&victim).await.status(), 200);
    assert_eq!(b.sign_up(&bystander).await.status(), 200);
    assert_eq!(
        sign_in(&a, &victim, "guess1234").await,
        "WRONG_CREDENTIALS_ERROR"
    );
    assert_eq!(
        sign_in(&b, &victim, "guess1234").await,
        "WRONG_CREDENTIALS_ERROR"
    );
    // The third failure, on either instance, starts the back-off on both.
    assert_eq!(sign_in(&a, &victim, "guess1234").await, "429");
    assert_eq!(sign_in(&b, &victim, "secret123").await, "429");
    assert_eq!(sign_in(&a, &victim, "secret123").await, "429");
    assert_eq!(sign_in(&b, &bystander, "secret123").await, "OK");
    assert_eq!(sign_in(&a, &bystander, "secret123").await, "OK");
}

#[tokio::test]
async fn the_back_off_ends_and_the_right_password_works_again() {
    let (url, _dir) = common::fresh_database(Backend::Sqlite).await;
    let s = ServerProcess::start(
        &url,
        &[
            "--lockout-threshold",
            "2",
            "--lockout-window",
            "1",
            "--rate-limit-signin",
            "0",
        ],
    );
    let user = email();
    assert_eq!(s.sign_up(&user).await.status(), 200);
    assert_eq!(
        sign_in(&s, &user, "guess1234").await,
        "WRONG_CREDENTIALS_ERROR"
    );
    let (status, retry_after, _) = retry_later(s.sign_in(&user, "guess1234").await).await;
    assert_eq!((status, retry_after), (429, Some(1)));
    // Wait out the one-second window (bounded: at most 10 s of polling).
    let mut outcome = String::new();
    for _ in 0..100 {
        outcome = sign_in(&s, &user, "secret123").await;
        if outcome != "429" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(outcome, "OK");
    let body: Value = s.sign_in(&user, "secret123").await.json().await.unwrap();
    assert_eq!(body["status"], "OK");
}

/// A client of `s` from the loopback address `from`, keeping cookies (as a browser does) when `jar`.
fn client_from(from: &str, jar: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .cookie_store(jar)
        .build()
        .unwrap()
}

/// A sign-in's outcome through `http` (see [`sign_in`]), with `cookie` sent when given.
async fn sign_in_with(
    s: &ServerProcess,
    http: &reqwest::Client,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> String {
    let mut req = http
        .post(format!("{}/auth/signin", s.url))
        .header("rid", "emailpassword")
        .header("st-auth-mode", "cookie")
        .json(&json!({"formFields": [
            {"id": "email", "value": email},
            {"id": "password", "value": password},
        ]}));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let (status, _, body) = retry_later(req.send().await.unwrap()).await;
    match status {
        200 => body["status"].as_str().unwrap().to_owned(),
        429 => "429".to_owned(),
        other => panic!("unexpected {other}: {body}"),
    }
}

/// Strangers' failures lock strangers out, never the user's own device: failures count per client address
/// (3 lock that address) and per account for addresses without a device cookie (5 lock them all), while the
/// browser that signed up (its `sDevice-…` cookie) signs in throughout and is locked only by its own failures.
/// Before, any 3 failures from anywhere locked the account for everyone.
async fn strangers_cannot_lock_out_a_known_device(backend: Backend) {
    let (url, _dir) = common::fresh_database(backend).await;
    let s = ServerProcess::start(
        &url,
        &[
            "--lockout-threshold",
            "3",
            "--lockout-account-threshold",
            "5",
            "--lockout-window",
            "60",
            "--rate-limit-signin",
            "0",
        ],
    );
    let victim = email();
    let device = client_from("127.0.0.1", true);
    let r = device
        .post(format!("{}/auth/signup", s.url))
        .header("rid", "emailpassword")
        .header("st-auth-mode", "cookie")
        .json(&json!({"formFields": [
            {"id": "email", "value": victim},
            {"id": "password", "value": "secret123"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set_cookie: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("sDevice-"))
        .collect();
    assert_eq!(set_cookie.len(), 1, "one device cookie: {set_cookie:?}");
    let attrs = set_cookie[0];
    for attr in ["HttpOnly", "Path=/auth", "Max-Age=34560000"] {
        assert!(attrs.contains(attr), "{attr} in {attrs}");
    }
    let name = attrs.split('=').next().unwrap().to_owned();

    // A stranger's 3 guesses lock out the stranger's address, right password or not.
    let a = client_from("127.0.0.2", false);
    for _ in 0..2 {
        assert_eq!(
            sign_in_with(&s, &a, &victim, "guess1234", None).await,
            "WRONG_CREDENTIALS_ERROR"
        );
    }
    assert_eq!(
        sign_in_with(&s, &a, &victim, "guess1234", None).await,
        "429"
    );
    assert_eq!(
        sign_in_with(&s, &a, &victim, "secret123", None).await,
        "429"
    );
    // Another stranger's 2 more make 5 for the account: every address without a device cookie is out…
    let c = client_from("127.0.0.4", false);
    assert_eq!(
        sign_in_with(&s, &c, &victim, "guess1234", None).await,
        "WRONG_CREDENTIALS_ERROR"
    );
    assert_eq!(
        sign_in_with(&s, &c, &victim, "guess1234", None).await,
        "429"
    );
    let b = client_from("127.0.0.3", false);
    assert_eq!(
        sign_in_with(&s, &b, &victim, "secret123", None).await,
        "429"
    );
    // …and a forged device cookie is no way in.
    let forged = format!("{name}=AAAAAAAAAAAAAAAAAAAAAA.AAAA");
    assert_eq!(
        sign_in_with(&s, &b, &victim, "secret123", Some(&forged)).await,
        "429"
    );

    // The device that signed up still signs in, again and again.
    for _ in 0..3 {
        assert_eq!(
            sign_in_with(&s, &device, &victim, "secret123", None).await,
            "OK"
        );
    }
    // Its own failures lock it (and only it).
    for _ in 0..2 {
        assert_eq!(
            sign_in_with(&s, &device, &victim, "wrong1234", None).await,
            "WRONG_CREDENTIALS_ERROR"
        );
    }
    assert_eq!(
        sign_in_with(&s, &device, &victim, "wrong1234", None).await,
        "429"
    );
    assert_eq!(
        sign_in_with(&s, &device, &victim, "secret123", None).await,
        "429"
    );
    // Another account's sign-in from a locked-out address is unaffected.
    let other = email();
    assert_eq!(s.sign_up(&other).await.status(), 200);
    assert_eq!(sign_in_with(&s, &a, &other, "secret123", None).await, "OK");
}

#[tokio::test]
async fn strangers_cannot_lock_out_a_known_device_sqlite() {
    strangers_cannot_lock_out_a_known_device(Backend::Sqlite).await;
}

#[tokio::test]
async fn strangers_cannot_lock_out_a_known_device_postgres() {
    strangers_cannot_lock_out_a_known_device(Backend::Postgres).await;
}
