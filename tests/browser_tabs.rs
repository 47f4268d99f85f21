//! Tabs that agree: same-origin pages (iframes, each loading this test's wasm and calling the exported `init`)
//! hear of a new session, a sign-out, a refresh and an `UNAUTHORISED` (the session ended on the server) in another
//! page within a second, each firing the matching event exactly once, and follow it (no session; the new tokens,
//! without a refresh of their own). Two and four pages with `BroadcastChannel`, and with it removed (the
//! `storage`-event fallback).
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function eventsList() { return (globalThis.__events ||= []).slice(); }
let frames = [];
const waiters = {};
window.addEventListener("message", (ev) => {
  const d = ev.data;
  if (!d || d.fs !== 2) return;
  const w = waiters[d.id];
  if (w) { delete waiters[d.id]; d.type === "error" ? w.reject(new Error(d.message)) : w.resolve(d.value); }
});
let next = 0;
function ask(frame, type, arg) {
  const id = ++next;
  return new Promise((resolve, reject) => {
    waiters[id] = { resolve, reject };
    frame.contentWindow.postMessage({ fs: 2, id, type, arg }, "*");
  });
}
export function openFrames(server, n, noBroadcast) {
  frames.forEach((f) => f.remove());
  frames = [];
  const origin = location.origin;
  const loads = [];
  for (let i = 0; i < n; i++) {
    const f = document.createElement("iframe");
    // Absolute URLs: WebKit resolves module specifiers in a srcdoc frame against about:srcdoc.
    f.srcdoc = `<script type="module">
      ${noBroadcast ? "delete window.BroadcastChannel;" : ""}
      const events = [];
      const revoked = [];
      let m;
      window.addEventListener("message", async (ev) => {
        const d = ev.data;
        if (!d || d.fs !== 2) return;
        const reply = (value) => parent.postMessage({ fs: 2, id: d.id, value }, "*");
        try {
          if (d.type === "start") {
            m = await import("${origin}/wasm-bindgen-test.js");
            await m.default({ module_or_path: "${origin}/wasm-bindgen-test_bg.wasm" });
            m.init({ apiDomain: "${server}", onHandleEvent: (e) => {
              events.push(e.action);
              if (e.action === "UNAUTHORISED") revoked.push(e.sessionExpiredOrRevoked);
            } });
            reply(true);
          }
          if (d.type === "events") reply(events.slice());
          if (d.type === "revoked") reply(revoked.slice());
          if (d.type === "signOut") { await m.signOut(); reply(true); }
          if (d.type === "status") { const r = await fetch("${server}" + d.arg); reply(r.status); }
          if (d.type === "exists") reply(await m.doesSessionExist());
          if (d.type === "signUp") {
            const body = JSON.stringify({ formFields: [{ id: "email", value: d.arg }, { id: "password", value: "correct horse 9" }] });
            const r = await fetch("${server}/auth/signup", { method: "POST", headers: { "content-type": "application/json" }, body });
            reply((await r.json()).status);
          }
        } catch (e) { parent.postMessage({ fs: 2, id: d.id, type: "error", message: String(e) + " " + String(e && e.stack) }, "*"); }
      });
    <\/script>`;
    loads.push(new Promise((r) => f.addEventListener("load", r, { once: true })));
    document.body.appendChild(f);
    frames.push(f);
  }
  return Promise.all(loads).then(() => Promise.all(frames.map((f) => ask(f, "start"))));
}
export function frameEvents() { return Promise.all(frames.map((f) => ask(f, "events"))); }
export function frameRevoked() { return Promise.all(frames.map((f) => ask(f, "revoked"))).then(JSON.stringify); }
export function frameSignOut(i) { return ask(frames[i], "signOut"); }
export function frameSignUp(i, email) { return ask(frames[i], "signUp", email); }
export function frameStatus(i, path) { return ask(frames[i], "status", path); }
export function frameExists(i) { return ask(frames[i], "exists"); }
// Ends `email`'s sessions on the server from elsewhere, leaving this browser's cookies as they are: a second
// session signed in without cookies (header mode) lists the user's sessions and deletes the others.
export async function revokeElsewhere(server, email) {
  const nx = "?superTokensDoNotDoInterception";
  const body = JSON.stringify({ formFields: [{ id: "email", value: email }, { id: "password", value: "correct horse 9" }] });
  const r = await fetch(server + "/auth/signin" + nx, { method: "POST", credentials: "omit", headers: { "content-type": "application/json", "st-auth-mode": "header" }, body });
  const token = r.headers.get("st-access-token");
  if (!token) throw new Error("sign-in from elsewhere gave no access token: " + r.status);
  const auth = { authorization: "Bearer " + token };
  const list = await (await fetch(server + "/auth/sessions" + nx, { credentials: "omit", headers: auth })).json();
  let ended = 0;
  for (const s of list.sessions.filter((s) => !s.current)) {
    const d = await fetch(server + "/auth/sessions/" + encodeURIComponent(s.sessionHandle) + nx, { method: "DELETE", credentials: "omit", headers: auth });
    if (d.status !== 200) throw new Error("ending a session answered " + d.status);
    ended++;
  }
  return ended;
}
export function closeFrames() { frames.forEach((f) => f.remove()); frames = []; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = openFrames, catch)]
    async fn open_frames(server: &str, n: u32, no_broadcast: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameEvents, catch)]
    async fn frame_events_js() -> Result<JsValue, JsValue>;
    /// Each frame's `sessionExpiredOrRevoked` of its `UNAUTHORISED` events, as JSON.
    #[wasm_bindgen(js_name = frameRevoked, catch)]
    async fn frame_revoked_js() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameSignOut, catch)]
    async fn frame_sign_out(i: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameSignUp, catch)]
    async fn frame_sign_up(i: u32, email: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameStatus, catch)]
    async fn frame_status_js(i: u32, path: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameExists, catch)]
    async fn frame_exists_js(i: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = revokeElsewhere, catch)]
    async fn revoke_elsewhere(server: &str, email: &str) -> Result<JsValue, JsValue>;
    /// This page's recorded events (the objects).
    #[wasm_bindgen(js_name = eventsList)]
    fn events_list() -> Vec<JsValue>;
    #[wasm_bindgen(js_name = closeFrames)]
    fn close_frames();
}

async fn frame_events() -> Vec<Vec<String>> {
    frame_events_js()
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|list| {
            list.unchecked_into::<js_sys::Array>()
                .iter()
                .map(|a| a.as_string().unwrap())
                .collect()
        })
        .collect()
}

/// Polls (at most 1 s) until every frame but `skip` has seen `expected`; returns what each saw.
async fn within_a_second(expected: &[&str], skip: Option<usize>) -> Vec<Vec<String>> {
    let mut seen = frame_events().await;
    for _ in 0..10 {
        let done = seen
            .iter()
            .enumerate()
            .all(|(i, e)| Some(i) == skip || e == expected);
        if done {
            break;
        }
        sleep(100).await;
        seen = frame_events().await;
    }
    seen
}

async fn pages_follow_a_session(n: u32) {
    js::init(config(SERVER).unchecked_into()).unwrap();
    clear_frontend_cookies();
    open_frames(SERVER, n, false)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    clear_events();
    // This page signs up: every frame hears of the new session, once.
    let body = sign_up(SERVER, &random_email()).await.unwrap();
    assert_eq!(get(&body, "status").as_string().as_deref(), Some("OK"));
    assert_eq!(event_actions(), ["SESSION_CREATED"]);
    let seen = within_a_second(&["SESSION_CREATED"], None).await;
    assert!(seen.iter().all(|e| e == &["SESSION_CREATED"]), "{seen:?}");
    // Frame 0 signs out: this page and the other frames hear of it, once each.
    frame_sign_out(0).await.unwrap();
    let seen = within_a_second(&["SESSION_CREATED", "SIGN_OUT"], None).await;
    assert!(
        seen.iter().all(|e| e == &["SESSION_CREATED", "SIGN_OUT"]),
        "{n} frames: {seen:?}"
    );
    for _ in 0..10 {
        if event_actions().len() >= 2 {
            break;
        }
        sleep(100).await;
    }
    assert_eq!(
        event_actions(),
        ["SESSION_CREATED", "SIGN_OUT"],
        "this page"
    );
    assert!(
        !api::does_session_exist().await.unwrap(),
        "the session is gone here too"
    );
    close_frames();
}

#[wasm_bindgen_test]
async fn two_pages_follow_a_sign_in_and_a_sign_out() {
    pages_follow_a_session(1).await;
}

#[wasm_bindgen_test]
async fn four_pages_follow_a_sign_in_and_a_sign_out() {
    pages_follow_a_session(3).await;
}

#[wasm_bindgen_test]
async fn without_broadcast_channel_storage_events_carry_the_news() {
    js::init(config(SERVER).unchecked_into()).unwrap();
    clear_frontend_cookies();
    open_frames(SERVER, 3, true)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    let status = frame_sign_up(0, &random_email()).await.unwrap();
    assert_eq!(status.as_string().as_deref(), Some("OK"));
    let seen = within_a_second(&["SESSION_CREATED"], None).await;
    assert!(seen.iter().all(|e| e == &["SESSION_CREATED"]), "{seen:?}");
    frame_sign_out(1).await.unwrap();
    let seen = within_a_second(&["SESSION_CREATED", "SIGN_OUT"], None).await;
    assert!(
        seen.iter().all(|e| e == &["SESSION_CREATED", "SIGN_OUT"]),
        "{seen:?}"
    );
    close_frames();
}

async fn frame_revoked() -> String {
    frame_revoked_js()
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .as_string()
        .unwrap()
}

async fn frame_status(i: u32, path: &str) -> u16 {
    frame_status_js(i, path)
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .as_f64()
        .unwrap() as u16
}

async fn frame_exists(i: u32) -> bool {
    frame_exists_js(i)
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .as_bool()
        .unwrap()
}

/// Every frame but `skip` (and this page, if `this_page`) fires `expected` within a second, and exactly that:
/// 300 ms later nothing more has arrived (no second copy of a message).
async fn every_page_fires_once(
    expected: &[&str],
    skip: Option<usize>,
    this_page: bool,
    what: &str,
) {
    let all_done = |seen: &[Vec<String>]| {
        seen.iter()
            .enumerate()
            .all(|(i, e)| Some(i) == skip || e == expected)
            && (!this_page || event_actions() == expected)
    };
    let mut seen = frame_events().await;
    for _ in 0..10 {
        if all_done(&seen) {
            break;
        }
        sleep(100).await;
        seen = frame_events().await;
    }
    assert!(
        all_done(&seen),
        "{what}: within a second: {seen:?}, this page {:?}",
        event_actions()
    );
    sleep(300).await;
    let seen = frame_events().await;
    assert!(
        all_done(&seen),
        "{what}: once: {seen:?}, this page {:?}",
        event_actions()
    );
}

/// `frames` frames (plus this page when `this_page`) with one session, made by frame 0; returns its email.
async fn pages_with_a_session(frames: u32, no_broadcast: bool, this_page: bool) -> String {
    js::init(config(SERVER).unchecked_into()).unwrap();
    clear_frontend_cookies();
    // A session an earlier test left (its HttpOnly cookies) would be found by the first request: end it first.
    if api::does_session_exist().await.unwrap() {
        api::sign_out().await.unwrap();
    }
    open_frames(SERVER, frames, no_broadcast)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    clear_events();
    let email = random_email();
    let status = frame_sign_up(0, &email).await.unwrap();
    assert_eq!(status.as_string().as_deref(), Some("OK"));
    every_page_fires_once(&["SESSION_CREATED"], None, this_page, "new session").await;
    email
}

/// The access token has expired; frame 0's request refreshes it. Every other page fires `REFRESH_SESSION` once and
/// uses the new tokens without a refresh of its own: the server counts one refresh in all.
async fn pages_follow_a_refresh(frames: u32, no_broadcast: bool) {
    let this_page = !no_broadcast;
    pages_with_a_session(frames, no_broadcast, this_page).await;
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    assert_eq!(frame_status(0, "/sessioninfo").await, 200);
    assert_eq!(refreshes().await - r0, 1.0, "frame 0 refreshed");
    let what = format!("{frames} frames, no_broadcast={no_broadcast}: refresh");
    every_page_fires_once(
        &["SESSION_CREATED", "REFRESH_SESSION"],
        Some(0),
        this_page,
        &what,
    )
    .await;
    for i in 1..frames {
        assert_eq!(frame_status(i, "/sessioninfo").await, 200, "frame {i}");
    }
    if this_page {
        assert_eq!(status("/sessioninfo").await, 200, "this page");
    }
    assert_eq!(
        refreshes().await - r0,
        1.0,
        "{what}: the other pages did not refresh"
    );
    frame_sign_out(0).await.unwrap();
    close_frames();
}

/// The session is ended on the server from elsewhere; frame 0's next request meets it (its refresh is answered
/// 401): every page fires `UNAUTHORISED` once and has no session. A logged-out page's own 401 later is its own
/// business: the others do not hear of it.
async fn pages_follow_an_unauthorised(frames: u32, no_broadcast: bool) {
    let this_page = !no_broadcast;
    let email = pages_with_a_session(frames, no_broadcast, this_page).await;
    let ended = revoke_elsewhere(SERVER, &email)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    assert_eq!(ended.as_f64(), Some(1.0), "one session ended on the server");
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    assert_eq!(
        frame_status(0, "/sessioninfo").await,
        401,
        "frame 0 gets the refresh's 401"
    );
    assert_eq!(refreshes().await - r0, 1.0);
    let what = format!("{frames} frames, no_broadcast={no_broadcast}: unauthorised");
    every_page_fires_once(&["SESSION_CREATED", "UNAUTHORISED"], None, this_page, &what).await;
    // Every page hears that the server ended the session (`sessionExpiredOrRevoked: true`), as frame 0 saw it.
    let all_revoked = format!("[{}]", vec!["[true]"; frames as usize].join(","));
    assert_eq!(frame_revoked().await, all_revoked, "{what}");
    if this_page {
        let flag = get(&events_list().pop().unwrap(), "sessionExpiredOrRevoked");
        assert_eq!(flag.as_bool(), Some(true), "{what}: this page");
    }
    for i in 0..frames {
        assert!(!frame_exists(i).await, "{what}: frame {i} has no session");
    }
    if this_page {
        assert!(
            !api::does_session_exist().await.unwrap(),
            "{what}: this page has no session"
        );
    }
    if frames > 1 {
        assert_eq!(frame_status(1, "/sessioninfo").await, 401);
        let seen = frame_events().await;
        assert_eq!(
            seen[1],
            ["SESSION_CREATED", "UNAUTHORISED", "UNAUTHORISED"],
            "{what}: frame 1's own 401"
        );
        // Its own 401, made while it knew the session gone, is `sessionExpiredOrRevoked: false` (as in the
        // SuperTokens SDK), and only its own.
        let mut want: Vec<&str> = vec!["[true]"; frames as usize];
        want[1] = "[true,false]";
        assert_eq!(
            frame_revoked().await,
            format!("[{}]", want.join(",")),
            "{what}"
        );
        every_page_fires_once(
            &["SESSION_CREATED", "UNAUTHORISED"],
            Some(1),
            this_page,
            &what,
        )
        .await;
    }
    assert_eq!(refreshes().await - r0, 1.0, "{what}: one refresh in all");
    close_frames();
}

#[wasm_bindgen_test]
async fn two_pages_follow_a_refresh() {
    pages_follow_a_refresh(1, false).await;
}

#[wasm_bindgen_test]
async fn four_pages_follow_a_refresh() {
    pages_follow_a_refresh(3, false).await;
}

#[wasm_bindgen_test]
async fn two_pages_follow_an_unauthorised() {
    pages_follow_an_unauthorised(1, false).await;
}

#[wasm_bindgen_test]
async fn four_pages_follow_an_unauthorised() {
    pages_follow_an_unauthorised(3, false).await;
}

#[wasm_bindgen_test]
async fn without_broadcast_channel_four_pages_follow_a_refresh_and_an_unauthorised() {
    pages_follow_a_refresh(4, true).await;
    pages_follow_an_unauthorised(4, true).await;
}

#[wasm_bindgen_test]
async fn without_broadcast_channel_two_pages_follow_a_new_session_and_an_unauthorised() {
    pages_follow_an_unauthorised(2, true).await;
}
