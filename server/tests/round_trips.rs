//! Database round trips per engine operation, on SQLite and on PostgreSQL, counted by a store wrapper: a rotating
//! refresh is one statement (the compare-and-swap promotion), so is the first use of a refreshed access token, and a
//! cached verification is none. These are the costs the
//! `sessions` bench measures; a change that adds a read or loses the one-statement promotion fails here.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{Backend, fresh_database};
use fauna_session_server::store::{
    ChildPromotion, KeyStore, LineageUpdate, SessionRow, SessionStore, SqlStore, StoreError,
    StoredKey,
};
use fauna_session_server::users::SqlUserStore;
use fauna_session_server::{SessionConfig, SessionEngine, TokenTransfer};

both_backends!(rotating_refresh_is_one_statement);

/// [`SqlStore`] counting the session-store calls made through it.
struct Counting {
    inner: Arc<SqlStore>,
    calls: Mutex<BTreeMap<&'static str, u32>>,
}

impl Counting {
    fn count(&self, name: &'static str) {
        *self
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name)
            .or_default() += 1;
    }

    /// The calls since the last `take`.
    fn take(&self) -> Vec<(&'static str, u32)> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
            .into_iter()
            .collect()
    }
}

#[async_trait::async_trait]
impl SessionStore for Counting {
    async fn insert_session(&self, row: &SessionRow) -> Result<(), StoreError> {
        self.count("insert_session");
        self.inner.insert_session(row).await
    }
    async fn session(&self, handle: &str) -> Result<Option<SessionRow>, StoreError> {
        self.count("session");
        self.inner.session(handle).await
    }
    async fn update_lineage(&self, update: &LineageUpdate<'_>) -> Result<bool, StoreError> {
        self.count("update_lineage");
        self.inner.update_lineage(update).await
    }
    async fn promote_child(
        &self,
        promotion: &ChildPromotion<'_>,
    ) -> Result<Option<SessionRow>, StoreError> {
        self.count("promote_child");
        self.inner.promote_child(promotion).await
    }
    async fn delete_session(&self, handle: &str) -> Result<Option<SessionRow>, StoreError> {
        self.count("delete_session");
        self.inner.delete_session(handle).await
    }
    async fn delete_user_sessions(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        self.count("delete_user_sessions");
        self.inner.delete_user_sessions(user_id).await
    }
    async fn user_session_handles(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.count("user_session_handles");
        self.inner.user_session_handles(user_id, now).await
    }
    async fn set_session_data(&self, handle: &str, data: &str) -> Result<bool, StoreError> {
        self.count("set_session_data");
        self.inner.set_session_data(handle, data).await
    }
    async fn set_access_token_payload(
        &self,
        handle: &str,
        payload: &str,
    ) -> Result<bool, StoreError> {
        self.count("set_access_token_payload");
        self.inner.set_access_token_payload(handle, payload).await
    }
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        self.count("delete_expired_sessions");
        self.inner.delete_expired_sessions(now).await
    }
}

#[async_trait::async_trait]
impl KeyStore for Counting {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.count("signing_keys");
        self.inner.signing_keys().await
    }
    async fn insert_signing_key(
        &self,
        key: &StoredKey,
        newer_than: i64,
    ) -> Result<bool, StoreError> {
        self.count("insert_signing_key");
        self.inner.insert_signing_key(key, newer_than).await
    }
    async fn delete_signing_keys_before(
        &self,
        cutoff: i64,
        keep_kid: &str,
    ) -> Result<u64, StoreError> {
        self.count("delete_signing_keys_before");
        self.inner
            .delete_signing_keys_before(cutoff, keep_kid)
            .await
    }
    async fn secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.count("secret");
        self.inner.secret(name, candidate).await
    }
}

async fn rotating_refresh_is_one_statement(b: Backend) {
    let (url, _dir) = fresh_database(b).await;
    let inner = Arc::new(SqlStore::connect(&url).await.expect("connect"));
    let store = Arc::new(Counting {
        inner: inner.clone(),
        calls: Mutex::default(),
    });
    let users = Arc::new(SqlUserStore::new(inner));
    let engine = SessionEngine::with_user_store(SessionConfig::default(), store.clone(), users)
        .await
        .expect("engine");
    store.take();

    let created = engine
        .create_session(
            "u",
            Default::default(),
            Default::default(),
            TokenTransfer::Header,
        )
        .await
        .expect("create");
    assert_eq!(store.take(), [("insert_session", 1)], "a creation");
    engine
        .verify_access_token(&created.access_token.token)
        .await
        .expect("verify");
    assert_eq!(store.take(), [], "verifying a new session's token");

    // The first refresh presents the current token: read, nothing to write.
    let mut tokens = engine
        .refresh_session(&created.refresh_token.token, TokenTransfer::Header)
        .await
        .expect("refresh");
    assert_eq!(
        store.take(),
        [("session", 1)],
        "refreshing the current token"
    );
    // Every later one presents the child of the current token (what the bench does).
    for _ in 0..5 {
        tokens = engine
            .refresh_session(&tokens.refresh_token.token, TokenTransfer::Header)
            .await
            .expect("refresh");
        assert_eq!(store.take(), [("promote_child", 1)], "a rotating refresh");
    }
    // First use of the last refresh's access token: its refresh token (a child of the current one) is promoted
    // by one statement too; later uses are stateless.
    let verified = engine
        .verify_access_token(&tokens.access_token.token)
        .await
        .expect("verify");
    assert_eq!(
        store.take(),
        [("promote_child", 1)],
        "first use of a refreshed token"
    );
    let replacement = verified.replacement.expect("a replacement token").token;
    for _ in 0..3 {
        engine
            .verify_access_token(&replacement)
            .await
            .expect("verify");
    }
    assert_eq!(store.take(), [], "verifying the replacement");
    // The browser's cycle, three statements: a refresh with the token that first use made current (the
    // one-statement promotion finds no child to promote, then a read), and the first use of the new access token.
    let tokens = engine
        .refresh_session(&tokens.refresh_token.token, TokenTransfer::Header)
        .await
        .expect("refresh");
    assert_eq!(
        store.take(),
        [("promote_child", 1), ("session", 1)],
        "refreshing a current child token"
    );
    engine
        .verify_access_token(&tokens.access_token.token)
        .await
        .expect("verify");
    assert_eq!(store.take(), [("promote_child", 1)], "its first use");
}
