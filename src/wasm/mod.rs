//! Browser backend (`wasm32` only). Modules by concern, each using only those listed before it:
//!
//! | module | what |
//! |---|---|
//! | `sys` | browser bindings and helpers: cookies, storage, clocks, JS objects, callbacks |
//! | `lock` | the localStorage refresh lock where Web Locks are missing (`compat`) |
//! | `settings` | what `init` configured: the validated config and the JS hooks |
//! | `tab_sync` | session events sent to and received from the origin's other tabs (`BroadcastChannel`, `storage`) |
//! | `events` | session events to `onHandleEvent`, to Rust subscribers and to the other tabs |
//! | `frontend` | frontend session state: the protocol's cookies, the front token, tokens from responses |
//! | `driver` | the request, refresh (single flight) and session-API flows: `driver.js` awaits, Rust decides |
//! | `claims` | session claims: `getClaimValue`, `validateClaims`, the `EmailVerificationClaim` object |
//! | `fetch` | `fetch` with the session handling as a Rust future (`std`) |
//! | `xhr` | the same for `XMLHttpRequest` (`compat`) |
//! | `api` | the session API as Rust futures (`std`) |
//! | `fauna_client` | the typed FQL v10 client of the Rust API (`std` + `serde`) |
//! | `session` | the Rust API (`std`) |
//!
//! The header rules are the pure [`crate::headers`]; the decisions of the refresh, [`crate::state`].

use wasm_bindgen::JsValue;

use crate::error::Error;

pub(crate) mod sys;

#[cfg(feature = "std")]
pub(crate) mod api;
pub(crate) mod claims;
pub(crate) mod driver;
pub(crate) mod events;
#[cfg(feature = "serde")]
pub(crate) mod fauna_client;
#[cfg(feature = "std")]
pub(crate) mod fetch;
pub(crate) mod frontend;
#[cfg(feature = "compat")]
pub(crate) mod lock;
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
            Fail::Err(e) => {
                let js = sys::js_error(&e.message());
                #[cfg(feature = "std")]
                typed::remember(&js, e);
                js
            }
            Fail::Js(v) => v,
        }
    }

    /// For Rust: JavaScript values become [`Error`] variants (our own errors, made by [`Fail::into_js`] on their
    /// way through the driver, become their variant again).
    #[cfg(feature = "std")]
    pub(crate) fn into_error(self) -> Error {
        match self {
            Fail::Err(e) => e,
            Fail::Js(v) => match wasm_bindgen::JsCast::dyn_ref::<web_sys::Response>(&v) {
                Some(r) => Error::RefreshFailed { status: r.status() },
                None => typed::recall(&v).unwrap_or_else(|| Error::Js(sys::error_message(&v))),
            },
        }
    }
}

/// The Rust API's typed errors across the driver: the last few `Error` objects made from an [`Error`], so that a
/// Rust caller gets the variant back (the driver only passes them through).
#[cfg(feature = "std")]
mod typed {
    use alloc::collections::VecDeque;
    use core::cell::RefCell;

    use wasm_bindgen::JsValue;

    use super::{Error, sys};

    /// More than the errors in flight at once (each is consumed within a few promise turns).
    const KEEP: usize = 32;

    sys::page_local!(RECENT: RefCell<VecDeque<(JsValue, Error)>> = RefCell::new(VecDeque::new()));

    pub(super) fn remember(js: &JsValue, e: Error) {
        RECENT.with(|r| {
            let mut r = r.borrow_mut();
            if r.len() == KEEP {
                r.pop_front();
            }
            r.push_back((js.clone(), e));
        });
    }

    pub(super) fn recall(js: &JsValue) -> Option<Error> {
        RECENT.with(|r| {
            r.borrow()
                .iter()
                .rev()
                .find(|(v, _)| js_sys::Object::is(v, js))
                .map(|(_, e)| e.clone())
        })
    }
}

/// Patches `window.fetch` (and with `compat` `XMLHttpRequest`), once per page.
pub(crate) fn intercept() {
    driver::patch();
    #[cfg(feature = "compat")]
    xhr::patch();
}
