//! Browser tests with a scripted "original fetch" installed *before* `init`: the library's own calls (refresh)
//! and intercepted requests reach this fake, which answers with real `Response` objects. Covers what a real
//! server cannot easily be made to do: a refresh answering 500, malformed front tokens, the retry limit,
//! untouched non-API requests, invalid-claim events, config validation. The XHR tests at the end also need the
//! real server (a native XHR cannot be answered by the fake): it gives the 401, the fake answers the refresh.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const API: &str = "http://127.0.0.1:3999";

#[wasm_bindgen(inline_js = r#"
let calls = [];
let handler = null;
let installed = null;
const b64 = s => btoa(unescape(encodeURIComponent(s)));
export function frontToken(uid, ateMs, up) { return b64(JSON.stringify({ uid, ate: ateMs, up })); }
export function installFake() {
  if (installed) return installed;
  installed = async (input, init) => {
    const url = typeof input === "string" ? input : (input instanceof Request ? input.url : String(input));
    calls.push({ input, init, url });
    const r = handler && handler(url, init, input);
    return r || new Response("no handler", { status: 404 });
  };
  window.fetch = installed;
  return installed;
}
export function currentFetch() { return window.fetch; }
export function calls_() { return calls; }
export function countCalls(part) { return calls.filter(c => c.url.includes(part)).length; }
export function resetCalls() { calls = []; }
export function lastCall(part) { return calls.filter(c => c.url.includes(part)).pop(); }
export function lastHeader(part, name) {
  const c = calls.filter(c => c.url.includes(part)).pop();
  return c ? new Headers(c.init && c.init.headers).get(name) : null;
}
export function setSession(ate, up) {
  document.cookie = "st-last-access-token-update=" + Date.now() + ";path=/";
  document.cookie = "sFrontToken=" + frontToken("user-1", ate, up) + ";path=/";
}
// Scenario handlers
export function expiredThenRefresh500() {
  handler = (url) => {
    if (url.endsWith("/auth/session/refresh")) return new Response("refresh broke", { status: 500 });
    if (url.endsWith("/protected")) return new Response("{}", { status: 401 });
  };
}
export function always401RefreshOk() {
  handler = (url) => {
    if (url.endsWith("/auth/session/refresh"))
      return new Response("{}", { status: 200, headers: { "front-token": frontToken("user-1", Date.now() + 60000, { n: Math.random() }) } });
    if (url.endsWith("/protected")) return new Response("{}", { status: 401 });
  };
}
export function malformedFrontToken() {
  handler = (url) => {
    if (url.endsWith("/login")) return new Response("{}", { status: 200, headers: { "front-token": "!!not base64!!" } });
  };
}
export function invalidClaim() {
  handler = (url) => {
    if (url.endsWith("/claims"))
      return new Response(JSON.stringify({ message: "invalid claim", claimValidationErrors: [{ id: "st-ev", reason: "no" }] }),
        { status: 403, headers: { "content-type": "application/json" } });
  };
}
export function echoOk() {
  handler = () => new Response("ok", { status: 200 });
}
export function refreshesWithFauna(lifetimeMs) {
  handler = (url) => {
    if (url.includes("/auth/session/refresh")) {
      const fauna = "fn" + Math.random().toString(36).slice(2);
      return new Response("{}", { status: 200, headers: { "front-token": frontToken("user-1", Date.now() + lifetimeMs, { faunadbToken: fauna, iat: Math.floor(Date.now() / 1000) }) } });
    }
  };
}
export function isError(e) { return e instanceof Error; }
// A server clock 60 s ahead of the page's: /skewed answers an access token expiring in 30 s of page time (so already
// expired on the server's clock), the refresh one expiring in 120 s.
export function skewedServer() {
  const token = (ateIn, n) =>
    frontToken("user-1", Date.now() + ateIn, { iat: Math.floor(Date.now() / 1000) + 60, n });
  handler = (url) => {
    if (url.endsWith("/skewed")) return new Response("{}", { status: 200, headers: { "front-token": token(30000, 1) } });
    if (url.endsWith("/auth/session/refresh"))
      return new Response("{}", { status: 200, headers: { "front-token": token(120000, 2) } });
  };
}
export function storedSkew() { return localStorage.getItem("__st_clockSkewInMillis"); }
export function clearSkew() { localStorage.removeItem("__st_clockSkewInMillis"); }
export function refreshAnswers401() {
  handler = (url) => {
    if (url.endsWith("/auth/session/refresh")) return new Response("{}", { status: 401, headers: { "front-token": "remove" } });
    if (url.endsWith("/protected")) return new Response("{}", { status: 401 });
    if (url.endsWith("/public")) return new Response("{}", { status: 200 });
  };
}
export function hookRecorder() {
  const log = [];
  globalThis.__hooks = log;
  return {
    preAPIHook: (ctx) => { log.push("pre:" + ctx.action + ":" + ctx.url); return { url: ctx.url + "?via=hook", requestInit: ctx.requestInit }; },
    postAPIHook: (ctx) => { log.push("post:" + ctx.action + ":" + ctx.fetchResponse.status); },
  };
}
export function hookLog() { return globalThis.__hooks || []; }
export function setCookie(s) { document.cookie = s; }
// The refresh (through the fake) answers `status` with `body` and an `x-refresh` header; status 0 is a network error.
export function refreshAnswers(status, body) {
  handler = (url) => {
    if (url.endsWith("/auth/session/refresh")) {
      if (status === 0) throw new TypeError("Failed to fetch");
      const headers = { "x-refresh": "broke" };
      if (status === 401) headers["front-token"] = "remove";
      return new Response(body, { status, headers });
    }
  };
}
// One XHR as an app would make it (its listeners registered after the interceptor's), and what the app saw.
export function xhrOutcome(url, responseType) {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    const events = [];
    for (const e of ["readystatechange", "load", "error", "loadend", "abort", "timeout"])
      x.addEventListener(e, () => events.push(e === "readystatechange" ? e + ":" + x.readyState : e));
    x.open("GET", url);
    x.responseType = responseType;
    x.onloadend = () => setTimeout(() => resolve({
      status: x.status,
      statusText: x.statusText,
      text: responseType === "" ? x.responseText : null,
      response: x.response,
      header: x.getResponseHeader("X-Refresh"),
      all: x.getAllResponseHeaders(),
      events: events.slice(),
      isXhr: x instanceof XMLHttpRequest,
      reopened: (x.open("GET", url), x.status),
    }), 300);
    x.send();
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installFake)]
    fn install_fake() -> JsValue;
    #[wasm_bindgen(js_name = currentFetch)]
    fn current_fetch() -> JsValue;
    #[wasm_bindgen(js_name = countCalls)]
    fn count_calls(part: &str) -> u32;
    #[wasm_bindgen(js_name = resetCalls)]
    fn reset_calls();
    #[wasm_bindgen(js_name = lastCall)]
    fn last_call(part: &str) -> JsValue;
    #[wasm_bindgen(js_name = lastHeader)]
    fn last_header(part: &str, name: &str) -> Option<String>;
    #[wasm_bindgen(js_name = setSession)]
    fn set_session(ate: f64, up: &JsValue);
    #[wasm_bindgen(js_name = expiredThenRefresh500)]
    fn expired_then_refresh_500();
    #[wasm_bindgen(js_name = always401RefreshOk)]
    fn always_401_refresh_ok();
    #[wasm_bindgen(js_name = malformedFrontToken)]
    fn malformed_front_token();
    #[wasm_bindgen(js_name = invalidClaim)]
    fn invalid_claim();
    #[wasm_bindgen(js_name = echoOk)]
    fn echo_ok();
    #[wasm_bindgen(js_name = refreshesWithFauna)]
    fn refreshes_with_fauna(lifetime_ms: f64);
    #[wasm_bindgen(js_name = refreshAnswers401)]
    fn refresh_answers_401();
    #[wasm_bindgen(js_name = hookRecorder)]
    fn hook_recorder() -> JsValue;
    #[wasm_bindgen(js_name = hookLog)]
    fn hook_log() -> Vec<String>;
    #[wasm_bindgen(js_name = setCookie)]
    fn set_cookie(s: &str);
    #[wasm_bindgen(js_name = isError)]
    fn is_error(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = skewedServer)]
    fn skewed_server();
    #[wasm_bindgen(js_name = storedSkew)]
    fn stored_skew() -> Option<String>;
    #[wasm_bindgen(js_name = clearSkew)]
    fn clear_skew();
    #[wasm_bindgen(js_name = refreshAnswers)]
    fn refresh_answers(status: u16, body: &str);
    #[wasm_bindgen(js_name = xhrOutcome)]
    async fn xhr_outcome(url: &str, response_type: &str) -> JsValue;
}

/// Installs the fake under the library and initialises it (the first `init` of this page saves the fake as the
/// original fetch; later calls only replace the configuration).
fn setup(extra: impl FnOnce(&JsValue)) {
    install_fake();
    let c = config(API);
    extra(&c);
    js::init(c.unchecked_into()).expect("init");
    clear_frontend_cookies();
    reset_calls();
    clear_events();
}

fn now() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
async fn init_validates_config_and_patches_once() {
    setup(|_| {});
    let patched = current_fetch();
    assert!(
        !patched.loose_eq(&install_fake()),
        "init replaced window.fetch"
    );
    setup(|c| set(c, "tokenTransferMethod", "header"));
    assert!(
        current_fetch().loose_eq(&patched),
        "a second init must not patch again"
    );

    let bad = |c: JsValue| error_message(&js::init(c.unchecked_into()).unwrap_err());
    assert_eq!(bad(object()), "Please provide a valid domain name");
    let c = config("/auth");
    assert_eq!(bad(c), "Please provide a valid domain name");
    let c = config(API);
    set(&c, "invalidClaimStatusCode", 401);
    assert_eq!(
        bad(c),
        "sessionExpiredStatusCode and invalidClaimStatusCode cannot be the same."
    );
    let c = config(API);
    set(&c, "maxRetryAttemptsForSessionRefresh", -1);
    assert_eq!(
        bad(c),
        "maxRetryAttemptsForSessionRefresh must be greater than or equal to 0."
    );
    let c = config(API);
    set(&c, "tokenTransferMethod", "carrier-pigeon");
    assert_eq!(bad(c), "Invalid config option: tokenTransferMethod");
    assert!(current_fetch().loose_eq(&patched));
}

#[wasm_bindgen_test]
fn init_names_the_first_option_of_the_wrong_type() {
    let bad = |c: JsValue| error_message(&js::init(c.unchecked_into()).unwrap_err());
    let wrong = |key: &str, value: JsValue| {
        let c = config(API);
        set(&c, key, value);
        bad(c)
    };
    assert_eq!(bad(JsValue::from(5)), "Please provide a valid domain name");
    assert_eq!(
        wrong("apiDomain", JsValue::NULL),
        "Invalid config option: apiDomain"
    );
    for (key, value) in [
        ("apiBasePath", JsValue::from(5)),
        ("sessionExpiredStatusCode", JsValue::from("401")),
        ("sessionExpiredStatusCode", JsValue::from(99)),
        ("invalidClaimStatusCode", JsValue::from(403.5)),
        ("invalidClaimStatusCode", JsValue::from(600)),
        ("tokenTransferMethod", JsValue::from(1)),
        ("sessionTokenFrontendDomain", JsValue::TRUE),
        ("sessionTokenBackendDomain", JsValue::NULL),
        ("autoAddCredentials", JsValue::from("yes")),
        ("isInIframe", JsValue::from(1)),
        ("maxRetryAttemptsForSessionRefresh", JsValue::from("3")),
        ("preAPIHook", JsValue::from("f")),
        ("postAPIHook", object()),
        ("onHandleEvent", JsValue::NULL),
        ("interceptUrl", JsValue::TRUE),
        ("patchGlobals", JsValue::from(0)),
    ] {
        assert_eq!(
            wrong(key, value),
            format!("Invalid config option: {key}"),
            "{key}"
        );
    }
    assert_eq!(
        wrong("fauna", JsValue::from("x")),
        "Invalid config option: fauna.endpoint"
    );
    let fauna = object();
    set(&fauna, "endpoint", "http://127.0.0.1:8443");
    set(&fauna, "minValiditySeconds", "5");
    assert_eq!(
        wrong("fauna", fauna),
        "Invalid config option: fauna.minValiditySeconds"
    );
    // Options are checked in the documented order: the first wrong one is named.
    let c = config(API);
    set(&c, "isInIframe", 1);
    set(&c, "apiBasePath", 5);
    set(&c, "patchGlobals", 0);
    assert_eq!(bad(c), "Invalid config option: apiBasePath");
    let c = config(API);
    set(&c, "patchGlobals", 0);
    set(&c, "maxRetryAttemptsForSessionRefresh", -1);
    assert_eq!(
        bad(c),
        "maxRetryAttemptsForSessionRefresh must be greater than or equal to 0."
    );
    // A valid config with every option set is accepted (as the other tests set up: the fake backend first).
    setup(|c| {
        set(c, "apiBasePath", "/auth");
        set(c, "sessionExpiredStatusCode", 401);
        set(c, "invalidClaimStatusCode", 403);
        set(c, "tokenTransferMethod", "cookie");
        set(c, "autoAddCredentials", true);
        set(c, "isInIframe", false);
        set(c, "maxRetryAttemptsForSessionRefresh", 10);
        set(c, "patchGlobals", true);
    });
}

#[wasm_bindgen_test]
async fn refresh_500_reaches_the_caller_without_looping() {
    setup(|_| {});
    set_session(now() - 1000.0, &object());
    expired_then_refresh_500();
    let resp = call_fetch(&format!("{API}/protected"), &JsValue::UNDEFINED)
        .await
        .expect("resolves");
    let resp: web_sys::Response = resp.dyn_into().expect("a real Response");
    assert_eq!(resp.status(), 500);
    let body = wasm_bindgen_futures::JsFuture::from(resp.text().unwrap())
        .await
        .unwrap();
    assert_eq!(body.as_string().unwrap(), "refresh broke");
    assert_eq!(
        count_calls("/auth/session/refresh"),
        1,
        "exactly one refresh, no loop"
    );
    assert_eq!(count_calls("/protected"), 1);
    // The session was not cleared by a 500.
    assert!(cookie_names().iter().any(|c| c == "sFrontToken"));
    // attemptRefreshingSession throws the refresh Response itself.
    let err = api::attempt_refreshing_session().await.unwrap_err();
    assert_eq!(err.dyn_into::<web_sys::Response>().unwrap().status(), 500);
}

#[wasm_bindgen_test]
async fn retry_limit_stops_with_an_error() {
    setup(|c| set(c, "maxRetryAttemptsForSessionRefresh", 2));
    set_session(now() + 60_000.0, &object());
    always_401_refresh_ok();
    let err = call_fetch(&format!("{API}/protected"), &JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert!(is_error(&err));
    let msg = error_message(&err);
    assert!(
        msg.starts_with("Received a 401 response from http://127.0.0.1:3999/protected."),
        "{msg}"
    );
    assert!(msg.contains("2 times"), "{msg}");
    assert_eq!(count_calls("/auth/session/refresh"), 2);
    assert_eq!(count_calls("/protected"), 3);
    let actions = event_actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "REFRESH_SESSION").count(),
        2,
        "{actions:?}"
    );
}

#[wasm_bindgen_test]
async fn malformed_front_token_header_is_an_error_and_bad_stored_state_is_no_session() {
    setup(|_| {});
    malformed_front_token();
    set_session(now() + 60_000.0, &object());
    let err = call_fetch(&format!("{API}/login"), &JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert!(is_error(&err), "rejects with an Error instance");
    assert_eq!(
        error_message(&err),
        "malformed front token: the front token is not valid base64"
    );
    // Nothing half-written: the old front token is still there.
    assert!(api::get_user_id().await.is_ok());

    // Corrupt stored state never throws: it is cleared and reported as no session (without a refresh).
    let document = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .unchecked_into::<web_sys::HtmlDocument>();
    for (cookie, what) in [
        (
            "sFrontToken=e30=;path=/",
            "a front token without uid, ate and up",
        ),
        ("sFrontToken=%%%;path=/", "a front token that is not base64"),
        (
            "st-last-access-token-update=garbage;path=/",
            "a marker that is not a time",
        ),
    ] {
        set_session(now() + 60_000.0, &object());
        document.set_cookie(cookie).unwrap();
        reset_calls();
        assert_eq!(api::does_session_exist().await, Ok(false), "{what}");
        assert_eq!(
            error_message(&api::get_user_id().await.unwrap_err()),
            "No session exists",
            "{what}"
        );
        assert!(
            !cookie_names().iter().any(|c| c == "sFrontToken"),
            "{what}: cleared"
        );
        assert_eq!(
            count_calls("/auth/session/refresh"),
            0,
            "{what}: no refresh"
        );
        let err = api::get_access_token_payload_securely().await.unwrap_err();
        assert_eq!(error_message(&err), "No session exists", "{what}");
    }
}

#[wasm_bindgen_test]
async fn non_api_requests_are_untouched() {
    setup(|_| {});
    echo_ok();
    set_session(now() + 60_000.0, &object());
    let init = object();
    let headers = object();
    set(&headers, "X-Custom", "Value  with  spaces");
    set(&init, "headers", headers.clone());
    set(&init, "method", "PUT");
    for url in [
        "http://localhost:3999/x",
        "https://example.org/y",
        "http://127.0.0.1:3999/z?superTokensDoNotDoInterception",
    ] {
        call_fetch(url, &init).await.unwrap();
        let call = last_call(url);
        assert!(
            get(&call, "init").loose_eq(&init),
            "{url}: the very same init object reaches fetch"
        );
        assert_eq!(get(&call, "input").as_string().as_deref(), Some(url));
        assert!(get(&init, "headers").loose_eq(&headers));
        assert!(get(&init, "credentials").is_undefined());
    }
    let keys = js_sys::Object::keys(headers.unchecked_ref::<js_sys::Object>());
    assert_eq!(keys.length(), 1, "headers object not modified");
    // The API domain gets the session headers.
    call_fetch(&format!("{API}/api"), &init).await.unwrap();
    assert_eq!(last_header("/api", "rid").as_deref(), Some("anti-csrf"));
    assert_eq!(
        last_header("/api", "st-auth-mode").as_deref(),
        Some("cookie")
    );
    assert_eq!(
        last_header("/api", "x-custom").as_deref(),
        Some("Value  with  spaces")
    );
    assert_eq!(
        get(&get(&last_call("/api"), "init"), "credentials")
            .as_string()
            .as_deref(),
        Some("include")
    );
}

#[wasm_bindgen_test]
async fn invalid_claim_fires_event() {
    setup(|_| {});
    invalid_claim();
    set_session(now() + 60_000.0, &object());
    let resp: web_sys::Response = call_fetch(&format!("{API}/claims"), &JsValue::UNDEFINED)
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(event_actions(), vec!["API_INVALID_CLAIM".to_string()]);
}

#[wasm_bindgen_test]
async fn faunadb_token_refreshes_when_too_short_lived() {
    setup(|_| {});
    refreshes_with_fauna(120_000.0);
    let up = object();
    set(&up, "faunadbToken", "fnOLD");
    set_session(now() + 10_000.0, &up);
    let opts = object();
    set(&opts, "minValiditySeconds", 5);
    let t = api::get_faunadb_token(Some(opts.clone().unchecked_into()))
        .await
        .unwrap();
    assert_eq!(t, "fnOLD", "valid for 10 s >= 5 s: no refresh");
    assert_eq!(count_calls("/auth/session/refresh"), 0);
    set(&opts, "minValiditySeconds", 60);
    let t = api::get_faunadb_token(Some(opts.clone().unchecked_into()))
        .await
        .unwrap();
    assert!(t.starts_with("fn") && t != "fnOLD", "{t}");
    assert_eq!(count_calls("/auth/session/refresh"), 1);
    set(&opts, "minValiditySeconds", 600);
    let err = api::get_faunadb_token(Some(opts.unchecked_into()))
        .await
        .unwrap_err();
    assert_eq!(
        error_message(&err),
        "the faunadbToken cannot be valid for the requested time, even after a refresh"
    );
    assert_eq!(count_calls("/auth/session/refresh"), 2);
}

#[wasm_bindgen_test]
async fn sign_out_without_session_fires_sign_out() {
    setup(|_| {});
    echo_ok();
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .unchecked_into::<web_sys::HtmlDocument>()
        .set_cookie(&format!("st-last-access-token-update={};path=/", now()))
        .unwrap();
    api::sign_out().await.unwrap();
    assert_eq!(event_actions(), vec!["SIGN_OUT".to_string()]);
    assert_eq!(count_calls("/auth/signout"), 0);
    assert!(!api::does_session_exist().await.unwrap());
}

#[wasm_bindgen_test]
async fn first_visit_tries_one_refresh_then_knows_it_is_logged_out() {
    setup(|_| {});
    refresh_answers_401();
    // No frontend cookies at all: the state "may exist", so the first call tries one refresh.
    assert_eq!(
        fetch_status(&format!("{API}/public"), &JsValue::UNDEFINED)
            .await
            .unwrap()
            .as_f64(),
        Some(200.0)
    );
    assert_eq!(count_calls("/auth/session/refresh"), 1);
    assert!(
        cookie_names()
            .iter()
            .any(|c| c == "st-last-access-token-update"),
        "now known to be logged out"
    );
    assert_eq!(
        fetch_status(&format!("{API}/public"), &JsValue::UNDEFINED)
            .await
            .unwrap()
            .as_f64(),
        Some(200.0)
    );
    assert_eq!(
        count_calls("/auth/session/refresh"),
        1,
        "no second attempt once logged out is known"
    );
    // A 401 without a session: UNAUTHORISED{sessionExpiredOrRevoked:false}, no refresh.
    assert_eq!(
        fetch_status(&format!("{API}/protected"), &JsValue::UNDEFINED)
            .await
            .unwrap()
            .as_f64(),
        Some(401.0)
    );
    assert_eq!(count_calls("/auth/session/refresh"), 1);
    assert_eq!(
        event_actions(),
        vec!["UNAUTHORISED".to_string()],
        "no event on first load, one for the 401"
    );
}

#[wasm_bindgen_test]
async fn refresh_hooks_are_called_and_can_rewrite_the_url() {
    setup(|c| {
        let hooks = hook_recorder();
        set(c, "preAPIHook", get(&hooks, "preAPIHook"));
        set(c, "postAPIHook", get(&hooks, "postAPIHook"));
    });
    refreshes_with_fauna(60_000.0);
    set_session(now() - 1.0, &object());
    assert!(api::attempt_refreshing_session().await.unwrap());
    assert_eq!(
        hook_log(),
        vec![
            format!("pre:REFRESH_SESSION:{API}/auth/session/refresh"),
            "post:REFRESH_SESSION:200".to_string()
        ]
    );
    assert_eq!(count_calls("/auth/session/refresh?via=hook"), 1);
    setup(|_| {});
}

#[wasm_bindgen_test]
async fn header_mode_replaces_a_stale_copy_of_our_token_but_keeps_other_authorization() {
    setup(|c| set(c, "tokenTransferMethod", "header"));
    echo_ok();
    set_session(now() + 60_000.0, &object());
    set_cookie("st-access-token=OURS;path=/");
    set_cookie("st-refresh-token=R;path=/");
    let init = object();
    let headers = object();
    set(&headers, "authorization", "bearer OURS");
    set(&init, "headers", headers.clone());
    call_fetch(&format!("{API}/a"), &init).await.unwrap();
    assert_eq!(
        last_header("/a", "authorization").as_deref(),
        Some("Bearer OURS")
    );
    set(&headers, "authorization", "Basic dXNlcjpwdw==");
    call_fetch(&format!("{API}/b"), &init).await.unwrap();
    assert_eq!(
        last_header("/b", "authorization").as_deref(),
        Some("Basic dXNlcjpwdw==")
    );
    call_fetch(&format!("{API}/c"), &JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(
        last_header("/c", "authorization").as_deref(),
        Some("Bearer OURS")
    );
    assert_eq!(last_header("/c", "st-auth-mode").as_deref(), Some("header"));
    set_cookie("st-access-token=;expires=Thu, 01 Jan 1970 00:00:00 GMT;path=/");
    set_cookie("st-refresh-token=;expires=Thu, 01 Jan 1970 00:00:00 GMT;path=/");
    setup(|_| {});
}

// ----- XHR when the refresh fails: the intercepted XHR goes to the real server (`/sessioninfo` answers 401 to a
// page without its access token), the library's refresh goes through the scripted original fetch.

/// A session the real server does not know, under the real server as `apiDomain`.
fn xhr_setup(extra: impl FnOnce(&JsValue)) {
    install_fake();
    let c = config(SERVER);
    extra(&c);
    js::init(c.unchecked_into()).expect("init");
    clear_frontend_cookies();
    reset_calls();
    clear_events();
    set_session(now() + 60_000.0, &object());
}

fn strings(v: &JsValue) -> Vec<String> {
    v.clone()
        .unchecked_into::<js_sys::Array>()
        .iter()
        .filter_map(|s| s.as_string())
        .collect()
}

fn app_events(out: &JsValue, end: &str) {
    assert_eq!(
        strings(&get(out, "events")),
        vec!["readystatechange:1", "readystatechange:4", end, "loadend"],
        "the app sees one completion, never the swallowed 401's"
    );
    assert_eq!(get(out, "isXhr").as_bool(), Some(true));
    assert_eq!(
        get(out, "reopened").as_f64(),
        Some(0.0),
        "open() removes the mapped response"
    );
}

#[wasm_bindgen_test]
async fn xhr_refresh_500_completes_as_the_refresh_response() {
    xhr_setup(|_| {});
    refresh_answers(500, "refresh broke");
    let out = xhr_outcome(&url("/sessioninfo"), "").await;
    assert_eq!(get(&out, "status").as_f64(), Some(500.0));
    assert_eq!(
        get(&out, "text").as_string().as_deref(),
        Some("refresh broke")
    );
    assert_eq!(
        get(&out, "response").as_string().as_deref(),
        Some("refresh broke")
    );
    assert_eq!(get(&out, "header").as_string().as_deref(), Some("broke"));
    let all = get(&out, "all").as_string().unwrap();
    assert!(all.contains("x-refresh: broke\r\n"), "{all}");
    assert!(
        !all.contains("application/json"),
        "not the 401's headers: {all}"
    );
    app_events(&out, "load");
    assert_eq!(
        count_calls("/auth/session/refresh"),
        1,
        "one refresh, no loop"
    );
    assert!(
        cookie_names().iter().any(|c| c == "sFrontToken"),
        "a 500 does not clear the session"
    );
    assert!(event_actions().is_empty(), "{:?}", event_actions());

    // responseType "json": the refresh's body parsed.
    reset_calls();
    refresh_answers(503, r#"{"m":"down"}"#);
    let out = xhr_outcome(&url("/sessioninfo"), "json").await;
    assert_eq!(get(&out, "status").as_f64(), Some(503.0));
    assert_eq!(
        get(&get(&out, "response"), "m").as_string().as_deref(),
        Some("down")
    );
    assert_eq!(count_calls("/auth/session/refresh"), 1);
}

#[wasm_bindgen_test]
async fn xhr_refresh_401_clears_the_session_and_completes_as_the_refresh_401() {
    xhr_setup(|_| {});
    refresh_answers(401, "refresh said no");
    let out = xhr_outcome(&url("/sessioninfo"), "").await;
    assert_eq!(get(&out, "status").as_f64(), Some(401.0));
    assert_eq!(
        get(&out, "text").as_string().as_deref(),
        Some("refresh said no"),
        "the refresh's 401, not the request's"
    );
    assert_eq!(get(&out, "header").as_string().as_deref(), Some("broke"));
    app_events(&out, "load");
    assert_eq!(
        count_calls("/auth/session/refresh"),
        1,
        "one refresh, no loop"
    );
    assert_eq!(event_actions(), vec!["UNAUTHORISED".to_string()]);
    assert!(
        !cookie_names().iter().any(|c| c == "sFrontToken"),
        "session cleared"
    );
    assert!(!api::does_session_exist().await.unwrap());
    assert_eq!(count_calls("/auth/session/refresh"), 1);
}

#[wasm_bindgen_test]
async fn xhr_refresh_network_error_is_an_error_event() {
    xhr_setup(|_| {});
    refresh_answers(0, "");
    let out = xhr_outcome(&url("/sessioninfo"), "").await;
    assert_eq!(get(&out, "status").as_f64(), Some(0.0));
    assert_eq!(get(&out, "text").as_string().as_deref(), Some(""));
    assert!(get(&out, "header").is_null());
    assert_eq!(get(&out, "all").as_string().as_deref(), Some(""));
    app_events(&out, "error");
    assert_eq!(count_calls("/auth/session/refresh"), 1);
    assert!(cookie_names().iter().any(|c| c == "sFrontToken"));
}

#[wasm_bindgen_test]
async fn xhr_retry_limit_is_status_0_and_an_error_event() {
    xhr_setup(|c| set(c, "maxRetryAttemptsForSessionRefresh", 2));
    always_401_refresh_ok();
    let out = xhr_outcome(&url("/sessioninfo"), "").await;
    assert_eq!(get(&out, "status").as_f64(), Some(0.0));
    app_events(&out, "error");
    assert_eq!(
        count_calls("/auth/session/refresh"),
        2,
        "two refreshes, then it stops"
    );
    let actions = event_actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "REFRESH_SESSION").count(),
        2,
        "{actions:?}"
    );
}

#[wasm_bindgen_test]
async fn the_servers_clock_skew_is_stored_and_used_for_expiry() {
    setup(|_| {});
    skewed_server();
    // (A first request with no session state tries one refresh first: counted out below.)
    call_fetch(&format!("{API}/skewed"), &JsValue::UNDEFINED)
        .await
        .expect("resolves");
    reset_calls();
    let skew: f64 = stored_skew()
        .expect("the skew is stored in localStorage")
        .parse()
        .expect("as a number's text");
    assert!((skew - 60_000.0).abs() < 5_000.0, "skew {skew} ms");
    // The token lives 30 s more by the page's clock but has expired by the server's: the payload call refreshes.
    let payload = api::get_access_token_payload_securely()
        .await
        .expect("payload");
    clear_skew();
    assert_eq!(count_calls("/auth/session/refresh"), 1);
    assert_eq!(
        js_sys::Reflect::get(&payload, &"n".into())
            .unwrap()
            .as_f64(),
        Some(2.0)
    );
}
