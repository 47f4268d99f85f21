//! # fauna-session-server
//!
//! A session authority speaking the SuperTokens Frontend Driver Interface (FDI), so the `supertokens-website`
//! protocol (and the `fauna-session` browser library) works against it unchanged:
//!
//! - RS256 JWT access tokens in the SuperTokens V5 shape, keys rotating in the database, JWKS published;
//! - opaque rotating refresh tokens with theft detection (docs/design.md);
//! - cookie and header transport, `front-token`, anti-CSRF ([`Session`], [`SessionLayer`]);
//! - email/password sign-up and sign-in ([`users`]); password reset and email verification by email, and
//!   every device's session listed and revocable ([`accounts`], [`email`]);
//! - storage in SQLite or PostgreSQL ([`store`]);
//! - claim checks on routes, answering the protocol's 403 invalid claim ([`claims`]);
//! - hooks around the session lifecycle ([`hooks`]) — the Fauna integration mints a Fauna token per session.
//!
//! ## Use with axum
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Json, Router, routing::get};
//! use fauna_session_server::{Session, SessionConfig, SessionEngine, store::SqlStore};
//!
//! async fn me(session: Session) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "userId": session.user_id() }))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqlStore::connect("sqlite://fauna-session.sqlite?mode=rwc").await?;
//! let engine = SessionEngine::new(SessionConfig::default(), Arc::new(store)).await?;
//! engine.spawn_maintenance();
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .layer(engine.layer())
//!     .merge(engine.router())
//!     .layer(engine.cors_layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod accounts;
mod api;
pub mod app;
pub mod claims;
mod config;
mod crypto;
pub mod email;
mod engine;
mod error;
mod extract;
pub mod fauna;
mod hashing;
pub mod hooks;
mod keys;
mod lineage;
mod lockout;
mod metrics;
pub mod store;
mod throttle;
mod tokens;
mod transport;
pub mod users;
mod verify_cache;

pub use config::{AntiCsrf, SameSite, SessionConfig};
pub use engine::{NewTokens, SessionEngine, SessionInformation, Verified};
pub use error::{ClaimValidationError, SessionError};
pub use extract::{Session, SessionLayer, SessionRejection, SessionService, VerifyOptions};
pub use fauna_session_protocol::TokenTransfer;
pub use hashing::{HashPool, HashPoolConfig, PoolBusy};
pub use keys::{KeyInfo, SigningKeys};
pub use lockout::{AccountLockout, LockoutConfig};
pub use metrics::Metrics;
pub use throttle::{ClientIp, RateLimits, TrustedProxies};
pub use tokens::AccessToken;
pub use transport::{IssuedAccessToken, IssuedRefreshToken};

/// Internals the fuzz tests and benches drive directly. Not a stable API.
#[doc(hidden)]
pub mod testing {
    pub use crate::keys::{KeyRing, SigningKey};
    pub use crate::lineage::{RefreshToken, RefreshTokenError};
    pub use crate::transport::{front_token, parse_cookies, parse_front_token};

    /// JWT encoding and verification.
    pub mod tokens {
        pub use crate::tokens::{JwtError, UnverifiedJwt, decode, sign, verify};
    }
}
