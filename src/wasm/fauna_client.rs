//! The typed FQL v10 client of the Rust API (`Session::fauna`, features `std` + `serde`): queries sent to the
//! configured Fauna endpoint with the session's `faunadbToken`, refreshed first when it would live less than the
//! minimum validity, and on a Fauna 401 the single-flight session refresh (shared with API 401s and other tabs)
//! and one retry.

use serde::de::DeserializeOwned;

use super::refresh::{self, Unauthorised};
use super::settings::{self, Settings};
use super::{Fail, api, frontend};
use crate::error::Error;
use crate::fauna::wire::{self, FaunaError};
use crate::fauna::{self, FaunaStep};

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
    FaunaError::Session(f.into_error())
}

impl Fauna {
    /// Runs `fql` with `arguments` (a JSON object of named values, or `null`; simple format) and deserialises the
    /// answer's `data` into `T`.
    pub async fn query<T: DeserializeOwned>(
        &self,
        fql: &str,
        arguments: serde_json::Value,
    ) -> Result<T, FaunaError> {
        let session = settings::current().map_err(FaunaError::Session)?;
        let settings = session
            .config
            .fauna
            .clone()
            .ok_or(FaunaError::NotConfigured)?;
        let url = settings.endpoint.query_url();
        let body = wire::request_body(fql, &arguments);
        let mut retried = false;
        loop {
            let token = api::faunadb_token(settings.min_validity_ms / 1000.0)
                .await
                .map_err(session_error)?;
            // The session as this request saw it: a refresh for its 401 is skipped if another caller already
            // refreshed since (single flight).
            let pre = frontend::state();
            let (status, text) = send(&url, &token, &body).await?;
            if fauna::after_fauna_status(status, retried) == FaunaStep::RefreshAndRetry {
                retried = true;
                refresh_after_401(&session, &pre).await?;
                continue;
            }
            return wire::parse_response(status, &text);
        }
    }
}

async fn refresh_after_401(
    session: &Settings,
    pre: &crate::state::LocalSessionState,
) -> Result<(), FaunaError> {
    match refresh::on_unauthorised(session, pre).await {
        Unauthorised::Retry => Ok(()),
        Unauthorised::Expired(_) => Err(FaunaError::Session(Error::NoSession)),
        Unauthorised::ApiError(e) => Err(session_error(Fail::Js(e))),
    }
}

/// `POST <endpoint>/query/1` with the token; the status and the body text.
async fn send(url: &str, token: &str, body: &str) -> Result<(u16, String), FaunaError> {
    let network = |e: gloo_net::Error| FaunaError::Network(e.to_string());
    let response = gloo_net::http::Request::post(url)
        .header("authorization", &fauna::bearer(token))
        .header("content-type", "application/json")
        .body(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let text = response.text().await.map_err(network)?;
    Ok((status, text))
}
