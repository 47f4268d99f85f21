//! [`VerificationCache`]: access tokens verified before, so a token seen again skips RSA.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::crypto::{now_ms, sha256};
use crate::tokens::AccessToken;

/// Most tokens remembered. When full, expired entries go; if that frees nothing, everything goes.
const MAX_ENTRIES: usize = 20_000;

/// Verified access tokens by SHA-256 of the whole token. Holds only tokens whose verification is stateless
/// (no lineage to adopt), so a hit is a full verification result: signature checked before, expiry checked on
/// every lookup.
#[derive(Debug, Default)]
pub(crate) struct VerificationCache {
    entries: RwLock<HashMap<[u8; 32], Arc<AccessToken>>>,
}

/// The cache key of a token.
pub(crate) fn digest(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

impl VerificationCache {
    /// The token with this digest, if verified before and not expired.
    pub(crate) fn get(&self, digest: &[u8; 32]) -> Option<Arc<AccessToken>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|at| at.exp >= now_ms() / 1000)
            .cloned()
    }

    /// Remember a verified token.
    pub(crate) fn insert(&self, digest: [u8; 32], at: &Arc<AccessToken>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let now = now_ms() / 1000;
            entries.retain(|_, v| v.exp >= now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest, at.clone());
    }
}
