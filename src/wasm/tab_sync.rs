//! Tabs that agree: a sign-out, an `UNAUTHORISED`, a refresh or a new session in this tab is sent to every other
//! tab (and frame) of the origin, which fires the matching event once. `BroadcastChannel` where the browser has
//! it, else a `localStorage` write that the other tabs get as a `storage` event. The message format and the
//! once-per-tab rule are the pure [`crate::tabs`].

use alloc::string::String;
use core::cell::{Cell, RefCell};

use wasm_bindgen::JsValue;

use super::sys;
use crate::event::Event;
use crate::tabs::{self, Seen, TabMessage};

/// This page's channel: its `BroadcastChannel` (or `None` for the storage fallback), its id, its message number.
struct Channel {
    broadcast: Option<JsValue>,
    id: String,
    seq: Cell<u32>,
    seen: RefCell<Seen>,
}

sys::page_local!(CHANNEL: RefCell<Option<Channel>> = RefCell::new(None));

#[allow(
    clippy::single_char_add_str,
    reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
)]
fn new_id() -> String {
    let mut s = sys::number_text(sys::now_ms(), 36);
    s.push_str("-");
    s.push_str(&sys::number_text(js_sys::Math::random(), 36));
    s
}

/// Starts listening (once per page); `deliver` fires an event that came from another tab.
pub(crate) fn start(deliver: fn(&Event)) {
    if CHANNEL.with(|c| c.borrow().is_some()) {
        return;
    }
    let window = sys::window();
    let broadcast = Some(sys::broadcast_channel(tabs::CHANNEL)).filter(|b| !b.is_undefined());
    let on_text = move |text: JsValue| {
        let Some(message) = text.as_string().and_then(|t| TabMessage::decode(&t)) else {
            return;
        };
        let new = CHANNEL.with(|c| {
            c.borrow()
                .as_ref()
                .is_some_and(|ch| ch.seen.borrow_mut().first_time(&message, &ch.id))
        });
        if new {
            deliver(&message.event());
        }
    };
    match &broadcast {
        Some(b) => {
            let listener = sys::callback(move |event, _, _, _, _| {
                on_text(sys::get(&event, "data"));
                Ok(JsValue::UNDEFINED)
            });
            sys::set(b, "onmessage", &listener);
        }
        None => {
            let listener = sys::callback(move |event, _, _, _, _| {
                if sys::get(&event, "key").as_string().as_deref() == Some(tabs::STORAGE_KEY) {
                    on_text(sys::get(&event, "newValue"));
                }
                Ok(JsValue::UNDEFINED)
            });
            let storage = JsValue::from_str("storage");
            sys::call_method(&window, "addEventListener", &storage, &listener);
        }
    }
    CHANNEL.with(|c| {
        *c.borrow_mut() = Some(Channel {
            broadcast,
            id: new_id(),
            seq: Cell::new(0),
            seen: RefCell::new(Seen::default()),
        });
    });
}

/// Tells the other tabs about `event` (if it is one they hear of, and the channel is started).
pub(crate) fn send(event: &Event) {
    CHANNEL.with(|c| {
        let c = c.borrow();
        let Some(ch) = c.as_ref() else {
            return;
        };
        let seq = ch.seq.get().wrapping_add(1);
        ch.seq.set(seq);
        let Some(message) = TabMessage::new(event, &ch.id, seq) else {
            return;
        };
        let text = JsValue::from_str(&message.encode());
        match &ch.broadcast {
            Some(b) => sys::call_method(b, "postMessage", &text, &JsValue::UNDEFINED),
            None => sys::storage_set(tabs::STORAGE_KEY, &text),
        }
    });
}
