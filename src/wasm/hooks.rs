//! The `preAPIHook` and `postAPIHook` calls around the refresh and sign-out requests.

use wasm_bindgen::JsValue;

use super::settings::Settings;
use super::sys;
use web_sys::Response;

/// The `action` of a hook context.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    RefreshSession,
    SignOut,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::RefreshSession => "REFRESH_SESSION",
            Action::SignOut => "SIGN_OUT",
        }
    }
}

fn context(action: Action, url: &JsValue, init: &JsValue) -> JsValue {
    let ctx = sys::object();
    sys::set(&ctx, "action", &JsValue::from_str(action.name()));
    sys::set(&ctx, "requestInit", init);
    sys::set(&ctx, "url", url);
    sys::set(&ctx, "userContext", &sys::object());
    ctx
}

/// Runs `preAPIHook` (if set) and returns the URL and `RequestInit` to send.
pub(crate) async fn pre(
    settings: &Settings,
    action: Action,
    url: &str,
    init: JsValue,
) -> Result<(JsValue, JsValue), JsValue> {
    let url = JsValue::from_str(url);
    let Some(hook) = &settings.hooks.pre_api else {
        return Ok((url, init));
    };
    let ctx = context(action, &url, &init);
    let out = sys::resolve(hook.call1(&JsValue::UNDEFINED, &ctx)?).await?;
    Ok((sys::get(&out, "url"), sys::get(&out, "requestInit")))
}

/// Runs `postAPIHook` (if set) with a clone of `resp`.
pub(crate) async fn post(
    settings: &Settings,
    action: Action,
    url: &JsValue,
    init: &JsValue,
    resp: &Response,
) -> Result<(), JsValue> {
    let Some(hook) = &settings.hooks.post_api else {
        return Ok(());
    };
    let ctx = context(action, url, init);
    sys::set(&ctx, "fetchResponse", &sys::clone_message(resp)?);
    sys::resolve(hook.call1(&JsValue::UNDEFINED, &ctx)?).await?;
    Ok(())
}
