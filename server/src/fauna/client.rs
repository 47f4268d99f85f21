//! A small client of the Fauna Core HTTP API (`POST /query/1`, FQL v10, tagged format).
//!
//! Every value travels as a query argument; query text is fixed. Calls have a timeout, and
//! 429/503 answers are retried a bounded number of times with exponential backoff.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::FaunaConfig;

/// Why a Fauna call failed. Built from the HTTP status and `error.code` only, never from
/// messages (the engine's messages are not a stable interface).
#[derive(Debug, Clone, thiserror::Error)]
pub enum FaunaError {
    /// The endpoint could not be reached, or did not answer within the timeout. (The message
    /// leaves the endpoint out: it may reach clients in a 503 body.)
    #[error("cannot reach Fauna: {cause}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// What went wrong (connection refused, timeout, …).
        cause: String,
    },
    /// 401: the server secret is wrong, expired or revoked.
    #[error("Fauna rejected the server secret (401 unauthorized)")]
    Unauthorized,
    /// 429 after every retry.
    #[error("Fauna is throttling requests (429 {code}) after {attempts} attempts")]
    Throttled {
        /// `error.code` (usually `limit_exceeded`).
        code: String,
        /// Attempts made.
        attempts: u32,
    },
    /// 5xx, 440 or another non-400 protocol error (after retries for 503).
    #[error("Fauna failed with HTTP {status} ({code})")]
    Service {
        /// HTTP status.
        status: u16,
        /// `error.code`, or `unknown` when the body had none.
        code: String,
    },
    /// 400: the query failed (`document_not_found`, `permission_denied`, `abort`, …).
    #[error("Fauna query failed: {code}: {message}")]
    Query {
        /// `error.code`.
        code: String,
        /// `error.message`.
        message: String,
        /// `error.abort`, for `abort` failures.
        abort: Option<Value>,
    },
    /// The answer was not the Core HTTP API's shape.
    #[error("unexpected answer from Fauna (HTTP {status}): {detail}")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
}

impl FaunaError {
    /// `error.code` of a query failure.
    pub fn query_code(&self) -> Option<&str> {
        match self {
            Self::Query { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A Fauna Core HTTP API client. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), fauna_session_server::fauna::FaunaError> {
/// use fauna_session_server::fauna::{FaunaClient, FaunaConfig};
/// use serde_json::json;
/// let client = FaunaClient::new(&FaunaConfig::new("secret"));
/// let data = client.query("x + 1", json!({ "x": { "@int": "41" } })).await?;
/// assert_eq!(data, json!({ "@int": "42" }));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FaunaClient {
    http: reqwest::Client,
    url: String,
    endpoint: String,
    authorization: Arc<str>,
    max_retries: u32,
    backoff: Duration,
    query_timeout_ms: String,
    round_trips: Arc<AtomicU64>,
}

impl std::fmt::Debug for FaunaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaunaClient")
            .field("endpoint", &self.endpoint)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl FaunaClient {
    /// A client for `config.endpoint` with `config.secret`.
    pub fn new(config: &FaunaConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .unwrap_or_default();
        let endpoint = config.endpoint.trim_end_matches('/').to_owned();
        Self {
            http,
            url: format!("{endpoint}/query/1"),
            endpoint,
            authorization: format!("Bearer {}", config.secret.expose()).into(),
            max_retries: config.max_retries,
            backoff: config.retry_backoff,
            // The engine stops work on the query at our deadline too (1..=600000 ms).
            query_timeout_ms: config.timeout.as_millis().clamp(1, 600_000).to_string(),
            round_trips: Arc::new(AtomicU64::new(0)),
        }
    }

    /// HTTP requests sent so far (retries included).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// Runs `fql` with `arguments` (a JSON object in the tagged format: numbers as
    /// `{"@int": "1"}`/`{"@long": …}`, collections as `{"@mod": "User"}`) and returns `data` in the
    /// tagged format.
    pub async fn query(&self, fql: &str, arguments: Value) -> Result<Value, FaunaError> {
        let body = json!({ "query": fql, "arguments": arguments });
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(&body).await {
                Err(
                    e @ (FaunaError::Throttled { .. } | FaunaError::Service { status: 503, .. }),
                ) if attempt <= self.max_retries => {
                    let wait = self.backoff.saturating_mul(1 << (attempt - 1).min(10));
                    tracing::debug!(error = %e, attempt, ?wait, "retrying Fauna query");
                    tokio::time::sleep(wait).await;
                }
                Err(FaunaError::Throttled { code, .. }) => {
                    return Err(FaunaError::Throttled {
                        code,
                        attempts: attempt,
                    });
                }
                other => return other,
            }
        }
    }

    async fn once(&self, body: &Value) -> Result<Value, FaunaError> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let res = self
            .http
            .post(&self.url)
            .header("authorization", &*self.authorization)
            .header("x-format", "tagged")
            .header("x-typecheck", "false")
            .header("x-query-timeout-ms", &self.query_timeout_ms)
            .json(body)
            .send()
            .await
            .map_err(|e| FaunaError::Unreachable {
                endpoint: self.endpoint.clone(),
                cause: describe_reqwest(&e),
            })?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| FaunaError::Unreachable {
            endpoint: self.endpoint.clone(),
            cause: describe_reqwest(&e),
        })?;
        interpret(status, &text)
    }
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    cause
}

/// Maps a Core HTTP API answer to data or an error.
fn interpret(status: u16, text: &str) -> Result<Value, FaunaError> {
    let body: Option<Map<String, Value>> = serde_json::from_str(text).ok();
    // `error` may be an object with code/message, or (last-resort errors) a plain string.
    let error = body.as_ref().and_then(|b| b.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    match status {
        200 => {
            let body = body.ok_or_else(|| FaunaError::Protocol {
                status,
                detail: "body is not a JSON object".into(),
            })?;
            body.get("data").cloned().ok_or(FaunaError::Protocol {
                status,
                detail: "no `data` in a success answer".into(),
            })
        }
        401 => Err(FaunaError::Unauthorized),
        429 => Err(FaunaError::Throttled { code, attempts: 1 }),
        400 if error.and_then(|e| e.get("code")).is_some() => Err(FaunaError::Query {
            message: error
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            abort: error.and_then(|e| e.get("abort")).cloned(),
            code,
        }),
        400 => Err(FaunaError::Protocol {
            status,
            detail: "400 without an error code".into(),
        }),
        _ => Err(FaunaError::Service { status, code }),
    }
}

/// Reads a string field of a tagged result object.
pub(crate) fn str_field<'a>(data: &'a Value, key: &str) -> Result<&'a str, FaunaError> {
    data.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| FaunaError::Protocol {
            status: 200,
            detail: format!("result has no string `{key}`"),
        })
}

/// Reads an integer field (`{"@int": "…"}`, `{"@long": "…"}` or a JSON number).
pub(crate) fn int_field(data: &Value, key: &str) -> Option<i64> {
    let v = data.get(key)?;
    v.as_i64().or_else(|| {
        v.get("@int")
            .or_else(|| v.get("@long"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    })
}

/// A tagged `@long` argument.
pub(crate) fn long(n: i64) -> Value {
    json!({ "@long": n.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interprets_answers() {
        assert_eq!(
            interpret(200, r#"{"data":{"@int":"1"},"summary":""}"#).unwrap(),
            json!({"@int": "1"})
        );
        assert!(matches!(
            interpret(200, ""),
            Err(FaunaError::Protocol { .. })
        ));
        assert!(matches!(
            interpret(401, r#"{"error":{"code":"unauthorized","message":"x"}}"#),
            Err(FaunaError::Unauthorized)
        ));
        assert!(matches!(
            interpret(429, "{}"),
            Err(FaunaError::Throttled { .. })
        ));
        let e = interpret(
            400,
            r#"{"error":{"code":"abort","message":"Query aborted.","abort":"x"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.query_code(), Some("abort"));
        // Last-resort errors carry a string `error`.
        match interpret(500, r#"{"error":"internal server error"}"#) {
            Err(FaunaError::Service { status: 500, code }) => assert_eq!(code, "unknown"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            interpret(400, r#"{"error":"bad request"}"#),
            Err(FaunaError::Protocol { .. })
        ));
        assert!(matches!(
            interpret(503, "not json"),
            Err(FaunaError::Service { status: 503, .. })
        ));
    }

    #[test]
    fn reads_fields() {
        let v = json!({"id": "1", "n": {"@long": "5"}, "m": 3});
        assert_eq!(str_field(&v, "id").unwrap(), "1");
        assert!(str_field(&v, "x").is_err());
        assert_eq!(int_field(&v, "n"), Some(5));
        assert_eq!(int_field(&v, "m"), Some(3));
    }
}
