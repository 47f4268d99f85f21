//! Two and four same-origin pages at once (iframes, each loading this test's wasm and calling the exported `init`):
//! all send concurrent requests with an expired access token; the server must see exactly one refresh.
//! Runs with Web Locks and with `navigator.locks` removed (the localStorage lock of the `compat` feature, which the
//! browser tests build with: it is part of the default `std` feature).
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function runFrames(server, n, perFrame, noLocks) {
  return new Promise((resolve, reject) => {
    let ready = 0, done = 0, slowest = 0;
    const frames = [], results = [];
    const onMsg = (ev) => {
      const d = ev.data;
      if (!d || d.fs !== 1) return;
      if (d.type === "ready" && ++ready === n) frames.forEach(f => f.contentWindow.postMessage({ type: "go" }, "*"));
      if (d.type === "error") reject(new Error(d.message));
      if (d.type === "done") {
        results.push(...d.statuses);
        slowest = Math.max(slowest, d.ms);
        if (++done === n) { window.removeEventListener("message", onMsg); frames.forEach(f => f.remove()); resolve({ statuses: results, slowest }); }
      }
    };
    window.addEventListener("message", onMsg);
    // Absolute URLs: a srcdoc frame's base URL is the parent's in Chromium and Firefox, but WebKit resolves a
    // module specifier in it against about:srcdoc, where "/wasm-bindgen-test.js" does not load.
    const origin = location.origin;
    for (let i = 0; i < n; i++) {
      const f = document.createElement("iframe");
      f.srcdoc = `<script type="module">
        ${noLocks ? 'Object.defineProperty(navigator, "locks", { value: undefined, configurable: true });' : ""}
        try {
          const m = await import("${origin}/wasm-bindgen-test.js");
          await m.default({ module_or_path: "${origin}/wasm-bindgen-test_bg.wasm" });
          m.init({ apiDomain: "${server}" });
          window.addEventListener("message", async (ev) => {
            if (!ev.data || ev.data.type !== "go") return;
            const t0 = performance.now();
            const rs = await Promise.all(Array.from({ length: ${perFrame} }, () => fetch("${server}/sessioninfo")));
            parent.postMessage({ fs: 1, type: "done", statuses: rs.map(r => r.status), ms: performance.now() - t0 }, "*");
          });
          parent.postMessage({ fs: 1, type: "ready" }, "*");
        } catch (e) { parent.postMessage({ fs: 1, type: "error", message: String(e) + " " + String(e && e.stack) }, "*"); }
      <\/script>`;
      document.body.appendChild(f);
      frames.push(f);
    }
  });
}
export function hasWebLocks() { return !!navigator.locks; }
export function lockKeyPresent() { return localStorage.getItem("browser-tabs-lock-key-REFRESH_TOKEN_USE") !== null; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = runFrames, catch)]
    async fn run_frames(
        server: &str,
        n: u32,
        per_frame: u32,
        no_locks: bool,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = hasWebLocks)]
    fn has_web_locks() -> bool;
    #[wasm_bindgen(js_name = lockKeyPresent)]
    fn lock_key_present() -> bool;
}

/// `pages` pages (iframes) send `per_page` requests each at once, all with an expired access token: one refresh.
async fn pages_refresh_once(pages: u32, per_page: u32, no_locks: bool) {
    js::init(config(SERVER).unchecked_into()).unwrap();
    let email = random_email();
    let body = sign_up(SERVER, &email).await.unwrap();
    assert_eq!(get(&body, "status").as_string().as_deref(), Some("OK"));
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    let started = js_sys::Date::now();
    let outcome = run_frames(SERVER, pages, per_page, no_locks)
        .await
        .map_err(|e| error_message(&e))
        .unwrap();
    let slowest = get(&outcome, "slowest").as_f64().unwrap();
    let statuses: Vec<u32> = get(&outcome, "statuses")
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|v| v.as_f64().unwrap() as u32)
        .collect();
    assert_eq!(statuses.len() as u32, pages * per_page);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let what = format!(
        "{pages} pages, {} concurrent 401s (no_locks={no_locks}; the slowest page took {slowest:.0} ms)",
        pages * per_page
    );
    assert_one_refresh_per_lifetime(r0, started, &what).await;
    assert!(!lock_key_present(), "the localStorage lock is released");
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn two_pages_with_web_locks_refresh_once() {
    assert!(
        has_web_locks(),
        "127.0.0.1 is a secure context: Web Locks are available"
    );
    pages_refresh_once(2, 20, false).await;
}

#[wasm_bindgen_test]
async fn two_pages_with_the_local_storage_lock_refresh_once() {
    pages_refresh_once(2, 20, true).await;
}

#[wasm_bindgen_test]
async fn four_pages_with_web_locks_refresh_once() {
    pages_refresh_once(4, 10, false).await;
}

/// The localStorage lock (the `compat` feature, without Web Locks): 40 waiters in four pages. A waiter that sees
/// another page's refresh while it waits goes on at once, so none outlives the new 2-second access token.
#[wasm_bindgen_test]
async fn four_pages_with_the_local_storage_lock_refresh_once() {
    pages_refresh_once(4, 10, true).await;
}
