//! The session API of the Rust `Session`: the driver's session calls (see `driver`; the JavaScript exports in
//! `js` return the same promises) as futures.

use alloc::string::String;

use wasm_bindgen::JsValue;

use super::Fail;
use super::driver::{self, Api};
use crate::devices::SignOutScope;

async fn call(call: Api, arg: JsValue) -> Result<JsValue, Fail> {
    Ok(driver::wait(driver::api(call, &arg)).await?)
}

/// True if a session exists (refreshing first when its access token has expired).
pub(crate) async fn does_session_exist() -> Result<bool, Fail> {
    Ok(call(Api::Exists, JsValue::UNDEFINED).await?.is_truthy())
}

/// The user id of the session.
pub(crate) async fn user_id() -> Result<String, Fail> {
    Ok(call(Api::UserId, JsValue::UNDEFINED)
        .await?
        .as_string()
        .unwrap_or_default())
}

/// The access-token payload of a fresh session.
pub(crate) async fn payload_securely() -> Result<JsValue, Fail> {
    call(Api::Payload, JsValue::UNDEFINED).await
}

/// The header-mode access token, if a session exists.
pub(crate) async fn access_token() -> Result<Option<String>, Fail> {
    Ok(call(Api::AccessToken, JsValue::UNDEFINED)
        .await?
        .as_string())
}

/// Refreshes now: true if the session is fresh, false if there is none.
pub(crate) async fn attempt_refreshing_session() -> Result<bool, Fail> {
    Ok(call(Api::Refresh, JsValue::UNDEFINED).await?.is_truthy())
}

/// The session's `faunadbToken`, valid for at least `min_validity_seconds` (refreshing first if it would not be).
pub(crate) async fn faunadb_token(min_validity_seconds: f64) -> Result<String, Fail> {
    let min_ms = JsValue::from_f64(driver::min_validity_ms(min_validity_seconds));
    Ok(call(Api::FaunaToken, min_ms)
        .await?
        .as_string()
        .unwrap_or_default())
}

/// Signs out (`POST <apiBasePath>/signout`, through the interceptor; with a `{"scope"}` body unless `Local`).
/// `Local` and `Global` clear the local session (the response's `front-token: remove` fires `SIGN_OUT`); `Others`
/// keeps it.
pub(crate) async fn sign_out(scope: SignOutScope) -> Result<(), Fail> {
    call(Api::SignOut, JsValue::from_str(scope.as_str()))
        .await
        .map(|_| ())
}

/// The user's devices, through the interceptor (session headers, refresh and retry). Without `handle`, `GET
/// <apiBasePath>/sessions`: the server's `sessions` array as it sent it. With one, `DELETE
/// <apiBasePath>/sessions/<handle>`: true if that session ended, false if the server knows no live session of
/// this user by that handle (ending this page's own session clears it here).
pub(crate) async fn sessions(handle: Option<&str>) -> Result<JsValue, Fail> {
    call(
        Api::Sessions,
        handle.map_or(JsValue::UNDEFINED, JsValue::from_str),
    )
    .await
}
