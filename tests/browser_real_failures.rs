//! Failures that don't sign you out, against the real server binary: its refresh answered 429 by its per-IP rate
//! limit, 503 when Fauna (the emulator, told to fail) cannot mint the session's Fauna token, and no answer at all
//! while the server is killed — then the same server restarted on its address and database. Whatever the failure,
//! the session stays, `UNAUTHORISED` is not fired, the caller gets the failure, and the next request tries again.
//! (A refresh answered 500 is in `browser_failures.rs`, scripted: the server has no honest way to answer 500.)
//!
//! The extra servers come from `tests/support/servers.py`, which `scripts/browser-test.sh` starts and passes at
//! compile time as `FAUNA_SESSION_TEST_SERVERS`; the emulator's URL comes as `FAUNA_SESSION_TEST_FAUNA`.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVERS: Option<&str> = option_env!("FAUNA_SESSION_TEST_SERVERS");
const FAUNA: Option<&str> = option_env!("FAUNA_SESSION_TEST_FAUNA");

#[wasm_bindgen(inline_js = r#"
let refreshCalls = 0;
export function countRefreshes(config) {
  config.preAPIHook = (ctx) => {
    if (ctx.action === "REFRESH_SESSION") refreshCalls++;
    return { url: ctx.url, requestInit: ctx.requestInit };
  };
}
export function refreshCalls_() { return refreshCalls; }
export async function control(base, profile, action) {
  const r = await fetch(base + "/servers/" + profile + "/" + action + "?superTokensDoNotDoInterception", { method: "POST" });
  const body = await r.json();
  if (r.status !== 200) throw new Error(profile + " " + action + ": " + JSON.stringify(body));
  return body.url;
}
export async function faunaFault(fauna, body) {
  const r = await fetch(fauna + "/_emulator/fault?superTokensDoNotDoInterception", {
    method: "POST",
    headers: { authorization: "Bearer secret", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error("fault: " + r.status + " " + (await r.text()));
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = countRefreshes)]
    fn count_refreshes(config: &JsValue);
    #[wasm_bindgen(js_name = refreshCalls_)]
    fn refresh_calls() -> u32;
    #[wasm_bindgen(catch)]
    async fn control(base: &str, profile: &str, action: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = faunaFault, catch)]
    async fn fauna_fault(fauna: &str, body: &JsValue) -> Result<JsValue, JsValue>;
}

fn servers() -> &'static str {
    SERVERS.expect(
        "run the browser tests with scripts/browser-test.sh (it starts tests/support/servers.py)",
    )
}

async fn start(profile: &str) -> String {
    control(servers(), profile, "start")
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .as_string()
        .unwrap()
}

async fn kill(profile: &str) {
    control(servers(), profile, "kill")
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
}

/// This page signed up on `api` (refresh calls counted, events recorded from here on); returns the user id.
async fn signed_up(api: &str) -> String {
    let c = config(api);
    count_refreshes(&c);
    js::init(c.unchecked_into()).unwrap();
    let body = sign_up(api, &random_email()).await.unwrap();
    assert_eq!(get(&body, "status").as_string().as_deref(), Some("OK"));
    clear_events();
    api::get_user_id().await.unwrap()
}

/// Err unless the session is still here and nothing said it ended.
fn session_kept(what: &str) -> Result<(), String> {
    if !cookie_names().iter().any(|c| c == "sFrontToken") {
        return Err(format!("{what}: the session is gone"));
    }
    let events = event_actions();
    if events
        .iter()
        .any(|a| a == "UNAUTHORISED" || a == "SIGN_OUT")
    {
        return Err(format!("{what}: the session was said to end: {events:?}"));
    }
    Ok(())
}

async fn response(url: &str) -> Result<web_sys::Response, String> {
    call_fetch(url, &JsValue::UNDEFINED)
        .await
        .map_err(|e| error_message(&e))?
        .dyn_into()
        .map_err(|_| "not a Response".to_string())
}

/// With the access token expired, two requests in a row: each one's refresh is answered `status`, which the
/// caller gets; one refresh per request (no loop), and the session stays. Err instead of a panic, so that the
/// caller can undo what made the server fail first.
async fn refresh_fails_then_tries_again(api: &str, status: u16, what: &str) -> Result<(), String> {
    let before = refresh_calls();
    for attempt in 1..=2 {
        let got = response(&format!("{api}/sessioninfo")).await?.status();
        if got != status {
            return Err(format!(
                "{what}: request {attempt} got {got}, not the refresh's {status}"
            ));
        }
        let calls = refresh_calls() - before;
        if calls != attempt {
            return Err(format!(
                "{what}: {calls} refreshes after {attempt} requests"
            ));
        }
        session_kept(what)?;
    }
    Ok(())
}

/// The session's user as the server sees it (`GET /sessioninfo` answers 200 and names it).
async fn server_knows(api: &str, user: &str, what: &str) {
    let r = response(&format!("{api}/sessioninfo")).await.unwrap();
    assert_eq!(r.status(), 200, "{what}");
    let text = wasm_bindgen_futures::JsFuture::from(r.text().unwrap())
        .await
        .unwrap();
    assert!(
        text.as_string().unwrap().contains(user),
        "{what}: the same session: {text:?}"
    );
}

#[wasm_bindgen_test]
async fn a_killed_server_keeps_the_session_and_the_restarted_one_refreshes_it() {
    let api = start("restartable").await;
    let user = signed_up(&api).await;
    sleep(PAST_EXPIRY_MS).await;
    kill("restartable").await;
    // Requests fail with the network error (no 401, so no refresh); a refresh fails the same way. Neither ends
    // the session, and each refresh is tried anew.
    let before = refresh_calls();
    for attempt in 1..=2 {
        let e = api::attempt_refreshing_session().await.unwrap_err();
        assert!(
            e.is_instance_of::<js_sys::Error>(),
            "the caller gets the network error: {e:?}"
        );
        assert_eq!(refresh_calls() - before, attempt, "one refresh per call");
        session_kept("server killed").unwrap();
        let e = response(&format!("{api}/sessioninfo")).await.unwrap_err();
        assert!(!e.is_empty());
        session_kept("server killed, a request").unwrap();
    }
    assert_eq!(start("restartable").await, api, "the same address");
    let before = refresh_calls();
    server_knows(&api, &user, "refreshed by the restarted server").await;
    assert_eq!(refresh_calls() - before, 1);
    session_kept("restarted").unwrap();
    let refreshed = event_actions()
        .iter()
        .filter(|a| *a == "REFRESH_SESSION")
        .count();
    assert_eq!(refreshed, 1, "{:?}", event_actions());
    api::sign_out().await.unwrap();
    kill("restartable").await;
}

#[wasm_bindgen_test]
async fn a_refresh_answered_429_by_the_rate_limit_keeps_the_session() {
    let api = start("refresh-limited").await;
    let user = signed_up(&api).await;
    // The server allows one refresh a minute from this IP: spend it (it may already be spent).
    let _ = api::attempt_refreshing_session().await;
    sleep(PAST_EXPIRY_MS).await;
    let failed = refresh_fails_then_tries_again(&api, 429, "429").await;
    // The limit is the server's memory: a restart lifts it, and the same session refreshes.
    kill("refresh-limited").await;
    failed.unwrap();
    start("refresh-limited").await;
    server_knows(&api, &user, "after the restart").await;
    session_kept("429, then refreshed").unwrap();
    api::sign_out().await.unwrap();
    kill("refresh-limited").await;
}

#[wasm_bindgen_test]
async fn a_refresh_answered_503_when_fauna_fails_keeps_the_session() {
    let fauna = FAUNA.expect(
        "run the browser tests with scripts/browser-test.sh (it starts the Fauna emulator)",
    );
    let user = signed_up(SERVER).await;
    sleep(PAST_EXPIRY_MS).await;
    let fault = object();
    set(&fault, "status", 503);
    set(&fault, "count", 100);
    fauna_fault(fauna, &fault)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    let failed = refresh_fails_then_tries_again(SERVER, 503, "fauna failing").await;
    let clear = object();
    set(&clear, "count", 0);
    fauna_fault(fauna, &clear)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    failed.unwrap();
    server_knows(SERVER, &user, "Fauna back: the next request refreshes").await;
    session_kept("503, then refreshed").unwrap();
    api::sign_out().await.unwrap();
}
