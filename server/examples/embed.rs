//! Embed the session authority in your own axum app: FDI routes, a protected route that reads and updates
//! the session, an optional-session route, and CORS for a website origin.
//!
//! ```sh
//! cargo run -p fauna-session-server --example embed
//! curl -i -X POST localhost:3002/auth/signup -H 'st-auth-mode: header' \
//!   -d '{"formFields":[{"id":"email","value":"a@b.co"},{"id":"password","value":"abc12345"}]}'
//! curl -i localhost:3002/me -H "authorization: Bearer <st-access-token from above>"
//! ```

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};
use fauna_session_server::store::SqlStore;
use fauna_session_server::{Session, SessionConfig, SessionEngine, SessionRejection};
use serde_json::{Value, json};

/// Protected: 401 `try refresh token` / `unauthorised` without a valid session.
async fn me(session: Session) -> Json<Value> {
    Json(json!({"userId": session.user_id(), "claims": session.access_token_payload()}))
}

/// Protected: adds a claim; the regenerated access token goes out with this response.
async fn promote(mut session: Session) -> Result<Json<Value>, SessionRejection> {
    let update = json!({"role": "editor"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    session.merge_into_access_token_payload(&update).await?;
    Ok(Json(json!({"role": "editor"})))
}

/// Works with or without a session.
async fn hello(session: Option<Session>) -> String {
    match session {
        Some(s) => format!("hello {}", s.user_id()),
        None => "hello stranger".into(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("fauna-session-example.sqlite");
    let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", dir.display())).await?;
    let config = SessionConfig {
        api_domain: "http://127.0.0.1:3002".into(),
        website_origins: vec!["http://127.0.0.1:8000".into()],
        ..SessionConfig::default()
    };
    let engine = SessionEngine::new(config, Arc::new(store)).await?;
    engine.spawn_maintenance();
    let app = Router::new()
        .route("/me", get(me))
        .route("/promote", post(promote))
        .route("/hello", get(hello))
        .layer(engine.layer())
        .merge(engine.router())
        .layer(engine.cors_layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    println!("listening on http://127.0.0.1:3002");
    axum::serve(listener, app).await?;
    Ok(())
}
