//! Browser backend (`wasm32` only). Modules by concern, each using only those listed before it:
//!
//! | module | what |
//! |---|---|
//! | `sys` | browser bindings and helpers: cookies, storage, clocks, the native `fetch`, JS objects, callbacks |
//! | `lock` | the cross-tab refresh lock (Web Locks; the localStorage lock with `compat`) |
//! | `settings` | what `init` configured: the validated config and the JS hooks |
//! | `tab_sync` | session events sent to and received from the origin's other tabs (`BroadcastChannel`, `storage`) |
//! | `events` | session events to `onHandleEvent`, to Rust subscribers and to the other tabs |
//! | `frontend` | frontend session state: the protocol's cookies, the front token, tokens from responses |
//! | `hooks` | `preAPIHook`/`postAPIHook` around the refresh and sign-out calls |
//! | `refresh` | the single-flight refresh |
//! | `fauna_requests` | Fauna requests managed by the session; the fresh front token and `faunadbToken` |
//! | `fetch` | the request algorithm for `fetch`, the `window.fetch` patch |
//! | `xhr` | the same for `XMLHttpRequest` (`compat`) |
//! | `api` | the session API both front doors share |
//! | `fauna_client` | the typed FQL v10 client of the Rust API (`std` + `serde`) |
//! | `session` | the Rust API (`std`) |
//!
//! The header rules are the pure [`crate::headers`]; the decisions of the refresh, [`crate::state`].

use wasm_bindgen::JsValue;

use crate::error::Error;

pub(crate) mod sys;

pub(crate) mod api;
pub(crate) mod events;
#[cfg(feature = "serde")]
pub(crate) mod fauna_client;
pub(crate) mod fauna_requests;
pub(crate) mod fetch;
pub(crate) mod frontend;
pub(crate) mod hooks;
pub(crate) mod lock;
pub(crate) mod refresh;
#[cfg(feature = "std")]
pub(crate) mod session;
pub(crate) mod settings;
pub(crate) mod tab_sync;
#[cfg(feature = "compat")]
pub(crate) mod xhr;

/// A failure: a typed error, or a JavaScript value to hand back as it is (a refresh `Response`, a network
/// `TypeError`, whatever a hook threw).
pub(crate) enum Fail {
    Err(Error),
    Js(JsValue),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Err(e)
    }
}

impl From<JsValue> for Fail {
    fn from(v: JsValue) -> Self {
        Fail::Js(v)
    }
}

impl Fail {
    /// For JavaScript: typed errors become `Error` objects with the error's message.
    pub(crate) fn into_js(self) -> JsValue {
        match self {
            Fail::Err(e) => sys::js_error(&e.message()),
            Fail::Js(v) => v,
        }
    }

    /// For Rust: JavaScript values become [`Error`] variants.
    #[cfg(feature = "std")]
    pub(crate) fn into_error(self) -> Error {
        match self {
            Fail::Err(e) => e,
            Fail::Js(v) => match wasm_bindgen::JsCast::dyn_ref::<web_sys::Response>(&v) {
                Some(r) => Error::RefreshFailed { status: r.status() },
                None => Error::Js(sys::error_message(&v)),
            },
        }
    }
}

/// Patches `window.fetch` (and with `compat` `XMLHttpRequest`), once per page.
pub(crate) fn intercept() {
    fetch::patch();
    #[cfg(feature = "compat")]
    xhr::patch();
}
