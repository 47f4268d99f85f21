//! Failures that don't sign you out. The session API is `http://127.0.0.1:1`, where nothing listens. A scripted
//! fetch installed before `init` answers `/protected` with 401 and the refresh with 500 or 429, or passes the
//! refresh through to the browser's fetch: a real network error (the server stopped). It also plays
//! `navigator.onLine`.
//! Whatever the failure, the session stays, `UNAUTHORISED` is not fired, the caller gets the failure, and the
//! next request tries again.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const API: &str = "http://127.0.0.1:1";

#[wasm_bindgen(inline_js = r#"
let mode = "network";
let refreshes = 0;
let online = true;
const realFetch = window.fetch;
const b64 = s => btoa(unescape(encodeURIComponent(s)));
const ft = (ate) => b64(JSON.stringify({ uid: "user-1", ate, up: { n: Math.random() } }));
Object.defineProperty(navigator, "onLine", { get: () => online, configurable: true });
let installed = false;
export function installScripted() {
  if (installed) return;
  installed = true;
  window.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input.url;
    if (url.endsWith("/auth/session/refresh")) {
      refreshes++;
      if (mode === "500") return new Response("refresh broke", { status: 500 });
      if (mode === "429") return new Response('{"message":"too many requests"}', { status: 429, headers: { "retry-after": "1" } });
      if (mode === "ok") return new Response("{}", { status: 200, headers: { "front-token": ft(Date.now() + 60000) } });
    }
    if (url.endsWith("/protected")) {
      return new Response("{}", { status: refreshes > 0 && mode === "ok" ? 200 : 401 });
    }
    return realFetch(input, init);
  };
}
export function setMode(m) { mode = m; refreshes = 0; }
export function refreshCalls() { return refreshes; }
export function setOnline(v) { online = v; }
let releaseLock = null;
export function holdWebLock() {
  return new Promise((granted) => {
    navigator.locks.request("REFRESH_TOKEN_USE", () => { granted(); return new Promise((r) => { releaseLock = r; }); });
  });
}
export function releaseWebLock() { if (releaseLock) releaseLock(); releaseLock = null; }
export function hideWebLocks() { Object.defineProperty(navigator, "locks", { value: undefined, configurable: true }); }
export function restoreWebLocks() { delete navigator.locks; }
export function writeStorageLock(value) { localStorage.setItem("browser-tabs-lock-key-REFRESH_TOKEN_USE", value); }
export function storageLockPresent() { return localStorage.getItem("browser-tabs-lock-key-REFRESH_TOKEN_USE") !== null; }
export function deadHolder() { return JSON.stringify({ id: "dead-tab", iat: 0, timeoutKey: "x", timeAcquired: Date.now() - 60000, timeRefreshed: Date.now() - 60000 }); }
export function storeSession(ate) {
  document.cookie = "st-last-access-token-update=" + Date.now() + ";path=/";
  document.cookie = "sFrontToken=" + ft(ate) + ";path=/";
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installScripted)]
    fn install_scripted();
    #[wasm_bindgen(js_name = setMode)]
    fn set_mode(mode: &str);
    #[wasm_bindgen(js_name = refreshCalls)]
    fn refresh_calls() -> u32;
    #[wasm_bindgen(js_name = setOnline)]
    fn set_online(online: bool);
    #[wasm_bindgen(js_name = storeSession)]
    fn store_session(ate: f64);
    #[wasm_bindgen(js_name = holdWebLock)]
    async fn hold_web_lock();
    #[wasm_bindgen(js_name = releaseWebLock)]
    fn release_web_lock();
    #[wasm_bindgen(js_name = hideWebLocks)]
    fn hide_web_locks();
    #[wasm_bindgen(js_name = restoreWebLocks)]
    fn restore_web_locks();
    #[wasm_bindgen(js_name = writeStorageLock)]
    fn write_storage_lock(value: &str);
    #[wasm_bindgen(js_name = storageLockPresent)]
    fn storage_lock_present() -> bool;
    #[wasm_bindgen(js_name = deadHolder)]
    fn dead_holder() -> String;
}

/// The page's session against `API`, an expired access token stored, events recorded, the refresh in `mode`.
fn expired_session(mode: &str) {
    install_scripted();
    js::init(config(API).unchecked_into()).unwrap();
    clear_frontend_cookies();
    store_session(js_sys::Date::now() - 1_000.0);
    clear_events();
    set_mode(mode);
}

fn session_kept(what: &str) {
    assert!(
        cookie_names().iter().any(|c| c == "sFrontToken"),
        "{what}: the session is kept"
    );
    assert!(
        !event_actions().iter().any(|a| a == "UNAUTHORISED"),
        "{what}: no UNAUTHORISED, {:?}",
        event_actions()
    );
}

async fn protected() -> Result<JsValue, JsValue> {
    call_fetch(&format!("{API}/protected"), &JsValue::UNDEFINED).await
}

#[wasm_bindgen_test]
async fn a_refresh_that_meets_a_stopped_server_keeps_the_session() {
    expired_session("network");
    let err = protected().await.unwrap_err();
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "the caller gets the network error"
    );
    assert_eq!(refresh_calls(), 1);
    session_kept("server stopped");
    // The next request tries again.
    assert!(protected().await.is_err());
    assert_eq!(refresh_calls(), 2, "the next request refreshes again");
    assert!(api::attempt_refreshing_session().await.is_err());
    session_kept("server stopped, attemptRefreshingSession");
}

#[wasm_bindgen_test]
async fn a_refresh_answered_500_or_429_keeps_the_session() {
    for status in ["500", "429"] {
        expired_session(status);
        let resp: web_sys::Response = protected().await.unwrap().dyn_into().unwrap();
        assert_eq!(
            resp.status().to_string(),
            status,
            "the caller gets the refresh's answer"
        );
        assert_eq!(refresh_calls(), 1, "{status}: one refresh, no loop");
        session_kept(status);
        let resp: web_sys::Response = protected().await.unwrap().dyn_into().unwrap();
        assert_eq!(resp.status().to_string(), status);
        assert_eq!(refresh_calls(), 2, "{status}: the next request tries again");
        session_kept(status);
    }
}

#[wasm_bindgen_test]
async fn while_offline_a_refresh_waits_for_the_network() {
    expired_session("ok");
    set_online(false);
    let pending = wasm_bindgen_futures::JsFuture::from(js::session_fetch(
        JsValue::from_str(&format!("{API}/protected")),
        JsValue::UNDEFINED,
    ));
    let check = wasm_bindgen_futures::future_to_promise(async move {
        let r = pending.await?;
        Ok(r)
    });
    sleep(700).await;
    assert_eq!(
        refresh_calls(),
        0,
        "no refresh while navigator.onLine is false"
    );
    set_online(true);
    let resp: web_sys::Response = await_promise(check).await.unwrap().dyn_into().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(refresh_calls(), 1, "refreshed once the network is back");
    session_kept("offline");
}

#[wasm_bindgen_test]
async fn a_lock_wait_times_out_and_stale_holders_are_cleared() {
    // Another tab holds the refresh lock and never lets go: the request gives up waiting (10 s), does not refresh
    // without the lock, and ends within its retry budget instead of hanging.
    install_scripted();
    let c = config(API);
    set(&c, "maxRetryAttemptsForSessionRefresh", 1);
    js::init(c.unchecked_into()).unwrap();
    clear_frontend_cookies();
    store_session(js_sys::Date::now() - 1_000.0);
    set_mode("ok");
    hold_web_lock().await;
    let err = protected().await.unwrap_err();
    assert!(
        error_message(&err).starts_with("Received a 401 response"),
        "{}",
        error_message(&err)
    );
    assert_eq!(refresh_calls(), 0, "no refresh without the lock");
    session_kept("lock held elsewhere");
    // Released (as when that tab closes): the next request refreshes once.
    release_web_lock();
    let resp: web_sys::Response = protected().await.unwrap().dyn_into().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(refresh_calls(), 1);

    // The localStorage fallback: a dead tab's stale lock, then an unreadable one, are cleared, not waited for.
    hide_web_locks();
    for holder in [dead_holder(), "not a lock".to_string()] {
        js::init(config(API).unchecked_into()).unwrap();
        store_session(js_sys::Date::now() - 1_000.0);
        set_mode("ok");
        write_storage_lock(&holder);
        let resp: web_sys::Response = protected().await.unwrap().dyn_into().unwrap();
        assert_eq!(resp.status(), 200, "{holder}");
        assert_eq!(refresh_calls(), 1, "{holder}");
        assert!(!storage_lock_present(), "{holder}: released");
    }
    restore_web_locks();
}
