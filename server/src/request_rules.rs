//! What every state-changing request (`POST`, `PUT`, `PATCH`, `DELETE`) to the FDI and account routes must
//! carry, whatever the anti-CSRF mode: a page on another origin must not be able to sign a user out or ask
//! for their emails with a plain form or a `no-cors` fetch, which a browser sends without a CORS preflight
//! (and, across ports of one host, with the `SameSite` cookies).
//!
//! - An `Origin` header, when sent (browsers send it on every `POST`), must be one of
//!   [`SessionConfig::website_origins`](crate::SessionConfig::website_origins), the API's own origin, or
//!   name the host the request was sent to (a same-origin page). Otherwise: `403`.
//! - A body must be JSON (`application/json` or `application/*+json`): a form or `text/plain` body is
//!   refused with `415` before it is read. A request without a body needs no content type.
//!
//! Requests without `Origin` (servers, mobile apps, `curl`) are not browsers' cross-site requests and pass.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::SessionConfig;

/// The origins a state-changing request may come from.
#[derive(Debug)]
pub(crate) struct RequestRules {
    /// Lower-cased `scheme://host[:port]`.
    origins: Vec<String>,
}

/// `scheme://authority` of a URL or origin, lower-cased, without a trailing slash or path.
fn origin_of(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or("");
            format!("{scheme}://{authority}")
        }
        None => url.trim_end_matches('/').to_owned(),
    }
}

impl RequestRules {
    pub(crate) fn new(config: &SessionConfig) -> Self {
        let mut origins: Vec<String> = config
            .website_origins
            .iter()
            .map(|o| origin_of(o))
            .collect();
        origins.push(origin_of(&config.api_domain));
        Self { origins }
    }

    /// Whether `origin` may send state-changing requests to `host`.
    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin_of(origin);
        if self.origins.contains(&origin) {
            return true;
        }
        // A same-origin page: its origin names the host the request was sent to.
        let authority = origin.split_once("://").map_or("", |(_, a)| a);
        host.is_some_and(|h| !authority.is_empty() && h.eq_ignore_ascii_case(authority))
    }
}

/// Whether a request carries a body.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// Whether a `Content-Type` value is JSON.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

pub(crate) async fn check(
    State(rules): State<Arc<RequestRules>>,
    req: Request,
    next: Next,
) -> Response {
    let changes_state = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !changes_state {
        return next.run(req).await;
    }
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let allowed = origin.to_str().is_ok_and(|o| rules.allows(o, host));
        if !allowed {
            return refuse(StatusCode::FORBIDDEN, "origin not allowed");
        }
    }
    if has_body(headers) {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON (Content-Type: application/json)",
            );
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_configured_own_or_same_host() {
        let rules = RequestRules::new(&SessionConfig {
            api_domain: "https://api.example.com/".into(),
            website_origins: vec!["https://Example.com".into()],
            ..SessionConfig::default()
        });
        assert!(rules.allows("https://example.com", None));
        assert!(rules.allows("https://api.example.com", None));
        assert!(rules.allows("http://127.0.0.1:3001", Some("127.0.0.1:3001")));
        assert!(!rules.allows("http://127.0.0.1:9999", Some("127.0.0.1:3001")));
        assert!(!rules.allows("https://evil.example", Some("api.example.com")));
        assert!(!rules.allows("null", Some("api.example.com")));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }
}
