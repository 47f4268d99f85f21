//! The page's session settings: the validated configuration and the JavaScript hooks, set by `init`.

use alloc::boxed::Box;
use core::cell::Cell;

use js_sys::Function;

use super::sys;
use crate::config::Normalised;
use crate::error::Error;

/// The JavaScript callbacks of the JS `init` config (none from the Rust API).
#[derive(Default, Clone)]
pub(crate) struct Hooks {
    /// `preAPIHook`: may rewrite the URL and `RequestInit` of the refresh and sign-out calls.
    pub(crate) pre_api: Option<Function>,
    /// `postAPIHook`: sees the refresh and sign-out responses.
    pub(crate) post_api: Option<Function>,
    /// `onHandleEvent`: every session event.
    pub(crate) on_event: Option<Function>,
    /// `interceptUrl`: narrows which in-scope URLs get the session handling.
    pub(crate) intercept_url: Option<Function>,
}

/// What `init` configured.
pub(crate) struct Settings {
    pub(crate) config: Normalised,
    pub(crate) hooks: Hooks,
}

// `'static`: `init` runs once per page (a later call replaces the settings and leaves the old ones, a few hundred
// bytes, allocated). Every decision reads them, and a reference costs the wasm no reference counting and no drop
// code for the whole configuration (about 160 bytes gzipped, scripts/size-report.sh).
sys::page_local!(CURRENT: Cell<Option<&'static Settings>> = Cell::new(None));

impl Settings {
    /// Whether a request to `raw` (as the app gave it; `absolute` is it resolved against the page) gets the session
    /// handling.
    pub(crate) fn intercepts(&self, raw: &str, absolute: &str) -> bool {
        !crate::text::contains(raw, crate::scope::DO_NOT_INTERCEPT)
            && self.config.should_intercept(absolute)
            && self.app_allows(absolute)
    }

    /// The app's `interceptUrl(url)` (true without one; a throwing or non-boolean answer is false).
    fn app_allows(&self, absolute: &str) -> bool {
        match &self.hooks.intercept_url {
            None => true,
            Some(f) => sys::call(f, &absolute.into()).as_bool() == Some(true),
        }
    }
}

/// The page's settings, if `init` ran.
pub(crate) fn current() -> Result<&'static Settings, Error> {
    CURRENT.with(Cell::get).ok_or(Error::NotInitialised)
}

/// Makes `settings` the page's (a later call replaces them).
pub(crate) fn install(settings: Settings) {
    CURRENT.with(|c| c.set(Some(Box::leak(Box::new(settings)))));
}
