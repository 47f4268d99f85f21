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

/// Starts listening (once per page): the driver hands each message to `decide` (`TAB_MESSAGE`), which passes it
/// to [`received`].
pub(crate) fn start() {
    if CHANNEL.with(|c| c.borrow().is_some()) {
        return;
    }
    let broadcast =
        Some(sys::tab_channel(tabs::CHANNEL, tabs::STORAGE_KEY)).filter(|b| !b.is_undefined());
    CHANNEL.with(|c| {
        *c.borrow_mut() = Some(Channel {
            broadcast,
            id: new_id(),
            seq: Cell::new(0),
            seen: RefCell::new(Seen::default()),
        });
    });
}

/// The event another tab's message `text` carries, if it is one and this tab has not fired it yet.
pub(crate) fn received(text: &JsValue) -> Option<Event> {
    let message = text.as_string().and_then(|t| TabMessage::decode(&t))?;
    let new = CHANNEL.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|ch| ch.seen.borrow_mut().first_time(&message, &ch.id))
    });
    new.then(|| message.event())
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
