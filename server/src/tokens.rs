//! RS256 access tokens: JWT signing and verification, the claims in SuperTokens V5 order.
//!
//! Only `RS256` is accepted; the header's `kid` must name a key we hold. Everything else (`alg: none`,
//! HMAC algorithms, tampered or truncated tokens) is rejected with a [`JwtError`].

use serde_json::{Map, Value, json};

use crate::crypto::{b64url, unb64url};
use crate::keys::{KeyRing, SigningKey};

/// Claims the engine owns; an app cannot set or overwrite them.
pub(crate) const PROTECTED_CLAIMS: &[&str] = &[
    "sub",
    "exp",
    "iat",
    "tId",
    "rsub",
    "sessionHandle",
    "refreshTokenHash1",
    "parentRefreshTokenHash1",
    "antiCsrfToken",
    "iss",
    "stt",
];

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url segments of JSON.
    #[error("malformed token")]
    Malformed,
    /// Header names an algorithm other than RS256, or is not a SuperTokens V3+ header.
    #[error("unsupported token header")]
    UnsupportedHeader,
    /// `kid` names no key we hold.
    #[error("unknown key id")]
    UnknownKey,
    /// Signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `exp` is in the past.
    #[error("token expired")]
    Expired,
    /// Required claims are missing or of the wrong type.
    #[error("invalid claims")]
    InvalidClaims,
}

/// Sign `claims` with `key`, producing a compact JWT with the SuperTokens V5 header.
pub fn sign(key: &SigningKey, claims: &Map<String, Value>) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid, "version": "5"});
    let mut token = b64url(header.to_string().as_bytes());
    token.push('.');
    token.push_str(&b64url(
        Value::Object(claims.clone()).to_string().as_bytes(),
    ));
    let sig = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64url(&sig));
    token
}

/// A JWT split into its parts, header checked, signature not yet verified.
#[derive(Debug)]
pub struct UnverifiedJwt<'a> {
    /// `kid` of the header.
    pub kid: String,
    /// The decoded claims.
    pub claims: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Split and decode a JWT, checking that the header is a SuperTokens RS256 header.
pub fn decode(token: &str) -> Result<UnverifiedJwt<'_>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Map<String, Value> =
        serde_json::from_slice(&unb64url(h).ok_or(JwtError::Malformed)?)
            .map_err(|_| JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::UnsupportedHeader);
    }
    if header.get("typ").is_some_and(|t| t != "JWT") {
        return Err(JwtError::UnsupportedHeader);
    }
    if let Some(v) = header.get("version") {
        let ok = v
            .as_str()
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| v >= 3);
        if !ok {
            return Err(JwtError::UnsupportedHeader);
        }
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwtError::UnsupportedHeader)?
        .to_string();
    let claims: Map<String, Value> =
        serde_json::from_slice(&unb64url(p).ok_or(JwtError::Malformed)?)
            .map_err(|_| JwtError::Malformed)?;
    let signature = unb64url(s).ok_or(JwtError::Malformed)?;
    Ok(UnverifiedJwt {
        kid,
        claims,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature,
    })
}

impl UnverifiedJwt<'_> {
    /// Verify the signature with `key` (whose kid must match).
    pub fn verify_with(self, key: &SigningKey) -> Result<Map<String, Value>, JwtError> {
        if key.kid != self.kid {
            return Err(JwtError::UnknownKey);
        }
        if key.verify(self.signing_input.as_bytes(), &self.signature) {
            Ok(self.claims)
        } else {
            Err(JwtError::BadSignature)
        }
    }
}

/// Verify a JWT against `ring` (signature, then `exp` against `now_secs`).
pub fn verify(ring: &KeyRing, token: &str, now_secs: i64) -> Result<Map<String, Value>, JwtError> {
    let jwt = decode(token)?;
    let key = ring.find(&jwt.kid).ok_or(JwtError::UnknownKey)?;
    let claims = jwt.verify_with(&key)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(JwtError::InvalidClaims)?;
    if exp < now_secs {
        return Err(JwtError::Expired);
    }
    Ok(claims)
}

/// The claims of a verified access token.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// User id.
    pub sub: String,
    /// Expiry (seconds since epoch).
    pub exp: i64,
    /// Issued at (seconds since epoch).
    pub iat: i64,
    /// Session handle.
    pub session_handle: String,
    /// `hex(sha256(refresh token))` of the refresh token issued with this access token.
    pub refresh_token_hash1: String,
    /// Same for the refresh token that was used to obtain it, until the session adopted the new lineage.
    pub parent_refresh_token_hash1: Option<String>,
    /// Anti-CSRF token (VIA_TOKEN mode, cookie transport).
    pub anti_csrf_token: Option<String>,
    /// All claims, in token order.
    pub claims: Map<String, Value>,
    /// The claims exactly as the token carries them (JSON text), when they are those of a verified token;
    /// written out as is instead of serialising [`claims`](Self::claims) again.
    pub(crate) signed_claims: Option<SignedClaims>,
}

/// A verified token's claims as JSON text (the decoded payload segment, which parsed as a JSON object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedClaims(Box<str>);

impl SignedClaims {
    /// The payload segment of a verified `token`, decoded.
    pub(crate) fn of(token: &str) -> Option<Self> {
        let payload = token.split('.').nth(1)?;
        let text = String::from_utf8(unb64url(payload)?).ok()?;
        Some(Self(text.into()))
    }

    /// The JSON text.
    pub(crate) fn json(&self) -> &str {
        &self.0
    }
}

impl AccessToken {
    /// The claims exactly as the verified token carries them (JSON text), to write out as they are instead of
    /// serialising [`claims`](Self::claims) again; `None` for claims not read from a token.
    pub fn claims_json(&self) -> Option<&str> {
        self.signed_claims.as_ref().map(SignedClaims::json)
    }

    /// Interpret verified claims; missing or mistyped SuperTokens claims ⇒ [`JwtError::InvalidClaims`].
    pub fn from_claims(claims: Map<String, Value>) -> Result<Self, JwtError> {
        let s = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(JwtError::InvalidClaims)
        };
        let opt = |k: &str| match claims.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(_) => Err(JwtError::InvalidClaims),
        };
        let n = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_i64)
                .ok_or(JwtError::InvalidClaims)
        };
        if claims.get("stt").is_some_and(|v| v != 0) {
            return Err(JwtError::InvalidClaims);
        }
        Ok(Self {
            sub: s("sub")?,
            exp: n("exp")?,
            iat: n("iat")?,
            session_handle: s("sessionHandle")?,
            refresh_token_hash1: s("refreshTokenHash1")?,
            parent_refresh_token_hash1: opt("parentRefreshTokenHash1")?,
            anti_csrf_token: opt("antiCsrfToken")?,
            claims,
            signed_claims: None,
        })
    }

    /// The app's own claims (everything not protected).
    pub fn app_claims(&self) -> Map<String, Value> {
        strip_protected(&self.claims)
    }
}

/// Copy of `payload` without protected claim names.
pub(crate) fn strip_protected(payload: &Map<String, Value>) -> Map<String, Value> {
    payload
        .iter()
        .filter(|(k, _)| !PROTECTED_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Inputs for building an access token's claims.
#[derive(Debug)]
pub(crate) struct ClaimsInput<'a> {
    /// User id.
    pub user_id: &'a str,
    /// Expiry, seconds.
    pub exp: i64,
    /// Session handle.
    pub session_handle: &'a str,
    /// hash1 of the refresh token issued with it.
    pub refresh_token_hash1: &'a str,
    /// hash1 of the refresh token it was obtained with, while unconfirmed.
    pub parent_refresh_token_hash1: Option<&'a str>,
    /// Anti-CSRF token.
    pub anti_csrf_token: Option<&'a str>,
    /// App claims (protected names are skipped).
    pub app_claims: &'a Map<String, Value>,
}

/// Build claims in SuperTokens V5 order, app claims last; issued at `iat` (seconds) by `iss`.
pub(crate) fn build_claims(input: &ClaimsInput<'_>, iat: i64, iss: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), input.user_id.into());
    m.insert("exp".into(), input.exp.into());
    m.insert("iat".into(), iat.into());
    m.insert("tId".into(), "public".into());
    m.insert("rsub".into(), input.user_id.into());
    m.insert("sessionHandle".into(), input.session_handle.into());
    m.insert("refreshTokenHash1".into(), input.refresh_token_hash1.into());
    m.insert(
        "parentRefreshTokenHash1".into(),
        input
            .parent_refresh_token_hash1
            .map_or(Value::Null, Value::from),
    );
    m.insert(
        "antiCsrfToken".into(),
        input.anti_csrf_token.map_or(Value::Null, Value::from),
    );
    m.insert("iss".into(), iss.into());
    for (k, v) in input.app_claims {
        if !PROTECTED_CLAIMS.contains(&k.as_str()) {
            m.insert(k.clone(), v.clone());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, OnceLock};

    fn key() -> &'static Arc<SigningKey> {
        static K: OnceLock<Arc<SigningKey>> = OnceLock::new();
        K.get_or_init(|| Arc::new(SigningKey::generate(1_700_000_000_000)))
    }

    fn ring() -> KeyRing {
        let r = KeyRing::default();
        r.set(vec![key().clone()]);
        r
    }

    fn claims(exp: i64) -> Map<String, Value> {
        let app = json!({"role": "x", "sub": "evil"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        build_claims(
            &ClaimsInput {
                user_id: "42",
                exp,
                session_handle: "h",
                refresh_token_hash1: "r",
                parent_refresh_token_hash1: None,
                anti_csrf_token: None,
                app_claims: &app,
            },
            1,
            "http://x/auth",
        )
    }

    #[test]
    fn sign_verify_round_trip() {
        let t = sign(key(), &claims(i64::MAX / 2));
        let c = verify(&ring(), &t, 10).expect("verifies");
        let at = AccessToken::from_claims(c).expect("claims");
        assert_eq!(at.sub, "42");
        assert_eq!(at.app_claims().get("role"), Some(&json!("x")));
        let keys: Vec<&String> = at.claims.keys().collect();
        assert_eq!(keys[..4], ["sub", "exp", "iat", "tId"]);
    }

    #[test]
    fn rejects_expired_tampered_none_and_hs256() {
        let r = ring();
        assert_eq!(
            verify(&r, &sign(key(), &claims(5)), 10),
            Err(JwtError::Expired)
        );
        let t = sign(key(), &claims(100));
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        let tampered_payload = b64url(json!({"sub": "1", "exp": 100}).to_string().as_bytes());
        let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
        assert_eq!(verify(&r, &tampered, 10), Err(JwtError::BadSignature));
        parts[0] = b64url(br#"{"alg":"none","typ":"JWT","kid":"d-1700000000000","version":"5"}"#);
        assert_eq!(
            verify(&r, &format!("{}.{}.", parts[0], parts[1]), 10),
            Err(JwtError::UnsupportedHeader)
        );
        parts[0] = b64url(br#"{"alg":"HS256","typ":"JWT","kid":"d-1700000000000","version":"5"}"#);
        assert_eq!(
            verify(&r, &parts.join("."), 10),
            Err(JwtError::UnsupportedHeader)
        );
        parts[0] = b64url(br#"{"alg":"RS256","typ":"JWT","kid":"d-1","version":"5"}"#);
        assert_eq!(verify(&r, &parts.join("."), 10), Err(JwtError::UnknownKey));
        assert_eq!(verify(&r, "a.b", 10), Err(JwtError::Malformed));
        assert_eq!(verify(&r, "", 10), Err(JwtError::Malformed));
    }

    #[test]
    fn signed_claims_are_the_claims_serialised() {
        let mut c = claims(i64::MAX / 2);
        c.insert("note".into(), json!("é \"quoted\" </script> \u{1}"));
        c.insert("n".into(), json!([1.5, -0.0, 1e300, u64::MAX]));
        let t = sign(key(), &c);
        let signed = SignedClaims::of(&t).expect("payload");
        // What serving the verified (parsed) claims wrote before: the same bytes.
        let verified = verify(&ring(), &t, 10).expect("verifies");
        assert_eq!(signed.json(), Value::Object(verified).to_string());
        assert_eq!(signed.json(), Value::Object(c).to_string());
    }

    #[test]
    fn pkcs8_round_trip() {
        let k = key();
        let back = SigningKey::from_pkcs8(k.created_at_ms, &k.to_pkcs8()).expect("parses");
        assert_eq!(back.jwk(), k.jwk());
    }
}
