#![doc = include_str!("../docs/fauna.md")]

mod client;
mod hooks;
mod session;
mod users;

use std::fmt;
use std::time::Duration;

pub use client::{FaunaClient, FaunaError};
pub use hooks::FaunaHooks;
pub use session::FaunaSession;
pub use users::{FaunaUserStore, WithFaunaUserDocuments};

/// Key of the Fauna secret in the access-token payload or the session data.
pub const FAUNADB_TOKEN_KEY: &str = fauna_session_protocol::FAUNADB_TOKEN_CLAIM;

/// A Fauna secret. Never printed: `Debug` and `Display` show `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FaunaSecret(String);

impl FaunaSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself (for the `Authorization` header only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for FaunaSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for FaunaSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for FaunaSecret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl std::str::FromStr for FaunaSecret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl From<&str> for FaunaSecret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Fauna settings. Start from [`FaunaConfig::new`] (or `Default` and set `secret`).
///
/// ```
/// use std::time::Duration;
/// use fauna_session_server::fauna::FaunaConfig;
/// let c = FaunaConfig::new("fnA…server-key");
/// assert_eq!(c.endpoint, "http://localhost:8443");
/// assert_eq!(c.user_collection, "User");
/// assert!(!c.access_faunadb_token_from_frontend);
/// assert_eq!(c.ttl_lag, Duration::from_secs(30));
/// assert_eq!(format!("{:?}", c.secret), "<redacted>");
/// ```
#[derive(Debug, Clone)]
pub struct FaunaConfig {
    /// Core HTTP API endpoint (default `http://localhost:8443`, the self-hosted engine's port).
    pub endpoint: String,
    /// A server (or admin) secret of the database holding the user collection, e.g. a key
    /// made with `Key.create({ role: "server" })` or `<root key>:<db>:server`.
    pub secret: FaunaSecret,
    /// Collection of the user documents (default `User`).
    pub user_collection: String,
    /// Put the token into the access-token payload (visible to the browser) instead of the
    /// session data (default false).
    pub access_faunadb_token_from_frontend: bool,
    /// Added to the access-token lifetime to get the Fauna token's ttl (default 30 s).
    pub ttl_lag: Duration,
    /// Timeout of every call (default 5 s).
    pub timeout: Duration,
    /// Retries of a call answered 429 or 503 (default 2).
    pub max_retries: u32,
    /// First retry delay, doubled each retry (default 100 ms).
    pub retry_backoff: Duration,
    /// Create the user document (`{ id: userId }`) when minting for a user that has none, instead
    /// of failing (default false). Use it with the SQL user store, whose users' documents are
    /// created at sign-up, so a sign-up whose Fauna step failed heals at the next sign-in.
    pub create_missing_user_documents: bool,
}

impl Default for FaunaConfig {
    fn default() -> Self {
        Self {
            endpoint: "http://localhost:8443".into(),
            secret: FaunaSecret::default(),
            user_collection: "User".into(),
            access_faunadb_token_from_frontend: false,
            ttl_lag: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            max_retries: 2,
            retry_backoff: Duration::from_millis(100),
            create_missing_user_documents: false,
        }
    }
}

impl FaunaConfig {
    /// Defaults with `secret`.
    pub fn new(secret: impl Into<FaunaSecret>) -> Self {
        Self {
            secret: secret.into(),
            ..Self::default()
        }
    }
}
