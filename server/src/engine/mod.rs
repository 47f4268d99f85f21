//! The session engine: the one entry point for creating, verifying, refreshing and revoking sessions.
//! Transport-agnostic; [`crate::extract`] and the FDI routes put it on HTTP.
//!
//! [`SessionEngine`] is a thin handle over parts with one job each: the stores, [`SigningKeys`], the
//! verification cache, the refresh-token MAC key and the metrics. Its methods live by concern:
//! `mint.rs` (creating sessions, signing access tokens), `verify.rs` (verification, verify-time promotion),
//! `refresh.rs` (the refresh steps of docs/design.md) and `sessions.rs` (reading, updating, revoking).

mod mint;
mod refresh;
mod sessions;
mod verify;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::SessionConfig;
use crate::crypto::random_bytes;
use crate::error::SessionError;
use crate::keys::SigningKeys;
use crate::lockout::AccountLockout;
use crate::metrics::Metrics;
use crate::security::{EmailFingerprint, SecurityEvent, SecurityLog};
use crate::store::{KeyStore, SessionStore, SqlStore, StoreError};
use crate::tokens::AccessToken;
use crate::transport::{IssuedAccessToken, IssuedRefreshToken, TokenTransfer};
use crate::users::{SqlUserStore, UserStore};
use crate::verify_cache::VerificationCache;

pub(crate) use sessions::Because;
pub use sessions::SessionInformation;

/// How many times a compare-and-swap is retried after losing a race.
const CAS_ATTEMPTS: usize = 8;

/// Name of the refresh-token MAC key in the [`KeyStore`]'s secrets.
const REFRESH_KEY_SECRET: &str = "refresh_token_hmac_key";

/// Name of the key of [`EmailFingerprint`]s in the [`KeyStore`]'s secrets.
const EMAIL_FINGERPRINT_SECRET: &str = "security_event_email_key";

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

/// How far each read of other instances' revocations reaches back before the previous one.
const REVOCATION_READ_OVERLAP_MS: i64 = 10_000;

struct Inner {
    config: SessionConfig,
    sessions: Arc<dyn SessionStore>,
    users: Arc<dyn UserStore>,
    keys: SigningKeys,
    refresh_key: Vec<u8>,
    metrics: Metrics,
    verified: VerificationCache,
    /// Sessions ended here whose access tokens may still be within their lifetime: refused at once.
    revoked: crate::revoked::RevokedHandles,
    /// The last answer of [`SessionEngine::database_reachable`] and when it was found.
    health: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
    /// When the last read of other instances' revocations started (ms; 0: never).
    revocations_read_at: std::sync::atomic::AtomicI64,
    security: SecurityLog,
}

#[doc = include_str!("../docs/engine.md")]
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

/// A stored JSON object (payload or session data).
fn to_object(text: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The text a JSON object is stored as.
fn to_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

impl SessionEngine {
    /// An engine on the SQL `store`, with the email/password users in the same database ([`SqlUserStore`]),
    /// their sign-ins guarded by the per-account back-off of [`SessionConfig::lockout`]. Loads (or creates)
    /// the refresh-token key and the signing keys.
    pub async fn new(config: SessionConfig, store: Arc<SqlStore>) -> Result<Self, SessionError> {
        let users = Arc::new(AccountLockout::new(
            SqlUserStore::new(store.clone()),
            store.clone(),
            config.lockout,
        ));
        Self::with_user_store(config, store, users).await
    }

    /// An engine on any store of sessions and keys, with users in `users`.
    pub async fn with_user_store<S: SessionStore + KeyStore>(
        config: SessionConfig,
        store: Arc<S>,
        users: Arc<dyn UserStore>,
    ) -> Result<Self, SessionError> {
        let key_store: Arc<dyn KeyStore> = store.clone();
        let refresh_key = key_store
            .secret(REFRESH_KEY_SECRET, &random_bytes::<32>())
            .await?;
        let email_key = key_store
            .secret(EMAIL_FINGERPRINT_SECRET, &random_bytes::<32>())
            .await?;
        let keys = SigningKeys::load(key_store, &config).await?;
        let metrics = Metrics::default();
        let security = SecurityLog::new(&config, &metrics, store.clone(), email_key);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                sessions: store,
                users,
                keys,
                refresh_key,
                metrics,
                verified: VerificationCache::default(),
                revoked: Default::default(),
                revocations_read_at: std::sync::atomic::AtomicI64::new(0),
                health: tokio::sync::Mutex::new(None),
                security,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The signing keys (JWKS, key ids).
    pub fn keys(&self) -> &SigningKeys {
        &self.inner.keys
    }

    /// Event counters (Prometheus text via [`Metrics::render`]).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The fingerprint security events carry instead of a sign-in's email (see [`crate::security`]): compute
    /// it to find the attempts on an address in the logs or the audit table. Normalises `email` first.
    pub fn email_fingerprint(&self, email: &str) -> EmailFingerprint {
        self.inner
            .security
            .fingerprint(&crate::users::normalise_email(email))
    }

    /// The device-cookie MAC of `device` for the normalised `email`.
    pub(crate) fn device_mac(&self, email: &str, device: &str) -> [u8; 32] {
        self.inner.security.device_mac(email, device)
    }

    /// Send a security event to the log, the counters, the hook and the audit table.
    pub(crate) fn emit(&self, event: &SecurityEvent) {
        self.inner.security.emit(event);
    }

    pub(crate) fn users(&self) -> &Arc<dyn UserStore> {
        &self.inner.users
    }

    /// Where the session store keeps account data (tokens, verified emails, devices), if it does.
    pub(crate) fn account_store(&self) -> Option<&dyn crate::accounts::AccountStore> {
        self.inner.sessions.accounts()
    }

    /// Create a new signing key now, regardless of schedule (it signs once `key_publish_ahead` has passed);
    /// returns its key id.
    pub async fn rotate_signing_key(&self) -> Result<String, SessionError> {
        self.inner.keys.rotate().await
    }

    /// One round of background work: rotate keys when due, delete expired keys and sessions, end the sessions
    /// past the absolute lifetime (as their next use would), send the
    /// summaries of rate-limit refusals whose minute is over, delete audit rows older than the audit log's
    /// retention or beyond its row cap.
    pub async fn maintenance(&self) -> Result<(), SessionError> {
        self.inner.keys.rotate_if_due().await?;
        self.inner.revoked.prune();
        self.inner
            .sessions
            .delete_expired_revocations(crate::crypto::now_ms())
            .await?;
        self.inner.security.flush_refusals(crate::crypto::now_ms());
        let n = self
            .inner
            .sessions
            .delete_expired_sessions(crate::crypto::now_ms())
            .await?;
        if n > 0 {
            tracing::debug!(count = n, "deleted expired sessions");
        }
        let n = self.sweep_over_age().await?;
        if n > 0 {
            tracing::debug!(count = n, "ended sessions past the absolute lifetime");
        }
        let audit = &self.inner.config.audit_log;
        // Also when the audit log is off now: rows written while it was on still age out.
        if let Some(store) = self.inner.sessions.audit() {
            let before = crate::crypto::now_ms() - crate::crypto::millis(audit.retention);
            let n = store.delete_audit_rows_before(before).await?;
            if n > 0 {
                tracing::debug!(count = n, "deleted old audit rows");
            }
            let n = store.delete_audit_rows_beyond(audit.max_rows).await?;
            if n > 0 {
                tracing::warn!(
                    count = n,
                    max_rows = audit.max_rows,
                    "deleted the oldest audit rows beyond the row cap"
                );
            }
        }
        Ok(())
    }

    /// Whether the session database answers, found at most once a second (one round trip, bounded by 1 s;
    /// callers meanwhile share the answer), so an unauthenticated `GET /health` flood costs the database
    /// nothing more.
    pub async fn database_reachable(&self) -> bool {
        let mut last = self.inner.health.lock().await;
        if let Some((at, up)) = *last
            && at.elapsed() < std::time::Duration::from_secs(1)
        {
            return up;
        }
        let up = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            self.inner.sessions.ping(),
        )
        .await
        .is_ok_and(|r| r.is_ok());
        *last = Some((std::time::Instant::now(), up));
        up
    }

    /// Read the sessions ended on other instances sharing the database since the last read (all live ones
    /// the first time), so their access tokens are refused here too. [`spawn_maintenance`](Self::spawn_maintenance)
    /// runs it every [`revocation_sync_interval`](crate::SessionConfig::revocation_sync_interval).
    pub async fn sync_revocations(&self) -> Result<(), SessionError> {
        use std::sync::atomic::Ordering;
        let started = crate::crypto::now_ms();
        let last = self.inner.revocations_read_at.load(Ordering::Relaxed);
        // Overlap the previous read: a revocation committed late, or stamped by a clock a little behind, is
        // still seen (inserting a handle twice is harmless).
        let since = if last == 0 {
            0
        } else {
            last - REVOCATION_READ_OVERLAP_MS
        };
        for (handle, until) in self.inner.sessions.revoked_since(since).await? {
            self.inner.revoked.insert(&handle, until);
        }
        self.inner
            .revocations_read_at
            .store(started, Ordering::Relaxed);
        Ok(())
    }

    /// Run [`maintenance`](Self::maintenance) every `maintenance_interval` and
    /// [`sync_revocations`](Self::sync_revocations) every `revocation_sync_interval` until the task is aborted.
    pub fn spawn_maintenance(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(engine.inner.config.maintenance_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            let sync_every = engine.inner.config.revocation_sync_interval;
            let mut sync =
                tokio::time::interval(sync_every.max(std::time::Duration::from_millis(10)));
            sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = engine.maintenance().await {
                            tracing::warn!(error = %e, "session maintenance failed");
                        }
                    }
                    _ = sync.tick(), if !sync_every.is_zero() => {
                        if let Err(e) = engine.sync_revocations().await {
                            tracing::warn!(error = %e, "reading other instances' revocations failed");
                        }
                    }
                }
            }
        })
    }
}
