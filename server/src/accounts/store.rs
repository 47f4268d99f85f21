//! What the account features keep in the database: one-time tokens (hashes only), verified emails, and the
//! device of each session. [`AccountStore`] is implemented for [`SqlStore`](crate::store::SqlStore).

use crate::store::StoreError;

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Password reset (`POST /user/password/reset`).
    PasswordReset,
    /// Email verification (`POST /user/email/verify`).
    EmailVerification,
}

impl TokenPurpose {
    /// Value of the `purpose` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }
}

/// A one-time token as stored: the SHA-256 (hex) of the token, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// `hex(sha256(token))`.
    pub token_hash: String,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// Whose it is.
    pub user_id: String,
    /// The email it was sent to.
    pub email: String,
    /// Expiry, ms since epoch.
    pub expires_at: i64,
}

/// Where a session was created from, and when it was last refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Session handle.
    pub session_handle: String,
    /// `User-Agent` at creation (cut to 512 bytes).
    pub user_agent: String,
    /// Client IP at creation (empty when unknown).
    pub ip: String,
    /// Last creation or refresh, ms.
    pub last_active: i64,
}

/// One live session of a user, with its device (if recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    /// Session handle.
    pub session_handle: String,
    /// Creation time, ms.
    pub created_at: i64,
    /// Refresh-token expiry, ms.
    pub expires_at: i64,
    /// The device, when the session was created through the FDI routes.
    pub device: Option<DeviceRow>,
}

/// Storage of the account features. All methods are single statements (atomic on their own).
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Store a token and delete every expired token.
    async fn insert_token(&self, token: &TokenRow, now: i64) -> Result<(), StoreError>;
    /// Consume a token: delete **all** tokens of the same purpose and user as the one whose hash is `hash`,
    /// and return that one if it existed (expired or not). Single use, and using one voids its siblings.
    async fn consume_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
    ) -> Result<Option<TokenRow>, StoreError>;
    /// Record that `user_id` proved to own `email`.
    async fn mark_email_verified(
        &self,
        user_id: &str,
        email: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Whether `user_id` proved to own `email`.
    async fn is_email_verified(&self, user_id: &str, email: &str) -> Result<bool, StoreError>;
    /// Record the device of a (just created) session.
    async fn insert_device(&self, device: &DeviceRow) -> Result<(), StoreError>;
    /// Set a session's last-active time (no-op if it has no device row).
    async fn touch_device(&self, session_handle: &str, now: i64) -> Result<(), StoreError>;
    /// A user's live sessions, oldest first, with their devices.
    async fn user_sessions(&self, user_id: &str, now: i64) -> Result<Vec<UserSession>, StoreError>;
    /// The user of a live session (for ownership checks).
    async fn session_user(
        &self,
        session_handle: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError>;
}
