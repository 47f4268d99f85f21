//! Fauna requests managed by the session (`init({ fauna: { endpoint, minValiditySeconds } })`, `Config::fauna`):
//! a request to the Fauna endpoint (scheme, host and port exact, see [`crate::fauna::FaunaEndpoint`]) gets
//! `Authorization: Bearer <faunadbToken>` and none of the session's own headers or credentials; the token is
//! refreshed first when it would live less than the minimum validity, and a Fauna 401 takes the single-flight
//! session refresh (shared with API 401s and other tabs) and one retry. Without a session the request goes out as
//! the app made it, so Fauna answers for itself (the official driver's `AuthenticationError`), with no refresh.
//!
//! Also here: the session's fresh front token and `faunadbToken`, which the session API (`api`) shares.

use alloc::string::String;

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, Response};

use super::refresh::{self, Unauthorised};
use super::settings::Settings;
use super::{Fail, frontend, sys};
use crate::error::Error;
use crate::fauna::{self, FaunaStep, TokenAction};
use crate::front_token;
use crate::state;
use fauna_session_protocol::{FAUNADB_TOKEN_CLAIM, header};

/// The front token of a session whose access token has not expired (refreshing first if it has).
pub(crate) async fn fresh_info(settings: &Settings) -> Result<JsValue, Fail> {
    for _ in 0..10 {
        refresh::state(settings, true).await?;
        let info = frontend::front_token()?.ok_or(Error::NoSession)?;
        if !state::expired(frontend::expiry(&info), frontend::adjusted_now()) {
            return Ok(info);
        }
        let pre = frontend::state();
        match refresh::on_unauthorised(settings, &pre).await {
            Unauthorised::Retry => {}
            Unauthorised::Expired(_) => return Err(Error::CouldNotRefresh.into()),
            Unauthorised::ApiError(e) => return Err(Fail::Js(e)),
        }
    }
    Err(Error::CouldNotRefresh.into())
}

/// The session's `faunadbToken`, valid for at least `min_validity_ms` (refreshing first if it would not be).
pub(crate) async fn token(settings: &Settings, min_validity_ms: f64) -> Result<String, Fail> {
    for attempt in 0..2 {
        let info = fresh_info(settings).await?;
        let token = sys::get(&sys::get(&info, front_token::UP), FAUNADB_TOKEN_CLAIM)
            .as_string()
            .ok_or(Error::NoFaunaToken)?;
        let action = fauna::token_action(
            frontend::expiry(&info),
            frontend::adjusted_now(),
            min_validity_ms,
        );
        if action == TokenAction::Use {
            return Ok(token);
        }
        if attempt == 0 {
            match refresh::on_unauthorised(settings, &frontend::state()).await {
                Unauthorised::Retry => {}
                Unauthorised::Expired(_) => return Err(Error::CouldNotRefresh.into()),
                Unauthorised::ApiError(e) => return Err(Fail::Js(e)),
            }
        }
    }
    Err(Error::FaunaTokenTooShort.into())
}

/// A copy of the headers a `fetch(input, init)` call sends: `init.headers` if given, else the `Request`'s.
pub(crate) fn request_headers(
    request: Option<&Request>,
    init: &JsValue,
) -> Result<Headers, JsValue> {
    let init_headers = sys::get(init, "headers");
    if !init_headers.is_undefined() && !init_headers.is_null() {
        Headers::new_with_headers(init_headers.unchecked_ref())
    } else if let Some(r) = request {
        Headers::new_with_headers(&sys::headers(r))
    } else {
        Headers::new()
    }
}

/// True if `url` (absolute) is a request to the configured Fauna endpoint.
pub(crate) fn is_fauna(settings: &Settings, url: &str) -> bool {
    settings
        .config
        .fauna
        .as_ref()
        .is_some_and(|f| f.endpoint.matches(url))
}

/// Sends a Fauna request (`input`, `init` as `fetch` got them) with the session's token; see the module docs.
pub(crate) async fn send(
    settings: &Settings,
    input: &JsValue,
    init: &JsValue,
) -> Result<Response, Fail> {
    let min_validity_ms = settings
        .config
        .fauna
        .as_ref()
        .map_or(0.0, |f| f.min_validity_ms);
    let request = input.dyn_ref::<Request>();
    let base = request_headers(request, init)?;
    let mut retried = false;
    loop {
        let token = match token(settings, min_validity_ms).await {
            Ok(t) => Some(t),
            // No session: the app's own request; Fauna answers it (a 401 for a placeholder secret).
            Err(Fail::Err(Error::NoSession | Error::CouldNotRefresh | Error::NoFaunaToken)) => None,
            Err(e) => return Err(e),
        };
        // The session as this attempt saw it: a refresh for its 401 is skipped if another caller refreshed since.
        let pre = frontend::state();
        let headers = Headers::new_with_headers(&base)?;
        if let Some(t) = &token {
            headers.set(header::AUTHORIZATION, &fauna::bearer(t))?;
        }
        let attempt_init: JsValue = if init.is_object() {
            Object::assign(&Object::new(), init.unchecked_ref()).into()
        } else {
            sys::object()
        };
        sys::set(&attempt_init, "headers", &headers);
        let attempt_input: JsValue = match request {
            Some(r) => sys::clone_message(r)?,
            None => input.clone(),
        };
        let resp = sys::native_fetch(&attempt_input, &attempt_init).await?;
        if token.is_some()
            && fauna::after_fauna_status(resp.status(), retried) == FaunaStep::RefreshAndRetry
        {
            retried = true;
            if let Unauthorised::Retry = refresh::on_unauthorised(settings, &pre).await {
                continue;
            }
        }
        return Ok(resp);
    }
}
