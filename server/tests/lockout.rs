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
