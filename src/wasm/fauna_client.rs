//! The typed FQL v10 client of the Rust API (`Session::fauna`, features `std` + `serde`): queries sent to the
//! configured Fauna endpoint with the session's `faunadbToken`, refreshed first when it would live less than the
//! minimum validity, and on a Fauna 401 the single-flight session refresh (shared with API 401s and other tabs)
//! and one retry.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::{Fail, driver, settings, sys};
use crate::error::Error;
use crate::fauna::wire::{self, FaunaError};

/// Handle for Fauna queries of the page's session (from `Session::fauna`). `Copy`, holds no JavaScript value.
///
/// ```no_run
/// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::fauna::wire::FaunaError> {
/// #[derive(serde::Deserialize)]
/// struct Page { data: Vec<serde_json::Value> }
/// let notes: Page = session.fauna().query("Note.all()", serde_json::json!({})).await?;
/// let n: i64 = session.fauna().query("Note.where(.owner == id).count()", serde_json::json!({ "id": "42" })).await?;
/// # let _ = (notes, n); Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fauna {
    pub(crate) _private: (),
}

fn session_error(f: Fail) -> FaunaError {
    match f.into_error() {
        Error::Js(message) => FaunaError::Network(message),
        e => FaunaError::Session(e),
    }
}

impl Fauna {
    /// Runs `fql` with `arguments` (a JSON object of named values, or `null`; simple format) and deserialises the
    /// answer's `data` into `T`.
    pub async fn query<T: DeserializeOwned>(
        &self,
        fql: &str,
        arguments: serde_json::Value,
    ) -> Result<T, FaunaError> {
        let settings = settings::current().map_err(FaunaError::Session)?;
        let endpoint = settings
            .config
            .fauna
            .as_ref()
            .ok_or(FaunaError::NotConfigured)?
            .endpoint
            .query_url();
        // No session: no request (a Rust app asks for its data, it has no placeholder secret to send).
        driver::fresh().await.map_err(session_error)?;
        let headers = sys::object();
        sys::set(
            &headers,
            "content-type",
            &JsValue::from_str("application/json"),
        );
        let init = sys::object();
        sys::set(&init, "method", &JsValue::from_str("POST"));
        sys::set(&init, "headers", &headers);
        let body = wire::request_body(fql, &arguments);
        sys::set(&init, "body", &JsValue::from_str(&body));
        let resp = driver::fauna_request(&JsValue::from_str(&endpoint), &init)
            .await
            .map_err(session_error)?;
        let status = resp.status();
        let text = match resp.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        }
        .ok_or_else(|| FaunaError::Network("the Fauna response body could not be read".into()))?;
        wire::parse_response(status, &text)
    }
}
