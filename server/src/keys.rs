//! Signing keys: RSA-2048 key pairs ([`SigningKey`]), the set in use ([`KeyRing`]), and their lifecycle in the
//! [`KeyStore`] ([`SigningKeys`]: generation, rotation, reload, retention, JWKS).
//!
//! Keys live in the database so every instance signs and verifies with the same set. A new key is published in
//! the JWKS `key_publish_ahead` before it signs, and kept for `key_rotation_interval + key_publish_ahead +
//! 2 × access_token_lifetime`, so every token it signed has expired by the time it goes.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};

use crate::config::SessionConfig;
use crate::crypto::{b64url, millis, now_ms};
use crate::error::SessionError;
use crate::store::{KeyStore, StoreError, StoredKey};

/// An RSA-2048 signing key.
pub struct SigningKey {
    /// Key id, `d-<createdAtMs>`.
    pub kid: String,
    /// Creation time (ms since epoch).
    pub created_at_ms: i64,
    pair: RsaKeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generate a new key created at `created_at_ms`.
    pub fn generate(created_at_ms: i64) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation failed");
        Self::from_pair(created_at_ms, pair)
    }

    /// Load a key from its PKCS#8 DER encoding.
    pub fn from_pkcs8(created_at_ms: i64, der: &[u8]) -> Option<Self> {
        RsaKeyPair::from_pkcs8(der)
            .ok()
            .map(|p| Self::from_pair(created_at_ms, p))
    }

    fn from_pair(created_at_ms: i64, pair: RsaKeyPair) -> Self {
        let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        Self {
            kid: format!("d-{created_at_ms}"),
            created_at_ms,
            pair,
            n,
            e,
        }
    }

    /// PKCS#8 DER of the private key (what the store persists).
    pub fn to_pkcs8(&self) -> Vec<u8> {
        self.pair
            .as_der()
            .expect("PKCS#8 encoding failed")
            .as_ref()
            .to_vec()
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        json!({"kty": "RSA", "kid": self.kid, "n": b64url(&self.n), "e": b64url(&self.e), "alg": "RS256", "use": "sig"})
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
            .expect("RSA signing failed");
        sig
    }

    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, msg, sig)
        .is_ok()
    }
}

/// The set of keys in use, newest first. Cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Arc<RwLock<Arc<Vec<Arc<SigningKey>>>>>,
}

impl KeyRing {
    /// Replace the keys (any order).
    pub fn set(&self, mut keys: Vec<Arc<SigningKey>>) {
        keys.sort_by_key(|k| std::cmp::Reverse(k.created_at_ms));
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
    }

    /// Current keys, newest first.
    pub fn keys(&self) -> Arc<Vec<Arc<SigningKey>>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key that signs at `now_ms`: the newest key published for at least `publish_ahead_ms`, or the oldest
    /// key when none is old enough yet (a fresh deployment).
    pub fn signing_key(&self, now_ms: i64, publish_ahead_ms: i64) -> Option<Arc<SigningKey>> {
        let keys = self.keys();
        keys.iter()
            .find(|k| k.created_at_ms + publish_ahead_ms <= now_ms)
            .or_else(|| keys.last())
            .cloned()
    }

    /// Look up a key by id.
    pub fn find(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.keys().iter().find(|k| k.kid == kid).cloned()
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys().iter().map(|k| k.jwk()).collect::<Vec<_>>()})
    }
}

/// A published key, as [`SigningKeys::keys`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id, `d-<createdAtMs>` (the JWT header's `kid`).
    pub kid: String,
    /// Creation time, ms since epoch.
    pub created_at_ms: i64,
}

/// When keys are made, start signing and are deleted (from [`SessionConfig`]), all in ms.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    rotation_interval: i64,
    publish_ahead: i64,
    access_lifetime: i64,
}

/// The signing keys of an engine: loaded from the [`KeyStore`], rotated on schedule, reloaded when a token
/// names a key this instance has not seen (at most once a second), and published as JWKS.
pub struct SigningKeys {
    store: Arc<dyn KeyStore>,
    ring: KeyRing,
    schedule: Schedule,
    last_reload: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("keys", &self.keys())
            .finish_non_exhaustive()
    }
}

/// How often an unknown `kid` may trigger a reload from the store.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

impl SigningKeys {
    /// Load the keys from `store`, creating the first (or a due) key.
    pub(crate) async fn load(
        store: Arc<dyn KeyStore>,
        config: &SessionConfig,
    ) -> Result<Self, SessionError> {
        let keys = Self {
            store,
            ring: KeyRing::default(),
            schedule: Schedule {
                rotation_interval: millis(config.key_rotation_interval),
                publish_ahead: millis(config.key_publish_ahead),
                access_lifetime: millis(config.access_token_lifetime),
            },
            last_reload: Mutex::new(None),
        };
        keys.rotate_if_due().await?;
        Ok(keys)
    }

    /// The keys in use, newest first.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.ring
            .keys()
            .iter()
            .map(|k| KeyInfo {
                kid: k.kid.clone(),
                created_at_ms: k.created_at_ms,
            })
            .collect()
    }

    /// The keys as they verify tokens.
    pub(crate) fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The key that signs now. None only if the store holds no usable key (every stored key failed to parse).
    pub(crate) fn signing_key(&self) -> Result<Arc<SigningKey>, SessionError> {
        self.ring
            .signing_key(now_ms(), self.schedule.publish_ahead)
            .ok_or(SessionError::Internal("no signing key loaded"))
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        self.ring.jwks()
    }

    /// Seconds a JWKS response may be cached: until the next key is published (minus a minute), ≥ 1.
    pub fn jwks_max_age(&self) -> i64 {
        let s = self.schedule;
        let newest = self.ring.keys().first().map_or(0, |k| k.created_at_ms);
        let next = newest + s.rotation_interval - s.publish_ahead;
        ((next - now_ms()) / 1000 - 60).max(1)
    }

    /// Reload the keys from the store.
    pub(crate) async fn reload(&self) -> Result<(), StoreError> {
        let stored = self.store.signing_keys().await?;
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
        self.ring.set(keys);
        *self.last_reload.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(())
    }

    /// Reload unless that happened in the last second; `true` if reloaded (a token named an unknown key:
    /// another instance may have rotated).
    pub(crate) async fn reload_rate_limited(&self) -> bool {
        let recent = self
            .last_reload
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| t.elapsed() < RELOAD_AT_MOST_EVERY);
        !recent && self.reload().await.is_ok()
    }

    async fn generate(created_at: i64) -> Result<StoredKey, SessionError> {
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(created_at))
            .await
            .map_err(|_| SessionError::Internal("signing key generation failed"))?;
        Ok(StoredKey {
            kid: key.kid.clone(),
            created_at,
            private_key: key.to_pkcs8(),
        })
    }

    /// Create a key when the newest one is due for rotation, delete keys past retention, reload.
    pub(crate) async fn rotate_if_due(&self) -> Result<(), SessionError> {
        let s = self.schedule;
        let now = now_ms();
        let stored = self.store.signing_keys().await?;
        let due = stored
            .first()
            .is_none_or(|k| k.created_at + s.rotation_interval - s.publish_ahead <= now);
        if due {
            let key = Self::generate(now).await?;
            // Only one instance wins when several rotate at once.
            let newer_than = now - (s.rotation_interval - s.publish_ahead).max(0) + 1;
            if self.store.insert_signing_key(&key, newer_than).await? {
                tracing::info!(kid = %key.kid, "created signing key");
            }
        }
        self.reload().await?;
        if let Some(signing) = self.ring.signing_key(now, s.publish_ahead) {
            let cutoff = now - (s.rotation_interval + s.publish_ahead + 2 * s.access_lifetime);
            let n = self
                .store
                .delete_signing_keys_before(cutoff, &signing.kid)
                .await?;
            if n > 0 {
                self.reload().await?;
            }
        }
        Ok(())
    }

    /// Create a new key now, regardless of schedule (it signs once `key_publish_ahead` has passed); its kid.
    pub(crate) async fn rotate(&self) -> Result<String, SessionError> {
        let newest = self.ring.keys().first().map_or(0, |k| k.created_at_ms + 1);
        let key = Self::generate(now_ms().max(newest)).await?;
        self.store.insert_signing_key(&key, i64::MAX).await?;
        self.reload().await?;
        Ok(key.kid)
    }
}
