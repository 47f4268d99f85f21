//! The `front-token`: `base64(JSON {uid, ate, up})` sent by the backend on every session change.
//!
//! `uid` is the user id, `ate` the access-token expiry (ms since the epoch, server clock) and `up` the
//! access-token payload (where the `faunadbToken` claim lives). [`decode`] turns the header value into the JSON
//! text; the browser backend parses that with the browser's own `JSON.parse`, and with the `serde` feature
//! `parse` deserialises it into the app's payload type.
//!
//! ```
//! // {"uid":"u1","ate":5,"up":{}} in standard base64:
//! let json = fauna_session::front_token::decode("eyJ1aWQiOiJ1MSIsImF0ZSI6NSwidXAiOnt9fQ==").unwrap();
//! assert_eq!(json, r#"{"uid":"u1","ate":5,"up":{}}"#);
//! assert!(fauna_session::front_token::decode("not base64!").is_err());
//! ```

use alloc::string::String;
use alloc::vec::Vec;

/// Why a front token (header or cookie) could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrontTokenError {
    /// Not base64.
    #[error("the front token is not valid base64")]
    Base64,
    /// Decodes to bytes that are not UTF-8.
    #[error("the front token is not UTF-8")]
    Utf8,
    /// Not a JSON object with a string `uid`, a numeric `ate` and an object `up`.
    #[error("the front token is not a JSON object with uid, ate and up")]
    Shape,
}

impl FrontTokenError {
    /// The error's message without `core::fmt`.
    pub fn message(self) -> &'static str {
        match self {
            FrontTokenError::Base64 => "the front token is not valid base64",
            FrontTokenError::Utf8 => "the front token is not UTF-8",
            FrontTokenError::Shape => "the front token is not a JSON object with uid, ate and up",
        }
    }
}

fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes standard (or URL-safe) base64, padded or not.
pub fn base64_decode(input: &str) -> Result<Vec<u8>, FrontTokenError> {
    let data = crate::scope::trim_end_byte(input, b'=').as_bytes();
    if input.len() - data.len() > 2 || data.len() % 4 == 1 {
        return Err(FrontTokenError::Base64);
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in data {
        acc = (acc << 6) | sextet(c).ok_or(FrontTokenError::Base64)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Decodes a front token to its JSON text.
pub fn decode(token: &str) -> Result<String, FrontTokenError> {
    let bytes = base64_decode(token)?;
    String::from_utf8(bytes).map_err(|_| FrontTokenError::Utf8)
}

/// A front token with the payload deserialised into the app's type.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct FrontToken<T> {
    /// User id.
    pub uid: String,
    /// Access-token expiry, ms since the epoch (server clock).
    pub ate: f64,
    /// Access-token payload.
    pub up: T,
}

/// Decodes and deserialises a front token (`serde` feature).
///
/// ```
/// # #[cfg(feature = "serde")] {
/// #[derive(serde::Deserialize)]
/// struct Claims { sub: String }
/// let t = fauna_session::front_token::parse::<Claims>(
///     "eyJ1aWQiOiJ1MSIsImF0ZSI6NSwidXAiOnsic3ViIjoidTEifX0=").unwrap();
/// assert_eq!(t.up.sub, "u1");
/// assert_eq!(t.ate, 5.0);
/// # }
/// ```
#[cfg(feature = "serde")]
pub fn parse<T: serde::de::DeserializeOwned>(
    token: &str,
) -> Result<FrontToken<T>, FrontTokenError> {
    let json = decode(token)?;
    serde_json::from_str(&json).map_err(|_| FrontTokenError::Shape)
}
