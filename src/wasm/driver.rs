//! The request, refresh and session-API flows, split in two: `driver.js`, a small JavaScript module that only
//! awaits promises (the native `fetch`, the Web Lock, the `preAPIHook`/`postAPIHook`, timers) and builds plain
//! objects, and the synchronous Rust decisions it asks between those awaits ([`op`], dispatched by `decide`). So
//! the wasm carries no futures executor and no async state machines, which were most of its size; both front
//! doors use the same driver (the Rust API awaits its promises, see `api`, `fetch`, `refresh`).
//!
//! Every decision stays here and in the pure modules it calls: which requests are intercepted ([`crate::scope`],
//! `Settings::intercepts`, [`crate::fauna`]), their headers ([`crate::headers`]), what a response means
//! ([`crate::state::after_response`], [`crate::state::sign_out_step`]), when to refresh ([`crate::state`],
//! [`crate::tabs`], [`crate::failure`]), the cookie state (`frontend`), events (`events`) and errors.
//!
//! The session state crosses as a JavaScript value: `st-last-access-token-update`'s text for
//! [`LocalSessionState::Exists`], `null` for `NotExists`, `undefined` for `MayExist`.

use alloc::string::String;
use core::cell::Cell;

use js_sys::{Array, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Response;

use super::settings::{self, Settings};
use super::{Fail, claims, events, frontend, sys};
use crate::devices::{self, Revoked, SignOutScope};
use crate::error::Error;
use crate::event::Event;
use crate::fauna::{self, FaunaStep, TokenAction};
use crate::headers::{self, Caller, SessionTokens};
use crate::state::{self, AfterLock, LocalSessionState, ResponseStep, SignOutStep};
use crate::tabs::{self, LockWait};
use crate::{cookies, failure, front_token};
use fauna_session_protocol::{FAUNADB_TOKEN_CLAIM, body, header};

/// What `driver.js`'s `run` starts; a session API call is `Flow::Api` plus its [`Api`] number.
#[derive(Clone, Copy)]
enum Flow {
    Install = 0,
    SaveFetch = 1,
    PatchFetch = 2,
    Request = 3,
    #[cfg(any(feature = "std", feature = "compat"))]
    State = 4,
    #[cfg(any(feature = "std", feature = "compat"))]
    Unauthorised = 5,
    #[cfg(feature = "serde")]
    Fresh = 6,
    #[cfg(feature = "serde")]
    Fauna = 7,
    Api = 32,
}

fn run(flow: Flow, a: &JsValue, b: &JsValue) -> JsValue {
    ready();
    sys::driver(flow as u32, a, b)
}

fn run_promise(flow: Flow, a: &JsValue, b: &JsValue) -> Promise {
    run(flow, a, b).unchecked_into()
}

/// The op numbers of `decide`; `driver.js` names the same numbers (a native test compares both lists).
pub(crate) mod op {
    pub(crate) use crate::driver_ops::*;
}

sys::page_local!(INSTALLED: Cell<bool> = Cell::new(false));

/// Hands `decide` to the driver (once per page).
pub(crate) fn ready() {
    if !INSTALLED.with(|i| i.replace(true)) {
        let decide = sys::callback(|op, a, b, c, d| {
            decide(op.as_f64().unwrap_or(-1.0) as u32, a, b, c, d).map_err(Fail::into_js)
        });
        sys::driver(Flow::Install as u32, &decide, &JsValue::UNDEFINED);
    }
}

/// Saves the native `fetch` (once, before anything patches it): called by the first `init`.
pub(crate) fn save_native_fetch() {
    run(Flow::SaveFetch, &JsValue::UNDEFINED, &JsValue::UNDEFINED);
}

/// Replaces `window.fetch` with the intercepting one (once per page).
pub(crate) fn patch() {
    run(Flow::PatchFetch, &JsValue::UNDEFINED, &JsValue::UNDEFINED);
}

/// `fetch(input, init)` with the session handling (what the patched `fetch` and `sessionFetch` run).
pub(crate) fn request(input: &JsValue, init: &JsValue) -> Promise {
    run_promise(Flow::Request, input, init)
}

/// The session API calls, by number (see `driver.js`'s `api`).
#[derive(Clone, Copy)]
pub(crate) enum Api {
    Exists = 0,
    UserId = 1,
    Payload = 2,
    AccessToken = 3,
    Refresh = 4,
    FaunaToken = 5,
    SignOut = 6,
    Sessions = 7,
}

/// Runs a session API call; `arg` is its argument (the Fauna token's minimum validity in ms, the sign-out scope's
/// name, the session handle to revoke).
pub(crate) fn api(call: Api, arg: &JsValue) -> Promise {
    ready();
    sys::driver(Flow::Api as u32 + call as u32, arg, &JsValue::UNDEFINED).unchecked_into()
}

/// `getFaunadbToken`'s `minValiditySeconds` in ms (0 unless positive and finite).
pub(crate) fn min_validity_ms(seconds: f64) -> f64 {
    if seconds.is_finite() && seconds > 0.0 {
        seconds * 1000.0
    } else {
        0.0
    }
}

/// The driver's promise as a Rust future.
#[cfg(any(feature = "std", feature = "compat"))]
pub(crate) async fn wait(p: Promise) -> Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(p).await
}

/// The local session state; an unknown one is resolved by one refresh attempt with `try_refresh`.
#[cfg(any(feature = "std", feature = "compat"))]
pub(crate) async fn session_state(try_refresh: bool) -> Result<LocalSessionState, Fail> {
    let p = run_promise(
        Flow::State,
        &JsValue::from_bool(try_refresh),
        &JsValue::UNDEFINED,
    );
    Ok(state_of(&wait(p).await?))
}

/// How a refresh attempt ended, for the caller that needed it.
#[cfg(any(feature = "std", feature = "compat"))]
pub(crate) enum Unauthorised {
    /// The session is (now) fresh: retry the request.
    Retry,
    /// No session; carries the refresh's failure if there was one.
    Expired(Option<JsValue>),
    /// The refresh failed for another reason (its non-2xx `Response`, or an error).
    ApiError(JsValue),
}

/// The single-flight refresh for every caller holding the same stale state `pre`, across tabs.
#[cfg(any(feature = "std", feature = "compat"))]
pub(crate) async fn unauthorised(pre: &LocalSessionState) -> Unauthorised {
    let p = run_promise(
        Flow::Unauthorised,
        &state_js(pre.clone()),
        &JsValue::UNDEFINED,
    );
    let Ok(out) = wait(p).await else {
        return Unauthorised::Expired(None);
    };
    let out: Array = out.unchecked_into();
    let e = out.get(1);
    match out.get(0).as_f64() {
        Some(0.0) => Unauthorised::Retry,
        Some(2.0) => Unauthorised::ApiError(e),
        _ if e.is_undefined() => Unauthorised::Expired(None),
        _ => Unauthorised::Expired(Some(e)),
    }
}

/// The front token of a session whose access token has not expired (refreshing first if it has).
#[cfg(feature = "serde")]
pub(crate) async fn fresh() -> Result<JsValue, Fail> {
    let p = run_promise(Flow::Fresh, &JsValue::UNDEFINED, &JsValue::UNDEFINED);
    Ok(wait(p).await?)
}

/// A Fauna request with the session's token.
#[cfg(feature = "serde")]
pub(crate) async fn fauna_request(input: &JsValue, init: &JsValue) -> Result<Response, Fail> {
    Ok(wait(run_promise(Flow::Fauna, input, init))
        .await?
        .unchecked_into())
}

/// The session state as the driver passes it around (see the module docs).
pub(crate) fn state_js(s: LocalSessionState) -> JsValue {
    match s {
        LocalSessionState::Exists(marker) => JsValue::from_str(&marker),
        LocalSessionState::NotExists => JsValue::NULL,
        LocalSessionState::MayExist => JsValue::UNDEFINED,
    }
}

fn state_of(v: &JsValue) -> LocalSessionState {
    match v.as_string() {
        Some(marker) => LocalSessionState::Exists(marker),
        None if v.is_null() => LocalSessionState::NotExists,
        None => LocalSessionState::MayExist,
    }
}

fn num(v: u32) -> JsValue {
    JsValue::from_f64(f64::from(v))
}

fn text(v: &JsValue) -> String {
    v.as_string().unwrap_or_default()
}

/// How a refresh ended for the driver (`[code, error?]`), and `AFTER_LOCK`'s answers.
const RETRY: u32 = 0;
const GONE: u32 = 1;
const API_ERROR: u32 = 2;
const REFRESH: u32 = 3;
const GONE_HELD: u32 = 4;

/// One decision of the driver. Arguments `a`–`d` as `driver.js` passes them for `op`.
fn decide(op: u32, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> Result<JsValue, Fail> {
    if op == op::CLAIM_CHECK {
        // The claim object works before `init` (reading a payload needs no settings).
        return Ok(claims::check(&a, &b, &c, &d)?);
    }
    let s = settings::current()?;
    let config = &s.config;
    Ok(match op {
        op::ROUTE => num(route(s, &a, &b)),
        op::STATE => state_js(frontend::state()),
        op::PREPARE => prepare(&a)?,
        op::ADD_HEADERS => {
            let tokens_cookie = sys::document_cookie();
            let caller = a_caller(&b);
            let tokens = SessionTokens::from_cookies(&tokens_cookie, state_of(&c).exists());
            let list = headers::for_request(config.token_transfer_method, &tokens, &caller);
            set_headers(&a, &list, true)?;
            JsValue::from_bool(config.auto_add_credentials)
        }
        op::AFTER_RESPONSE => after_response(s, a.unchecked_ref(), &b, &c, &d)?,
        op::CLAIM => {
            let errs = sys::get(&a, body::CLAIM_VALIDATION_ERRORS);
            if !errs.is_undefined() {
                let event = Event::ApiInvalidClaim {
                    claim_validation_errors: sys::stringify(&errs),
                };
                events::fire(s, &event, Some(&errs));
            }
            JsValue::UNDEFINED
        }
        op::LOCK_WAIT => JsValue::from_f64(LockWait::default().timeout_ms),
        op::LOCK_TIMED_OUT => num(match tabs::after_lock_timeout(&frontend::state()) {
            AfterLock::SessionExpired => GONE,
            AfterLock::Retry | AfterLock::Refresh => RETRY,
        }),
        op::AFTER_LOCK => num(match state::after_lock(&state_of(&a), &frontend::state()) {
            AfterLock::SessionExpired => GONE_HELD,
            AfterLock::Retry => RETRY,
            AfterLock::Refresh => REFRESH,
        }),
        op::UNAUTHORISED_EVENT => {
            let event = Event::Unauthorised {
                session_expired_or_revoked: false,
            };
            events::fire(s, &event, None);
            JsValue::UNDEFINED
        }
        op::FAILED => num(if frontend::state() == LocalSessionState::NotExists {
            GONE
        } else {
            API_ERROR
        }),
        op::REFRESH_REQUEST => refresh_request(s, &state_of(&a))?,
        op::OFFLINE => {
            let waited = a.as_f64().unwrap_or(0.0);
            JsValue::from_bool(failure::offline_wait(on_line()).is_some_and(|bound| waited < bound))
        }
        op::AFTER_REFRESH => after_refresh(s, a.unchecked_ref(), &state_of(&b))?,
        op::REFRESHED => num(if frontend::state() == LocalSessionState::NotExists {
            GONE
        } else {
            events::fire(s, &Event::RefreshSession, None);
            RETRY
        }),
        op::HOOK => {
            let hook = if a.as_f64() == Some(0.0) {
                &s.hooks.pre_api
            } else {
                &s.hooks.post_api
            };
            hook.clone().map_or(JsValue::UNDEFINED, JsValue::from)
        }
        op::FRONT => frontend::front_token()?.unwrap_or(JsValue::NULL),
        op::EXPIRED => JsValue::from_bool(state::expired(
            frontend::expiry(&a),
            frontend::adjusted_now(),
        )),
        op::TOKEN => {
            let Some(token) =
                sys::get(&sys::get(&a, front_token::UP), FAUNADB_TOKEN_CLAIM).as_string()
            else {
                return Ok(JsValue::UNDEFINED);
            };
            let min_ms = b.as_f64().unwrap_or(0.0);
            match fauna::token_action(frontend::expiry(&a), frontend::adjusted_now(), min_ms) {
                TokenAction::Use => JsValue::from_str(&token),
                _ => JsValue::NULL,
            }
        }
        op::ERROR => Fail::Err(match a.as_f64().unwrap_or(0.0) as u32 {
            0 => Error::NoSession,
            1 => Error::CouldNotRefresh,
            2 => Error::NoFaunaToken,
            3 => Error::FaunaTokenTooShort,
            _ => Error::CookieWriteFailed,
        })
        .into_js(),
        op::FAUNA_MIN => {
            JsValue::from_f64(config.fauna.as_ref().map_or(0.0, |f| f.min_validity_ms))
        }
        op::BEARER => {
            sys::set_header(&a, header::AUTHORIZATION, &fauna::bearer(&text(&b)))?;
            JsValue::UNDEFINED
        }
        op::FAUNA_STATUS => {
            let status = a.as_f64().unwrap_or(0.0) as u16;
            JsValue::from_bool(
                fauna::after_fauna_status(status, b.is_truthy()) == FaunaStep::RefreshAndRetry,
            )
        }
        op::FIELD => {
            if a.is_null() || b.as_f64() == Some(1.0) {
                sys::get(&a, front_token::UP)
            } else {
                JsValue::from_str(&text(&sys::get(&a, front_token::UID)))
            }
        }
        op::ACCESS => {
            sys::cookie(cookies::ACCESS_TOKEN).map_or(JsValue::UNDEFINED, |t| JsValue::from_str(&t))
        }
        op::SIGN_OUT_REQUEST => {
            let scope = scope_of(&a);
            let h = sys::object();
            set_headers(&h, &headers::for_sign_out(), false)?;
            let init = sys::object();
            sys::set(&init, "method", &JsValue::from_str("post"));
            if let Some(body) = scope.body() {
                sys::set(
                    &h,
                    header::CONTENT_TYPE,
                    &JsValue::from_str("application/json"),
                );
                sys::set(&init, "body", &JsValue::from_str(body));
            }
            sys::set(&init, "headers", &h);
            Array::of2(&JsValue::from_str(&config.sign_out_url), &init).into()
        }
        op::SIGN_OUT_STATUS => {
            let status = a.as_f64().unwrap_or(0.0) as u16;
            num(
                match state::sign_out_step(status, config.session_expired_status_code) {
                    SignOutStep::SessionGone => 0,
                    SignOutStep::Failed => 1,
                    SignOutStep::Done => 2,
                },
            )
        }
        op::SIGN_OUT_BODY => {
            if sys::get(&a, body::STATUS).as_string().as_deref() == Some(body::GENERAL_ERROR) {
                return Err(Error::General(text(&sys::get(&a, body::MESSAGE))).into());
            }
            JsValue::UNDEFINED
        }
        op::SIGNED_OUT_EVENT => {
            if scope_of(&a).ends_this_session() {
                events::fire(s, &Event::SignOut, None);
            }
            JsValue::UNDEFINED
        }
        op::STORAGE_LOCK => storage_lock(state_of(&a)),
        op::SESSIONS_REQUEST => {
            let handle = a.as_string();
            let url =
                devices::sessions_url(&config.api_domain, &config.api_base_path, handle.as_deref());
            let init = sys::object();
            let method = if handle.is_some() { "DELETE" } else { "GET" };
            sys::set(&init, "method", &JsValue::from_str(method));
            Array::of2(&JsValue::from_str(&url), &init).into()
        }
        op::SESSIONS_RESULT => sessions_result(s, a, &b, &c)?,
        op::CLAIM_REFRESH => claims::refresh_email_verification()?,
        op::TAB_MESSAGE => {
            events::from_other_tab(s, &a);
            JsValue::UNDEFINED
        }
        _ => JsValue::UNDEFINED,
    })
}

/// Writes `list` into `target`: a `Headers` (`Headers#set`) if `is_headers`, else a plain object (one function for
/// every header list the driver writes).
fn set_headers(
    target: &JsValue,
    list: &[headers::SetHeader<'_>],
    is_headers: bool,
) -> Result<(), JsValue> {
    for x in list {
        if is_headers {
            sys::set_header(target, x.name, &x.value)?;
        } else {
            sys::set(target, x.name, &JsValue::from_str(&x.value));
        }
    }
    Ok(())
}

/// 0: pass through to the native `fetch`; 1: a Fauna request; 2: a request with the session handling.
fn route(s: &Settings, raw: &JsValue, absolute: &JsValue) -> u32 {
    let (Some(raw), Some(abs)) = (raw.as_string(), absolute.as_string()) else {
        return 0;
    };
    if s.config
        .fauna
        .as_ref()
        .is_some_and(|f| f.endpoint.matches(&abs))
    {
        1
    } else if s.intercepts(&raw, &abs) {
        2
    } else {
        0
    }
}

/// A stale copy of our own Bearer token is dropped once (every attempt writes the current one); answers what the
/// caller set (`Caller` as bits: 1 `rid`, 2 `authorization`).
fn prepare(base: &JsValue) -> Result<JsValue, JsValue> {
    let mut authorization = false;
    if let Some(auth) = sys::header(base, header::AUTHORIZATION) {
        if headers::is_own_bearer(&auth, sys::cookie(cookies::ACCESS_TOKEN).as_deref()) {
            sys::delete_header(base, header::AUTHORIZATION)?;
        } else {
            authorization = true;
        }
    }
    let rid = u32::from(sys::header(base, header::RID).is_some());
    Ok(num(rid | u32::from(authorization) << 1))
}

fn a_caller(bits: &JsValue) -> Caller {
    let bits = bits.as_f64().unwrap_or(0.0) as u32;
    Caller {
        rid: bits & 1 != 0,
        authorization: bits & 2 != 0,
    }
}

/// After an attempt of an intercepted request: tokens saved, events fired; 0 done, 1 refresh and retry, 2 done
/// after firing `API_INVALID_CLAIM` from the body; the retry limit throws.
fn after_response(
    s: &Settings,
    resp: &Response,
    pre: &JsValue,
    refreshes: &JsValue,
    url: &JsValue,
) -> Result<JsValue, Fail> {
    let config = &s.config;
    frontend::save_response_tokens(s, resp)?;
    let status = sys::status(resp);
    let front = frontend::response_header(resp, header::FRONT_TOKEN);
    events::fire_session_update(s, state_of(pre).exists(), status, front.as_deref());
    let used = refreshes.as_f64().unwrap_or(0.0) as u32;
    Ok(num(
        match state::after_response(
            status,
            config.session_expired_status_code,
            config.invalid_claim_status_code,
            used,
            config.max_retry_attempts_for_session_refresh,
        ) {
            ResponseStep::Done => 0,
            ResponseStep::Refresh => 1,
            ResponseStep::InvalidClaim => 2,
            ResponseStep::RetryLimit => {
                let e = Error::RetryLimit {
                    status,
                    url: text(url),
                    attempts: used,
                };
                sys::console_error(&JsValue::from_str(&e.message()));
                return Err(e.into());
            }
        },
    ))
}

/// `[url, init]` of `POST <apiBasePath>/session/refresh` (before `preAPIHook`).
fn refresh_request(s: &Settings, pre: &LocalSessionState) -> Result<JsValue, JsValue> {
    let config = &s.config;
    let h = sys::new_headers();
    let all = sys::document_cookie();
    let tokens = SessionTokens::from_cookies(&all, pre.exists());
    set_headers(
        &h,
        &headers::for_refresh(config.token_transfer_method, &tokens),
        true,
    )?;
    let init = sys::object();
    sys::set(&init, "method", &JsValue::from_str("post"));
    sys::set(&init, "credentials", &JsValue::from_str("include"));
    sys::set(&init, "headers", &h);
    Ok(Array::of2(&JsValue::from_str(&config.refresh_url), &init).into())
}

/// The refresh's response: tokens saved, events fired; true to go on (`postAPIHook`), false to fail with the
/// response; a success without a front token throws.
fn after_refresh(s: &Settings, resp: &Response, pre: &LocalSessionState) -> Result<JsValue, Fail> {
    frontend::save_response_tokens(s, resp)?;
    let status = sys::status(resp);
    let expired = status == s.config.session_expired_status_code;
    let mut front = frontend::response_header(resp, header::FRONT_TOKEN);
    if front.is_none() {
        if expired {
            // An expired answer without a front token clears the session, as `front-token: remove` would.
            frontend::set_front_token(s, front_token::REMOVE)?;
            front = Some(front_token::REMOVE.into());
        } else if (200..300).contains(&status) {
            return Err(Error::MissingFrontToken.into());
        }
    }
    events::fire_session_update(s, pre.exists(), status, front.as_deref());
    Ok(JsValue::from_bool(status < 300))
}

/// `navigator.onLine` (true where the browser does not say).
fn on_line() -> bool {
    sys::get(&sys::get(&sys::window(), "navigator"), "onLine")
        .as_bool()
        .unwrap_or(true)
}

/// The sign-out scope the driver passes on (its name; `Local` unless one of the three).
fn scope_of(name: &JsValue) -> SignOutScope {
    name.as_string()
        .and_then(|n| SignOutScope::parse(&n))
        .unwrap_or(SignOutScope::Local)
}

/// What a device-list call answers, from its response (`body`: the JSON of a list's answer): the `sessions`
/// array, or for a revocation true (ended) / false (no such live session); no session and other refusals throw.
fn sessions_result(
    s: &Settings,
    resp: JsValue,
    handle: &JsValue,
    body: &JsValue,
) -> Result<JsValue, Fail> {
    let status = sys::status(&resp);
    let revoked = devices::revoked(status, s.config.session_expired_status_code);
    let list = Some(sys::get(body, "sessions"))
        .filter(|l| handle.is_undefined() && js_sys::Array::is_array(l));
    match (revoked, handle.is_undefined(), list) {
        (Revoked::NoSession, _, _) => Err(Error::NoSession.into()),
        (Revoked::Ended, true, Some(list)) => Ok(list),
        (Revoked::Ended, false, _) => Ok(JsValue::TRUE),
        (Revoked::NotFound, false, _) => Ok(JsValue::FALSE),
        _ => Err(Fail::Js(resp)),
    }
}

/// With `compat`, the localStorage lock where Web Locks are missing: a promise of its release function, `false`
/// when the wait timed out, `true` when the lock stopped being needed while waiting (another tab refreshed since
/// the caller saw `pre`). Without, `undefined`: the driver serialises this page's refreshes itself.
fn storage_lock(pre: LocalSessionState) -> JsValue {
    #[cfg(feature = "compat")]
    {
        use super::lock::{self, Acquired};
        sys::promise(alloc::boxed::Box::pin(async move {
            let needed = || tabs::still_needs_lock(&pre, &frontend::state());
            let guard = match lock::acquire_storage(&LockWait::default(), &needed).await {
                Acquired::Held(guard) => guard,
                Acquired::Unneeded => return Ok(JsValue::TRUE),
                Acquired::TimedOut => return Ok(JsValue::FALSE),
            };
            let guard = core::cell::RefCell::new(Some(guard));
            Ok(sys::callback(move |_, _, _, _, _| {
                drop(guard.borrow_mut().take());
                Ok(JsValue::UNDEFINED)
            }))
        }))
        .into()
    }
    #[cfg(not(feature = "compat"))]
    {
        let _ = pre;
        JsValue::UNDEFINED
    }
}
