//! The localStorage refresh lock (`compat`), for browsers without Web Locks (insecure origins, old browsers): the
//! `browser-tabs-lock` protocol on `localStorage` (key `browser-tabs-lock-key-<name>`), which the SuperTokens JS
//! SDK also speaks. The driver (`driver.js`) takes a Web Lock where the browser has one, this lock where it has
//! none (with `compat`), and else a lock of this page only (refreshes of one tab are serialised; tabs rely on the
//! server accepting concurrent refreshes of one token).

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use super::sys;
use crate::tabs::{Holder, LockStep, LockWait};

/// Name of the refresh lock (the SuperTokens SDK's).
const REFRESH_LOCK: &str = "REFRESH_TOKEN_USE";

/// A held localStorage lock: its key, our id and the heartbeat timer. Dropping it releases the lock.
pub(crate) struct Guard {
    key: String,
    id: String,
    heartbeat: Option<Rc<RefCell<bool>>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Guard { key, id, heartbeat } = self;
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

/// How a lock wait ended.
pub(crate) enum Acquired {
    /// The lock is held until the guard is dropped.
    Held(Guard),
    /// While waiting, the caller's `needed` turned false (another tab refreshed): it goes on without the lock.
    Unneeded,
    /// Not granted within the wait's timeout, or no localStorage (the caller re-reads the session state and goes
    /// on).
    TimedOut,
}

/// Takes the refresh lock, each round decided by [`LockWait::step`]; gives up early once `needed()` is false. A
/// dead tab's lock goes stale and is cleared.
pub(crate) async fn acquire_storage(wait: &LockWait, needed: &dyn Fn() -> bool) -> Acquired {
    acquire_storage_lock(REFRESH_LOCK, wait, needed).await
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
    s.push_str(&sys::number_text(t, 36));
    s.push_str("-");
    s.push_str(&sys::number_text(r, 36));
    s
}

fn lock_value(id: &str, now: f64, timeout_key: &str) -> String {
    let o = sys::object();
    sys::set(&o, "id", &JsValue::from_str(id));
    sys::set(&o, "iat", &JsValue::from_f64(now));
    sys::set(&o, "timeoutKey", &JsValue::from_str(timeout_key));
    sys::set(&o, "timeAcquired", &JsValue::from_f64(now));
    sys::set(&o, "timeRefreshed", &JsValue::from_f64(now));
    sys::stringify(&o)
}

/// Who holds the lock, from its stored value (`timeRefreshed`, else `timeAcquired`).
fn holder(value: Option<String>) -> Holder {
    let Some(v) = value else {
        return Holder::Free;
    };
    let parsed = js_sys::JSON::parse(&v).unwrap_or(JsValue::UNDEFINED);
    let time = |k| sys::get(&parsed, k).as_f64();
    match time("timeRefreshed").or_else(|| time("timeAcquired")) {
        Some(t) => Holder::RefreshedAt(t),
        None => Holder::Unreadable,
    }
}

/// The `browser-tabs-lock` protocol, each round decided by [`LockWait::step`].
async fn acquire_storage_lock(name: &str, wait: &LockWait, needed: &dyn Fn() -> bool) -> Acquired {
    let Some(storage) = sys::local_storage() else {
        return Acquired::TimedOut;
    };
    let mut key = String::from("browser-tabs-lock-key-");
    key.push_str(name);
    let id = new_id();
    let started = sys::now_ms();
    loop {
        sys::sleep(30).await;
        if !needed() {
            return Acquired::Unneeded;
        }
        let now = sys::now_ms();
        let current = storage.get_item(&key).ok().flatten();
        match wait.step(now - started, now, holder(current)) {
            LockStep::GiveUp => return Acquired::TimedOut,
            LockStep::ClearStale => {
                let _ = storage.remove_item(&key);
            }
            LockStep::Wait => sys::sleep(50).await,
            LockStep::Take => {
                sys::sleep((js_sys::Math::random() * 25.0) as i32).await;
                let value = lock_value(&id, sys::now_ms(), &key);
                if storage.set_item(&key, &value).is_err() {
                    return Acquired::TimedOut;
                }
                sys::sleep(30).await;
                if storage.get_item(&key).ok().flatten().as_deref() == Some(value.as_str()) {
                    let alive = Rc::new(RefCell::new(true));
                    heartbeat(key.clone(), id.clone(), alive.clone());
                    return Acquired::Held(Guard {
                        key,
                        id,
                        heartbeat: Some(alive),
                    });
                }
            }
        }
    }
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
