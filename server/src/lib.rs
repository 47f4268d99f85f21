#![doc = include_str!("docs/crate.md")]
#![deny(missing_docs)]

pub mod accounts;
mod api;
#[cfg(feature = "cli")]
pub mod app;
pub mod claims;
mod config;
mod crypto;
mod device_cookie;
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
mod password;
mod request_rules;
mod revoked;
pub mod security;
pub mod serve;
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
pub use throttle::{RateLimits, RequestLimits, TrustedProxies};
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
