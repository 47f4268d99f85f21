//! The request algorithm for `fetch` (`doRequest`): session headers on intercepted requests, tokens saved from
//! every response, refresh-and-retry on the session-expired status; and the patch of `window.fetch`.

use alloc::boxed::Box;
use core::cell::Cell;

use js_sys::Object;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, Response};

use super::refresh::{self, Unauthorised};
use super::settings::{self, Settings};
use super::{Fail, events, fauna_requests, frontend, sys};
use crate::error::Error;
use crate::event::Event;
use crate::headers::{self, Caller, SessionTokens};
use crate::state::RetryBudget;
use fauna_session_protocol::{body, header};

/// `doRequest`: what the patched `fetch` runs. Resolves with a `Response`; fails with an `Error`/`TypeError`.
pub(crate) async fn do_request(input: JsValue, init: JsValue) -> Result<Response, Fail> {
    let settings = settings::current()?;
    let request = input.dyn_ref::<Request>();
    let url = match (request, input.as_string()) {
        (Some(r), _) => Some(r.url()),
        (None, Some(s)) => Some(s),
        (None, None) => input.dyn_ref::<web_sys::Url>().map(|u| sys::href(u)),
    };
    let absolute = url.and_then(|u| Some((sys::absolute_url(&u)?, u)));
    if let Some((abs, _)) = &absolute
        && fauna_requests::is_fauna(&settings, abs)
    {
        return fauna_requests::send(&settings, &input, &init).await;
    }
    let url = match absolute {
        Some((abs, raw)) if settings.intercepts(&raw, &abs) => abs,
        _ => return Ok(sys::native_fetch(&input, &init).await?),
    };
    let init: JsValue = if init.is_object() {
        init
    } else {
        sys::object()
    };
    let base = fauna_requests::request_headers(request, &init)?;
    if let Some(auth) = base.get(header::AUTHORIZATION)?
        && headers::is_own_bearer(&auth, sys::cookie(crate::cookies::ACCESS_TOKEN).as_deref())
    {
        base.delete(header::AUTHORIZATION)?;
    }
    let caller = Caller {
        rid: base.get(header::RID)?.is_some(),
        authorization: base.get(header::AUTHORIZATION)?.is_some(),
    };
    let mut budget = RetryBudget::new(settings.config.max_retry_attempts_for_session_refresh);
    loop {
        let pre = refresh::state(&settings, true).await?;
        // A second `init` may have replaced the settings meanwhile: every attempt uses the current ones.
        let settings = settings::current()?;
        let config = &settings.config;
        let headers = Headers::new_with_headers(&base)?;
        {
            let all = sys::document_cookie();
            let tokens = SessionTokens::from_cookies(&all, pre.exists());
            for h in headers::for_request(config.token_transfer_method, &tokens, &caller) {
                headers.set(h.name, &h.value)?;
            }
        }
        let attempt_init: JsValue = Object::assign(&Object::new(), init.unchecked_ref()).into();
        sys::set(&attempt_init, "headers", &headers);
        if config.auto_add_credentials && sys::get(&init, "credentials").is_undefined() {
            sys::set(&attempt_init, "credentials", &JsValue::from_str("include"));
        }
        let attempt_input: JsValue = match request {
            Some(r) => sys::clone_message(r)?,
            None => input.clone(),
        };
        let resp = sys::native_fetch(&attempt_input, &attempt_init).await?;
        frontend::save_response_tokens(&settings, &resp)?;
        let status = resp.status();
        let front = frontend::response_header(&resp, header::FRONT_TOKEN);
        events::fire_session_update(&settings, pre.exists(), status, front.as_deref());
        if status == config.session_expired_status_code {
            if !budget.take() {
                let e = Error::RetryLimit {
                    status,
                    url,
                    attempts: budget.used(),
                };
                web_sys::console::error_1(&JsValue::from_str(&e.message()));
                return Err(e.into());
            }
            match refresh::on_unauthorised(&settings, &pre).await {
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
        if status == config.invalid_claim_status_code {
            on_invalid_claim(&settings, &resp).await;
        }
        return Ok(resp);
    }
}

/// Fires `API_INVALID_CLAIM` with the body's `claimValidationErrors` (a body that is not such JSON fires nothing).
async fn on_invalid_claim(settings: &Settings, resp: &Response) {
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
        let event = Event::ApiInvalidClaim {
            claim_validation_errors: sys::stringify(&errs),
        };
        events::fire(settings, &event, Some(&errs));
    }
}

sys::page_local!(PATCHED: Cell<bool> = Cell::new(false));

/// Replaces `window.fetch` with the intercepting one (once per page).
pub(crate) fn patch() {
    if PATCHED.with(|p| p.replace(true)) {
        return;
    }
    let patched = sys::callback(|input, init, _, _, _| {
        Ok(sys::promise(Box::pin(async move {
            match do_request(input, init).await {
                Ok(r) => Ok(r.into()),
                Err(f) => Err(as_error_instance(f.into_js())),
            }
        }))
        .into())
    });
    sys::set(&sys::window(), "fetch", &patched);
}

/// Rejection values of the patched fetch must be `Error` instances (gloo-net and reqwest rely on it).
fn as_error_instance(v: JsValue) -> JsValue {
    if v.is_instance_of::<js_sys::Error>() {
        v
    } else {
        sys::js_error(&sys::error_message(&v))
    }
}
