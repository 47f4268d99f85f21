//! The interceptor: the SuperTokens request algorithm (`doRequest`) and the single-flight refresh
//! (`onUnauthorisedResponse`), working on the frontend cookies so every tab shares one session.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
#[cfg(feature = "std")]
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, Response};

use super::{lock, sys};
use crate::config::{Normalised, TokenTransferMethod};
use crate::cookies::{self, FOREVER};
use crate::error::Error;
use crate::event::Event;
use crate::front_token;
use crate::state::{self, AfterLock, LocalSessionState, RetryBudget};
use fauna_session_protocol::{FAUNADB_TOKEN_CLAIM, FDI_VERSION_HEADER_VALUE, body, header};

/// JavaScript callbacks from the JS `init` config.
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) pre_api: Option<Function>,
    pub(crate) post_api: Option<Function>,
    pub(crate) on_event: Option<Function>,
}

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
    /// For JavaScript: typed errors become `Error` objects.
    pub(crate) fn into_js(self) -> JsValue {
        match self {
            Fail::Err(e) => sys::js_error(&e.message()),
            Fail::Js(v) => v,
        }
    }
    /// For Rust: JavaScript values become [`Error`] variants.
    #[cfg(feature = "std")]
    pub(crate) fn into_error(self) -> Error {
        match self {
            Fail::Err(e) => e,
            Fail::Js(v) => match v.dyn_ref::<Response>() {
                Some(r) => Error::RefreshFailed { status: r.status() },
                None => Error::Js(sys::error_message(&v)),
            },
        }
    }
}

/// Result of `onUnauthorisedResponse`.
pub(crate) enum Unauthorised {
    /// The session is (now) fresh: retry the request.
    Retry,
    /// No session; carries the refresh's failure if there was one.
    Expired(Option<JsValue>),
    /// The refresh failed for another reason (its non-2xx `Response`, or an error).
    ApiError(JsValue),
}

/// A Rust API event subscriber.
#[cfg(feature = "std")]
type Listener = Rc<dyn Fn(&Event)>;

/// The one interceptor of this page.
pub(crate) struct Engine {
    cfg: RefCell<Rc<(Normalised, Hooks)>>,
    /// `window.fetch` as it was before we patched it; the refresh call always goes through it.
    original_fetch: Function,
    #[cfg(feature = "std")]
    listeners: RefCell<Vec<(u32, Listener)>>,
    #[cfg(feature = "std")]
    next_listener: Cell<u32>,
    fetch_patched: Cell<bool>,
}

#[cfg(feature = "std")]
std::thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}
#[cfg(not(feature = "std"))]
static ENGINE: sys::Local<RefCell<Option<Rc<Engine>>>> = sys::Local::new(RefCell::new(None));

/// The engine, if `init` ran.
pub(crate) fn current() -> Result<Rc<Engine>, Error> {
    ENGINE
        .with(|e| e.borrow().clone())
        .ok_or(Error::NotInitialised)
}

/// Creates the engine, or replaces the configuration of the existing one (a second `init` keeps the first
/// one's saved fetch and patches).
pub(crate) fn install(cfg: Normalised, hooks: Hooks) -> Rc<Engine> {
    if let Ok(engine) = current() {
        *engine.cfg.borrow_mut() = Rc::new((cfg, hooks));
        return engine;
    }
    let window = sys::window();
    let fetch: Function = sys::get(&window, "fetch").unchecked_into();
    let original_fetch = fetch.bind0(&window);
    let engine = Rc::new(Engine {
        cfg: RefCell::new(Rc::new((cfg, hooks))),
        original_fetch,
        #[cfg(feature = "std")]
        listeners: RefCell::new(Vec::new()),
        #[cfg(feature = "std")]
        next_listener: Cell::new(0),
        fetch_patched: Cell::new(false),
    });
    ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
    engine
}

fn header(resp: &Response, name: &str) -> Option<String> {
    sys::headers(resp).get(name).ok().flatten()
}

fn number_text(n: f64) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// Parses a front token into its JSON object, checking its shape.
pub(crate) fn parse_front_token(raw: &str) -> Result<JsValue, Error> {
    let json = front_token::decode(raw)?;
    let v = js_sys::JSON::parse(&json)
        .map_err(|_| Error::MalformedFrontToken(front_token::FrontTokenError::Shape))?;
    let up = sys::get(&v, front_token::UP);
    if sys::get(&v, front_token::UID).as_string().is_none()
        || sys::get(&v, front_token::ATE).as_f64().is_none()
        || !up.is_object()
        || up.is_null()
    {
        return Err(Error::MalformedFrontToken(
            front_token::FrontTokenError::Shape,
        ));
    }
    Ok(v)
}

fn stringify(v: &JsValue) -> String {
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

async fn call_fetch(
    fetch: &Function,
    input: &JsValue,
    init: &JsValue,
) -> Result<Response, JsValue> {
    let p: Promise = fetch
        .call2(&JsValue::UNDEFINED, input, init)?
        .unchecked_into();
    let v = JsFuture::from(p).await?;
    v.dyn_into::<Response>()
        .map_err(|_| sys::js_error("fetch did not resolve with a Response"))
}

impl Engine {
    pub(crate) fn config(&self) -> Rc<(Normalised, Hooks)> {
        self.cfg.borrow().clone()
    }

    // ----- cookies and local state -------------------------------------------------------------------------

    fn write_cookie(&self, name: &str, value: &str, expires: &str) {
        let cfg = self.config();
        let host = sys::page_hostname();
        sys::set_document_cookie(&cookies::build(
            name,
            value,
            expires,
            cfg.0.cookie_domain(&host),
            cfg.0.is_in_iframe,
        ));
    }

    fn clear_cookie(&self, name: &str) {
        self.write_cookie(name, "", cookies::EPOCH);
    }

    /// Local session state without refreshing.
    #[allow(
        clippy::unused_self,
        reason = "reads the shared browser state this engine owns"
    )]
    pub(crate) fn lss_now(&self) -> LocalSessionState {
        let all = sys::document_cookie();
        LocalSessionState::from_cookies(
            cookies::get(&all, cookies::LAST_ACCESS_TOKEN_UPDATE),
            cookies::get(&all, cookies::FRONT_TOKEN),
        )
    }

    /// Local session state; with `try_refresh`, a `MayExist` state is resolved by one refresh attempt.
    pub(crate) async fn lss(self: &Rc<Self>, try_refresh: bool) -> Result<LocalSessionState, Fail> {
        let s = self.lss_now();
        if s != LocalSessionState::MayExist || !try_refresh {
            return Ok(s);
        }
        match self.on_unauthorised(&LocalSessionState::MayExist).await {
            Unauthorised::Retry => {
                let s = self.lss_now();
                if s.exists() {
                    Ok(s)
                } else {
                    Err(Error::CookieWriteFailed.into())
                }
            }
            _ => Ok(LocalSessionState::NotExists),
        }
    }

    /// Server-clock "now" (client clock plus the persisted skew).
    #[allow(
        clippy::unused_self,
        reason = "reads the shared browser state this engine owns"
    )]
    pub(crate) fn adjusted_now(&self) -> f64 {
        let skew = sys::local_storage()
            .and_then(|s| s.get_item(cookies::CLOCK_SKEW_KEY).ok().flatten())
            .map(|v| js_sys::Number::parse_float(&v))
            .filter(|v| v.is_finite())
            .unwrap_or(0.0);
        state::adjusted_now(sys::now_ms(), skew)
    }

    /// `FrontToken.setItem`: stores a new front token (or clears the session for `remove`).
    fn set_front_token(&self, value: &str) -> Result<(), Error> {
        let new = if value == front_token::REMOVE {
            None
        } else {
            Some(parse_front_token(value)?)
        };
        let now = sys::now_ms();
        self.write_cookie(
            cookies::LAST_ACCESS_TOKEN_UPDATE,
            &number_text(now),
            FOREVER,
        );
        if sys::cookie(cookies::LEGACY_ID_REFRESH_TOKEN).is_some() {
            self.clear_cookie(cookies::LEGACY_ID_REFRESH_TOKEN);
        }
        let Some(new) = new else {
            for name in [
                cookies::FRONT_TOKEN,
                cookies::ACCESS_TOKEN,
                cookies::REFRESH_TOKEN,
                cookies::ANTI_CSRF,
            ] {
                self.clear_cookie(name);
            }
            return Ok(());
        };
        let old = sys::cookie(cookies::FRONT_TOKEN);
        self.write_cookie(cookies::FRONT_TOKEN, value, FOREVER);
        let up = sys::get(&new, front_token::UP);
        if let Some(iat) = sys::get(&up, "iat").as_f64()
            && let Some(s) = sys::local_storage()
        {
            let _ = s.set_item(
                cookies::CLOCK_SKEW_KEY,
                &number_text(state::clock_skew_ms(iat, now)),
            );
        }
        if let Some(old) = old {
            let changed = match parse_front_token(&old) {
                Ok(o) => stringify(&sys::get(&o, front_token::UP)) != stringify(&up),
                Err(_) => true,
            };
            if changed {
                self.fire(&Event::AccessTokenPayloadUpdated, None);
            }
        }
        Ok(())
    }

    /// `saveTokensFromHeaders` for a fetch `Response`.
    fn save_tokens(&self, resp: &Response) -> Result<(), Error> {
        self.save_tokens_from(|name| header(resp, name))
    }

    /// `saveTokensFromHeaders`, reading response headers through `header`.
    pub(crate) fn save_tokens_from(
        &self,
        header: impl Fn(&str) -> Option<String>,
    ) -> Result<(), Error> {
        for (h, cookie) in [
            (header::REFRESH_TOKEN, cookies::REFRESH_TOKEN),
            (header::ACCESS_TOKEN, cookies::ACCESS_TOKEN),
        ] {
            if let Some(v) = header(h) {
                if v.is_empty() {
                    self.clear_cookie(cookie);
                } else {
                    self.write_cookie(
                        cookie,
                        &v,
                        &sys::utc_string(sys::now_ms() + cookies::HEADER_TOKEN_LIFETIME_MS),
                    );
                }
            }
        }
        if let Some(ft) = header(header::FRONT_TOKEN) {
            self.set_front_token(&ft)?;
        }
        if let Some(ac) = header(header::ANTI_CSRF)
            && self.lss_now().exists()
        {
            self.write_cookie(cookies::ANTI_CSRF, &ac, FOREVER);
        }
        Ok(())
    }

    // ----- events --------------------------------------------------------------------------------------------

    pub(crate) fn fire(&self, event: &Event, claim_errors: Option<&JsValue>) {
        let cfg = self.config();
        if let Some(f) = &cfg.1.on_event {
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
            let _ = f.call1(&JsValue::UNDEFINED, &o);
        }
        #[cfg(feature = "std")]
        let listeners: Vec<Listener> = self
            .listeners
            .borrow()
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        #[cfg(feature = "std")]
        for l in listeners {
            l(event);
        }
    }

    #[cfg(feature = "std")]
    pub(crate) fn subscribe(&self, f: Listener) -> u32 {
        let id = self.next_listener.get();
        self.next_listener.set(id.wrapping_add(1));
        self.listeners.borrow_mut().push((id, f));
        id
    }

    #[cfg(feature = "std")]
    pub(crate) fn unsubscribe(&self, id: u32) {
        self.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    pub(crate) fn fire_session_update(
        &self,
        was_logged_in: bool,
        status: u16,
        front: Option<&str>,
    ) {
        let expired = self.config().0.session_expired_status_code;
        if let Some(e) = state::session_update_event(was_logged_in, status, front, expired) {
            self.fire(&e, None);
        }
    }

    // ----- hooks ---------------------------------------------------------------------------------------------

    async fn pre_hook(
        &self,
        action: &str,
        url: &str,
        init: JsValue,
    ) -> Result<(JsValue, JsValue), JsValue> {
        let cfg = self.config();
        let Some(hook) = &cfg.1.pre_api else {
            return Ok((JsValue::from_str(url), init));
        };
        let ctx = sys::object();
        sys::set(&ctx, "action", &JsValue::from_str(action));
        sys::set(&ctx, "requestInit", &init);
        sys::set(&ctx, "url", &JsValue::from_str(url));
        sys::set(&ctx, "userContext", &sys::object());
        let out = sys::resolve(hook.call1(&JsValue::UNDEFINED, &ctx)?).await?;
        Ok((sys::get(&out, "url"), sys::get(&out, "requestInit")))
    }

    async fn post_hook(
        &self,
        action: &str,
        url: &JsValue,
        init: &JsValue,
        resp: &Response,
    ) -> Result<(), JsValue> {
        let cfg = self.config();
        let Some(hook) = &cfg.1.post_api else {
            return Ok(());
        };
        let ctx = sys::object();
        sys::set(&ctx, "action", &JsValue::from_str(action));
        sys::set(&ctx, "requestInit", init);
        sys::set(&ctx, "url", url);
        sys::set(&ctx, "fetchResponse", &sys::clone_message(resp)?);
        sys::set(&ctx, "userContext", &sys::object());
        sys::resolve(hook.call1(&JsValue::UNDEFINED, &ctx)?).await?;
        Ok(())
    }

    // ----- refresh ---------------------------------------------------------------------------------------------

    /// `onUnauthorisedResponse`: refreshes once for every caller holding the same stale state, across tabs.
    pub(crate) async fn on_unauthorised(self: &Rc<Self>, pre: &LocalSessionState) -> Unauthorised {
        loop {
            let Some(guard) = lock::acquire(lock::REFRESH_LOCK, 1000.0).await else {
                match state::lock_timed_out(pre, &self.lss_now()) {
                    AfterLock::SessionExpired => return Unauthorised::Expired(None),
                    AfterLock::Retry => return Unauthorised::Retry,
                    AfterLock::Refresh => continue,
                }
            };
            match state::after_lock(pre, &self.lss_now()) {
                AfterLock::SessionExpired => {
                    drop(guard);
                    self.fire(
                        &Event::Unauthorised {
                            session_expired_or_revoked: false,
                        },
                        None,
                    );
                    return Unauthorised::Expired(None);
                }
                AfterLock::Retry => return Unauthorised::Retry,
                AfterLock::Refresh => {}
            }
            let result = self.refresh_call(pre).await;
            drop(guard);
            return match result {
                Ok(r) => r,
                Err(e) if self.lss_now() == LocalSessionState::NotExists => {
                    Unauthorised::Expired(Some(e))
                }
                Err(e) => Unauthorised::ApiError(e),
            };
        }
    }

    /// `POST <apiBasePath>/session/refresh` through the original fetch.
    async fn refresh_call(&self, pre: &LocalSessionState) -> Result<Unauthorised, JsValue> {
        let cfg = self.config();
        let n = &cfg.0;
        let headers = Headers::new()?;
        if pre.exists()
            && let Some(t) = sys::cookie(cookies::ANTI_CSRF)
        {
            headers.set(header::ANTI_CSRF, &t)?;
        }
        headers.set(header::RID, header::RID_SESSION)?;
        headers.set(header::FDI_VERSION, FDI_VERSION_HEADER_VALUE)?;
        headers.set(header::AUTH_MODE, n.token_transfer_method.as_str())?;
        if n.token_transfer_method == TokenTransferMethod::Header
            && let Some(r) = sys::cookie(cookies::REFRESH_TOKEN)
        {
            let mut bearer = String::from(header::BEARER_PREFIX);
            bearer.push_str(&r);
            headers.set(header::AUTHORIZATION, &bearer)?;
        }
        let init = sys::object();
        sys::set(&init, "method", &JsValue::from_str("post"));
        sys::set(&init, "credentials", &JsValue::from_str("include"));
        sys::set(&init, "headers", &headers);
        let (url, init) = self
            .pre_hook("REFRESH_SESSION", &n.refresh_url, init)
            .await?;
        let resp = call_fetch(&self.original_fetch, &url, &init).await?;
        self.save_tokens(&resp)
            .map_err(|e| sys::js_error(&e.message()))?;
        let status = resp.status();
        let expired = status == n.session_expired_status_code;
        let front = header(&resp, header::FRONT_TOKEN);
        if front.is_none() {
            if expired {
                self.set_front_token(front_token::REMOVE)
                    .map_err(|e| sys::js_error(&e.message()))?;
            } else if (200..300).contains(&status) {
                return Err(sys::js_error(&Error::MissingFrontToken.message()));
            }
        }
        let front = if expired && front.is_none() {
            Some(front_token::REMOVE)
        } else {
            front.as_deref()
        };
        self.fire_session_update(pre.exists(), status, front);
        if status >= 300 {
            return Err(resp.into());
        }
        self.post_hook("REFRESH_SESSION", &url, &init, &resp)
            .await?;
        if self.lss_now() == LocalSessionState::NotExists {
            return Ok(Unauthorised::Expired(None));
        }
        self.fire(&Event::RefreshSession, None);
        Ok(Unauthorised::Retry)
    }

    // ----- the request algorithm -------------------------------------------------------------------------------

    /// `doRequest`: what the patched `fetch` runs. Resolves with a `Response`; fails with an `Error`/`TypeError`.
    pub(crate) async fn do_request(
        self: &Rc<Self>,
        input: JsValue,
        init: JsValue,
    ) -> Result<Response, Fail> {
        let cfg = self.config();
        let n = &cfg.0;
        let request = input.dyn_ref::<Request>();
        let url = match (request, input.as_string()) {
            (Some(r), _) => Some(r.url()),
            (None, Some(s)) => Some(s),
            (None, None) => input.dyn_ref::<web_sys::Url>().map(|u| sys::href(u)),
        };
        let absolute = url.and_then(|u| Some((sys::absolute_url(&u)?, u)));
        let intercept = absolute.as_ref().is_some_and(|(abs, raw)| {
            !crate::scope::contains(raw, "superTokensDoNotDoInterception")
                && n.should_intercept(abs)
        });
        if !intercept {
            return Ok(call_fetch(&self.original_fetch, &input, &init).await?);
        }
        let url = absolute.map(|(a, _)| a).unwrap_or_default();
        let init: JsValue = if init.is_object() {
            init
        } else {
            sys::object()
        };
        let init_headers = sys::get(&init, "headers");
        let base = if !init_headers.is_undefined() && !init_headers.is_null() {
            Headers::new_with_headers(init_headers.unchecked_ref())?
        } else if let Some(r) = request {
            Headers::new_with_headers(&sys::headers(r))?
        } else {
            Headers::new()?
        };
        if let (Some(auth), Some(access)) = (
            base.get(header::AUTHORIZATION)?,
            sys::cookie(cookies::ACCESS_TOKEN),
        ) {
            let mut ours = String::from("bearer ");
            ours.push_str(&access);
            if auth.eq_ignore_ascii_case(&ours) && auth.get(7..) == ours.get(7..) {
                base.delete(header::AUTHORIZATION)?;
            }
        }
        let mut budget = RetryBudget::new(n.max_retry_attempts_for_session_refresh);
        loop {
            let pre = self.lss(true).await?;
            let cfg = self.config();
            let n = &cfg.0;
            let headers = Headers::new_with_headers(&base)?;
            if pre.exists()
                && let Some(t) = sys::cookie(cookies::ANTI_CSRF)
            {
                headers.set(header::ANTI_CSRF, &t)?;
            }
            if headers.get(header::RID)?.is_none() {
                headers.set(header::RID, header::RID_ANTI_CSRF)?;
            }
            headers.set(header::AUTH_MODE, n.token_transfer_method.as_str())?;
            if n.token_transfer_method == TokenTransferMethod::Header
                && headers.get(header::AUTHORIZATION)?.is_none()
                && let (Some(a), Some(_)) = (
                    sys::cookie(cookies::ACCESS_TOKEN),
                    sys::cookie(cookies::REFRESH_TOKEN),
                )
            {
                let mut bearer = String::from(header::BEARER_PREFIX);
                bearer.push_str(&a);
                headers.set(header::AUTHORIZATION, &bearer)?;
            }
            let attempt_init: JsValue = Object::assign(&Object::new(), init.unchecked_ref()).into();
            sys::set(&attempt_init, "headers", &headers);
            if n.auto_add_credentials && sys::get(&init, "credentials").is_undefined() {
                sys::set(&attempt_init, "credentials", &JsValue::from_str("include"));
            }
            let attempt_input: JsValue = match request {
                Some(r) => sys::clone_message(r)?,
                None => input.clone(),
            };
            let resp = call_fetch(&self.original_fetch, &attempt_input, &attempt_init).await?;
            self.save_tokens(&resp)?;
            let status = resp.status();
            self.fire_session_update(
                pre.exists(),
                status,
                header(&resp, header::FRONT_TOKEN).as_deref(),
            );
            if status == n.session_expired_status_code {
                if !budget.take() {
                    let e = Error::RetryLimit {
                        status,
                        url,
                        attempts: budget.used(),
                    };
                    web_sys::console::error_1(&JsValue::from_str(&e.message()));
                    return Err(e.into());
                }
                match self.on_unauthorised(&pre).await {
                    Unauthorised::Retry => continue,
                    Unauthorised::Expired(None) => return Ok(resp),
                    Unauthorised::Expired(Some(e)) | Unauthorised::ApiError(e) => {
                        return match e.dyn_into::<Response>() {
                            Ok(r) => Ok(r),
                            Err(e) => Err(Fail::Js(e)),
                        };
                    }
                }
            }
            if status == n.invalid_claim_status_code {
                self.on_invalid_claim(&resp).await;
            }
            return Ok(resp);
        }
    }

    pub(crate) async fn on_invalid_claim(&self, resp: &Response) {
        let Ok(clone) = sys::clone_message(resp) else {
            return;
        };
        let Ok(p) = clone.unchecked_into::<Response>().json() else {
            return;
        };
        let Ok(json) = JsFuture::from(p).await else {
            return;
        };
        let errs = sys::get(&json, body::CLAIM_VALIDATION_ERRORS);
        if !errs.is_undefined() {
            self.fire(
                &Event::ApiInvalidClaim {
                    claim_validation_errors: stringify(&errs),
                },
                Some(&errs),
            );
        }
    }

    /// Installs the patched `window.fetch` and `XMLHttpRequest` (once per page).
    pub(crate) fn patch_fetch(&self) {
        if self.fetch_patched.replace(true) {
            return;
        }
        super::xhr::patch();
        let patched = sys::callback(|input, init, _, _, _| {
            Ok(sys::promise(Box::pin(async move {
                let engine = current().map_err(|e| sys::js_error(&e.message()))?;
                match engine.do_request(input, init).await {
                    Ok(r) => Ok(r.into()),
                    Err(f) => Err(as_error_instance(f.into_js())),
                }
            }))
            .into())
        });
        sys::set(&sys::window(), "fetch", &patched);
    }

    // ----- session API (shared by the JS and Rust front doors) ----------------------------------------------

    /// The parsed front token, after resolving a `MayExist` state; `None` without a session.
    async fn front_token_info(self: &Rc<Self>) -> Result<Option<JsValue>, Fail> {
        self.lss(true).await?;
        match sys::cookie(cookies::FRONT_TOKEN) {
            Some(raw) => Ok(Some(parse_front_token(&raw)?)),
            None => Ok(None),
        }
    }

    fn ate(info: &JsValue) -> f64 {
        sys::get(info, front_token::ATE).as_f64().unwrap_or(0.0)
    }

    pub(crate) async fn does_session_exist(self: &Rc<Self>) -> Result<bool, Fail> {
        let Some(info) = self.front_token_info().await? else {
            return Ok(false);
        };
        if state::expired(Self::ate(&info), self.adjusted_now()) {
            let pre = self.lss_now();
            return Ok(matches!(
                self.on_unauthorised(&pre).await,
                Unauthorised::Retry
            ));
        }
        Ok(true)
    }

    pub(crate) async fn user_id(self: &Rc<Self>) -> Result<String, Fail> {
        let info = self.front_token_info().await?.ok_or(Error::NoSession)?;
        Ok(sys::get(&info, front_token::UID)
            .as_string()
            .unwrap_or_default())
    }

    /// The front token of a session whose access token has not expired (refreshing first if it has).
    async fn fresh_info(self: &Rc<Self>) -> Result<JsValue, Fail> {
        for _ in 0..10 {
            let info = self.front_token_info().await?.ok_or(Error::NoSession)?;
            if !state::expired(Self::ate(&info), self.adjusted_now()) {
                return Ok(info);
            }
            let pre = self.lss_now();
            match self.on_unauthorised(&pre).await {
                Unauthorised::Retry => {}
                Unauthorised::Expired(_) => return Err(Error::CouldNotRefresh.into()),
                Unauthorised::ApiError(e) => return Err(Fail::Js(e)),
            }
        }
        Err(Error::CouldNotRefresh.into())
    }

    pub(crate) async fn payload_securely(self: &Rc<Self>) -> Result<JsValue, Fail> {
        Ok(sys::get(&self.fresh_info().await?, front_token::UP))
    }

    pub(crate) async fn access_token(self: &Rc<Self>) -> Result<Option<String>, Fail> {
        if self.does_session_exist().await? {
            Ok(sys::cookie(cookies::ACCESS_TOKEN))
        } else {
            Ok(None)
        }
    }

    pub(crate) async fn attempt_refreshing_session(self: &Rc<Self>) -> Result<bool, Fail> {
        let pre = self.lss_now();
        match self.on_unauthorised(&pre).await {
            Unauthorised::Retry => Ok(true),
            Unauthorised::Expired(_) => Ok(false),
            Unauthorised::ApiError(e) => Err(Fail::Js(e)),
        }
    }

    pub(crate) async fn faunadb_token(
        self: &Rc<Self>,
        min_validity_seconds: f64,
    ) -> Result<String, Fail> {
        let min_ms = if min_validity_seconds.is_finite() && min_validity_seconds > 0.0 {
            min_validity_seconds * 1000.0
        } else {
            0.0
        };
        for attempt in 0..2 {
            let info = self.fresh_info().await?;
            let token = sys::get(&sys::get(&info, front_token::UP), FAUNADB_TOKEN_CLAIM)
                .as_string()
                .ok_or(Error::NoFaunaToken)?;
            // The server mints the Fauna token to outlive the access token, so the access token's expiry is a
            // safe lower bound of the Fauna token's.
            if state::valid_for(Self::ate(&info), self.adjusted_now(), min_ms) {
                return Ok(token);
            }
            if attempt == 0 && !self.attempt_refreshing_session().await? {
                return Err(Error::CouldNotRefresh.into());
            }
        }
        Err(Error::FaunaTokenTooShort.into())
    }

    pub(crate) async fn sign_out(self: &Rc<Self>) -> Result<(), Fail> {
        if !self.does_session_exist().await? {
            self.fire(&Event::SignOut, None);
            return Ok(());
        }
        let cfg = self.config();
        let headers = sys::object();
        sys::set(
            &headers,
            header::RID,
            &JsValue::from_str(header::RID_SESSION),
        );
        sys::set(
            &headers,
            header::FDI_VERSION,
            &JsValue::from_str(FDI_VERSION_HEADER_VALUE),
        );
        let init = sys::object();
        sys::set(&init, "method", &JsValue::from_str("post"));
        sys::set(&init, "headers", &headers);
        let (url, init) = self.pre_hook("SIGN_OUT", &cfg.0.sign_out_url, init).await?;
        let resp = self.do_request(url.clone(), init.clone()).await?;
        let status = resp.status();
        if status == cfg.0.session_expired_status_code {
            return Ok(());
        }
        if status >= 300 {
            return Err(Fail::Js(resp.into()));
        }
        self.post_hook("SIGN_OUT", &url, &init, &resp).await?;
        if let Ok(p) = sys::clone_message(&resp).and_then(|c| c.unchecked_into::<Response>().json())
            && let Ok(json) = JsFuture::from(p).await
            && sys::get(&json, body::STATUS).as_string().as_deref() == Some(body::GENERAL_ERROR)
        {
            let message = sys::get(&json, body::MESSAGE)
                .as_string()
                .unwrap_or_default();
            return Err(Error::General(message).into());
        }
        Ok(())
    }
}

/// Rejection values of the patched fetch must be `Error` instances (gloo-net and reqwest rely on it).
pub(crate) fn as_error_instance(v: JsValue) -> JsValue {
    if v.is_instance_of::<js_sys::Error>() {
        v
    } else {
        sys::js_error(&sys::error_message(&v))
    }
}
