//! Refresh tokens: the opaque format and the rotation / theft-detection decision (docs/design.md).
//!
//! A token is `base64url(session_handle[16] ‖ parent_hash1[32 or 0] ‖ random[32])`, `.`,
//! `base64url(HMAC-SHA256(refresh_key, body))`. The server stores only `hash2 = hex(sha256(hash1))` where
//! `hash1 = hex(sha256(token))`.

use crate::crypto::{
    b64url, ct_eq, hex, hmac_sha256, random_bytes, sha256, sha256_hex, unb64url, uuid_from_bytes,
};

/// Why a presented refresh token was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefreshTokenError {
    /// Not in our format.
    #[error("malformed refresh token")]
    Malformed,
    /// The MAC does not match: not issued by us.
    #[error("refresh token signature mismatch")]
    BadMac,
}

/// A decoded refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Session handle bytes (UUID).
    pub handle: [u8; 16],
    /// Raw `sha256(parent token)` (hash1 bytes) when this token was minted by a refresh.
    pub parent_hash1: Option<[u8; 32]>,
    /// Randomness.
    pub random: [u8; 32],
}

impl RefreshToken {
    /// A new token for `handle` whose parent is the token with raw hash1 `parent_hash1`.
    pub fn new(handle: [u8; 16], parent_hash1: Option<[u8; 32]>) -> Self {
        Self {
            handle,
            parent_hash1,
            random: random_bytes(),
        }
    }

    /// The session handle as a UUID string.
    pub fn session_handle(&self) -> String {
        uuid_from_bytes(self.handle)
    }

    fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(80);
        b.extend_from_slice(&self.handle);
        if let Some(p) = &self.parent_hash1 {
            b.extend_from_slice(p);
        }
        b.extend_from_slice(&self.random);
        b
    }

    /// Encode and MAC the token with `key`.
    pub fn encode(&self, key: &[u8]) -> String {
        let body = self.body();
        let mac = hmac_sha256(key, &[b"rt", &body]);
        format!("{}.{}", b64url(&body), b64url(&mac))
    }

    /// Parse `token`, checking its MAC in constant time.
    pub fn parse(key: &[u8], token: &str) -> Result<Self, RefreshTokenError> {
        let (body_b64, mac_b64) = token.split_once('.').ok_or(RefreshTokenError::Malformed)?;
        let body = unb64url(body_b64).ok_or(RefreshTokenError::Malformed)?;
        let mac = unb64url(mac_b64).ok_or(RefreshTokenError::Malformed)?;
        if body.len() != 48 && body.len() != 80 {
            return Err(RefreshTokenError::Malformed);
        }
        if !ct_eq(&hmac_sha256(key, &[b"rt", &body]), &mac) {
            return Err(RefreshTokenError::BadMac);
        }
        let handle: [u8; 16] = body[..16]
            .try_into()
            .map_err(|_| RefreshTokenError::Malformed)?;
        let (parent_hash1, rest) = if body.len() == 80 {
            (
                Some(
                    body[16..48]
                        .try_into()
                        .map_err(|_| RefreshTokenError::Malformed)?,
                ),
                &body[48..],
            )
        } else {
            (None, &body[16..])
        };
        let random: [u8; 32] = rest.try_into().map_err(|_| RefreshTokenError::Malformed)?;
        Ok(Self {
            handle,
            parent_hash1,
            random,
        })
    }
}

/// `hex(sha256(token))`.
pub fn hash1(token: &str) -> String {
    sha256_hex(token)
}

/// Raw bytes of `sha256(token)` (hash1 before hex encoding), the parent pointer stored in child tokens.
pub fn hash1_raw(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

/// `hex(sha256(hash1))` — what the session row stores.
pub fn hash2_of_hash1(hash1: &str) -> String {
    sha256_hex(hash1)
}

/// `hash2` of a token.
pub fn hash2(token: &str) -> String {
    hash2_of_hash1(&hash1(token))
}

/// The anti-CSRF token bound to a refresh token (VIA_TOKEN mode): derived, so nothing extra is stored.
pub fn anti_csrf_for(key: &[u8], token: &str) -> String {
    b64url(&hmac_sha256(key, &[b"anti-csrf", token.as_bytes()])[..24])
}

/// What to do with a presented token, given the session row's lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It is the current token: mint a child, write nothing.
    Current,
    /// It is an unused child of the current token: `parent := current, current := presented` (CAS).
    Promote,
    /// It is a sibling of the current token: `current := presented` (CAS).
    Sibling,
    /// Anything else: an ancestor reused after its successor was used.
    Theft,
}

/// Decide per docs/design.md. `presented_hash2` is `hash2(T)`; `presented_parent_hash1` is T's parent pointer
/// as hex; `current`/`parent` are the row's `current_hash2` and `parent_hash2`.
pub fn decide(
    presented_hash2: &str,
    presented_parent_hash1: Option<&str>,
    current: &str,
    parent: Option<&str>,
) -> Decision {
    if ct_eq(presented_hash2.as_bytes(), current.as_bytes()) {
        return Decision::Current;
    }
    if let Some(ph1) = presented_parent_hash1 {
        let parent_hash2 = hash2_of_hash1(ph1);
        if ct_eq(parent_hash2.as_bytes(), current.as_bytes()) {
            return Decision::Promote;
        }
        if parent.is_some_and(|p| ct_eq(parent_hash2.as_bytes(), p.as_bytes())) {
            return Decision::Sibling;
        }
    }
    Decision::Theft
}

/// hex of an optional raw hash.
pub(crate) fn parent_hex(t: &RefreshToken) -> Option<String> {
    t.parent_hash1.as_ref().map(|p| hex(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trip_and_mac() {
        let t = RefreshToken::new([7; 16], Some([9; 32]));
        let s = t.encode(KEY);
        assert_eq!(RefreshToken::parse(KEY, &s), Ok(t));
        assert_eq!(
            RefreshToken::parse(b"other", &s),
            Err(RefreshTokenError::BadMac)
        );
        assert_eq!(
            RefreshToken::parse(KEY, "x"),
            Err(RefreshTokenError::Malformed)
        );
        let root = RefreshToken::new([7; 16], None);
        assert_eq!(RefreshToken::parse(KEY, &root.encode(KEY)), Ok(root));
    }

    #[test]
    fn lineage_decisions() {
        let h = [1; 16];
        let t0 = RefreshToken::new(h, None).encode(KEY);
        let c1 = RefreshToken::new(h, Some(hash1_raw(&t0))).encode(KEY);
        let c1b = RefreshToken::new(h, Some(hash1_raw(&t0))).encode(KEY);
        let p =
            |t: &str| parent_hex(&RefreshToken::parse(KEY, t).unwrap_or_else(|_| unreachable!()));
        // row: current = t0
        assert_eq!(
            decide(&hash2(&t0), None, &hash2(&t0), None),
            Decision::Current
        );
        assert_eq!(
            decide(&hash2(&c1), p(&c1).as_deref(), &hash2(&t0), None),
            Decision::Promote
        );
        // row: current = c1, parent = t0
        let (cur, par) = (hash2(&c1), Some(hash2(&t0)));
        assert_eq!(
            decide(&hash2(&c1b), p(&c1b).as_deref(), &cur, par.as_deref()),
            Decision::Sibling
        );
        assert_eq!(
            decide(&hash2(&t0), None, &cur, par.as_deref()),
            Decision::Theft
        );
    }
}
