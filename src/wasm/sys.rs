//! Small browser helpers: cookies, localStorage, clocks, timers, JS object access.

use alloc::borrow::ToOwned;
#[cfg(feature = "compat")]
use alloc::boxed::Box;
use alloc::string::String;

use js_sys::Object;
#[cfg(feature = "compat")]
use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
#[cfg(feature = "compat")]
use wasm_bindgen_futures::JsFuture;

use crate::front_token::FrontTokenError;

#[wasm_bindgen]
extern "C" {
    #[cfg(feature = "compat")]
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: i32) -> JsValue;

    /// A `Request` or a `Response`: one import for the members both have (instead of one per web-sys type).
    #[cfg(feature = "compat")]
    type Message;
    #[cfg(feature = "compat")]
    #[wasm_bindgen(method, getter, js_name = headers)]
    fn message_headers(this: &Message) -> web_sys::Headers;

    /// A `Location` or a `URL`.
    #[cfg(feature = "compat")]
    type Href;
    #[cfg(feature = "compat")]
    #[wasm_bindgen(method, getter, js_name = href)]
    fn href_of(this: &Href) -> String;
}

/// A `static` of the `no_std` (npm) build, where `thread_local!` does not exist; the same `with` as
/// `std::thread::LocalKey`.
#[cfg(not(feature = "std"))]
pub(crate) struct Local<T>(T);

#[cfg(not(feature = "std"))]
impl<T> Local<T> {
    pub(crate) const fn new(value: T) -> Self {
        Local(value)
    }
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

// SAFETY: the no_std build is single-threaded (lib.rs refuses to compile it with the `atomics` target feature),
// so a `Local` is never reached from two threads.
#[cfg(not(feature = "std"))]
#[allow(unsafe_code)]
unsafe impl<T> Sync for Local<T> {}

/// `page_local!(NAME: Type = const_init);`: state of this page (this thread), read with `NAME.with(|v| …)`: a
/// `thread_local!` with std, a [`Local`] static in the no_std build.
macro_rules! page_local {
    ($name:ident: $t:ty = $init:expr) => {
        #[cfg(feature = "std")]
        std::thread_local! {
            static $name: $t = const { $init };
        }
        #[cfg(not(feature = "std"))]
        static $name: $crate::wasm::sys::Local<$t> = $crate::wasm::sys::Local::new($init);
    };
}
pub(crate) use page_local;

/// `JSON.stringify(value)`, `""` where that throws.
pub(crate) fn stringify(value: &JsValue) -> String {
    driver(STRINGIFY, value, &JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

/// `JSON.parse(text)` of a JavaScript string; `None` where that throws (a parse never yields `undefined`).
pub(crate) fn json_parse(text: &JsValue) -> Option<JsValue> {
    let v = driver(PARSE_JSON, text, &JsValue::UNDEFINED);
    if v.is_undefined() { None } else { Some(v) }
}

/// `f(arg)` (`this` undefined); `undefined` where `f` throws or is not a function.
pub(crate) fn call(f: &JsValue, arg: &JsValue) -> JsValue {
    driver(CALL, f, arg)
}

/// `target[name](a, b)`; nothing where that throws or is not a method.
pub(crate) fn call_method(target: &JsValue, name: &str, a: &JsValue, b: &JsValue) {
    let _ = method_result(target, name, a, b);
}

/// `n.toString(radix)` (`radix` 2 to 36).
pub(crate) fn number_text(n: f64, radix: u8) -> String {
    driver(
        NUMBER_TEXT,
        &JsValue::from_f64(n),
        &JsValue::from_f64(f64::from(radix)),
    )
    .as_string()
    .unwrap_or_default()
}

/// `message.headers` of a `Request` or `Response`.
#[cfg(feature = "compat")]
pub(crate) fn headers(message: &JsValue) -> web_sys::Headers {
    message.unchecked_ref::<Message>().message_headers()
}

/// `headers.get(name)` of a `Headers` (`None` where absent; a valid name never throws).
pub(crate) fn header(headers: &JsValue, name: &str) -> Option<String> {
    driver(HEADER, headers, &JsValue::from_str(name)).as_string()
}

/// `headers.set(name, value)` of a `Headers`; its error where that throws (a value that is not ISO-8859-1).
pub(crate) fn set_header(headers: &JsValue, name: &str, value: &str) -> Result<(), JsValue> {
    method_result(headers, "set", &name.into(), &value.into())
}

/// `headers.delete(name)` of a `Headers`; its error where that throws.
pub(crate) fn delete_header(headers: &JsValue, name: &str) -> Result<(), JsValue> {
    method_result(headers, "delete", &name.into(), &JsValue::UNDEFINED)
}

fn method_result(target: &JsValue, name: &str, a: &JsValue, b: &JsValue) -> Result<(), JsValue> {
    let thrown = run(METHOD, target, &JsValue::from_str(name), a, b);
    if thrown.is_undefined() {
        Ok(())
    } else {
        Err(thrown)
    }
}

/// `new Headers()`.
pub(crate) fn new_headers() -> JsValue {
    driver(NEW_HEADERS, &JsValue::UNDEFINED, &JsValue::UNDEFINED)
}

/// `response.status`.
pub(crate) fn status(response: &JsValue) -> u16 {
    get(response, "status").as_f64().unwrap_or(0.0) as u16
}

/// `new URL(url, location.href).href`, or `None` where that throws.
#[cfg(feature = "compat")]
pub(crate) fn absolute_url(url: &str) -> Option<String> {
    let base = href(&window().location());
    web_sys::Url::new_with_base(url, &base)
        .ok()
        .map(|u| href(&u))
}

/// `href` of a `Location` or `URL`.
#[cfg(feature = "compat")]
pub(crate) fn href(location_or_url: &JsValue) -> String {
    location_or_url.unchecked_ref::<Href>().href_of()
}

#[wasm_bindgen]
extern "C" {
    /// `globalThis`: read once (js-sys' `global()` probes four names in turn).
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL: JsValue;
}

pub(crate) fn window() -> web_sys::Window {
    // The crate's browser API only runs in a window (its docs say so); a worker gets a clear JS TypeError here.
    GLOBAL.with(JsValue::clone).unchecked_into()
}

/// `document.cookie` (`""` where there is none or reading it throws).
pub(crate) fn document_cookie() -> String {
    driver(DOCUMENT_COOKIE, &JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

/// Reads one cookie.
pub(crate) fn cookie(name: &str) -> Option<String> {
    crate::cookies::get(&document_cookie(), name).map(str::to_owned)
}

/// Assigns `document.cookie` (nothing where that throws, e.g. in a sandboxed frame).
pub(crate) fn set_document_cookie(s: &str) {
    driver(
        SET_DOCUMENT_COOKIE,
        &JsValue::from_str(s),
        &JsValue::UNDEFINED,
    );
}

#[cfg(feature = "compat")]
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen(module = "/src/wasm/driver.js")]
extern "C" {
    /// `driver.js`'s one entry (one import keeps the glue small): `flow` picks what it does, see `driver::Flow`
    /// and the browser calls below.
    fn run(flow: u32, a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> JsValue;
}

/// [`run`] with two arguments.
pub(crate) fn driver(flow: u32, a: &JsValue, b: &JsValue) -> JsValue {
    run(flow, a, b, &JsValue::UNDEFINED, &JsValue::UNDEFINED)
}

/// `driver.js`'s `run` numbers of the browser calls made through it.
const TAB_CHANNEL: u32 = 8;
const UTC_STRING: u32 = 9;
const CONSOLE_ERROR: u32 = 10;
const STORAGE_NUMBER: u32 = 11;
const URL_PARTS: u32 = 12;
const STORAGE_SET: u32 = 13;
const DOCUMENT_COOKIE: u32 = 14;
const SET_DOCUMENT_COOKIE: u32 = 15;
const NUMBER_TEXT: u32 = 16;
const HOSTNAME: u32 = 17;
const GET: u32 = 18;
const SET: u32 = 19;
const STRINGIFY: u32 = 20;
const PARSE_JSON: u32 = 21;
const CALL: u32 = 22;
const METHOD: u32 = 23;
const HEADER: u32 = 24;
const NEW_HEADERS: u32 = 25;
const BASE64_UTF8: u32 = 26;

/// The text whose UTF-8 bytes `b64` encodes in base64 (standard or URL-safe alphabet, padding optional), as a
/// JavaScript string, decoded by the browser (`atob`, then `TextDecoder` with `fatal`): no bytes cross into the
/// wasm and the wasm carries no base64 decoder. Anything outside the two alphabets and `=` is refused, as
/// `fauna_session_protocol::front_token::base64_decode` refuses it (`atob` alone would skip whitespace); padding
/// the data does not need (`QQ=`) is refused too, which that decoder lets pass. `tests/js/driver.test.mjs` holds
/// it to that decoder's test vectors.
pub(crate) fn base64_utf8_text(b64: &str) -> Result<JsValue, FrontTokenError> {
    let v = driver(BASE64_UTF8, &JsValue::from_str(b64), &JsValue::UNDEFINED);
    if v.is_string() {
        Ok(v)
    } else if v.is_null() {
        Err(FrontTokenError::Utf8)
    } else {
        Err(FrontTokenError::Base64)
    }
}

/// `new BroadcastChannel(name)`, whose messages go to `decide`'s `TAB_MESSAGE`; where there is none, `undefined`,
/// and the window's `storage` events of `storage_key` go there instead (their `newValue`).
pub(crate) fn tab_channel(name: &str, storage_key: &str) -> JsValue {
    driver(
        TAB_CHANNEL,
        &JsValue::from_str(name),
        &JsValue::from_str(storage_key),
    )
}

/// `new Date(ms).toUTCString()`.
pub(crate) fn utc_string(ms: f64) -> String {
    driver(UTC_STRING, &JsValue::from_f64(ms), &JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

/// `console.error(value)`.
pub(crate) fn console_error(value: &JsValue) {
    driver(CONSOLE_ERROR, value, &JsValue::UNDEFINED);
}

/// `parseFloat(localStorage.getItem(key))`: the stored number, NaN without one (or where localStorage is missing
/// or refused, or the item is not a number). One crossing: the text never becomes a Rust string.
pub(crate) fn storage_number(key: &str) -> f64 {
    driver(STORAGE_NUMBER, &JsValue::from_str(key), &JsValue::UNDEFINED)
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// `new URL(url)` read by the browser's URL parser, as the SuperTokens SDK reads URLs: its `hostname`, `port`
/// (empty for the scheme's default) and `pathname`, one space between them (none of the three can hold a space:
/// the parser refuses one in a host and percent-encodes one in a path); `None` where `new URL` throws.
pub(crate) fn url_parts(url: &str) -> Option<String> {
    driver(URL_PARTS, &JsValue::from_str(url), &JsValue::UNDEFINED).as_string()
}

/// `localStorage.setItem(key, value)` (the value as JavaScript makes it a string); nothing where localStorage is
/// missing, refused or full.
pub(crate) fn storage_set(key: &str, value: &JsValue) {
    driver(STORAGE_SET, &JsValue::from_str(key), value);
}

/// The page's host name; for `about:srcdoc`/`about:blank` frames, the host of the origin they inherit (the
/// driver reads `location.hostname`, else `new URL(origin).hostname`; empty for an opaque origin).
pub(crate) fn page_hostname() -> String {
    driver(HOSTNAME, &JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

#[cfg(feature = "compat")]
/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

/// `Reflect.get(obj, key)`; `undefined` where that throws (a getter, a Proxy, `obj` not an object).
pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    driver(GET, obj, &JsValue::from_str(key))
}

/// `Reflect.set(obj, key, value)`; nothing where that throws.
pub(crate) fn set(obj: &JsValue, key: &str, value: &JsValue) {
    run(
        SET,
        obj,
        &JsValue::from_str(key),
        value,
        &JsValue::UNDEFINED,
    );
}

/// A fresh `{}`.
pub(crate) fn object() -> JsValue {
    Object::new().into()
}

/// An `Error` with this message.
pub(crate) fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

#[cfg(feature = "compat")]
/// `err.message` for `Error`s, the string itself for strings, else its JSON text (`5`, `null`, `true`).
pub(crate) fn error_message(err: &JsValue) -> String {
    if let Some(e) = err.dyn_ref::<js_sys::Error>() {
        return e.message().into();
    }
    if let Some(s) = err.as_string() {
        return s;
    }
    stringify(err)
}

/// The one closure shape handed to JavaScript: five arguments (missing ones are `undefined`), a result that
/// throws on `Err`. Every callback uses it, so the wasm and its glue carry one closure adapter, not one per shape.
pub(crate) type Callback =
    dyn Fn(JsValue, JsValue, JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>;

/// Wraps `f` as a JavaScript function that lives as long as the page.
pub(crate) fn callback(
    f: impl Fn(JsValue, JsValue, JsValue, JsValue, JsValue) -> Result<JsValue, JsValue> + 'static,
) -> JsValue {
    Closure::<Callback>::new(f).into_js_value()
}

#[cfg(feature = "compat")]
/// The one future type every spawn site runs as (one instantiation of the executor's generic code).
type Task = core::pin::Pin<Box<dyn core::future::Future<Output = Result<JsValue, JsValue>>>>;

#[cfg(feature = "compat")]
/// Runs `task` to completion as a `Promise` (all spawn sites share one monomorphised executor path).
pub(crate) fn promise(task: Task) -> Promise {
    wasm_bindgen_futures::future_to_promise(task)
}

#[cfg(feature = "compat")]
/// Runs `task` in the background.
pub(crate) fn spawn(task: impl core::future::Future<Output = ()> + 'static) {
    let _ = promise(Box::pin(async move {
        task.await;
        Ok(JsValue::UNDEFINED)
    }));
}

#[cfg(feature = "compat")]
/// Awaits `value` if it is a thenable (`Promise.resolve(value)`).
pub(crate) async fn resolve(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&value)).await
}
