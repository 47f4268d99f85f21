//! Interception you can scope and opt out of, against the real `fauna-session-server` (2-second access tokens):
//! `init({ patchGlobals: false })` leaves `window.fetch` alone and the exported `sessionFetch` does the session
//! handling; `interceptUrl` narrows which in-scope URLs get it. Its own test binary: a page once patched stays so.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;
#[path = "shared/scope_cases.rs"]
mod scope_cases;

use common::*;
use fauna_session::{js, scope};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const nativeFetch = window.fetch;
export function fetchIsNative() { return window.fetch === nativeFetch; }
export function interceptAllBut(suffix) { return (url) => !url.endsWith(suffix); }
export function throwingHook() { return () => { throw new Error("app bug"); }; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = fetchIsNative)]
    fn fetch_is_native() -> bool;
    #[wasm_bindgen(js_name = interceptAllBut)]
    fn intercept_all_but(suffix: &str) -> JsValue;
    #[wasm_bindgen(js_name = throwingHook)]
    fn throwing_hook() -> JsValue;
}

/// The native tests' scoping tables, here with the URL parser `scope` uses in a browser: the browser's own
/// (`new URL`, as the SuperTokens SDK reads URLs). Both parsers give every answer of the tables.
#[wasm_bindgen_test]
fn scoping_tables_with_the_browsers_url_parser() {
    scope_cases::check_all();
}

/// Where the browser's parser reads more than the native one, the answers are the SuperTokens SDK's: IDNA host
/// names, percent-encoded paths.
#[wasm_bindgen_test]
fn the_browsers_url_parser_answers_as_the_sdk() {
    assert_eq!(
        scope::normalise_url_domain("https://B\u{dc}cher.example/x").as_deref(),
        Ok("https://xn--bcher-kva.example")
    );
    assert_eq!(
        scope::normalise_session_scope(".B\u{dc}cher.example").as_deref(),
        Ok(".xn--bcher-kva.example")
    );
    assert_eq!(
        scope::normalise_url_path("/my path/").as_deref(),
        Ok("/my%20path")
    );
    assert_eq!(
        scope::should_intercept(
            "https://b\u{fc}cher.example/x",
            "https://xn--bcher-kva.example",
            None
        ),
        Ok(true)
    );
}

async fn session_fetch_status(path: &str, init: &JsValue) -> u16 {
    await_promise(js::session_fetch(
        JsValue::from_str(&url(path)),
        init.clone(),
    ))
    .await
    .map_err(|e| error_message(&e))
    .unwrap()
    .unchecked_into::<web_sys::Response>()
    .status()
}

fn sign_up_init(email: &str) -> JsValue {
    let body = format!(
        r#"{{"formFields":[{{"id":"email","value":"{email}"}},{{"id":"password","value":"correct horse 9"}}]}}"#
    );
    let init = object();
    set(&init, "method", "POST");
    let headers = object();
    set(&headers, "content-type", "application/json");
    set(&init, "headers", headers);
    set(&init, "body", body);
    init
}

#[wasm_bindgen_test]
async fn patch_globals_false_and_session_fetch_then_intercept_url() {
    let c = config(SERVER);
    set(&c, "patchGlobals", false);
    js::init(c.unchecked_into()).unwrap();
    assert!(
        fetch_is_native(),
        "patchGlobals: false leaves window.fetch alone"
    );
    assert_eq!(
        session_fetch_status("/auth/signup", &sign_up_init(&random_email())).await,
        200
    );
    assert!(
        api::does_session_exist().await.unwrap(),
        "sessionFetch stored the new session"
    );
    sleep(PAST_EXPIRY_MS).await;
    // window.fetch is the browser's: no refresh, the 401 as it is.
    let r0 = refreshes().await;
    assert_eq!(status("/sessioninfo").await, 401);
    assert_eq!(refreshes().await - r0, 0.0);
    // sessionFetch refreshes once and retries.
    assert_eq!(
        session_fetch_status("/sessioninfo", &JsValue::UNDEFINED).await,
        200
    );
    assert_eq!(refreshes().await - r0, 1.0);

    // interceptUrl narrows the scope: /sessioninfo is left alone, so its 401 is not refreshed.
    let c = config(SERVER);
    set(&c, "patchGlobals", false);
    set(&c, "interceptUrl", intercept_all_but("/sessioninfo"));
    js::init(c.unchecked_into()).unwrap();
    sleep(PAST_EXPIRY_MS).await;
    let r0 = refreshes().await;
    assert_eq!(
        session_fetch_status("/sessioninfo", &JsValue::UNDEFINED).await,
        401
    );
    assert_eq!(
        refreshes().await - r0,
        0.0,
        "out of the app's scope: untouched"
    );
    // A hook that throws is "do not intercept", never a failed request.
    let c = config(SERVER);
    set(&c, "patchGlobals", false);
    set(&c, "interceptUrl", throwing_hook());
    js::init(c.unchecked_into()).unwrap();
    assert_eq!(
        session_fetch_status("/sessioninfo", &JsValue::UNDEFINED).await,
        401
    );
    assert_eq!(refreshes().await - r0, 0.0);
    // Back in scope: the same request refreshes once.
    js::init(config(SERVER).unchecked_into()).unwrap();
    assert_eq!(
        session_fetch_status("/sessioninfo", &JsValue::UNDEFINED).await,
        200
    );
    assert_eq!(refreshes().await - r0, 1.0);
    api::sign_out().await.unwrap();
}
