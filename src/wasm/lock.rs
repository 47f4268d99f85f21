//! The cross-tab refresh lock.
//!
//! Web Locks (`navigator.locks`) where the browser has them (every current browser, in secure contexts): a real
//! mutex across the tabs of an origin, released automatically when a tab dies. Elsewhere (insecure origins, old
//! browsers): with the `compat` feature the `browser-tabs-lock` protocol on `localStorage` (key
//! `browser-tabs-lock-key-<name>`), which the SuperTokens JS SDK also speaks; without it a lock of this page only
//! (refreshes of one tab are serialised; tabs rely on the server accepting concurrent refreshes of one token).

#[cfg(feature = "compat")]
use alloc::rc::Rc;
#[cfg(feature = "compat")]
use alloc::string::String;
use core::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::sys;

/// One round of the localStorage lock wait (ms): a waiter that has not got the lock by then re-reads the session
/// state and goes on (often it finds another tab has refreshed meanwhile).
#[cfg(feature = "compat")]
const STORAGE_ROUND_MS: f64 = 1_000.0;

/// Name of the refresh lock (the SuperTokens SDK's).
pub(crate) const REFRESH_LOCK: &str = "REFRESH_TOKEN_USE";

/// A held lock; dropping it releases the lock.
pub(crate) enum Guard {
    /// Resolving this function ends the `navigator.locks.request` callback's promise (or, for the page lock, the
    /// promise the next holder waits for).
    Release(Function),
    /// A localStorage lock: its key, our id and the heartbeat timer.
    #[cfg(feature = "compat")]
    Storage {
        key: String,
        id: String,
        heartbeat: Option<Rc<RefCell<bool>>>,
    },
}

impl Drop for Guard {
    fn drop(&mut self) {
        match self {
            Guard::Release(release) => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
            #[cfg(feature = "compat")]
            Guard::Storage { key, id, heartbeat } => {
                if let Some(h) = heartbeat.take() {
                    *h.borrow_mut() = false;
                }
                if let Some(s) = sys::local_storage()
                    && let Ok(Some(v)) = s.get_item(key)
                    && lock_id(&v).as_deref() == Some(id.as_str())
                {
                    let _ = s.remove_item(key);
                }
            }
        }
    }
}

/// True if `navigator.locks.request` exists.
pub(crate) fn web_locks_available() -> bool {
    let locks = sys::get(&sys::get(&sys::window(), "navigator"), "locks");
    !locks.is_undefined() && !locks.is_null()
}

/// Takes the lock, waiting at most `timeout_ms` with Web Locks and the localStorage fallback (the page lock waits
/// for the page's own holder); `None` when the wait timed out (the caller re-reads the session state and goes on).
/// A tab that dies holding a Web Lock releases it; a dead tab's localStorage lock goes stale and is cleared.
pub(crate) async fn acquire(name: &str, timeout_ms: f64) -> Option<Guard> {
    if web_locks_available()
        && let Ok(g) = acquire_web_lock(name, timeout_ms).await
    {
        return g;
    }
    #[cfg(feature = "compat")]
    return acquire_storage_lock(name, timeout_ms.min(STORAGE_ROUND_MS)).await;
    #[cfg(not(feature = "compat"))]
    {
        let _ = (name, timeout_ms);
        acquire_page_lock().await
    }
}

/// A promise with its resolve function.
fn pending() -> Option<(Promise, Function)> {
    let mut resolve: Option<Function> = None;
    let p = Promise::new(&mut |r, _| resolve = Some(r));
    Some((p, resolve?))
}

#[cfg(not(feature = "compat"))]
sys::page_local!(PAGE_TAIL: RefCell<Option<Promise>> = RefCell::new(None));

/// The lock of this page: each holder waits for the previous holder's release promise.
#[cfg(not(feature = "compat"))]
async fn acquire_page_lock() -> Option<Guard> {
    let (released, release) = pending()?;
    let previous = PAGE_TAIL.with(|t| t.replace(Some(released)));
    if let Some(p) = previous {
        let _ = JsFuture::from(p).await;
    }
    Some(Guard::Release(release))
}

/// `AbortSignal.timeout(ms)`, where the browser has it.
fn timeout_signal(ms: f64) -> Option<JsValue> {
    let abort = sys::get(&sys::window(), "AbortSignal");
    let timeout: Function = sys::get(&abort, "timeout").dyn_into().ok()?;
    timeout.call1(&abort, &JsValue::from_f64(ms)).ok()
}

/// A Web Lock: `Ok(Some)` held, `Ok(None)` not granted within `timeout_ms`, `Err` the request could not be made.
async fn acquire_web_lock(name: &str, timeout_ms: f64) -> Result<Option<Guard>, ()> {
    let (held, release) = pending().ok_or(())?;
    let mut outcome: Option<(Function, Function)> = None;
    let acquired = Promise::new(&mut |granted, refused| outcome = Some((granted, refused)));
    let (granted, refused) = outcome.ok_or(())?;
    // Called once, with the lock; the lock is held until `held` settles. (The shared callback shape; its Rust side
    // is freed when the browser drops the function.)
    let held: JsValue = held.into();
    let callback = sys::callback(move |_lock, _, _, _, _| {
        let _ = granted.call0(&JsValue::UNDEFINED);
        Ok(held.clone())
    });
    let options = sys::object();
    if let Some(signal) = timeout_signal(timeout_ms) {
        sys::set(&options, "signal", &signal);
    }
    let request = sys::locks_request(name, &options, callback.unchecked_ref()).map_err(|_| ())?;
    // The request settles when we release; it rejects (AbortError) when the wait timed out before the grant.
    sys::spawn(async move {
        if JsFuture::from(request).await.is_err() {
            let _ = refused.call0(&JsValue::UNDEFINED);
        }
    });
    match JsFuture::from(acquired).await {
        Ok(_) => Ok(Some(Guard::Release(release))),
        Err(_) => Ok(None),
    }
}

#[cfg(feature = "compat")]
fn lock_id(value: &str) -> Option<String> {
    let v = js_sys::JSON::parse(value).ok()?;
    sys::get(&v, "id").as_string()
}

#[cfg(feature = "compat")]
#[allow(
    clippy::single_char_add_str,
    reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
)]
fn new_id() -> String {
    let mut s = String::new();
    let r = js_sys::Math::random();
    let t = sys::now_ms();
    // Both are doubles; their decimal text is a fine unique id per acquisition.
    s.push_str(&sys::number_text(t, 36));
    s.push_str("-");
    s.push_str(&sys::number_text(r, 36));
    s
}

#[cfg(feature = "compat")]
fn lock_value(id: &str, now: f64, timeout_key: &str) -> String {
    let o = sys::object();
    sys::set(&o, "id", &JsValue::from_str(id));
    sys::set(&o, "iat", &JsValue::from_f64(now));
    sys::set(&o, "timeoutKey", &JsValue::from_str(timeout_key));
    sys::set(&o, "timeAcquired", &JsValue::from_f64(now));
    sys::set(&o, "timeRefreshed", &JsValue::from_f64(now));
    sys::stringify(&o)
}

#[cfg(feature = "compat")]
/// Deletes a lock whose holder stopped refreshing it more than 5 s ago (a closed or crashed tab).
fn correct_stale(storage: &web_sys::Storage, key: &str) {
    if let Ok(Some(v)) = storage.get_item(key) {
        let parsed = js_sys::JSON::parse(&v).unwrap_or(JsValue::UNDEFINED);
        let refreshed = sys::get(&parsed, "timeRefreshed").as_f64().unwrap_or(0.0);
        if refreshed < sys::now_ms() - 5000.0 {
            let _ = storage.remove_item(key);
        }
    }
}

#[cfg(feature = "compat")]
async fn acquire_storage_lock(name: &str, timeout_ms: f64) -> Option<Guard> {
    let storage = sys::local_storage()?;
    let mut key = String::from("browser-tabs-lock-key-");
    key.push_str(name);
    let id = new_id();
    let deadline = sys::now_ms() + timeout_ms;
    while sys::now_ms() < deadline {
        sys::sleep(30).await;
        if storage.get_item(&key).ok().flatten().is_none() {
            sys::sleep((js_sys::Math::random() * 25.0) as i32).await;
            let now = sys::now_ms();
            let value = lock_value(&id, now, &key);
            if storage.set_item(&key, &value).is_err() {
                return None;
            }
            sys::sleep(30).await;
            if storage.get_item(&key).ok().flatten().as_deref() == Some(value.as_str()) {
                let alive = Rc::new(RefCell::new(true));
                heartbeat(key.clone(), id.clone(), alive.clone());
                return Some(Guard::Storage {
                    key,
                    id,
                    heartbeat: Some(alive),
                });
            }
        } else {
            correct_stale(&storage, &key);
            sys::sleep(50).await;
        }
    }
    None
}

#[cfg(feature = "compat")]
/// Refreshes `timeRefreshed` every second while the lock is held, so other tabs do not take it as stale.
fn heartbeat(key: String, id: String, alive: Rc<RefCell<bool>>) {
    sys::spawn(async move {
        loop {
            sys::sleep(1000).await;
            if !*alive.borrow() {
                return;
            }
            let Some(storage) = sys::local_storage() else {
                return;
            };
            let Ok(Some(v)) = storage.get_item(&key) else {
                return;
            };
            if lock_id(&v).as_deref() != Some(id.as_str()) {
                return;
            }
            let parsed = js_sys::JSON::parse(&v).unwrap_or(JsValue::UNDEFINED);
            sys::set(&parsed, "timeRefreshed", &JsValue::from_f64(sys::now_ms()));
            if let Some(s) = js_sys::JSON::stringify(&parsed)
                .ok()
                .and_then(|s| s.as_string())
            {
                let _ = storage.set_item(&key, &s);
            }
        }
    });
}
