//! `fetch` with the session handling, for the Rust API: the driver's `request` (see `driver`) as a future.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;

use super::{Fail, driver};

/// `doRequest`: session headers on intercepted requests, tokens saved from every response, refresh-and-retry on
/// the session-expired status, the managed token for Fauna requests, the native `fetch` for the rest.
pub(crate) async fn do_request(input: JsValue, init: JsValue) -> Result<Response, Fail> {
    Ok(driver::wait(driver::request(&input, &init))
        .await?
        .unchecked_into())
}
