//! The Rust FQL v10 client (`session.fauna().query`) in the browser, against the real `fauna-session-server`
//! (2-second access tokens, a Fauna token minted per session and refresh) and the Fauna emulator, both started by
//! `scripts/test.sh`, which passes the emulator's URL at compile time as `FAUNA_SESSION_TEST_FAUNA`.
#![cfg(all(target_arch = "wasm32", feature = "js", feature = "serde"))]

mod common;

use common::*;
use fauna_session::fauna::FaunaConfig;
use fauna_session::fauna::wire::FaunaError;
use fauna_session::{Error, Session, config::Config};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const FAUNA: Option<&str> = option_env!("FAUNA_SESSION_TEST_FAUNA");

/// The page's session with Fauna managed, `min_validity` seconds of token validity required.
fn session(min_validity: f64) -> Session {
    let endpoint =
        FAUNA.expect("FAUNA_SESSION_TEST_FAUNA: the emulator's URL (scripts/test.sh sets it)");
    let mut fauna = FaunaConfig::new(endpoint);
    fauna.min_validity_seconds = min_validity;
    let mut config = Config::new(SERVER);
    config.fauna = Some(fauna);
    Session::init(config).unwrap()
}

/// Signs up a new user through `Session::fetch` (which stores the session's front token).
async fn sign_up_through(session: &Session) {
    let body = format!(
        r#"{{"formFields":[{{"id":"email","value":"{}"}},{{"id":"password","value":"correct horse 9"}}]}}"#,
        random_email()
    );
    let request = gloo_net::http::Request::post(&url("/auth/signup"))
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let r = session.fetch(request).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(session.does_session_exist().await.unwrap());
}

async fn two(session: &Session) -> Result<i64, FaunaError> {
    session.fauna().query::<i64>("1 + 1", Value::Null).await
}

#[wasm_bindgen_test]
async fn queries_before_and_after_the_access_token_expires() {
    let session = session(0.5);
    sign_up_through(&session).await;
    let r0 = refreshes().await;
    assert_eq!(two(&session).await, Ok(2));
    let notes: Value = session
        .fauna()
        .query(
            "Note.create({ text: t }).text",
            serde_json::json!({ "t": "hello" }),
        )
        .await
        .unwrap();
    assert_eq!(notes, "hello");
    assert_eq!(refreshes().await - r0, 0.0, "a fresh token: no refresh");
    sleep(PAST_EXPIRY_MS).await;
    assert_eq!(two(&session).await, Ok(2));
    assert_eq!(
        refreshes().await - r0,
        1.0,
        "refreshed once, before the query"
    );
    // Query errors come back as the enum, without touching the session.
    match session
        .fauna()
        .query::<Value>("abort('no')", Value::Null)
        .await
    {
        Err(FaunaError::Abort { value, .. }) => assert_eq!(value, "no"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        session.fauna().query::<Value>("{ x ", Value::Null).await,
        Err(FaunaError::InvalidQuery(_))
    ));
    assert!(matches!(
        session.fauna().query::<String>("1 + 1", Value::Null).await,
        Err(FaunaError::Decode(_))
    ));
    assert_eq!(refreshes().await - r0, 1.0);
    session.sign_out().await.unwrap();
}

#[wasm_bindgen(inline_js = r#"
export function all(promises) { return Promise.all(promises); }
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn all(promises: js_sys::Array) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen_test]
async fn twenty_concurrent_queries_with_an_expired_token_refresh_once() {
    let session = session(0.5);
    sign_up_through(&session).await;
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    let started = js_sys::Date::now();
    let promises = js_sys::Array::new();
    for _ in 0..20 {
        promises.push(&wasm_bindgen_futures::future_to_promise(async move {
            let n = two(&session)
                .await
                .map_err(|e| JsValue::from_str(&e.to_string()))?;
            Ok(JsValue::from_f64(n as f64))
        }));
    }
    let results: Vec<f64> = all(promises)
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(results, vec![2.0; 20]);
    // One refresh for all 20. A slow engine may take longer than a fresh token's usable life (2 s minus the 0.5 s
    // minimum validity) to run them; each such span may then need one more, never one per query.
    let usable_ms = 1_500.0;
    let allowed = 1.0 + ((js_sys::Date::now() - started) / usable_ms).floor();
    let refreshed = refreshes().await - r0;
    assert!(
        (1.0..=allowed).contains(&refreshed),
        "20 queries: {refreshed} refreshes, at most {allowed} for the time they took"
    );
    session.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_token_below_the_minimum_validity_is_refreshed_first() {
    // 1 s of the 2 s lifetime required: after 1.2 s the token is too short-lived for a query (and a fresh one
    // is long-lived enough as long as the refresh takes less than 1 s).
    let session = session(1.0);
    sign_up_through(&session).await;
    sleep(1_200).await;
    let r0 = refreshes().await;
    assert_eq!(two(&session).await, Ok(2));
    assert_eq!(refreshes().await - r0, 1.0);
    session.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_fauna_401_refreshes_the_session_once_and_retries() {
    let session = session(0.5);
    sign_up_through(&session).await;
    // The Fauna token dies while the access token lives on (as when Fauna revokes it).
    let deleted: Value = session
        .fauna()
        .query("Query.token()!.delete()", Value::Null)
        .await
        .unwrap();
    assert_eq!(deleted, Value::Null);
    let r0 = refreshes().await;
    assert_eq!(
        two(&session).await,
        Ok(2),
        "401, refresh, retried with the new token"
    );
    assert_eq!(refreshes().await - r0, 1.0);
    session.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn after_sign_out_a_query_fails_without_refreshing() {
    let session = session(0.5);
    sign_up_through(&session).await;
    assert_eq!(two(&session).await, Ok(2));
    session.sign_out().await.unwrap();
    let r0 = refreshes().await;
    assert_eq!(
        two(&session).await,
        Err(FaunaError::Session(Error::NoSession))
    );
    assert_eq!(refreshes().await - r0, 0.0, "no refresh loop");
}

#[wasm_bindgen_test]
async fn without_a_fauna_endpoint_the_client_says_so() {
    let session = Session::init(Config::new(SERVER)).unwrap();
    assert_eq!(two(&session).await, Err(FaunaError::NotConfigured));
}

#[wasm_bindgen(inline_js = r#"
export async function faunaStatuses(url, n) {
  const one = () => fetch(url, {
    method: "POST",
    headers: { authorization: "Bearer placeholder", "content-type": "application/json" },
    body: JSON.stringify({ query: "1 + 1" }),
  }).then(r => r.status);
  return Promise.all(Array.from({ length: n }, one));
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = faunaStatuses, catch)]
    async fn fauna_statuses(url: &str, n: u32) -> Result<JsValue, JsValue>;
}

async fn statuses(n: u32) -> Vec<u32> {
    let url = format!("{}/query/1", FAUNA.unwrap_or_default());
    fauna_statuses(&url, n)
        .await
        .unwrap()
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|v| v.as_f64().unwrap() as u32)
        .collect()
}

#[wasm_bindgen_test]
async fn the_patched_fetch_manages_requests_to_the_fauna_endpoint() {
    use wasm_bindgen::JsCast;
    let c = config(SERVER);
    let fauna = object();
    set(&fauna, "endpoint", FAUNA.expect("FAUNA_SESSION_TEST_FAUNA"));
    set(&fauna, "minValiditySeconds", 0.5);
    set(&c, "fauna", fauna);
    fauna_session::js::init(c.unchecked_into()).unwrap();
    let body = sign_up(SERVER, &random_email()).await.unwrap();
    assert_eq!(get(&body, "status").as_string().as_deref(), Some("OK"));
    // The app's placeholder secret is replaced by the session's token.
    assert_eq!(statuses(1).await, vec![200]);
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    assert_eq!(statuses(5).await, vec![200; 5]);
    assert_eq!(refreshes().await - r0, 1.0, "5 requests, one refresh");
    api::sign_out().await.unwrap();
    let r0 = refreshes().await;
    assert_eq!(
        statuses(1).await,
        vec![401],
        "signed out: the placeholder goes as it is"
    );
    assert_eq!(refreshes().await - r0, 0.0);
}
