//! The session API both front doors share (the JavaScript exports in `js`, the Rust `Session`).

use alloc::string::String;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use super::hooks::{self, Action};
use super::refresh::{self, Unauthorised};
use super::settings::{self, Settings};
use super::{Fail, events, fauna_requests, fetch, frontend, sys};
use crate::cookies;
use crate::error::Error;
use crate::event::Event;
use crate::front_token;
use crate::headers;
use crate::state;
use fauna_session_protocol::body;

/// The parsed front token, after resolving an unknown session state; `None` without a session.
async fn front_token_info(settings: &Settings) -> Result<Option<JsValue>, Fail> {
    refresh::state(settings, true).await?;
    Ok(frontend::front_token()?)
}

/// True if a session exists (refreshing first when its access token has expired).
pub(crate) async fn does_session_exist() -> Result<bool, Fail> {
    let settings = settings::current()?;
    let Some(info) = front_token_info(&settings).await? else {
        return Ok(false);
    };
    if state::expired(frontend::expiry(&info), frontend::adjusted_now()) {
        let pre = frontend::state();
        return Ok(matches!(
            refresh::on_unauthorised(&settings, &pre).await,
            Unauthorised::Retry
        ));
    }
    Ok(true)
}

/// The user id of the session.
pub(crate) async fn user_id() -> Result<String, Fail> {
    let settings = settings::current()?;
    let info = front_token_info(&settings).await?.ok_or(Error::NoSession)?;
    Ok(sys::get(&info, front_token::UID)
        .as_string()
        .unwrap_or_default())
}

/// The access-token payload of a fresh session.
pub(crate) async fn payload_securely() -> Result<JsValue, Fail> {
    let settings = settings::current()?;
    Ok(sys::get(
        &fauna_requests::fresh_info(&settings).await?,
        front_token::UP,
    ))
}

/// The header-mode access token, if a session exists.
pub(crate) async fn access_token() -> Result<Option<String>, Fail> {
    if does_session_exist().await? {
        Ok(sys::cookie(cookies::ACCESS_TOKEN))
    } else {
        Ok(None)
    }
}

/// Refreshes now: true if the session is fresh, false if there is none.
pub(crate) async fn attempt_refreshing_session() -> Result<bool, Fail> {
    let settings = settings::current()?;
    let pre = frontend::state();
    match refresh::on_unauthorised(&settings, &pre).await {
        Unauthorised::Retry => Ok(true),
        Unauthorised::Expired(_) => Ok(false),
        Unauthorised::ApiError(e) => Err(Fail::Js(e)),
    }
}

/// The session's `faunadbToken`, valid for at least `min_validity_seconds` (refreshing first if it would not be).
pub(crate) async fn faunadb_token(min_validity_seconds: f64) -> Result<String, Fail> {
    let settings = settings::current()?;
    let min_ms = if min_validity_seconds.is_finite() && min_validity_seconds > 0.0 {
        min_validity_seconds * 1000.0
    } else {
        0.0
    };
    fauna_requests::token(&settings, min_ms).await
}

/// Signs out (`POST <apiBasePath>/signout`, through the interceptor) and clears the local session.
pub(crate) async fn sign_out() -> Result<(), Fail> {
    let settings = settings::current()?;
    if !does_session_exist().await? {
        events::fire(&settings, &Event::SignOut, None);
        return Ok(());
    }
    let headers = sys::object();
    for h in headers::for_sign_out() {
        sys::set(&headers, h.name, &JsValue::from_str(&h.value));
    }
    let init = sys::object();
    sys::set(&init, "method", &JsValue::from_str("post"));
    sys::set(&init, "headers", &headers);
    let config = &settings.config;
    let (url, init) = hooks::pre(&settings, Action::SignOut, &config.sign_out_url, init).await?;
    let resp = fetch::do_request(url.clone(), init.clone()).await?;
    let status = resp.status();
    if status == config.session_expired_status_code {
        return Ok(());
    }
    if status >= 300 {
        return Err(Fail::Js(resp.into()));
    }
    hooks::post(&settings, Action::SignOut, &url, &init, &resp).await?;
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
