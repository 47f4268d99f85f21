//! Accounts: password reset and email verification by email, and the devices (sessions) of a user.
//!
//! Routes (under the API base path, SuperTokens FDI bodies):
//!
//! | route | what |
//! | --- | --- |
//! | `POST /user/password/reset/token` | `{"formFields":[{"id":"email",…}]}` → always `{"status":"OK"}` (never tells whether the email exists); a known email gets a reset link |
//! | `POST /user/password/reset` | `{"method":"token","token","formFields":[{"id":"password",…}]}` → `OK`, `RESET_PASSWORD_INVALID_TOKEN_ERROR` or `FIELD_ERROR`; success ends **every** session of the user and deletes their Fauna tokens |
//! | `POST /user/email/verify/token` | (session) sends a verification link → `OK` or `EMAIL_ALREADY_VERIFIED_ERROR` |
//! | `POST /user/email/verify` | `{"method":"token","token"}` → `OK` or `EMAIL_VERIFICATION_INVALID_TOKEN_ERROR` |
//! | `GET /user/email/verify` | (session) → `{"status":"OK","isVerified":bool}`, refreshing the `st-ev` claim |
//! | `GET /sessions` | (session) the user's sessions: handle, created, last active, user agent, IP, `current` |
//! | `DELETE /sessions/<handle>` | (session) ends one of the user's own sessions |
//!
//! `POST /signout` takes `{"scope":"local"|"others"|"global"}` (default `local`).
//!
//! Tokens are 64 random bytes (128 hex characters), stored only as SHA-256, single use (using one deletes all
//! of the user's tokens of that kind), and expire ([`AccountsConfig::password_reset_token_lifetime`], 1 h;
//! [`AccountsConfig::email_verification_token_lifetime`], 24 h). Requests are rate-limited per client IP and per
//! email or user (the per-IP limits of [`RateLimits`](crate::RateLimits) `account_email_per_minute` and
//! `account_token_per_minute`, answered 429; [`AccountsConfig::per_email`], answered `GENERAL_ERROR` "sent
//! recently"). A reset request is answered before its email is looked up, so its timing tells nothing either.
//!
//! Email verification ([`EmailVerification`]): when not `Off`, every new session carries
//! `"st-ev": {"v": <verified>, "t": <ms>}` in its access-token payload, as SuperTokens sets it. `Required` makes
//! every [`Session`](crate::Session) extraction (except the verification routes and sign-out) answer the
//! protocol's 403 invalid claim until the email is verified. Verifying updates the stored payload of all the
//! user's sessions, so their next refresh carries `v: true`; the session that verifies gets a new token at once.

mod limit;
mod routes;
mod sql;
mod store;
mod verification;

use std::time::Duration;

pub use limit::{Limiter, Rate};
pub use routes::router;
pub use store::{AccountStore, DeviceRow, TokenPurpose, TokenRow, UserSession};
pub use verification::{EMAIL_VERIFICATION_CLAIM, email_verified_check, st_ev};

pub(crate) use routes::{record_device, sign_out, signout_scope, touch_device};
pub(crate) use verification::{claims_for_new_session, require_verified};

use crate::email::Mailer;

/// Whether email verification is on, and whether protected routes need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerification {
    /// No verification routes, no `st-ev` claim (the default: nothing changes for existing users).
    #[default]
    Off,
    /// Routes and claim; nothing requires it.
    Optional,
    /// Routes and claim; sessions of unverified users get 403 invalid claim on protected routes.
    Required,
}

impl std::str::FromStr for EmailVerification {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            _ => Err(format!(
                "unknown email verification mode {s:?} (required, optional, off)"
            )),
        }
    }
}

/// Settings of the account features. Start from [`AccountsConfig::default`].
///
/// ```
/// use std::time::Duration;
/// use fauna_session_server::accounts::{AccountsConfig, EmailVerification};
/// let c = AccountsConfig::default();
/// assert!(c.mailer.is_none());
/// assert_eq!(c.email_verification, EmailVerification::Off);
/// assert_eq!(c.password_reset_token_lifetime, Duration::from_secs(3600));
/// ```
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// Where emails go. `None`: the email routes answer `GENERAL_ERROR` "email is not configured" (and the
    /// server logs that email is off).
    pub mailer: Option<Mailer>,
    /// Email verification mode (default `Off`).
    pub email_verification: EmailVerification,
    /// How long a reset link works (default 1 h).
    pub password_reset_token_lifetime: Duration,
    /// How long a verification link works (default 24 h).
    pub email_verification_token_lifetime: Duration,
    /// Emails per address or user (default 3 at once, then one per 10 min), so mailboxes cannot be flooded:
    /// beyond it nothing is sent and the request answers `GENERAL_ERROR` with a message saying an email was
    /// sent recently and when to ask again. Unknown addresses are counted like known ones, so the answer
    /// tells nothing about whether the email exists.
    pub per_email: Rate,
    /// Most emails being sent at once (default 32); beyond it new ones are dropped with a warning.
    pub max_pending_emails: usize,
    /// Most keys the per-email limiter remembers (default 100 000).
    pub max_limiter_keys: usize,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            mailer: None,
            email_verification: EmailVerification::Off,
            password_reset_token_lifetime: Duration::from_secs(3600),
            email_verification_token_lifetime: Duration::from_secs(24 * 3600),
            per_email: Rate::new(3, Duration::from_secs(600)),
            max_pending_emails: 32,
            max_limiter_keys: 100_000,
        }
    }
}

/// A new one-time token (128 hex characters) and the hash to store.
pub(crate) fn new_token() -> (String, String) {
    let token = crate::crypto::hex(&crate::crypto::random_bytes::<64>());
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored for a token: `hex(sha256(token))`.
pub(crate) fn token_hash(token: &str) -> String {
    crate::crypto::sha256_hex(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_only_hashes_are_kept() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_eq!(a.len(), 128);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(ha, token_hash(&a));
        assert_ne!(ha, a);
    }

    #[test]
    fn modes_parse() {
        assert_eq!("Required".parse(), Ok(EmailVerification::Required));
        assert_eq!("off".parse(), Ok(EmailVerification::Off));
        assert!("sometimes".parse::<EmailVerification>().is_err());
    }
}
