//! Browser tests against the real `fauna-session-server` (started by `scripts/test.sh` with
//! `--website-origin http://127.0.0.1:8000 --access-token-lifetime 2 --metrics`; the page must be served on
//! `WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:8000`). Refreshes are counted on the server (`/metrics` deltas).
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh_session(mode: &str) -> String {
    let c = config(SERVER);
    set(&c, "tokenTransferMethod", mode);
    js::init(c.unchecked_into()).expect("init");
    clear_events();
    let email = random_email();
    let body = sign_up(SERVER, &email).await.expect("sign up");
    assert_eq!(
        get(&body, "status").as_string().as_deref(),
        Some("OK"),
        "{body:?}"
    );
    assert!(api::does_session_exist().await.unwrap());
    get(&get(&body, "user"), "id")
        .as_string()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn cookie_mode_sign_in_expiry_one_refresh_and_sign_out() {
    let user = fresh_session("cookie").await;
    assert!(
        event_actions().contains(&"SESSION_CREATED".to_string()),
        "{:?}",
        event_actions()
    );
    assert_eq!(api::get_user_id().await.unwrap(), user);
    let names = cookie_names();
    assert!(
        names.iter().any(|n| n == "sFrontToken")
            && names.iter().any(|n| n == "st-last-access-token-update")
    );
    assert!(
        !names.iter().any(|n| n == "st-access-token"),
        "cookie mode keeps no JS-readable tokens: {names:?}"
    );
    assert_eq!(api::get_access_token().await.unwrap(), None);

    assert_eq!(status("/sessioninfo").await, 200);
    let r0 = refreshes().await;
    assert_eq!(status("/sessioninfo").await, 200);
    assert_eq!(
        refreshes().await - r0,
        0.0,
        "no refresh while the token is fresh"
    );

    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    clear_events();
    assert_eq!(status("/sessioninfo").await, 200);
    assert_eq!(
        refreshes().await - r0,
        1.0,
        "exactly one refresh after expiry"
    );
    let actions = event_actions();
    assert_eq!(
        actions[..2],
        ["ACCESS_TOKEN_PAYLOAD_UPDATED", "REFRESH_SESSION"],
        "{actions:?}"
    );
    assert!(
        actions[2..]
            .iter()
            .all(|a| a == "ACCESS_TOKEN_PAYLOAD_UPDATED"),
        "{actions:?}"
    );

    clear_events();
    api::sign_out().await.unwrap();
    assert_eq!(event_actions(), vec!["SIGN_OUT".to_string()]);
    assert!(!api::does_session_exist().await.unwrap());
    assert!(!cookie_names().iter().any(|n| n == "sFrontToken"));
    assert_eq!(status("/sessioninfo").await, 401);
    assert_eq!(
        error_message(&api::get_user_id().await.unwrap_err()),
        "No session exists"
    );
}

#[wasm_bindgen_test]
async fn hundred_concurrent_calls_with_an_expired_token_refresh_once() {
    fresh_session("cookie").await;
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    let started = js_sys::Date::now();
    let statuses: Vec<u32> = parallel_statuses(&url("/sessioninfo"), 100)
        .await
        .unwrap()
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|v| v.as_f64().unwrap() as u32)
        .collect();
    assert_eq!(statuses.len(), 100);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_one_refresh_per_lifetime(r0, started, "100 concurrent 401s").await;
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn jwt_payload_after_expiry_refreshes_first() {
    fresh_session("cookie").await;
    let before = api::get_jwt_payload_securely().await.unwrap();
    let exp0 = get(&before, "exp").as_f64().unwrap();
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    let after = api::get_jwt_payload_securely().await.unwrap();
    assert_eq!(refreshes().await - r0, 1.0, "refreshed before answering");
    let exp1 = get(&after, "exp").as_f64().unwrap();
    assert!(exp1 > exp0, "new payload: {exp0} -> {exp1}");
    assert!(
        exp1 * 1000.0 > js_sys::Date::now(),
        "the returned payload is not expired"
    );
    let again = api::get_access_token_payload_securely().await.unwrap();
    assert_eq!(get(&again, "exp").as_f64().unwrap(), exp1);
    assert_eq!(refreshes().await - r0, 1.0);
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn header_mode_uses_bearer_tokens_and_refreshes_once() {
    fresh_session("header").await;
    let names = cookie_names();
    assert!(
        names.iter().any(|n| n == "st-access-token")
            && names.iter().any(|n| n == "st-refresh-token"),
        "{names:?}"
    );
    let token = api::get_access_token()
        .await
        .unwrap()
        .expect("header mode exposes the access token");
    assert_eq!(token.split('.').count(), 3, "a JWT");
    assert_eq!(status("/sessioninfo").await, 200);
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    assert_eq!(status("/sessioninfo").await, 200);
    assert_eq!(refreshes().await - r0, 1.0);
    let token2 = api::get_access_token().await.unwrap().unwrap();
    assert_ne!(token, token2, "the refresh rotated the access token");
    clear_events();
    api::sign_out().await.unwrap();
    assert_eq!(event_actions(), vec!["SIGN_OUT".to_string()]);
    let names = cookie_names();
    assert!(
        !names
            .iter()
            .any(|n| n == "st-access-token" || n == "st-refresh-token" || n == "sFrontToken"),
        "{names:?}"
    );
    assert_eq!(api::get_access_token().await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn refresh_401_clears_the_session_and_fires_unauthorised() {
    fresh_session("header").await;
    // Lose the refresh token the way a revoked session would: the server answers the refresh with 401.
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .unchecked_into::<web_sys::HtmlDocument>()
        .set_cookie("st-refresh-token=bogus.token;path=/")
        .unwrap();
    sleep(PAST_EXPIRY_MS).await;
    clear_events();
    let r0 = refreshes().await;
    assert_eq!(status("/sessioninfo").await, 401);
    assert_eq!(refreshes().await - r0, 1.0, "one refresh attempt, no loop");
    assert_eq!(event_actions(), vec!["UNAUTHORISED".to_string()]);
    assert!(!api::does_session_exist().await.unwrap());
}

#[wasm_bindgen_test]
async fn rust_api_through_gloo_net() {
    use fauna_session::{Event, Session, config::Config};
    fresh_session("cookie").await;
    let session = Session::init(Config::new(SERVER)).unwrap();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = seen.clone();
    let _sub = session.on_event(move |e: &Event| sink.borrow_mut().push(e.action()));
    // gloo-net calls the global (patched) fetch.
    let r = gloo_net::http::Request::get(&url("/sessioninfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    // Session::fetch runs the algorithm itself.
    let r = session
        .fetch(
            gloo_net::http::Request::get(&url("/sessioninfo"))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(refreshes().await - r0, 1.0);
    let seen_now = seen.borrow().clone();
    // The retried request's response may carry a replacement token (parent hash cleared): one more update.
    assert_eq!(
        seen_now[..2],
        ["ACCESS_TOKEN_PAYLOAD_UPDATED", "REFRESH_SESSION"],
        "{seen_now:?}"
    );
    assert!(
        seen_now[2..]
            .iter()
            .all(|a| *a == "ACCESS_TOKEN_PAYLOAD_UPDATED"),
        "{seen_now:?}"
    );
    assert!(!session.user_id().await.unwrap().is_empty());
    let payload = session.access_token_payload_json().await.unwrap();
    assert!(payload.contains("\"sub\""), "{payload}");
    session.sign_out().await.unwrap();
    assert!(!session.does_session_exist().await.unwrap());
    assert_eq!(
        session.user_id().await.unwrap_err(),
        fauna_session::Error::NoSession
    );
}

async fn xhr_results(n: u32) -> Vec<JsValue> {
    let all = xhr_parallel(&url("/sessioninfo"), n).await.unwrap();
    all.unchecked_into::<js_sys::Array>().iter().collect()
}

async fn xhr_refreshes_once(mode: &str) {
    fresh_session(mode).await;
    for r in xhr_results(1).await {
        assert_eq!(get(&r, "status").as_f64(), Some(200.0));
        assert_eq!(
            get(&r, "isXhr").as_bool(),
            Some(true),
            "instanceof XMLHttpRequest still works"
        );
    }
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    let results = xhr_results(10).await;
    assert_eq!(results.len(), 10);
    for r in &results {
        assert_eq!(
            get(r, "status").as_f64(),
            Some(200.0),
            "{:?}",
            js_sys::JSON::stringify(r)
        );
        assert_eq!(
            get(r, "loads").as_f64(),
            Some(1.0),
            "the app sees one completion"
        );
        let states: Vec<f64> = get(r, "states")
            .unchecked_into::<js_sys::Array>()
            .iter()
            .filter_map(|v| v.as_f64())
            .collect();
        assert_eq!(
            states.iter().filter(|s| **s == 4.0).count(),
            1,
            "{states:?}"
        );
    }
    assert_eq!(
        refreshes().await - r0,
        1.0,
        "ten concurrent expired XHRs, one refresh ({mode} mode)"
    );
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn xhr_cookie_mode_refreshes_once_and_retries() {
    xhr_refreshes_once("cookie").await;
}

#[wasm_bindgen_test]
async fn xhr_header_mode_refreshes_once_and_retries() {
    xhr_refreshes_once("header").await;
}
