//! The cross-tab refresh lock.
//!
//! Web Locks (`navigator.locks`) where the browser has them: a real mutex across the tabs of an origin, released
//! automatically when a tab dies. Elsewhere (insecure origins, old browsers) the `browser-tabs-lock` protocol on
//! `localStorage` (key `browser-tabs-lock-key-<name>`), which the SuperTokens JS SDK also speaks.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::sys;

/// Name of the refresh lock (the SuperTokens SDK's).
pub(crate) const REFRESH_LOCK: &str = "REFRESH_TOKEN_USE";

/// A held lock; dropping it releases the lock.
pub(crate) enum Guard {
    /// Resolving this function ends the `navigator.locks.request` callback's promise.
    WebLock(Function),
    /// A localStorage lock: its key, our id and the heartbeat timer.
    Storage {
        key: String,
        id: String,
        heartbeat: Option<Rc<RefCell<bool>>>,
    },
}

impl Drop for Guard {
    fn drop(&mut self) {
        match self {
            Guard::WebLock(release) => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
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

/// Takes the lock: waits as long as needed with Web Locks; with the localStorage fallback gives up after
/// `timeout_ms` and returns `None` (the caller re-checks the session state and tries again).
pub(crate) async fn acquire(name: &str, timeout_ms: f64) -> Option<Guard> {
    if web_locks_available()
        && let Some(g) = acquire_web_lock(name).await
    {
        return Some(g);
    }
    acquire_storage_lock(name, timeout_ms).await
}

async fn acquire_web_lock(name: &str) -> Option<Guard> {
    let mut release: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted: Option<Function> = None;
    let acquired = Promise::new(&mut |resolve, _| granted = Some(resolve));
    let (release, granted) = (release?, granted?);
    // Called once, with the lock; the lock is held until `held` settles. (The shared callback shape; its Rust side
    // is freed when the browser drops the function.)
    let held: JsValue = held.into();
    let callback = sys::callback(move |_lock, _, _, _, _| {
        let _ = granted.call0(&JsValue::UNDEFINED);
        Ok(held.clone())
    });
    let request = sys::locks_request(name, callback.unchecked_ref()).ok()?;
    // The request settles when we release; nothing to do with its value, but never leave it unhandled.
    sys::spawn(async move {
        let _ = JsFuture::from(request).await;
    });
    JsFuture::from(acquired).await.ok()?;
    Some(Guard::WebLock(release))
}

fn lock_id(value: &str) -> Option<String> {
    let v = js_sys::JSON::parse(value).ok()?;
    sys::get(&v, "id").as_string()
}

#[allow(
    clippy::single_char_add_str,
    reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
)]
fn new_id() -> String {
    let mut s = String::new();
    let r = js_sys::Math::random();
    let t = sys::now_ms();
    // Both are doubles; their decimal text is a fine unique id per acquisition.
    s.push_str(&String::from(
        js_sys::Number::from(t)
            .to_string_with_radix(36)
            .unwrap_or_default(),
    ));
    s.push_str("-");
    s.push_str(&String::from(
        js_sys::Number::from(r)
            .to_string_with_radix(36)
            .unwrap_or_default(),
    ));
    s
}

fn lock_value(id: &str, now: f64, timeout_key: &str) -> String {
    let o = sys::object();
    sys::set(&o, "id", &JsValue::from_str(id));
    sys::set(&o, "iat", &JsValue::from_f64(now));
    sys::set(&o, "timeoutKey", &JsValue::from_str(timeout_key));
    sys::set(&o, "timeAcquired", &JsValue::from_f64(now));
    sys::set(&o, "timeRefreshed", &JsValue::from_f64(now));
    js_sys::JSON::stringify(&o)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

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
