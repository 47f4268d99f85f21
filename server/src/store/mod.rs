//! Persistence: [`SessionStore`] (session rows), [`KeyStore`] (signing keys and secrets) and their SQL
//! implementation [`SqlStore`] (SQLite or PostgreSQL). Users live behind [`UserStore`](crate::users::UserStore).
//!
//! Every write that changes a session's refresh-token lineage is a single compare-and-swap `UPDATE`, so
//! several server instances can share one PostgreSQL database without locks.

mod sql;

pub(crate) use sql::with_pool;
pub use sql::{ConnectOptions, SqlStore};

/// A database failure. Never carries secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the query.
    #[error("database error: {0}")]
    Database(String),
    /// Stored data could not be decoded.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Database(e.to_string())
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    /// Session handle.
    pub session_handle: String,
    /// User id.
    pub user_id: String,
    /// hash2 of the last used refresh token.
    pub current_hash2: String,
    /// hash2 of its parent.
    pub parent_hash2: Option<String>,
    /// App claims of the access token (JSON object text).
    pub access_token_payload: String,
    /// Private session data (JSON object text).
    pub session_data: String,
    /// Creation time, ms.
    pub created_at: i64,
    /// Expiry of the refresh token, ms (sliding).
    pub expires_at: i64,
    /// Bumped by every write to the row; a compare-and-swap on it makes a write based on an older read fail
    /// instead of undoing what was written in between.
    pub version: i64,
}

impl SessionRow {
    /// The row's refresh-token lineage.
    pub(crate) fn lineage(&self) -> crate::lineage::Lineage<'_> {
        crate::lineage::Lineage {
            current: &self.current_hash2,
            parent: self.parent_hash2.as_deref(),
        }
    }
}

/// A compare-and-swap update of a session's lineage (and optionally its payload and data).
#[derive(Debug, Clone)]
pub struct LineageUpdate<'a> {
    /// Session handle.
    pub session_handle: &'a str,
    /// The update applies only while `current_hash2` still equals this.
    pub expected_current: &'a str,
    /// … and while the row's `version` still equals this (the update bumps it).
    pub expected_version: i64,
    /// New `current_hash2`.
    pub new_current: &'a str,
    /// New `parent_hash2`.
    pub new_parent: Option<&'a str>,
    /// New expiry, ms.
    pub expires_at: i64,
    /// New access-token payload, if changed.
    pub access_token_payload: Option<&'a str>,
    /// New session data, if changed.
    pub session_data: Option<&'a str>,
    /// … and while the session was created after this (ms): the absolute-lifetime cut-off, `i64::MIN` for
    /// none. A session created at or before it is too old to be written.
    pub created_after: i64,
    /// Now, ms: an expired row is not updated.
    pub now: i64,
}

impl<'a> LineageUpdate<'a> {
    /// Move `row`'s lineage to `new_current` / `new_parent` with expiry `expires_at`, if `row` is still current
    /// at `now` and was created after `created_after`; payload and data unchanged.
    pub(crate) fn of(
        row: &'a SessionRow,
        new_current: &'a str,
        new_parent: Option<&'a str>,
        expires_at: i64,
        now: i64,
        created_after: i64,
    ) -> Self {
        Self {
            session_handle: &row.session_handle,
            expected_current: &row.current_hash2,
            expected_version: row.version,
            new_current,
            new_parent,
            expires_at,
            access_token_payload: None,
            session_data: None,
            created_after,
            now,
        }
    }
}

/// A one-round-trip promotion of a refresh token's unused child to the session's current token
/// ([`SessionStore::promote_child`]).
#[derive(Debug, Clone, Copy)]
pub struct ChildPromotion<'a> {
    /// Session handle.
    pub session_handle: &'a str,
    /// The promotion applies only while `current_hash2` still equals this: the hash2 of the child's parent,
    /// which becomes the new `parent_hash2`.
    pub parent_hash2: &'a str,
    /// New `current_hash2`: the child's hash2.
    pub new_current: &'a str,
    /// New expiry, ms.
    pub expires_at: i64,
    /// Now, ms: an expired row is not promoted.
    pub now: i64,
    /// … and only while the session was created after this (ms): the absolute-lifetime cut-off, `i64::MIN` for
    /// none.
    pub created_after: i64,
}

/// A stored signing key.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// Key id.
    pub kid: String,
    /// Creation time, ms.
    pub created_at: i64,
    /// PKCS#8 DER private key.
    pub private_key: Vec<u8>,
}

/// Where sessions live.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Insert a new session.
    async fn insert_session(&self, row: &SessionRow) -> Result<(), StoreError>;
    /// A session by handle (expired or not).
    async fn session(&self, handle: &str) -> Result<Option<SessionRow>, StoreError>;
    /// Compare-and-swap the lineage; `false` when the row changed meanwhile, expired, is too old
    /// ([`LineageUpdate::created_after`]) or is gone.
    async fn update_lineage(&self, update: &LineageUpdate<'_>) -> Result<bool, StoreError>;
    /// One-round-trip promotion: if the session's `current_hash2` is [`ChildPromotion::parent_hash2`], it has not
    /// expired at [`now`](ChildPromotion::now) and it was created after
    /// [`created_after`](ChildPromotion::created_after), set `parent := current, current := new_current,
    /// expires_at` and return the row as updated. `None` when the condition does not hold (the caller falls back
    /// to reading the row). The default never promotes.
    async fn promote_child(
        &self,
        promotion: &ChildPromotion<'_>,
    ) -> Result<Option<SessionRow>, StoreError> {
        let _ = promotion;
        Ok(None)
    }
    /// Delete a session, returning it if it existed.
    async fn delete_session(&self, handle: &str) -> Result<Option<SessionRow>, StoreError>;
    /// Delete all sessions of a user, returning them.
    async fn delete_user_sessions(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError>;
    /// Delete at most `limit` sessions created at or before `before` (ms), returning them: the maintenance
    /// task's sweep of sessions past the absolute lifetime. The default deletes none (such sessions still end
    /// on their next use).
    async fn delete_sessions_created_before(
        &self,
        before: i64,
        limit: u32,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let _ = (before, limit);
        Ok(Vec::new())
    }
    /// Handles of a user's live sessions.
    async fn user_session_handles(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Replace the private session data; `false` if the session is gone.
    async fn set_session_data(&self, handle: &str, data: &str) -> Result<bool, StoreError>;
    /// Replace the stored access-token payload; `false` if the session is gone.
    async fn set_access_token_payload(
        &self,
        handle: &str,
        payload: &str,
    ) -> Result<bool, StoreError>;
    /// Delete sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError>;
    /// Record that the sessions `handles` were ended at `now`, their access tokens to be refused until
    /// `until` (ms), for the other instances sharing this store ([`revoked_since`](Self::revoked_since)).
    /// The default keeps nothing: only the instance that ended a session refuses its tokens at once.
    async fn record_revoked(
        &self,
        handles: &[String],
        now: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        let _ = (handles, now, until);
        Ok(())
    }
    /// Sessions recorded as ended at or after `since` (ms), with the time their tokens are refused until.
    async fn revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let _ = since;
        Ok(Vec::new())
    }
    /// Delete the records whose tokens have all expired by `now`; returns how many.
    async fn delete_expired_revocations(&self, now: i64) -> Result<u64, StoreError> {
        let _ = now;
        Ok(0)
    }
    /// Whether the store answers now (one round trip); the default says yes. `GET /health` reports it.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Where this store keeps account data (tokens, verified emails, devices); `None` (the default) turns
    /// those features off.
    fn accounts(&self) -> Option<&dyn crate::accounts::AccountStore> {
        None
    }
    /// Where this store keeps the audit table of security events; `None` (the default): `--audit-log` has
    /// nowhere to write (the server warns at start).
    fn audit(&self) -> Option<&dyn crate::security::AuditStore> {
        None
    }
}

/// Where the signing keys and the server's secrets (the refresh-token MAC key) live, shared by every instance.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// All signing keys.
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Insert `key` unless a key created at or after `newer_than` exists; `true` if inserted.
    async fn insert_signing_key(
        &self,
        key: &StoredKey,
        newer_than: i64,
    ) -> Result<bool, StoreError>;
    /// Delete keys created before `cutoff` except `keep_kid`; returns how many.
    async fn delete_signing_keys_before(
        &self,
        cutoff: i64,
        keep_kid: &str,
    ) -> Result<u64, StoreError>;
    /// The secret called `name`, storing `candidate` first if there is none yet (first writer wins).
    async fn secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError>;
}
