//! Browser tests of the accounts API (devices and sign-out scopes) against the real `fauna-session-server`
//! (`scripts/test.sh`'s browser stage: `--website-origin http://127.0.0.1:8000`, SQLite, so the device routes
//! are on). A second "device" is a header-mode sign-in made with `credentials: "omit"` and no interception: its
//! tokens live in the test, not in the page's cookies.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const form = (email) => JSON.stringify({ formFields: [{ id: "email", value: email }, { id: "password", value: "correct horse 9" }] });
export async function signInElsewhere(base, email, signUp) {
  const path = signUp ? "/auth/signup" : "/auth/signin";
  const r = await fetch(base + path + "?superTokensDoNotDoInterception", {
    method: "POST", credentials: "omit",
    headers: { "content-type": "application/json", rid: "emailpassword", "st-auth-mode": "header" },
    body: form(email),
  });
  const ft = r.headers.get("front-token");
  if (r.status !== 200 || !ft) throw new Error("sign-in elsewhere answered " + r.status);
  return { refresh: r.headers.get("st-refresh-token"), handle: JSON.parse(atob(ft)).up.sessionHandle };
}
export async function refreshElsewhere(base, device) {
  const r = await fetch(base + "/auth/session/refresh?superTokensDoNotDoInterception", {
    method: "POST", credentials: "omit",
    headers: { rid: "session", "st-auth-mode": "header", authorization: "Bearer " + device.refresh },
  });
  const next = r.headers.get("st-refresh-token");
  if (next) device.refresh = next;
  return r.status;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = signInElsewhere, catch)]
    async fn sign_in_elsewhere(base: &str, email: &str, sign_up: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = refreshElsewhere, catch)]
    async fn refresh_elsewhere(base: &str, device: &JsValue) -> Result<JsValue, JsValue>;
}

/// A device signed in as `email` outside this page: `{refresh, handle}`.
async fn device(email: &str) -> JsValue {
    sign_in_elsewhere(SERVER, email, false)
        .await
        .expect("second sign-in")
}

/// The HTTP status of the device's refresh (200 while its session lives, 401 once it ended).
async fn refresh_status(device: &JsValue) -> u16 {
    refresh_elsewhere(SERVER, device)
        .await
        .unwrap()
        .as_f64()
        .unwrap() as u16
}

fn handle_of(device: &JsValue) -> String {
    get(device, "handle").as_string().unwrap()
}

/// A page session in cookie mode (signed up through the interceptor); returns its email.
async fn page_session() -> String {
    js::init(config(SERVER).unchecked_into()).expect("init");
    let email = random_email();
    let body = sign_up(SERVER, &email).await.expect("sign up");
    assert_eq!(get(&body, "status").as_string().as_deref(), Some("OK"));
    assert!(api::does_session_exist().await.unwrap());
    clear_events();
    email
}

async fn page_handle() -> String {
    let payload = api::get_access_token_payload_securely().await.unwrap();
    get(&payload, "sessionHandle").as_string().unwrap()
}

async fn list() -> Result<Vec<JsValue>, JsValue> {
    let v = JsFuture::from(js::list_sessions()).await?;
    Ok(v.unchecked_into::<js_sys::Array>().iter().collect())
}

async fn revoke(handle: &str) -> Result<bool, JsValue> {
    JsFuture::from(js::revoke_session(handle.into()))
        .await
        .map(|v| v.as_bool().unwrap())
}

async fn sign_out_in(scope: &str) -> Result<(), JsValue> {
    let options = object();
    set(&options, "scope", scope);
    JsFuture::from(js::sign_out(Some(options.unchecked_into())))
        .await
        .map(|_| ())
}

#[wasm_bindgen_test]
async fn list_shows_both_sessions_and_revoking_the_other_ends_it() {
    let email = page_session().await;
    let other = device(&email).await;
    let sessions = list().await.unwrap();
    assert_eq!(
        sessions.len(),
        2,
        "{:?}",
        js_sys::JSON::stringify(&sessions.clone().into_iter().collect::<js_sys::Array>())
    );
    let current: Vec<&JsValue> = sessions
        .iter()
        .filter(|s| get(s, "current").as_bool() == Some(true))
        .collect();
    assert_eq!(current.len(), 1, "exactly one current session");
    assert_eq!(
        get(current[0], "sessionHandle").as_string(),
        Some(page_handle().await)
    );
    let others: Vec<String> = sessions
        .iter()
        .filter(|s| get(s, "current").as_bool() == Some(false))
        .filter_map(|s| get(s, "sessionHandle").as_string())
        .collect();
    assert_eq!(others, vec![handle_of(&other)]);
    for s in &sessions {
        for key in ["timeCreated", "lastActive", "expiry"] {
            assert!(
                get(s, key).as_f64().is_some_and(|t| t > 1.0e12),
                "{key} in ms"
            );
        }
        assert!(
            get(s, "userAgent")
                .as_string()
                .is_some_and(|ua| !ua.is_empty())
        );
    }

    assert_eq!(
        refresh_status(&other).await,
        200,
        "the other device is signed in"
    );
    assert!(revoke(&handle_of(&other)).await.unwrap(), "revoked");
    assert_eq!(refresh_status(&other).await, 401, "its refresh fails now");
    assert_eq!(list().await.unwrap().len(), 1);
    assert!(
        api::does_session_exist().await.unwrap(),
        "this page is still signed in"
    );
    assert!(!event_actions().contains(&"SIGN_OUT".to_string()));

    assert!(!revoke(&handle_of(&other)).await.unwrap(), "already ended");
    assert!(!revoke("no-such-handle").await.unwrap(), "unknown");
    assert!(
        !revoke("../../signout?x=/ &").await.unwrap(),
        "encoded, still unknown"
    );
    let stranger = sign_in_elsewhere(SERVER, &random_email(), true)
        .await
        .unwrap();
    assert!(
        !revoke(&handle_of(&stranger)).await.unwrap(),
        "another user's session is not yours"
    );
    assert_eq!(refresh_status(&stranger).await, 200, "and it lives on");
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn revoking_this_pages_session_signs_it_out() {
    page_session().await;
    let own = page_handle().await;
    assert!(revoke(&own).await.unwrap());
    assert_eq!(event_actions(), vec!["SIGN_OUT".to_string()]);
    assert!(!api::does_session_exist().await.unwrap());
    assert_eq!(status("/sessioninfo").await, 401);
}

#[wasm_bindgen_test]
async fn without_a_session_list_and_revoke_reject() {
    js::init(config(SERVER).unchecked_into()).expect("init");
    api::sign_out().await.unwrap();
    assert_eq!(
        error_message(&list().await.unwrap_err()),
        "No session exists"
    );
    assert_eq!(
        error_message(&revoke("x").await.unwrap_err()),
        "No session exists"
    );
}

#[wasm_bindgen_test]
async fn sign_out_others_keeps_this_session_and_fires_nothing() {
    let email = page_session().await;
    let other = device(&email).await;
    sign_out_in("others").await.unwrap();
    assert!(event_actions().is_empty(), "{:?}", event_actions());
    assert!(api::does_session_exist().await.unwrap());
    assert_eq!(status("/sessioninfo").await, 200);
    assert_eq!(refresh_status(&other).await, 401, "the other session ended");
    let left = list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(get(&left[0], "current").as_bool(), Some(true));
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn sign_out_global_ends_every_session() {
    let email = page_session().await;
    let other = device(&email).await;
    sign_out_in("global").await.unwrap();
    assert_eq!(event_actions(), vec!["SIGN_OUT".to_string()]);
    assert!(!api::does_session_exist().await.unwrap());
    assert_eq!(
        refresh_status(&other).await,
        401,
        "the other session ended too"
    );
}

#[wasm_bindgen_test]
async fn sign_out_local_ends_only_this_session() {
    let email = page_session().await;
    let other = device(&email).await;
    let bad = sign_out_in("everywhere").await.unwrap_err();
    assert!(
        error_message(&bad).contains("scope"),
        "{}",
        error_message(&bad)
    );
    assert!(
        api::does_session_exist().await.unwrap(),
        "a bad scope sends nothing"
    );
    sign_out_in("local").await.unwrap();
    assert_eq!(event_actions(), vec!["SIGN_OUT".to_string()]);
    assert!(!api::does_session_exist().await.unwrap());
    assert_eq!(
        refresh_status(&other).await,
        200,
        "the other session lives on"
    );
}

#[wasm_bindgen_test]
async fn rust_api_lists_revokes_and_signs_out_in_scopes() {
    use fauna_session::devices::SignOutScope;
    use fauna_session::{Session, config::Config};
    let email = page_session().await;
    let session = Session::init(Config::new(SERVER)).unwrap();
    let first = device(&email).await;
    let second = device(&email).await;
    let devices = session.list_sessions().await.unwrap();
    assert_eq!(devices.len(), 3);
    assert_eq!(devices.iter().filter(|d| d.current).count(), 1);
    assert!(
        devices
            .iter()
            .all(|d| d.user_agent.is_some() && d.expiry > d.time_created)
    );
    assert!(session.revoke_session(&handle_of(&first)).await.unwrap());
    assert!(!session.revoke_session(&handle_of(&first)).await.unwrap());
    assert_eq!(refresh_status(&first).await, 401);
    session.sign_out_with(SignOutScope::Others).await.unwrap();
    assert_eq!(refresh_status(&second).await, 401);
    let left = session.list_sessions().await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].current);
    session.sign_out_with(SignOutScope::Global).await.unwrap();
    assert!(!session.does_session_exist().await.unwrap());
    assert_eq!(
        session.list_sessions().await.unwrap_err(),
        fauna_session::Error::NoSession
    );
}
