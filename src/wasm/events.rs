//! Session events: to the JavaScript `onHandleEvent` hook and to the Rust API's subscribers.

#[cfg(feature = "std")]
use alloc::rc::Rc;
#[cfg(feature = "std")]
use alloc::vec::Vec;
#[cfg(feature = "std")]
use core::cell::{Cell, RefCell};

use wasm_bindgen::JsValue;

use super::settings::Settings;
use super::{sys, tab_sync};
use crate::event::Event;
use crate::state;
use fauna_session_protocol::body;

/// A Rust API event subscriber.
#[cfg(feature = "std")]
pub(crate) type Listener = Rc<dyn Fn(&Event)>;

#[cfg(feature = "std")]
sys::page_local!(LISTENERS: RefCell<Vec<(u32, Listener)>> = RefCell::new(Vec::new()));
#[cfg(feature = "std")]
sys::page_local!(NEXT_ID: Cell<u32> = Cell::new(0));

/// Fires `event` (`claim_errors`: the `claimValidationErrors` array of `API_INVALID_CLAIM`, as JavaScript got it),
/// and tells the other tabs of the origin (see [`tab_sync`]).
pub(crate) fn fire(settings: &Settings, event: &Event, claim_errors: Option<&JsValue>) {
    dispatch(settings, event, claim_errors);
    tab_sync::send(event);
}

/// Listens for the other tabs' events (once per page): see [`from_other_tab`].
pub(crate) fn follow_other_tabs() {
    tab_sync::start();
}

/// Fires here, once, the event of another tab's message `text` (`decide`'s `TAB_MESSAGE`).
pub(crate) fn from_other_tab(settings: &Settings, text: &JsValue) {
    if let Some(event) = tab_sync::received(text) {
        dispatch(settings, &event, None);
    }
}

/// Fires `event` in this tab only.
fn dispatch(settings: &Settings, event: &Event, claim_errors: Option<&JsValue>) {
    if let Some(f) = &settings.hooks.on_event {
        let o = sys::object();
        sys::set(&o, "action", &JsValue::from_str(event.action()));
        sys::set(&o, "userContext", &sys::object());
        if let Event::Unauthorised {
            session_expired_or_revoked,
        } = event
        {
            sys::set(
                &o,
                "sessionExpiredOrRevoked",
                &JsValue::from_bool(*session_expired_or_revoked),
            );
        }
        if let Some(errs) = claim_errors {
            sys::set(&o, body::CLAIM_VALIDATION_ERRORS, errs);
        }
        sys::call(f, &o);
    }
    #[cfg(feature = "std")]
    {
        // A listener may subscribe or unsubscribe: call a snapshot.
        let listeners: Vec<Listener> =
            LISTENERS.with(|l| l.borrow().iter().map(|(_, f)| f.clone()).collect());
        for l in listeners {
            l(event);
        }
    }
}

/// Fires what a response's `front-token` header means (`SESSION_CREATED`, `SIGN_OUT`, `UNAUTHORISED`).
pub(crate) fn fire_session_update(
    settings: &Settings,
    was_logged_in: bool,
    status: u16,
    front_token: Option<&str>,
) {
    let expired = settings.config.session_expired_status_code;
    if let Some(e) = state::session_update_event(was_logged_in, status, front_token, expired) {
        fire(settings, &e, None);
    }
}

/// Adds a subscriber; returns its id for [`unsubscribe`].
#[cfg(feature = "std")]
pub(crate) fn subscribe(f: Listener) -> u32 {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    LISTENERS.with(|l| l.borrow_mut().push((id, f)));
    id
}

/// Removes subscriber `id`.
#[cfg(feature = "std")]
pub(crate) fn unsubscribe(id: u32) {
    LISTENERS.with(|l| l.borrow_mut().retain(|(i, _)| *i != id));
}
