//! The session engine: creation, verification, refresh (rotation + theft detection), revocation, payload and
//! data updates, signing-key rotation and background cleanup. Transport-agnostic; [`crate::extract`] and
//! [`crate::api`] put it on HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::config::{AntiCsrf, SessionConfig};
use crate::crypto::{now_ms, random_bytes, random_uuid_bytes, sha256, uuid_from_bytes};
use crate::error::SessionError;
use crate::hooks::{RevokedSession, SessionMint};
use crate::metrics::Metrics;
use crate::refresh::{self, Decision, RefreshToken};
use crate::store::{LineageUpdate, SessionRow, SessionStore, StoreError, StoredKey};
use crate::tokens::{self, AccessToken, ClaimsInput, JwtError, KeyRing, SigningKey};
use crate::transport::{IssuedAccessToken, IssuedRefreshToken, TokenTransfer};
use crate::users::{SqlUserStore, UserStore};

/// How many times a compare-and-swap is retried after losing a race.
const CAS_ATTEMPTS: usize = 8;

/// Tokens of a session that was just created or refreshed.
#[derive(Debug, Clone)]
pub struct NewTokens {
    /// Session handle.
    pub session_handle: String,
    /// User id.
    pub user_id: String,
    /// New access token.
    pub access_token: IssuedAccessToken,
    /// New refresh token.
    pub refresh_token: IssuedRefreshToken,
    /// Anti-CSRF token to send (VIA_TOKEN with cookie transport).
    pub anti_csrf: Option<String>,
    /// Transport the tokens go out in.
    pub transfer: TokenTransfer,
}

/// A verified access token, plus a replacement when verification promoted a refreshed lineage.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The verified token's claims.
    pub access_token: Arc<AccessToken>,
    /// A replacement access token (with `parentRefreshTokenHash1: null`) to send on the response.
    pub replacement: Option<IssuedAccessToken>,
}

/// What [`SessionEngine::session_information`] reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInformation {
    /// Session handle.
    pub session_handle: String,
    /// User id.
    pub user_id: String,
    /// Private session data.
    pub session_data_in_database: Map<String, Value>,
    /// The app's access-token claims.
    pub custom_claims_in_access_token_payload: Map<String, Value>,
    /// Refresh-token expiry, ms.
    pub expiry: i64,
    /// Creation time, ms.
    pub time_created: i64,
}

struct Inner {
    config: SessionConfig,
    store: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    keys: KeyRing,
    refresh_key: Vec<u8>,
    metrics: Metrics,
    last_key_reload: Mutex<Option<Instant>>,
    verified: RwLock<HashMap<[u8; 32], Arc<AccessToken>>>,
}

/// Most verified tokens remembered (by SHA-256 of the whole token) to skip repeated RSA verification.
const VERIFY_CACHE_MAX: usize = 20_000;

/// The session authority. Cheap to clone (shared state behind an `Arc`).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use fauna_session_server::{SessionConfig, SessionEngine, store::SqlStore, transport::TokenTransfer};
///
/// let store = SqlStore::connect("sqlite://fauna-session.sqlite?mode=rwc").await?;
/// let engine = SessionEngine::new(SessionConfig::default(), Arc::new(store)).await?;
/// let tokens = engine.create_session("42", Default::default(), Default::default(), TokenTransfer::Header).await?;
/// let verified = engine.verify_access_token(&tokens.access_token.token).await?;
/// assert_eq!(verified.access_token.sub, "42");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SessionEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SessionEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionEngine")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn to_object(text: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

/// A write that touched no row means the session is gone (revoked or expired): 401 unauthorised.
fn session_found(updated: bool) -> Result<(), SessionError> {
    if updated {
        Ok(())
    } else {
        Err(SessionError::unauthorised())
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl SessionEngine {
    /// An engine on `store` with the SQL user store on the same database. Loads (or creates) the refresh-token
    /// key and signing keys.
    pub async fn new(
        config: SessionConfig,
        store: Arc<dyn SessionStore>,
    ) -> Result<Self, StoreError> {
        let users = Arc::new(SqlUserStore::new(store.clone()));
        Self::with_user_store(config, store, users).await
    }

    /// Like [`new`](Self::new) with another [`UserStore`].
    pub async fn with_user_store(
        config: SessionConfig,
        store: Arc<dyn SessionStore>,
        users: Arc<dyn UserStore>,
    ) -> Result<Self, StoreError> {
        let refresh_key = store
            .secret("refresh_token_hmac_key", &random_bytes::<32>())
            .await?;
        let engine = Self {
            inner: Arc::new(Inner {
                config,
                store,
                users,
                keys: KeyRing::default(),
                refresh_key,
                metrics: Metrics::default(),
                last_key_reload: Mutex::new(None),
                verified: RwLock::new(HashMap::new()),
            }),
        };
        engine.ensure_signing_keys().await?;
        Ok(engine)
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// The user store.
    pub fn users(&self) -> &Arc<dyn UserStore> {
        &self.inner.users
    }

    /// Event counters.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The signing keys currently loaded.
    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    fn access_lifetime_ms(&self) -> i64 {
        millis(self.inner.config.access_token_lifetime)
    }

    fn refresh_lifetime_ms(&self) -> i64 {
        millis(self.inner.config.refresh_token_lifetime)
    }

    fn uses_anti_csrf_token(&self, transfer: TokenTransfer) -> bool {
        transfer == TokenTransfer::Cookie && self.inner.config.anti_csrf() == AntiCsrf::ViaToken
    }

    fn signing_key(&self) -> Result<Arc<SigningKey>, SessionError> {
        self.inner
            .keys
            .signing_key(now_ms(), millis(self.inner.config.key_publish_ahead))
            .ok_or_else(|| SessionError::Store(StoreError::Corrupt("no signing key".into())))
    }

    /// Sign an access token.
    #[allow(clippy::too_many_arguments)]
    fn issue_access_token(
        &self,
        user_id: &str,
        session_handle: &str,
        exp_ms: i64,
        refresh_token_hash1: &str,
        parent_refresh_token_hash1: Option<&str>,
        anti_csrf_token: Option<&str>,
        app_claims: &Map<String, Value>,
    ) -> Result<IssuedAccessToken, SessionError> {
        let key = self.signing_key()?;
        let exp = exp_ms / 1000;
        let claims = tokens::build_claims(&ClaimsInput {
            user_id,
            exp,
            iat: now_ms() / 1000,
            session_handle,
            refresh_token_hash1,
            parent_refresh_token_hash1,
            anti_csrf_token,
            iss: &self.inner.config.issuer(),
            app_claims,
        });
        let token = tokens::sign(&key, &claims);
        Ok(IssuedAccessToken {
            token,
            claims,
            user_id: user_id.to_owned(),
            expiry_ms: exp * 1000,
        })
    }

    /// Create a session for `user_id` with public access-token claims and private session data.
    ///
    /// Protected claim names in `access_token_payload` are dropped. Runs the `on_create` hook first; if it fails
    /// nothing is stored.
    pub async fn create_session(
        &self,
        user_id: &str,
        access_token_payload: Map<String, Value>,
        session_data: Map<String, Value>,
        transfer: TokenTransfer,
    ) -> Result<NewTokens, SessionError> {
        let handle_bytes = random_uuid_bytes();
        let handle = uuid_from_bytes(handle_bytes);
        let mut payload = tokens::strip_protected(&access_token_payload);
        let mut data = session_data;
        self.inner
            .config
            .hooks
            .on_create(&mut SessionMint {
                user_id,
                session_handle: &handle,
                access_token_lifetime: self.inner.config.access_token_lifetime,
                access_token_payload: &mut payload,
                session_data: &mut data,
            })
            .await?;
        let payload = tokens::strip_protected(&payload);
        let now = now_ms();
        let rt = RefreshToken::new(handle_bytes, None).encode(&self.inner.refresh_key);
        let row = SessionRow {
            session_handle: handle.clone(),
            user_id: user_id.to_owned(),
            current_hash2: refresh::hash2(&rt),
            parent_hash2: None,
            access_token_payload: to_text(&payload),
            session_data: to_text(&data),
            created_at: now,
            expires_at: now + self.refresh_lifetime_ms(),
        };
        if let Err(e) = self.inner.store.insert_session(&row).await {
            // Undo whatever the hook made for this session (e.g. a Fauna token).
            let revoked = RevokedSession {
                session_handle: handle,
                user_id: user_id.to_owned(),
                session_data: data,
            };
            self.inner
                .config
                .hooks
                .on_revoke(std::slice::from_ref(&revoked))
                .await;
            return Err(e.into());
        }
        let anti_csrf = self
            .uses_anti_csrf_token(transfer)
            .then(|| refresh::anti_csrf_for(&self.inner.refresh_key, &rt));
        let access_token = self.issue_access_token(
            user_id,
            &handle,
            now + self.access_lifetime_ms(),
            &refresh::hash1(&rt),
            None,
            anti_csrf.as_deref(),
            &payload,
        )?;
        Metrics::inc(&self.inner.metrics.sessions_created);
        tracing::debug!(session_handle = %handle, "session created");
        Ok(NewTokens {
            session_handle: handle,
            user_id: user_id.to_owned(),
            access_token,
            refresh_token: IssuedRefreshToken {
                token: rt,
                expiry_ms: row.expires_at,
            },
            anti_csrf,
            transfer,
        })
    }

    /// Verify an access token's signature and expiry. Stateless, except the first use of a token minted by a
    /// refresh, which adopts the new refresh-token lineage in the database and returns a replacement token.
    ///
    /// Any token problem ⇒ [`SessionError::TryRefreshToken`]; a session that is gone ⇒
    /// [`SessionError::Unauthorised`].
    pub async fn verify_access_token(&self, token: &str) -> Result<Verified, SessionError> {
        let digest = sha256(token.as_bytes());
        if let Some(at) = self.cached_verification(&digest) {
            return Ok(Verified {
                access_token: at,
                replacement: None,
            });
        }
        self.verify_uncached(token, digest).await
    }

    /// Find `token` among recently verified tokens: `Some` is a full verification result (signature checked
    /// before, expiry checked now). Used to skip RSA for tokens seen again.
    pub fn verified_before(&self, token: &str) -> Option<Arc<AccessToken>> {
        self.cached_verification(&sha256(token.as_bytes()))
    }

    async fn verify_uncached(
        &self,
        token: &str,
        digest: [u8; 32],
    ) -> Result<Verified, SessionError> {
        let claims = match tokens::verify(&self.inner.keys, token, now_ms() / 1000) {
            Err(JwtError::UnknownKey) if self.reload_keys_rate_limited().await => {
                tokens::verify(&self.inner.keys, token, now_ms() / 1000)
            }
            other => other,
        };
        let claims = claims.map_err(|e| {
            tracing::debug!(error = %e, "access token rejected");
            SessionError::TryRefreshToken
        })?;
        let at =
            Arc::new(AccessToken::from_claims(claims).map_err(|_| SessionError::TryRefreshToken)?);
        let Some(parent) = at.parent_refresh_token_hash1.clone() else {
            self.remember_verification(digest, &at);
            return Ok(Verified {
                access_token: at,
                replacement: None,
            });
        };
        let replacement = self.adopt_lineage(&at, &parent).await?;
        Ok(Verified {
            access_token: at,
            replacement: Some(replacement),
        })
    }

    /// A token verified before (same bytes) and not yet expired. Tokens of a lineage not yet adopted are never
    /// cached, so every cached token is one whose verification is stateless.
    fn cached_verification(&self, digest: &[u8; 32]) -> Option<Arc<AccessToken>> {
        let cache = self
            .inner
            .verified
            .read()
            .unwrap_or_else(|e| e.into_inner());
        cache
            .get(digest)
            .filter(|at| at.exp >= now_ms() / 1000)
            .cloned()
    }

    fn remember_verification(&self, digest: [u8; 32], at: &Arc<AccessToken>) {
        let mut cache = self
            .inner
            .verified
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERIFY_CACHE_MAX {
            let now = now_ms() / 1000;
            cache.retain(|_, v| v.exp >= now);
            if cache.len() >= VERIFY_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(digest, at.clone());
    }

    /// First use of an access token minted by a refresh: make its refresh token current.
    async fn adopt_lineage(
        &self,
        at: &AccessToken,
        parent_hash1: &str,
    ) -> Result<IssuedAccessToken, SessionError> {
        let store = &self.inner.store;
        let child2 = refresh::hash2_of_hash1(&at.refresh_token_hash1);
        let parent2 = refresh::hash2_of_hash1(parent_hash1);
        for _ in 0..CAS_ATTEMPTS {
            let now = now_ms();
            let row = store
                .session(&at.session_handle)
                .await?
                .filter(|r| r.expires_at > now);
            let Some(row) = row else {
                return Err(SessionError::unauthorised());
            };
            if row.user_id != at.sub {
                return Err(SessionError::unauthorised());
            }
            let new_parent = if row.current_hash2 == child2 {
                None // already adopted by a concurrent request
            } else if row.current_hash2 == parent2 {
                Some(Some(row.current_hash2.clone()))
            } else if row.parent_hash2.as_deref() == Some(parent2.as_str()) {
                Some(row.parent_hash2.clone())
            } else {
                return Err(SessionError::TryRefreshToken);
            };
            if let Some(new_parent) = new_parent {
                let ok = store
                    .update_lineage(&LineageUpdate {
                        session_handle: &row.session_handle,
                        expected_current: &row.current_hash2,
                        new_current: &child2,
                        new_parent: new_parent.as_deref(),
                        expires_at: now + self.refresh_lifetime_ms(),
                        access_token_payload: None,
                        session_data: None,
                        now,
                    })
                    .await?;
                if !ok {
                    continue;
                }
                Metrics::inc(&self.inner.metrics.verify_promotions);
            }
            let payload = to_object(&row.access_token_payload)?;
            return self.issue_access_token(
                &at.sub,
                &at.session_handle,
                at.exp * 1000,
                &at.refresh_token_hash1,
                None,
                at.anti_csrf_token.as_deref(),
                &payload,
            );
        }
        Err(SessionError::Store(StoreError::Database(
            "too much contention adopting a refresh token".into(),
        )))
    }

    /// Refresh a session with a presented refresh token. Answers in `transfer`.
    ///
    /// Implements docs/design.md: current token ⇒ child (no write); unused child ⇒ promote; sibling ⇒ switch;
    /// anything else ⇒ theft (session revoked). A failure before the write leaves the token usable.
    pub async fn refresh_session(
        &self,
        token: &str,
        transfer: TokenTransfer,
    ) -> Result<NewTokens, SessionError> {
        Metrics::inc(&self.inner.metrics.refresh_requests);
        let key = &self.inner.refresh_key;
        let rt = RefreshToken::parse(key, token).map_err(|e| {
            tracing::debug!(error = %e, "refresh token rejected");
            SessionError::unauthorised()
        })?;
        let handle = rt.session_handle();
        let presented2 = refresh::hash2(token);
        let presented_parent = refresh::parent_hex(&rt);
        let store = &self.inner.store;
        // Fast path (no refresh hook): an unused child of the current token is promoted in one statement.
        if let Some(parent_hash1) = presented_parent.as_deref()
            && !self.inner.config.hooks.runs_on_refresh()
        {
            let now = now_ms();
            let expires_at = now + self.refresh_lifetime_ms();
            let parent2 = refresh::hash2_of_hash1(parent_hash1);
            if let Some(row) = store
                .promote_child(&handle, &parent2, &presented2, expires_at, now)
                .await?
            {
                let payload = to_object(&row.access_token_payload)?;
                return self.mint_child(
                    &rt,
                    token,
                    &handle,
                    row.user_id,
                    &payload,
                    expires_at,
                    transfer,
                    now,
                );
            }
        }
        // (payload, data, changed by the hook)
        type Minted = (Map<String, Value>, Map<String, Value>, bool);
        let mut minted: Option<Minted> = None;
        for _ in 0..CAS_ATTEMPTS {
            let now = now_ms();
            let row = store.session(&handle).await?.filter(|r| r.expires_at > now);
            let Some(row) = row else {
                return Err(SessionError::unauthorised());
            };
            let decision = refresh::decide(
                &presented2,
                presented_parent.as_deref(),
                &row.current_hash2,
                row.parent_hash2.as_deref(),
            );
            if decision == Decision::Theft {
                return Err(self.token_theft(&row).await);
            }
            // Hook: run once per refresh request, its result reused if the CAS must be retried.
            let (payload, data, changed) = match minted.take() {
                Some(m) => m,
                None => {
                    let before_payload = to_object(&row.access_token_payload)?;
                    let before_data = to_object(&row.session_data)?;
                    let (mut payload, mut data) = (before_payload.clone(), before_data.clone());
                    self.inner
                        .config
                        .hooks
                        .on_refresh(&mut SessionMint {
                            user_id: &row.user_id,
                            session_handle: &handle,
                            access_token_lifetime: self.inner.config.access_token_lifetime,
                            access_token_payload: &mut payload,
                            session_data: &mut data,
                        })
                        .await?;
                    let payload = tokens::strip_protected(&payload);
                    let changed = payload != before_payload || data != before_data;
                    (payload, data, changed)
                }
            };
            let (new_current, new_parent, expires_at) = match decision {
                Decision::Current => (
                    row.current_hash2.clone(),
                    row.parent_hash2.clone(),
                    row.expires_at,
                ),
                Decision::Promote => (
                    presented2.clone(),
                    Some(row.current_hash2.clone()),
                    now + self.refresh_lifetime_ms(),
                ),
                Decision::Sibling => (
                    presented2.clone(),
                    row.parent_hash2.clone(),
                    now + self.refresh_lifetime_ms(),
                ),
                Decision::Theft => unreachable!("handled above"),
            };
            if decision != Decision::Current || changed {
                let (payload_text, data_text) = (to_text(&payload), to_text(&data));
                let ok = store
                    .update_lineage(&LineageUpdate {
                        session_handle: &handle,
                        expected_current: &row.current_hash2,
                        new_current: &new_current,
                        new_parent: new_parent.as_deref(),
                        expires_at,
                        access_token_payload: changed.then_some(payload_text.as_str()),
                        session_data: changed.then_some(data_text.as_str()),
                        now,
                    })
                    .await?;
                if !ok {
                    minted = Some((payload, data, changed));
                    continue;
                }
            }
            return self.mint_child(
                &rt,
                token,
                &handle,
                row.user_id,
                &payload,
                expires_at,
                transfer,
                now,
            );
        }
        Err(SessionError::Store(StoreError::Database(
            "too much contention refreshing a session".into(),
        )))
    }

    /// Mint the child of the presented refresh token `token` and its access token.
    #[allow(clippy::too_many_arguments)]
    fn mint_child(
        &self,
        rt: &RefreshToken,
        token: &str,
        handle: &str,
        user_id: String,
        payload: &Map<String, Value>,
        expires_at: i64,
        transfer: TokenTransfer,
        now: i64,
    ) -> Result<NewTokens, SessionError> {
        let key = &self.inner.refresh_key;
        let child = RefreshToken::new(rt.handle, Some(refresh::hash1_raw(token))).encode(key);
        let anti_csrf = self
            .uses_anti_csrf_token(transfer)
            .then(|| refresh::anti_csrf_for(key, &child));
        let access_token = self.issue_access_token(
            &user_id,
            handle,
            now + self.access_lifetime_ms(),
            &refresh::hash1(&child),
            Some(&refresh::hash1(token)),
            anti_csrf.as_deref(),
            payload,
        )?;
        Metrics::inc(&self.inner.metrics.refresh_success);
        Ok(NewTokens {
            session_handle: handle.to_owned(),
            user_id,
            access_token,
            refresh_token: IssuedRefreshToken {
                token: child,
                expiry_ms: expires_at,
            },
            anti_csrf,
            transfer,
        })
    }

    /// The anti-CSRF token bound to a refresh token (VIA_TOKEN mode).
    pub fn anti_csrf_for_refresh_token(&self, token: &str) -> String {
        refresh::anti_csrf_for(&self.inner.refresh_key, token)
    }

    async fn token_theft(&self, row: &SessionRow) -> SessionError {
        tracing::warn!(session_handle = %row.session_handle, user_id = %row.user_id, "refresh token theft detected");
        Metrics::inc(&self.inner.metrics.token_theft);
        if let Err(e) = self.revoke_session(&row.session_handle).await {
            return e;
        }
        SessionError::TokenTheftDetected {
            session_handle: row.session_handle.clone(),
            user_id: row.user_id.clone(),
        }
    }

    async fn after_revoke(&self, rows: Vec<SessionRow>) -> Vec<String> {
        if rows.is_empty() {
            return Vec::new();
        }
        let revoked: Vec<RevokedSession> = rows
            .into_iter()
            .map(|r| RevokedSession {
                session_data: to_object(&r.session_data).unwrap_or_default(),
                session_handle: r.session_handle,
                user_id: r.user_id,
            })
            .collect();
        for _ in &revoked {
            Metrics::inc(&self.inner.metrics.sessions_revoked);
        }
        self.inner.config.hooks.on_revoke(&revoked).await;
        revoked.into_iter().map(|r| r.session_handle).collect()
    }

    /// Revoke one session. `true` if it existed. Access tokens already issued stay valid until they expire.
    pub async fn revoke_session(&self, session_handle: &str) -> Result<bool, SessionError> {
        let row = self.inner.store.delete_session(session_handle).await?;
        Ok(!self
            .after_revoke(row.into_iter().collect())
            .await
            .is_empty())
    }

    /// Revoke all sessions of a user; returns the revoked handles.
    pub async fn revoke_all_sessions_for_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<String>, SessionError> {
        let rows = self.inner.store.delete_user_sessions(user_id).await?;
        Ok(self.after_revoke(rows).await)
    }

    /// Handles of a user's live sessions.
    pub async fn session_handles_for_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<String>, SessionError> {
        Ok(self
            .inner
            .store
            .user_session_handles(user_id, now_ms())
            .await?)
    }

    async fn live_row(&self, session_handle: &str) -> Result<SessionRow, SessionError> {
        let now = now_ms();
        self.inner
            .store
            .session(session_handle)
            .await?
            .filter(|r| r.expires_at > now)
            .ok_or(SessionError::Unauthorised { clear_tokens: true })
    }

    /// Session information, or `None` if the session does not exist (or expired).
    pub async fn session_information(
        &self,
        session_handle: &str,
    ) -> Result<Option<SessionInformation>, SessionError> {
        match self.live_row(session_handle).await {
            Ok(r) => Ok(Some(SessionInformation {
                session_data_in_database: to_object(&r.session_data)?,
                custom_claims_in_access_token_payload: to_object(&r.access_token_payload)?,
                session_handle: r.session_handle,
                user_id: r.user_id,
                expiry: r.expires_at,
                time_created: r.created_at,
            })),
            Err(SessionError::Unauthorised { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The private session data. Session gone ⇒ [`SessionError::Unauthorised`].
    pub async fn session_data(
        &self,
        session_handle: &str,
    ) -> Result<Map<String, Value>, SessionError> {
        Ok(to_object(
            &self.live_row(session_handle).await?.session_data,
        )?)
    }

    /// Replace the private session data. Session gone ⇒ [`SessionError::Unauthorised`].
    pub async fn update_session_data(
        &self,
        session_handle: &str,
        data: &Map<String, Value>,
    ) -> Result<(), SessionError> {
        let updated = self
            .inner
            .store
            .set_session_data(session_handle, &to_text(data))
            .await?;
        session_found(updated)
    }

    /// Replace the stored access-token claims (protected names dropped). Takes effect in the next token minted
    /// for the session (refresh or verify-time promotion).
    pub async fn update_access_token_payload(
        &self,
        session_handle: &str,
        payload: &Map<String, Value>,
    ) -> Result<(), SessionError> {
        let payload = tokens::strip_protected(payload);
        let updated = self
            .inner
            .store
            .set_access_token_payload(session_handle, &to_text(&payload))
            .await?;
        session_found(updated)
    }

    /// Merge `update` into the claims of the verified token `at` (`null` deletes a key, protected names are
    /// ignored), store them, and return a re-signed token with the same `exp` and refresh hashes. An expired
    /// token gets no replacement (`None`): the change shows after the next refresh.
    pub async fn merge_into_access_token_payload(
        &self,
        at: &AccessToken,
        update: &Map<String, Value>,
    ) -> Result<(AccessToken, Option<IssuedAccessToken>), SessionError> {
        let mut payload = at.app_claims();
        for (k, v) in tokens::strip_protected(update) {
            if v.is_null() {
                payload.remove(&k);
            } else {
                payload.insert(k, v);
            }
        }
        self.update_access_token_payload(&at.session_handle, &payload)
            .await?;
        if at.exp * 1000 < now_ms() {
            let mut claims = at.claims.clone();
            claims.retain(|k, _| tokens::PROTECTED_CLAIMS.contains(&k.as_str()));
            claims.extend(payload);
            return Ok((
                AccessToken {
                    claims,
                    ..at.clone()
                },
                None,
            ));
        }
        let issued = self.issue_access_token(
            &at.sub,
            &at.session_handle,
            at.exp * 1000,
            &at.refresh_token_hash1,
            at.parent_refresh_token_hash1.as_deref(),
            at.anti_csrf_token.as_deref(),
            &payload,
        )?;
        let new_at = AccessToken::from_claims(issued.claims.clone())
            .map_err(|_| SessionError::TryRefreshToken)?;
        Ok((new_at, Some(issued)))
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        self.inner.keys.jwks()
    }

    /// Seconds a JWKS response may be cached: until the next key is published (minus the publish lead), ≥ 1.
    pub fn jwks_max_age(&self) -> i64 {
        let c = &self.inner.config;
        let newest = self
            .inner
            .keys
            .keys()
            .first()
            .map_or(0, |k| k.created_at_ms);
        let next = newest + millis(c.key_rotation_interval) - millis(c.key_publish_ahead);
        ((next - now_ms()) / 1000 - 60).max(1)
    }

    /// The OpenID configuration document.
    pub fn openid_configuration(&self) -> Value {
        let issuer = self.inner.config.issuer();
        serde_json::json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwt/jwks.json")})
    }

    /// Reload signing keys from the store.
    pub async fn reload_keys(&self) -> Result<(), StoreError> {
        let stored = self.inner.store.signing_keys().await?;
        let keys = stored
            .into_iter()
            .filter_map(|k| {
                let key = SigningKey::from_pkcs8(k.created_at, &k.private_key);
                if key.is_none() {
                    tracing::error!(kid = %k.kid, "stored signing key does not parse; ignored");
                }
                key.map(Arc::new)
            })
            .collect();
        self.inner.keys.set(keys);
        *self
            .inner
            .last_key_reload
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(())
    }

    /// Reload keys unless that happened in the last second; `true` if reloaded.
    async fn reload_keys_rate_limited(&self) -> bool {
        let recent = self
            .inner
            .last_key_reload
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        !recent && self.reload_keys().await.is_ok()
    }

    async fn generate_key(created_at: i64) -> Result<StoredKey, StoreError> {
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(created_at))
            .await
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredKey {
            kid: key.kid.clone(),
            created_at,
            private_key: key.to_pkcs8(),
        })
    }

    /// Create a signing key when the newest one is due for rotation, delete keys past retention, reload.
    pub async fn ensure_signing_keys(&self) -> Result<(), StoreError> {
        let c = &self.inner.config;
        let now = now_ms();
        let interval = millis(c.key_rotation_interval);
        let ahead = millis(c.key_publish_ahead);
        let stored = self.inner.store.signing_keys().await?;
        let due = stored
            .first()
            .is_none_or(|k| k.created_at + interval - ahead <= now);
        if due {
            let key = Self::generate_key(now).await?;
            // Only one instance wins when several rotate at once.
            if self
                .inner
                .store
                .insert_signing_key(&key, now - (interval - ahead).max(0) + 1)
                .await?
            {
                tracing::info!(kid = %key.kid, "created signing key");
            }
        }
        self.reload_keys().await?;
        if let Some(signing) = self.inner.keys.signing_key(now, ahead) {
            let cutoff = now - (interval + ahead + 2 * self.access_lifetime_ms());
            let n = self
                .inner
                .store
                .delete_signing_keys_before(cutoff, &signing.kid)
                .await?;
            if n > 0 {
                self.reload_keys().await?;
            }
        }
        Ok(())
    }

    /// Create a new signing key now, regardless of schedule (it signs once `key_publish_ahead` has passed).
    pub async fn rotate_signing_key(&self) -> Result<String, StoreError> {
        let now = now_ms().max(
            self.inner
                .keys
                .keys()
                .first()
                .map_or(0, |k| k.created_at_ms + 1),
        );
        let key = Self::generate_key(now).await?;
        self.inner.store.insert_signing_key(&key, i64::MAX).await?;
        self.reload_keys().await?;
        Ok(key.kid)
    }

    /// One round of background work: rotate keys, delete expired keys and sessions.
    pub async fn maintenance(&self) -> Result<(), StoreError> {
        self.ensure_signing_keys().await?;
        let n = self.inner.store.delete_expired_sessions(now_ms()).await?;
        if n > 0 {
            tracing::debug!(count = n, "deleted expired sessions");
        }
        Ok(())
    }

    /// Run [`maintenance`](Self::maintenance) every `maintenance_interval` until the task is aborted.
    pub fn spawn_maintenance(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(engine.inner.config.maintenance_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = engine.maintenance().await {
                    tracing::warn!(error = %e, "session maintenance failed");
                }
            }
        })
    }
}
