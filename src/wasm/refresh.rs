//! The single-flight refresh (`onUnauthorisedResponse`): however many requests in however many tabs see the
//! session-expired status at once, one of them calls the refresh endpoint; the others find the session version
//! changed once they hold the lock, and retry.

use wasm_bindgen::JsValue;

use super::frontend;
use super::hooks::{self, Action};
use super::settings::Settings;
use super::{Fail, events, lock, sys};
use crate::error::Error;
use crate::event::Event;
use crate::failure;
use crate::front_token;
use crate::headers::{self, SessionTokens};
use crate::state::{self, AfterLock, LocalSessionState};
use crate::tabs::{self, LockWait};
use fauna_session_protocol::header;

/// How a refresh attempt ended, for the caller that needed it.
pub(crate) enum Unauthorised {
    /// The session is (now) fresh: retry the request.
    Retry,
    /// No session; carries the refresh's failure if there was one.
    Expired(Option<JsValue>),
    /// The refresh failed for another reason (its non-2xx `Response`, or an error).
    ApiError(JsValue),
}

/// The local session state; with `try_refresh`, an unknown state (`MayExist`: first visit, wiped cookies) is
/// resolved by one refresh attempt.
pub(crate) async fn state(
    settings: &Settings,
    try_refresh: bool,
) -> Result<LocalSessionState, Fail> {
    let s = frontend::state();
    if s != LocalSessionState::MayExist || !try_refresh {
        return Ok(s);
    }
    match on_unauthorised(settings, &LocalSessionState::MayExist).await {
        Unauthorised::Retry => {
            let s = frontend::state();
            if s.exists() {
                Ok(s)
            } else {
                Err(Error::CookieWriteFailed.into())
            }
        }
        _ => Ok(LocalSessionState::NotExists),
    }
}

/// Refreshes once for every caller holding the same stale state `pre`, across tabs.
pub(crate) async fn on_unauthorised(settings: &Settings, pre: &LocalSessionState) -> Unauthorised {
    let wait = LockWait::default();
    let Some(guard) = lock::acquire(lock::REFRESH_LOCK, wait.timeout_ms).await else {
        // The wait timed out (another tab holds the lock that long): never hang, never refresh without the lock;
        // go on with the state as it is now.
        return match tabs::after_lock_timeout(&frontend::state()) {
            AfterLock::SessionExpired => Unauthorised::Expired(None),
            AfterLock::Retry | AfterLock::Refresh => Unauthorised::Retry,
        };
    };
    match state::after_lock(pre, &frontend::state()) {
        AfterLock::SessionExpired => {
            drop(guard);
            let event = Event::Unauthorised {
                session_expired_or_revoked: false,
            };
            events::fire(settings, &event, None);
            return Unauthorised::Expired(None);
        }
        AfterLock::Retry => return Unauthorised::Retry,
        AfterLock::Refresh => {}
    }
    let result = refresh_call(settings, pre).await;
    drop(guard);
    match result {
        Ok(r) => r,
        Err(e) if frontend::state() == LocalSessionState::NotExists => {
            Unauthorised::Expired(Some(e))
        }
        Err(e) => Unauthorised::ApiError(e),
    }
}

fn js(e: Error) -> JsValue {
    Fail::Err(e).into_js()
}

/// `POST <apiBasePath>/session/refresh` through the native fetch.
async fn refresh_call(
    settings: &Settings,
    pre: &LocalSessionState,
) -> Result<Unauthorised, JsValue> {
    let config = &settings.config;
    let headers = web_sys::Headers::new()?;
    {
        let all = sys::document_cookie();
        let tokens = SessionTokens::from_cookies(&all, pre.exists());
        for h in headers::for_refresh(config.token_transfer_method, &tokens) {
            headers.set(h.name, &h.value)?;
        }
    }
    let init = sys::object();
    sys::set(&init, "method", &JsValue::from_str("post"));
    sys::set(&init, "credentials", &JsValue::from_str("include"));
    sys::set(&init, "headers", &headers);
    let (url, init) =
        hooks::pre(settings, Action::RefreshSession, &config.refresh_url, init).await?;
    wait_while_offline().await;
    let resp = sys::native_fetch(&url, &init).await?;
    frontend::save_response_tokens(settings, &resp).map_err(js)?;
    let status = resp.status();
    let expired = status == config.session_expired_status_code;
    let mut front = frontend::response_header(&resp, header::FRONT_TOKEN);
    if front.is_none() {
        if expired {
            // An expired answer without a front token clears the session, as `front-token: remove` would.
            frontend::set_front_token(settings, front_token::REMOVE).map_err(js)?;
            front = Some(front_token::REMOVE.into());
        } else if (200..300).contains(&status) {
            return Err(js(Error::MissingFrontToken));
        }
    }
    events::fire_session_update(settings, pre.exists(), status, front.as_deref());
    if status >= 300 {
        return Err(resp.into());
    }
    hooks::post(settings, Action::RefreshSession, &url, &init, &resp).await?;
    if frontend::state() == LocalSessionState::NotExists {
        return Ok(Unauthorised::Expired(None));
    }
    events::fire(settings, &Event::RefreshSession, None);
    Ok(Unauthorised::Retry)
}

/// While the browser says it is offline, waits (bounded by [`failure::OFFLINE_WAIT_MS`]) for it to come back, so a
/// refresh is not spent on a network that is known to be down.
async fn wait_while_offline() {
    const STEP_MS: i32 = 200;
    let mut waited = 0.0;
    while let Some(bound) = failure::offline_wait(on_line()) {
        if waited >= bound {
            return;
        }
        sys::sleep(STEP_MS).await;
        waited += f64::from(STEP_MS);
    }
}

/// `navigator.onLine` (true where the browser does not say).
fn on_line() -> bool {
    sys::get(&sys::get(&sys::window(), "navigator"), "onLine")
        .as_bool()
        .unwrap_or(true)
}
