//! The FQL v10 Core HTTP API (`POST /query/1`) as the Rust client speaks it: the request body, and the answer
//! turned into the data or a [`FaunaError`].
//!
//! Outcomes are decided from the HTTP status and `error.code` only, as the official drivers do: a body whose
//! `error` is not an object with `code` and `message` (Fauna's last-resort `{"error":"internal server error"}`)
//! is a [`FaunaError::Protocol`] error.
//!
//! ```
//! use fauna_session::fauna::wire::{request_body, parse_response, FaunaError};
//! let body = request_body("Note.byId(id)", &serde_json::json!({ "id": "12" }));
//! assert_eq!(body, r#"{"query":"Note.byId(id)","arguments":{"id":"12"}}"#);
//! let n: i64 = parse_response(200, r#"{"data":3,"summary":"","txn_ts":1,"stats":{}}"#).unwrap();
//! assert_eq!(n, 3);
//! let e = parse_response::<i64>(401, r#"{"error":{"code":"unauthorized","message":"Access token required"}}"#);
//! assert!(matches!(e, Err(FaunaError::Unauthorized(_))));
//! ```

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;

/// Why a Fauna query failed. The variants follow the official driver's error classes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaunaError {
    /// `Session::fauna` was used but the session's `Config` has no `fauna` endpoint.
    #[error("no Fauna endpoint configured (Config::fauna)")]
    NotConfigured,
    /// No session, or it could not be refreshed: there is no token to send.
    #[error("no Fauna token: {0}")]
    Session(Error),
    /// The request did not reach Fauna (offline, DNS, CORS).
    #[error("the Fauna request failed: {0}")]
    Network(String),
    /// 401 `unauthorized`, even with a freshly refreshed token (the driver's `AuthenticationError`).
    #[error("Fauna refused the token: {0}")]
    Unauthorized(String),
    /// `forbidden` (the driver's `AuthorizationError`).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 400 `invalid_request`: bad header, body or argument.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// 400 `invalid_query`: the FQL did not parse or typecheck.
    #[error("invalid query: {}", .0.message)]
    InvalidQuery(QueryFailure),
    /// 400 `abort`: the query called `abort(value)`.
    #[error("query aborted: {}", .failure.message)]
    Abort {
        /// Code, message and summary.
        failure: QueryFailure,
        /// The value passed to `abort`.
        value: Value,
    },
    /// 400 `constraint_failure`: a write broke a schema constraint.
    #[error("constraint failure: {}", .failure.message)]
    ConstraintFailure {
        /// Code, message and summary.
        failure: QueryFailure,
        /// The `constraint_failures` array as Fauna sent it.
        failures: Value,
    },
    /// 409 `contended_transaction`.
    #[error("contended transaction: {0}")]
    Contended(String),
    /// 429 `limit_exceeded`: retry later.
    #[error("throttled: {0}")]
    Throttled(String),
    /// 440/503 `time_out`.
    #[error("query timeout: {0}")]
    Timeout(String),
    /// Another FQL runtime failure (400 with a code such as `document_not_found`, `permission_denied`).
    #[error("query failed ({}): {}", .0.code, .0.message)]
    Runtime(QueryFailure),
    /// 5xx `internal_error` or any answer that is not Fauna's error shape.
    #[error("Fauna answered {status}: {message}")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// `error.message`, or the body text.
        message: String,
    },
    /// A 200 whose `data` is not of the requested type.
    #[error("the query result does not match the requested type: {0}")]
    Decode(String),
}

/// A query error's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFailure {
    /// `error.code`, e.g. `document_not_found`.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// The rendered diagnostics (`summary`), when Fauna sent them.
    pub summary: Option<String>,
}

/// The JSON body of `POST /query/1`: the FQL text and its arguments (simple format: pass user input here, never
/// spliced into the query text). `arguments` is left out when it is `null` or an empty object.
pub fn request_body(fql: &str, arguments: &Value) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        query: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        arguments: Option<&'a Value>,
    }
    let empty = match arguments {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    let body = Body {
        query: fql,
        arguments: (!empty).then_some(arguments),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Reads a `/query/1` answer: `data` deserialised into `T` for a 200, the matching [`FaunaError`] otherwise.
pub fn parse_response<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, FaunaError> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if status == 200 {
        return match json.get("data") {
            Some(data) => T::deserialize(data).map_err(|e| FaunaError::Decode(e.to_string())),
            None => Err(FaunaError::Protocol {
                status,
                message: "a 200 answer without data".into(),
            }),
        };
    }
    let error = json.get("error").filter(|e| e.is_object());
    let (Some(code), Some(message)) = (
        error.and_then(|e| e.get("code")).and_then(Value::as_str),
        error.and_then(|e| e.get("message")).and_then(Value::as_str),
    ) else {
        let mut message: String = body.chars().take(200).collect();
        if let Some(e) = json.get("error").and_then(Value::as_str) {
            message = e.into();
        }
        return Err(FaunaError::Protocol { status, message });
    };
    let failure = || QueryFailure {
        code: code.into(),
        message: message.into(),
        summary: json.get("summary").map(text),
    };
    let error = error.cloned().unwrap_or_default();
    Err(match code {
        "unauthorized" => FaunaError::Unauthorized(message.into()),
        "forbidden" => FaunaError::Forbidden(message.into()),
        "invalid_request" => FaunaError::InvalidRequest(message.into()),
        "invalid_query" => FaunaError::InvalidQuery(failure()),
        "abort" => FaunaError::Abort {
            failure: failure(),
            value: error.get("abort").cloned().unwrap_or_default(),
        },
        "constraint_failure" => FaunaError::ConstraintFailure {
            failure: failure(),
            failures: error
                .get("constraint_failures")
                .cloned()
                .unwrap_or_default(),
        },
        "contended_transaction" => FaunaError::Contended(message.into()),
        "limit_exceeded" => FaunaError::Throttled(message.into()),
        "time_out" => FaunaError::Timeout(message.into()),
        _ if status >= 500 => FaunaError::Protocol {
            status,
            message: message.into(),
        },
        _ => FaunaError::Runtime(failure()),
    })
}
