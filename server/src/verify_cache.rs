//! [`VerificationCache`]: access tokens verified before, so a token seen again skips RSA.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};

use crate::crypto::{now_ms, random_bytes};
use crate::tokens::AccessToken;

/// Most tokens remembered. When full, expired entries go; if that frees nothing, everything goes.
const MAX_ENTRIES: usize = 20_000;

/// Verified access tokens, by the whole token. Holds only tokens whose verification is stateless (no lineage to
/// adopt), so a hit is a full verification result: signature checked before, expiry checked on every lookup.
#[derive(Debug)]
pub(crate) struct VerificationCache {
    entries: RwLock<HashMap<Box<str>, Arc<AccessToken>, TailHash>>,
}

impl Default for VerificationCache {
    fn default() -> Self {
        let seed = u64::from_le_bytes(random_bytes());
        Self {
            entries: RwLock::new(HashMap::with_hasher(TailHash { seed })),
        }
    }
}

impl VerificationCache {
    /// `token`'s verification result, if it was verified before and has not expired.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<AccessToken>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(token)
            .filter(|at| at.exp >= now_ms() / 1000)
            .cloned()
    }

    /// Remember a verified token.
    pub(crate) fn insert(&self, token: &str, at: &Arc<AccessToken>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let now = now_ms() / 1000;
            entries.retain(|_, v| v.exp >= now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token.into(), at.clone());
    }
}

/// Hashes a token by its length and last 16 bytes (the end of its RS256 signature, random for every token we
/// sign), mixed with a per-process seed: no pass over the whole token as a cryptographic digest would need. A hit
/// still compares the whole token, and only verified tokens are ever stored, so a chosen tail can at most land a
/// lookup in the bucket of one real entry.
#[derive(Debug, Clone, Copy)]
struct TailHash {
    seed: u64,
}

impl BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.seed)
    }
}

struct TailHasher(u64);

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        let tail = &bytes[bytes.len().saturating_sub(16)..];
        for chunk in tail.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        self.mix(bytes.len() as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl TailHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 29;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(sub: &str, exp: i64) -> Arc<AccessToken> {
        let mut claims = serde_json::Map::new();
        for (k, v) in [
            ("sub", sub.into()),
            ("exp", exp.into()),
            ("iat", 0.into()),
            ("sessionHandle", "h".into()),
            ("refreshTokenHash1", "r".into()),
        ] {
            claims.insert(k.to_owned(), v);
        }
        Arc::new(AccessToken::from_claims(claims).unwrap_or_else(|_| unreachable!()))
    }

    #[test]
    fn hits_need_the_whole_token_and_no_expiry() {
        let cache = VerificationCache::default();
        let live = token("1", i64::MAX / 2000);
        cache.insert("a.b.sig-0123456789abcdef", &live);
        assert_eq!(cache.get("a.b.sig-0123456789abcdef"), Some(live));
        // Same tail (same bucket), different token: no hit.
        assert_eq!(cache.get("x.y.sig-0123456789abcdef"), None);
        cache.insert("a.b.expired", &token("2", 1));
        assert_eq!(cache.get("a.b.expired"), None);
    }
}
