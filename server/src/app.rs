//! The HTTP app the `fauna-session-server` binary serves: the FDI routes, `GET /sessioninfo`, `GET /health`,
//! optional `GET /metrics` and static files, CORS. Embed it whole, or build your own from
//! [`SessionEngine::router`] and [`SessionEngine::layer`].

use std::path::PathBuf;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::engine::SessionEngine;
use crate::extract::Session;

/// What the app serves besides the FDI routes.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Serve `GET /metrics` in this app. Leave it off and serve [`metrics_app`] on another (private) address
    /// to keep the counters off the public listener.
    pub metrics: bool,
    /// Serve this directory with SPA fallback.
    pub static_dir: Option<PathBuf>,
}

/// `GET /sessioninfo`: the caller's session.
async fn session_info(session: Session) -> Response {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SessionInfo<'a> {
        session_handle: &'a str,
        user_id: &'a str,
        access_token_payload: &'a serde_json::Map<String, serde_json::Value>,
    }
    let at = session.access_token();
    let Some(signed) = at.claims_json() else {
        return Json(SessionInfo {
            session_handle: session.handle(),
            user_id: session.user_id(),
            access_token_payload: &at.claims,
        })
        .into_response();
    };
    // The same object with the payload written as the token carries it (it is what serialising the verified
    // claims gives, without doing it per request).
    let mut body = String::with_capacity(signed.len() + 128);
    body.push_str("{\"sessionHandle\":");
    body.push_str(&Value::from(session.handle()).to_string());
    body.push_str(",\"userId\":");
    body.push_str(&Value::from(session.user_id()).to_string());
    body.push_str(",\"accessTokenPayload\":");
    body.push_str(signed);
    body.push('}');
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /health`: unprotected liveness probe, always 200 (the process is up): `{"status":"ok"}`, or
/// `{"status":"degraded","database":"unavailable"}` while the session database does not answer (checked at most
/// once a second). Verifying access tokens needs no database and keeps working meanwhile.
async fn health(State(engine): State<SessionEngine>) -> impl IntoResponse {
    if engine.database_reachable().await {
        Json(json!({"status": "ok"}))
    } else {
        Json(json!({"status": "degraded", "database": "unavailable"}))
    }
}

async fn metrics(State(engine): State<SessionEngine>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::Metrics::CONTENT_TYPE)],
        engine.metrics().render(),
    )
}

/// Only `GET /metrics` (everything else 404), for a listener of its own (the binary's `--metrics-listen`), so
/// the counters need not be served on the public address.
pub fn metrics_app(engine: &SessionEngine) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(engine.clone())
}

/// The full HTTP app: FDI routes, `GET /sessioninfo`, `GET /health`, optional `/metrics` and static files, CORS.
pub fn app(engine: &SessionEngine, options: &AppOptions) -> Router {
    let mut app = Router::new()
        .route("/sessioninfo", get(session_info))
        .route("/health", get(health));
    if options.metrics {
        app = app.route("/metrics", get(metrics));
    }
    let mut app = app
        .with_state(engine.clone())
        .layer(engine.layer())
        .merge(engine.router());
    if let Some(dir) = &options.static_dir {
        let index = dir.join("index.html");
        app = app.fallback_service(
            tower_http::services::ServeDir::new(dir)
                .fallback(tower_http::services::ServeFile::new(index)),
        );
    }
    app.layer(engine.cors_layer())
}
