//! Small browser helpers: cookies, localStorage, clocks, timers, JS object access.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(
    inline_js = "export function utf8(b) { try { return new TextDecoder(\"utf-8\", { fatal: true }).decode(b) } catch {} }"
)]
extern "C" {
    /// `new TextDecoder("utf-8", { fatal: true }).decode(bytes)`, or `undefined` for bytes that are not UTF-8.
    #[wasm_bindgen(js_name = utf8)]
    fn utf8_or_undefined(bytes: &[u8]) -> JsValue;
}

/// The UTF-8 text of `bytes` as a JavaScript string (the browser's decoder); `None` if they are not UTF-8.
pub(crate) fn utf8_text(bytes: &[u8]) -> Option<JsValue> {
    let v = utf8_or_undefined(bytes);
    if v.is_undefined() { None } else { Some(v) }
}

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks.request(name, options, callback)`: our own binding (web-sys gates Web Locks behind an
    /// unstable cfg).
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    pub(crate) fn locks_request(
        name: &str,
        options: &JsValue,
        callback: &Function,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: i32) -> JsValue;

    /// A `Request` or a `Response`: one import for the members both have (instead of one per web-sys type).
    type Message;
    #[wasm_bindgen(method, catch, js_name = clone)]
    fn clone_message(this: &Message) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, js_name = headers)]
    fn message_headers(this: &Message) -> web_sys::Headers;

    /// `JSON.parse(text)` of a JavaScript string, kept in JavaScript.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub(crate) fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;

    /// A `Location` or a `URL`.
    type Href;
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

page_local!(NATIVE_FETCH: core::cell::RefCell<Option<Function>> = core::cell::RefCell::new(None));

/// Saves `window.fetch` as it is now (before we patch it), once per page: the refresh call and every request
/// the interceptor forwards go through it.
pub(crate) fn save_native_fetch() {
    NATIVE_FETCH.with(|f| {
        if f.borrow().is_none() {
            let window = window();
            let fetch: Function = get(&window, "fetch").unchecked_into();
            *f.borrow_mut() = Some(fetch.bind0(&window));
        }
    });
}

/// Calls the saved native `fetch(input, init)` and awaits its `Response`.
pub(crate) async fn native_fetch(
    input: &JsValue,
    init: &JsValue,
) -> Result<web_sys::Response, JsValue> {
    let fetch = NATIVE_FETCH
        .with(|f| f.borrow().clone())
        .ok_or_else(|| js_error("fetch was not saved"))?;
    let p: Promise = fetch
        .call2(&JsValue::UNDEFINED, input, init)?
        .unchecked_into();
    JsFuture::from(p)
        .await?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| js_error("fetch did not resolve with a Response"))
}

/// `JSON.stringify(value)`, `""` where that throws.
pub(crate) fn stringify(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// `n.toString(radix)`.
pub(crate) fn number_text(n: f64, radix: u8) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(radix)
        .map(String::from)
        .unwrap_or_default()
}

/// `message.clone()` of a `Request` or `Response`.
pub(crate) fn clone_message(message: &JsValue) -> Result<JsValue, JsValue> {
    message.unchecked_ref::<Message>().clone_message()
}

/// `message.headers` of a `Request` or `Response`.
pub(crate) fn headers(message: &JsValue) -> web_sys::Headers {
    message.unchecked_ref::<Message>().message_headers()
}

/// `new URL(url, location.href).href`, or `None` where that throws.
pub(crate) fn absolute_url(url: &str) -> Option<String> {
    let base = href(&window().location());
    web_sys::Url::new_with_base(url, &base)
        .ok()
        .map(|u| href(&u))
}

/// `href` of a `Location` or `URL`.
pub(crate) fn href(location_or_url: &JsValue) -> String {
    location_or_url.unchecked_ref::<Href>().href_of()
}

pub(crate) fn window() -> web_sys::Window {
    // The crate's browser API only runs in a window (its docs say so); a worker gets a clear JS TypeError here.
    js_sys::global().unchecked_into()
}

fn html_document() -> Option<web_sys::HtmlDocument> {
    // `cookie` is a member of every `Document`; no `instanceof HTMLDocument` check (one import less).
    Some(window().document()?.unchecked_into())
}

/// `document.cookie`.
pub(crate) fn document_cookie() -> String {
    html_document()
        .and_then(|d| d.cookie().ok())
        .unwrap_or_default()
}

/// Reads one cookie.
pub(crate) fn cookie(name: &str) -> Option<String> {
    crate::cookies::get(&document_cookie(), name).map(str::to_owned)
}

/// Assigns `document.cookie`.
pub(crate) fn set_document_cookie(s: &str) {
    if let Some(d) = html_document() {
        let _ = d.set_cookie(s);
    }
}

pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `new Date(ms).toUTCString()`.
pub(crate) fn utc_string(ms: f64) -> String {
    js_sys::Date::new(&JsValue::from_f64(ms))
        .to_utc_string()
        .into()
}

/// The page's host name; for `about:srcdoc`/`about:blank` frames, the host of the origin they inherit.
pub(crate) fn page_hostname() -> String {
    let host = window().location().hostname().unwrap_or_default();
    if !host.is_empty() {
        return host;
    }
    get(&window(), "origin")
        .as_string()
        .and_then(|o| crate::scope::hostname(&o))
        .unwrap_or_default()
}

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

pub(crate) fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// A fresh `{}`.
pub(crate) fn object() -> JsValue {
    Object::new().into()
}

/// An `Error` with this message.
pub(crate) fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

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

/// The one future type every spawn site runs as (one instantiation of the executor's generic code).
type Task = core::pin::Pin<Box<dyn core::future::Future<Output = Result<JsValue, JsValue>>>>;

/// Runs `task` to completion as a `Promise` (all spawn sites share one monomorphised executor path).
pub(crate) fn promise(task: Task) -> Promise {
    wasm_bindgen_futures::future_to_promise(task)
}

/// Runs `task` in the background.
pub(crate) fn spawn(task: impl core::future::Future<Output = ()> + 'static) {
    let _ = promise(Box::pin(async move {
        task.await;
        Ok(JsValue::UNDEFINED)
    }));
}

/// Awaits `value` if it is a thenable (`Promise.resolve(value)`).
pub(crate) async fn resolve(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&value)).await
}
