//! Tabs that agree: same-origin pages (iframes, each loading this test's wasm and calling the exported `init`)
//! hear of a new session and of a sign-out in another page within a second, each firing the matching event once.
//! With `BroadcastChannel` (two and four pages plus this one), and with it removed (the `storage`-event fallback).
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
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
      let m;
      window.addEventListener("message", async (ev) => {
        const d = ev.data;
        if (!d || d.fs !== 2) return;
        const reply = (value) => parent.postMessage({ fs: 2, id: d.id, value }, "*");
        try {
          if (d.type === "start") {
            m = await import("${origin}/wasm-bindgen-test.js");
            await m.default({ module_or_path: "${origin}/wasm-bindgen-test_bg.wasm" });
            m.init({ apiDomain: "${server}", onHandleEvent: (e) => events.push(e.action) });
            reply(true);
          }
          if (d.type === "events") reply(events.slice());
          if (d.type === "signOut") { await m.signOut(); reply(true); }
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
export function frameSignOut(i) { return ask(frames[i], "signOut"); }
export function frameSignUp(i, email) { return ask(frames[i], "signUp", email); }
export function closeFrames() { frames.forEach((f) => f.remove()); frames = []; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = openFrames, catch)]
    async fn open_frames(server: &str, n: u32, no_broadcast: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameEvents, catch)]
    async fn frame_events_js() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameSignOut, catch)]
    async fn frame_sign_out(i: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = frameSignUp, catch)]
    async fn frame_sign_up(i: u32, email: &str) -> Result<JsValue, JsValue>;
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
