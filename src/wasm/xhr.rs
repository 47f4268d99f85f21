//! `XMLHttpRequest` interception (what axios uses in browsers), following the same rules as `fetch`.
//!
//! `window.XMLHttpRequest` becomes a `Proxy` of the native constructor (so `instanceof` and the static constants
//! keep working) whose `construct` trap gives each native instance its own `open`, `setRequestHeader` and `send`.
//! For intercepted URLs the caller's headers are recorded and applied at `send`, together with the session
//! headers (after resolving an unknown session state, which may take one refresh). Our event listener is
//! registered before any of the app's, so when a response has the session-expired status it swallows that
//! attempt's events, refreshes (single-flight, like `fetch`) and re-sends the same request; the app only sees
//! the retried response. If the refresh fails, the request ends as a `fetch` would: a refresh answered with an
//! error status (a 401 included, after clearing the session) completes the request *as that response* (its
//! status, headers and body shadow the native ones on the instance until the next `open`); a refresh that could
//! not be made (network error) or the retry limit ends it with status 0 and an `error` event; no session after
//! all replays the swallowed 401 completion. Requests to other URLs, and synchronous requests' responses, are
//! passed through untouched.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::driver::{self, Unauthorised};
use super::settings::{self, Settings};
use super::{events, frontend, sys};
use crate::error::Error;
use crate::headers::{self, Caller, SessionTokens};
use crate::state::{LocalSessionState, RetryBudget};
use fauna_session_protocol::header;

struct Native {
    open: Function,
    send: Function,
    set_request_header: Function,
}

struct Xhr {
    xhr: JsValue,
    native: Rc<Native>,
    method: JsValue,
    url: String,
    /// The `open` arguments after method and URL (async, user, password), as given.
    open_rest: Vec<JsValue>,
    is_async: bool,
    intercepted: bool,
    headers: Vec<(String, String)>,
    body: JsValue,
    pre: LocalSessionState,
    budget: RetryBudget,
    /// Swallow this attempt's events (it got the session-expired status and will be retried).
    suppress: bool,
    /// The retry limit was reached: the swallowed attempt ends as a network error.
    exhausted: bool,
    /// Replaying a swallowed completion: let our synthetic events through.
    replaying: bool,
}

/// What a failed refresh overrides on the instance (removed again by `open`).
const OVERRIDES: [&str; 6] = [
    "status",
    "statusText",
    "response",
    "responseText",
    "getResponseHeader",
    "getAllResponseHeaders",
];

const EVENTS: [&str; 7] = [
    "readystatechange",
    "progress",
    "load",
    "loadend",
    "error",
    "abort",
    "timeout",
];

sys::page_local!(PATCHED: Cell<bool> = Cell::new(false));

fn max_retries() -> u32 {
    settings::current()
        .map(|s| s.config.max_retry_attempts_for_session_refresh)
        .unwrap_or(0)
}

/// Replaces `window.XMLHttpRequest` (once per page).
pub(crate) fn patch() {
    if PATCHED.with(|p| p.replace(true)) {
        return;
    }
    let window = sys::window();
    let original = sys::get(&window, "XMLHttpRequest");
    let Some(ctor) = original.dyn_ref::<Function>() else {
        return;
    };
    let proto = sys::get(ctor, "prototype");
    let (Ok(open), Ok(send), Ok(set_request_header)) = (
        sys::get(&proto, "open").dyn_into::<Function>(),
        sys::get(&proto, "send").dyn_into::<Function>(),
        sys::get(&proto, "setRequestHeader").dyn_into::<Function>(),
    ) else {
        return;
    };
    let native = Rc::new(Native {
        open,
        send,
        set_request_header,
    });
    let construct = sys::callback(move |target, args, _, _, _| {
        let xhr = Reflect::construct(target.unchecked_ref::<Function>(), args.unchecked_ref())?;
        instrument(&xhr, native.clone());
        Ok(xhr)
    });
    let handler = Object::new();
    sys::set(&handler, "construct", &construct);
    let proxy = js_sys::Proxy::new(&original, &handler);
    sys::set(&window, "XMLHttpRequest", &proxy);
}

fn instrument(xhr: &JsValue, native: Rc<Native>) {
    let max = max_retries();
    let state = Rc::new(RefCell::new(Xhr {
        xhr: xhr.clone(),
        native,
        method: JsValue::UNDEFINED,
        url: String::new(),
        open_rest: Vec::new(),
        is_async: true,
        intercepted: false,
        headers: Vec::new(),
        body: JsValue::NULL,
        pre: LocalSessionState::MayExist,
        budget: RetryBudget::new(max),
        suppress: false,
        exhausted: false,
        replaying: false,
    }));

    let s = state.clone();
    let listener = sys::callback(move |event, _, _, _, _| {
        on_event(&s, event.unchecked_ref());
        Ok(JsValue::UNDEFINED)
    });
    let add: Function = sys::get(xhr, "addEventListener").unchecked_into();
    for name in EVENTS {
        let _ = add.call2(xhr, &JsValue::from_str(name), &listener);
    }

    let s = state.clone();
    let open = sys::callback(
        move |method: JsValue,
              url: JsValue,
              is_async: JsValue,
              user: JsValue,
              password: JsValue| {
            let mut st = s.borrow_mut();
            let raw = url.as_string().unwrap_or_else(|| sys::error_message(&url));
            let absolute = sys::absolute_url(&raw);
            st.intercepted = match (&absolute, settings::current()) {
                (Some(abs), Ok(s)) => s.intercepts(&raw, abs),
                _ => false,
            };
            st.method = method.clone();
            st.url = absolute.unwrap_or(raw);
            let mut rest = vec![is_async.clone(), user, password];
            while rest.last().is_some_and(JsValue::is_undefined) {
                rest.pop();
            }
            st.is_async = is_async.is_undefined() || is_async.is_truthy();
            st.open_rest = rest;
            st.headers.clear();
            st.suppress = false;
            st.exhausted = false;
            st.budget = RetryBudget::new(max_retries());
            for name in OVERRIDES {
                let _ = Reflect::delete_property(
                    st.xhr.unchecked_ref::<Object>(),
                    &JsValue::from_str(name),
                );
            }
            let args = Array::new();
            args.push(&method);
            args.push(&url);
            for a in &st.open_rest {
                args.push(a);
            }
            let (native, xhr) = (st.native.clone(), st.xhr.clone());
            drop(st);
            native.open.apply(&xhr, &args)
        },
    );
    sys::set(xhr, "open", &open);

    let s = state.clone();
    let set_header = sys::callback(move |name, value, _, _, _| {
        let mut st = s.borrow_mut();
        if st.intercepted {
            st.headers
                .push((sys::error_message(&name), sys::error_message(&value)));
            Ok(JsValue::UNDEFINED)
        } else {
            let (native, xhr) = (st.native.clone(), st.xhr.clone());
            drop(st);
            native.set_request_header.call2(&xhr, &name, &value)
        }
    });
    sys::set(xhr, "setRequestHeader", &set_header);

    let s = state;
    let send = sys::callback(move |body, _, _, _, _| {
        let mut st = s.borrow_mut();
        st.body = body.clone();
        if !st.intercepted {
            let (native, xhr) = (st.native.clone(), st.xhr.clone());
            drop(st);
            return native.send.call1(&xhr, &body);
        }
        let Ok(settings) = settings::current() else {
            let (native, xhr) = (st.native.clone(), st.xhr.clone());
            drop(st);
            return native.send.call1(&xhr, &body);
        };
        // A copy of our own access token is dropped once, here: every attempt writes the current one.
        let access = sys::cookie(crate::cookies::ACCESS_TOKEN);
        st.headers.retain(|(k, v)| {
            !(k.eq_ignore_ascii_case(header::AUTHORIZATION)
                && headers::is_own_bearer(v, access.as_deref()))
        });
        if !st.is_async {
            st.pre = frontend::state();
            drop(st);
            return send_attempt(&s, settings).map(|()| JsValue::UNDEFINED);
        }
        drop(st);
        let s = s.clone();
        sys::spawn(async move {
            let pre = driver::session_state(true)
                .await
                .unwrap_or(LocalSessionState::NotExists);
            s.borrow_mut().pre = pre;
            if let Err(e) = send_attempt(&s, settings) {
                sys::console_error(&e);
            }
        });
        Ok(JsValue::UNDEFINED)
    });
    sys::set(xhr, "send", &send);
}

/// Applies the caller's recorded headers and the session headers (which replace the caller's of the same name),
/// then sends natively.
fn send_attempt(state: &Rc<RefCell<Xhr>>, settings: &Settings) -> Result<(), JsValue> {
    let st = state.borrow();
    let config = &settings.config;
    let has = |name: &str| st.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let caller = Caller {
        rid: has(header::RID),
        authorization: has(header::AUTHORIZATION),
    };
    let all = sys::document_cookie();
    let tokens = SessionTokens::from_cookies(&all, st.pre.exists());
    let session = headers::for_request(config.token_transfer_method, &tokens, &caller);
    let set = |name: &str, value: &str| {
        st.native
            .set_request_header
            .call2(&st.xhr, &JsValue::from_str(name), &JsValue::from_str(value))
            .map(|_| ())
    };
    for (k, v) in &st.headers {
        if !session.iter().any(|h| k.eq_ignore_ascii_case(h.name)) {
            set(k, v)?;
        }
    }
    for h in &session {
        set(h.name, &h.value)?;
    }
    if config.auto_add_credentials {
        sys::set(&st.xhr, "withCredentials", &JsValue::TRUE);
    }
    let (native, xhr, body) = (st.native.clone(), st.xhr.clone(), st.body.clone());
    drop(st);
    native.send.call1(&xhr, &body).map(|_| ())
}

fn ready_state(xhr: &JsValue) -> u32 {
    sys::get(xhr, "readyState").as_f64().unwrap_or(0.0) as u32
}

fn on_event(state: &Rc<RefCell<Xhr>>, event: &web_sys::Event) {
    let Ok(settings) = settings::current() else {
        return;
    };
    let mut st = state.borrow_mut();
    if !st.intercepted || st.replaying {
        return;
    }
    let kind = event.type_();
    if kind == "readystatechange" && ready_state(&st.xhr) == 2 {
        let xhr = st.xhr.clone();
        let get_header: Function = sys::get(&xhr, "getResponseHeader").unchecked_into();
        let read = |name: &str| {
            get_header
                .call1(&xhr, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_string())
        };
        let _ = frontend::save_tokens(settings, read);
        let status = sys::get(&xhr, "status").as_f64().unwrap_or(0.0) as u16;
        events::fire_session_update(
            settings,
            st.pre.exists(),
            status,
            read(header::FRONT_TOKEN).as_deref(),
        );
        if status == settings.config.session_expired_status_code && st.is_async {
            st.suppress = true;
            if !st.budget.take() {
                st.exhausted = true;
                let e = Error::RetryLimit {
                    status,
                    url: st.url.clone(),
                    attempts: st.budget.used(),
                };
                sys::console_error(&JsValue::from_str(&e.message()));
            }
        }
    }
    if !st.suppress {
        return;
    }
    event.stop_immediate_propagation();
    if kind == "loadend" {
        let pre = st.pre.clone();
        let exhausted = st.exhausted;
        drop(st);
        let state = state.clone();
        sys::spawn(async move {
            if exhausted {
                return fail(&state, JsValue::UNDEFINED).await;
            }
            match driver::unauthorised(&pre).await {
                Unauthorised::Retry => retry(&state, settings).await,
                Unauthorised::Expired(None) => replay(&state, false),
                Unauthorised::Expired(Some(e)) | Unauthorised::ApiError(e) => fail(&state, e).await,
            }
        });
    }
}

/// Ends the request as the refresh's failure: its error `Response` becomes this request's response (status,
/// headers, body read per `responseType`); anything else (a network error, the retry limit) is status 0 with an
/// `error` event.
async fn fail(state: &Rc<RefCell<Xhr>>, refresh: JsValue) {
    let xhr = state.borrow().xhr.clone();
    let mapped = match refresh.dyn_into::<web_sys::Response>() {
        Ok(resp) => map_response(&xhr, &resp).await.is_ok(),
        Err(_) => false,
    };
    if !mapped && let Ok(none) = web_sys::Headers::new() {
        let empty = JsValue::from_str("");
        let _ = shadow(&xhr, JsValue::from(0), empty.clone(), empty, &none);
    }
    replay(state, !mapped);
}

async fn map_response(xhr: &JsValue, resp: &web_sys::Response) -> Result<(), JsValue> {
    let kind = sys::get(xhr, "responseType")
        .as_string()
        .unwrap_or_default();
    let method = match kind.as_str() {
        "arraybuffer" => "arrayBuffer",
        "blob" => "blob",
        _ => "text",
    };
    let read: Function = sys::get(resp, method).dyn_into()?;
    let body = sys::resolve(read.call0(resp)?).await?;
    let body = match kind.as_str() {
        "json" => {
            js_sys::JSON::parse(&body.as_string().unwrap_or_default()).unwrap_or(JsValue::NULL)
        }
        "document" => JsValue::NULL,
        _ => body,
    };
    shadow(
        xhr,
        JsValue::from(resp.status()),
        sys::get(resp, "statusText"),
        body,
        &sys::headers(resp),
    )
}

/// Shadows the native response members of `xhr` with own properties (`OVERRIDES`).
fn shadow(
    xhr: &JsValue,
    status: JsValue,
    status_text: JsValue,
    body: JsValue,
    headers: &web_sys::Headers,
) -> Result<(), JsValue> {
    let mut all = String::new();
    for pair in Array::from(headers).iter() {
        let pair: Array = pair.unchecked_into();
        all.push_str(&sys::error_message(&pair.get(0)));
        all.push_str(": ");
        all.push_str(&sys::error_message(&pair.get(1)));
        all.push_str("\r\n");
    }
    let kind = sys::get(xhr, "responseType")
        .as_string()
        .unwrap_or_default();
    let text = if kind.is_empty() || kind == "text" {
        body.clone()
    } else {
        JsValue::from_str("")
    };
    let get: Function = sys::get(headers, "get").unchecked_into();
    // `String.bind(null, all)` returns `all` whenever called.
    let string: Function = sys::get(&sys::window(), "String").unchecked_into();
    let values = [
        status,
        status_text,
        body,
        text,
        get.bind0(headers).into(),
        string
            .bind1(&JsValue::NULL, &JsValue::from_str(&all))
            .into(),
    ];
    for (name, value) in OVERRIDES.iter().zip(values) {
        let d = sys::object();
        sys::set(&d, "value", &value);
        sys::set(&d, "configurable", &JsValue::TRUE);
        Reflect::define_property(
            xhr.unchecked_ref::<Object>(),
            &JsValue::from_str(name),
            d.unchecked_ref(),
        )?;
    }
    Ok(())
}

/// Re-opens the same native request and sends it again with fresh session headers.
async fn retry(state: &Rc<RefCell<Xhr>>, settings: &Settings) {
    let args = Array::new();
    let (native, xhr) = {
        let st = state.borrow();
        args.push(&st.method);
        args.push(&JsValue::from_str(&st.url));
        for a in &st.open_rest {
            args.push(a);
        }
        (st.native.clone(), st.xhr.clone())
    };
    // Re-opening fires readystatechange (OPENED): still suppressed.
    if native.open.apply(&xhr, &args).is_err() {
        replay(state, false);
        return;
    }
    let pre = driver::session_state(true)
        .await
        .unwrap_or(LocalSessionState::NotExists);
    {
        let mut st = state.borrow_mut();
        st.pre = pre;
        st.suppress = false;
    }
    if send_attempt(state, settings).is_err() {
        replay(state, false);
    }
}

/// Delivers the swallowed completion of the last attempt to the app (as an `error` completion with `error`).
fn replay(state: &Rc<RefCell<Xhr>>, error: bool) {
    let xhr = {
        let mut st = state.borrow_mut();
        st.suppress = false;
        st.replaying = true;
        st.xhr.clone()
    };
    let dispatch: Function = sys::get(&xhr, "dispatchEvent").unchecked_into();
    let end = if error { "error" } else { "load" };
    for name in ["readystatechange", end, "loadend"] {
        if let Ok(e) = web_sys::Event::new(name) {
            let _ = dispatch.call1(&xhr, &e);
        }
    }
    state.borrow_mut().replaying = false;
}
