//! [`RevokedHandles`]: sessions this instance ended, remembered until the last access token minted for them
//! would have expired, so verification refuses those tokens at once instead of for the rest of their lifetime.
//!
//! Verification stays stateless (no database read per request); this list closes the window on the instance
//! that ended the session. Routes that must hold across instances ask for
//! [`VerifyOptions::check_database`](crate::VerifyOptions::check_database).

use std::collections::HashMap;
use std::sync::RwLock;

use crate::crypto::now_ms;

/// Most handles remembered. Revocations are made by signed-in users and bounded by the sign-out and sign-in rate
/// limits; past this, expired entries go first, then the entries closest to expiry.
const MAX_ENTRIES: usize = 100_000;

/// Session handles ended here, each with the time (ms since epoch) after which no access token of it is valid.
#[derive(Debug, Default)]
pub(crate) struct RevokedHandles {
    until: RwLock<HashMap<Box<str>, i64>>,
}

impl RevokedHandles {
    /// Remember that `handle` was ended; its access tokens are refused until `until_ms`.
    pub(crate) fn insert(&self, handle: &str, until_ms: i64) {
        let mut until = self.until.write().unwrap_or_else(|e| e.into_inner());
        if until.len() >= MAX_ENTRIES && !until.contains_key(handle) {
            let now = now_ms();
            until.retain(|_, t| *t > now);
            if until.len() >= MAX_ENTRIES {
                // Keep the newest half: the oldest revocations are the closest to expiring on their own.
                let mut times: Vec<i64> = until.values().copied().collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                until.retain(|_, t| *t > cut);
                tracing::warn!(
                    kept = until.len(),
                    "revoked-session list full: the oldest revocations are no longer checked in memory"
                );
            }
        }
        let t = until.entry(handle.into()).or_insert(until_ms);
        *t = (*t).max(until_ms);
    }

    /// Whether `handle` was ended here and its tokens may still be in their lifetime.
    pub(crate) fn contains(&self, handle: &str) -> bool {
        let until = self.until.read().unwrap_or_else(|e| e.into_inner());
        if until.is_empty() {
            return false;
        }
        until.get(handle).is_some_and(|t| *t > now_ms())
    }

    /// Drop the entries whose tokens have all expired (maintenance).
    pub(crate) fn prune(&self) {
        let now = now_ms();
        let mut until = self.until.write().unwrap_or_else(|e| e.into_inner());
        until.retain(|_, t| *t > now);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.until.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_refused_until_its_tokens_expire() {
        let r = RevokedHandles::default();
        assert!(!r.contains("a"));
        r.insert("a", now_ms() + 60_000);
        r.insert("b", now_ms() - 1);
        assert!(r.contains("a"));
        assert!(!r.contains("b"), "already past its tokens' expiry");
        r.prune();
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_later_expiry_wins() {
        let r = RevokedHandles::default();
        r.insert("a", now_ms() + 60_000);
        r.insert("a", now_ms() - 1);
        assert!(r.contains("a"));
    }

    #[test]
    fn memory_is_bounded() {
        let r = RevokedHandles::default();
        let base = now_ms() + 60_000;
        for i in 0..(MAX_ENTRIES as i64 + 10) {
            r.insert(&i.to_string(), base + i);
        }
        assert!(r.len() <= MAX_ENTRIES, "{}", r.len());
        // The newest revocations are kept.
        assert!(r.contains(&(MAX_ENTRIES as i64 + 9).to_string()));
    }
}
