//! Helpers shared by the browser tests (headless Chromium through wasm-bindgen-test-runner).
#![allow(dead_code)]

use js_sys::{Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The real `fauna-session-server` under test (started by `scripts/test.sh`).
pub(crate) const SERVER: &str = match option_env!("FAUNA_SESSION_TEST_SERVER") {
    Some(s) => s,
    None => "http://127.0.0.1:3001",
};

pub(crate) fn url(path: &str) -> String {
    let mut s = String::from(SERVER);
    s.push_str(path);
    s
}

#[wasm_bindgen(inline_js = r#"
export function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }
export function events() { return (globalThis.__events ||= []); }
export function recordEvent(e) { events().push(e); }
export function eventActions() { return events().map(e => e.action); }
export function clearEvents() { events().length = 0; }
export function cookieNames() {
  return document.cookie.split("; ").filter(Boolean).map(c => c.split("=")[0]);
}
export function clearFrontendCookies() {
  for (const n of ["sFrontToken", "st-last-access-token-update", "sAntiCsrf", "st-access-token", "st-refresh-token"]) {
    document.cookie = n + "=;expires=Thu, 01 Jan 1970 00:00:00 GMT;path=/";
  }
}
export function randomEmail() { return "u" + Math.random().toString(36).slice(2) + "@example.com"; }
export function callFetch(url, init) { return fetch(url, init); }
export async function fetchStatus(url, init) { const r = await fetch(url, init); return r.status; }
export async function fetchText(url, init) { const r = await fetch(url, init); return await r.text(); }
export async function metric(base, name) {
  const r = await fetch(base + "/metrics?superTokensDoNotDoInterception");
  const text = await r.text();
  for (const line of text.split("\n")) {
    const [k, v] = line.split(" ");
    if (k === name) return Number(v);
  }
  throw new Error("metric " + name + " not found");
}
export async function signUp(base, email) {
  const body = JSON.stringify({ formFields: [{ id: "email", value: email }, { id: "password", value: "correct horse 9" }] });
  const r = await fetch(base + "/auth/signup", { method: "POST", headers: { "content-type": "application/json" }, body });
  return await r.json();
}
export function xhrRequest(url) {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    const states = [];
    let loads = 0;
    x.onreadystatechange = () => states.push(x.readyState);
    x.open("GET", url);
    x.onload = () => { loads++; };
    x.onloadend = () => setTimeout(() => resolve({ status: x.status, loads, states, isXhr: x instanceof XMLHttpRequest, text: x.responseText }), 0);
    x.send();
  });
}
export function xhrParallel(url, n) { return Promise.all(Array.from({ length: n }, () => xhrRequest(url))); }
export async function parallelStatuses(url, n) {
  const all = await Promise.all(Array.from({ length: n }, () => fetch(url)));
  return all.map(r => r.status);
}
"#)]
extern "C" {
    pub(crate) async fn sleep(ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = recordEvent)]
    pub(crate) fn record_event(e: JsValue);
    #[wasm_bindgen(js_name = eventActions)]
    pub(crate) fn event_actions() -> Vec<String>;
    #[wasm_bindgen(js_name = clearEvents)]
    pub(crate) fn clear_events();
    #[wasm_bindgen(js_name = cookieNames)]
    pub(crate) fn cookie_names() -> Vec<String>;
    #[wasm_bindgen(js_name = clearFrontendCookies)]
    pub(crate) fn clear_frontend_cookies();
    #[wasm_bindgen(js_name = randomEmail)]
    pub(crate) fn random_email() -> String;
    #[wasm_bindgen(js_name = callFetch, catch)]
    pub(crate) async fn call_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = fetchStatus, catch)]
    pub(crate) async fn fetch_status(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = fetchText, catch)]
    pub(crate) async fn fetch_text(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    pub(crate) async fn metric(base: &str, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = signUp, catch)]
    pub(crate) async fn sign_up(base: &str, email: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = xhrParallel, catch)]
    pub(crate) async fn xhr_parallel(url: &str, n: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = parallelStatuses, catch)]
    pub(crate) async fn parallel_statuses(url: &str, n: u32) -> Result<JsValue, JsValue>;
}

pub(crate) async fn refreshes() -> f64 {
    metric(SERVER, "fauna_session_refresh_requests_total")
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

/// The access-token lifetime the test server runs with (`--access-token-lifetime 2` in `scripts/browser-test.sh`).
pub(crate) const LIFETIME_MS: f64 = 2_000.0;

/// How long a test sleeps for its session's access token to expire: [`LIFETIME_MS`] plus a margin.
pub(crate) const PAST_EXPIRY_MS: u32 = 3_200;

/// Asserts that the refreshes since `r0` number at least one and at most one per access-token lifetime that passed
/// since `started_ms` (plus the first). A refreshed token lives [`LIFETIME_MS`] too: when a burst of calls outlasts it
/// on a loaded machine, a call sent after that rightly refreshes again. A refresh per failed call still fails this.
pub(crate) async fn assert_one_refresh_per_lifetime(r0: f64, started_ms: f64, what: &str) {
    let made = refreshes().await - r0;
    let elapsed = js_sys::Date::now() - started_ms;
    let allowed = 1.0 + (elapsed / LIFETIME_MS).floor();
    assert!(
        (1.0..=allowed).contains(&made),
        "{what}: {made} refreshes in {elapsed:.0} ms, at most {allowed} allowed"
    );
}

pub(crate) async fn status(path: &str) -> u16 {
    fetch_status(&url(path), &JsValue::UNDEFINED)
        .await
        .unwrap()
        .as_f64()
        .unwrap() as u16
}

pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

pub(crate) fn set(obj: &JsValue, key: &str, value: impl Into<JsValue>) {
    Reflect::set(obj, &JsValue::from_str(key), &value.into()).unwrap();
}

pub(crate) fn object() -> JsValue {
    Object::new().into()
}

/// A config object `{apiDomain, onHandleEvent: recordEvent, ...}`.
pub(crate) fn config(api_domain: &str) -> JsValue {
    let c = object();
    set(&c, "apiDomain", api_domain);
    let f = Closure::<dyn Fn(JsValue)>::new(record_event);
    set(&c, "onHandleEvent", f.as_ref().clone());
    f.forget();
    c
}

pub(crate) fn error_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{e:?}"))
}

pub(crate) async fn await_promise(p: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

/// The JavaScript API's promises, awaited and typed.
pub(crate) mod api {
    use fauna_session::js;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_futures::JsFuture;

    pub(crate) async fn does_session_exist() -> Result<bool, JsValue> {
        JsFuture::from(js::does_session_exist())
            .await
            .map(|v| v.as_bool().unwrap())
    }
    pub(crate) async fn get_user_id() -> Result<String, JsValue> {
        JsFuture::from(js::get_user_id())
            .await
            .map(|v| v.as_string().unwrap())
    }
    pub(crate) async fn get_access_token_payload_securely() -> Result<JsValue, JsValue> {
        JsFuture::from(js::get_access_token_payload_securely()).await
    }
    pub(crate) async fn get_jwt_payload_securely() -> Result<JsValue, JsValue> {
        JsFuture::from(js::get_jwt_payload_securely()).await
    }
    pub(crate) async fn get_access_token() -> Result<Option<String>, JsValue> {
        JsFuture::from(js::get_access_token())
            .await
            .map(|v| v.as_string())
    }
    pub(crate) async fn attempt_refreshing_session() -> Result<bool, JsValue> {
        JsFuture::from(js::attempt_refreshing_session())
            .await
            .map(|v| v.as_bool().unwrap())
    }
    pub(crate) async fn sign_out() -> Result<(), JsValue> {
        JsFuture::from(js::sign_out(None)).await.map(|_| ())
    }
    pub(crate) async fn get_faunadb_token(
        options: Option<js::FaunadbTokenOptions>,
    ) -> Result<String, JsValue> {
        JsFuture::from(js::get_faunadb_token(options))
            .await
            .map(|v| v.as_string().unwrap())
    }
}
