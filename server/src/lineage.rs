//! Refresh tokens: the opaque format and the one lineage decision (rotation, theft detection; docs/design.md).
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
pub(crate) fn hash1(token: &str) -> String {
    sha256_hex(token)
}

/// Raw bytes of `sha256(token)` (hash1 before hex encoding), the parent pointer stored in child tokens.
pub(crate) fn hash1_raw(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

/// `hex(sha256(hash1))` — what the session row stores.
pub(crate) fn hash2_of_hash1(hash1: &str) -> String {
    sha256_hex(hash1)
}

/// `hash2` of a token.
pub(crate) fn hash2(token: &str) -> String {
    hash2_of_hash1(&hash1(token))
}

/// The anti-CSRF token bound to a refresh token (VIA_TOKEN mode): derived, so nothing extra is stored.
pub(crate) fn anti_csrf_for(key: &[u8], token: &str) -> String {
    b64url(&hmac_sha256(key, &[b"anti-csrf", token.as_bytes()])[..24])
}

/// A session row's lineage: hash2 of the last used refresh token and of its parent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lineage<'a> {
    /// `current_hash2`.
    pub(crate) current: &'a str,
    /// `parent_hash2`.
    pub(crate) parent: Option<&'a str>,
}

/// A refresh token being used, in hash2 terms: presented to the refresh endpoint, or named by the
/// `refreshTokenHash1` / `parentRefreshTokenHash1` claims of an access token minted by a refresh.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    /// `hash2` of the token.
    pub(crate) hash2: String,
    /// `hash2` of its parent, for a token minted by a refresh.
    pub(crate) parent_hash2: Option<String>,
}

impl Presented {
    /// A refresh token as presented to the refresh endpoint.
    pub(crate) fn token(token: &str, parsed: &RefreshToken) -> Self {
        Self {
            hash2: hash2(token),
            parent_hash2: parsed.parent_hash1.map(|p| hash2_of_hash1(&hex(&p))),
        }
    }

    /// The refresh token named by an access token's claims (`refreshTokenHash1`, `parentRefreshTokenHash1`).
    pub(crate) fn claimed(hash1: &str, parent_hash1: Option<&str>) -> Self {
        Self {
            hash2: hash2_of_hash1(hash1),
            parent_hash2: parent_hash1.map(hash2_of_hash1),
        }
    }
}

/// What using a refresh token does to the session's lineage (docs/design.md, steps 1–4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// 1. It is the current token: the lineage stays.
    Current,
    /// 2. It is an unused child of the current token: `parent := current, current := presented` (CAS).
    Promote,
    /// 3. It is a sibling of the current token: `current := presented` (CAS).
    Sibling,
    /// 4. Anything else: an ancestor reused after its successor was used (on refresh: theft).
    Unrelated,
}

/// The lineage after a write, for [`Decision::Promote`] and [`Decision::Sibling`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NextLineage {
    /// New `current_hash2`.
    pub(crate) current: String,
    /// New `parent_hash2`.
    pub(crate) parent: Option<String>,
}

/// The one lineage decision, used by the refresh endpoint and by verify-time promotion. Every comparison of
/// hashes is constant-time.
pub(crate) fn decide(presented: &Presented, row: Lineage<'_>) -> Decision {
    let eq = |a: &str, b: &str| ct_eq(a.as_bytes(), b.as_bytes());
    if eq(&presented.hash2, row.current) {
        return Decision::Current;
    }
    if let Some(parent) = presented.parent_hash2.as_deref() {
        if eq(parent, row.current) {
            return Decision::Promote;
        }
        if row.parent.is_some_and(|p| eq(parent, p)) {
            return Decision::Sibling;
        }
    }
    Decision::Unrelated
}

impl Decision {
    /// The lineage to write, or `None` when nothing changes (current) or nothing may (unrelated).
    pub(crate) fn next(&self, presented: &Presented, row: Lineage<'_>) -> Option<NextLineage> {
        let parent = match self {
            Self::Current | Self::Unrelated => return None,
            Self::Promote => Some(row.current),
            Self::Sibling => row.parent,
        };
        Some(NextLineage {
            current: presented.hash2.clone(),
            parent: parent.map(str::to_owned),
        })
    }
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
        let p = |t: &str| {
            Presented::token(
                t,
                &RefreshToken::parse(KEY, t).unwrap_or_else(|_| unreachable!()),
            )
        };
        let (h0, h1) = (hash2(&t0), hash2(&c1));
        // row: current = t0
        let row = Lineage {
            current: &h0,
            parent: None,
        };
        assert_eq!(decide(&p(&t0), row), Decision::Current);
        assert_eq!(decide(&p(&t0), row).next(&p(&t0), row), None);
        assert_eq!(decide(&p(&c1), row), Decision::Promote);
        assert_eq!(
            Decision::Promote.next(&p(&c1), row),
            Some(NextLineage {
                current: h1.clone(),
                parent: Some(h0.clone())
            })
        );
        // row: current = c1, parent = t0
        let row = Lineage {
            current: &h1,
            parent: Some(&h0),
        };
        assert_eq!(decide(&p(&c1b), row), Decision::Sibling);
        assert_eq!(
            Decision::Sibling.next(&p(&c1b), row),
            Some(NextLineage {
                current: hash2(&c1b),
                parent: Some(h0.clone())
            })
        );
        assert_eq!(decide(&p(&t0), row), Decision::Unrelated);
        // The claims of c1's access token name the same token as c1 itself.
        let claimed = Presented::claimed(&hash1(&c1), Some(&hash1(&t0)));
        assert_eq!(claimed.hash2, p(&c1).hash2);
        assert_eq!(claimed.parent_hash2, p(&c1).parent_hash2);
    }
}
