//! The `front-token` response header: `base64(JSON {uid, ate, up})`, sent on every session change.
//!
//! [`UID`] is the user id, [`ATE`] the access-token expiry (ms since the epoch, server clock) and [`UP`] the
//! access-token payload. The server encodes with standard padded base64; [`decode`] also takes URL-safe and
//! unpadded input and returns the JSON text (each half parses it with its own JSON parser). [`REMOVE`] instead of
//! a token means the backend cleared the session.
//!
//! ```
//! use fauna_session_protocol::front_token::{decode, FrontTokenError};
//! // {"uid":"u1","ate":5,"up":{}} in standard base64:
//! assert_eq!(decode("eyJ1aWQiOiJ1MSIsImF0ZSI6NSwidXAiOnt9fQ==").unwrap(), r#"{"uid":"u1","ate":5,"up":{}}"#);
//! assert_eq!(decode("not base64!"), Err(FrontTokenError::Base64));
//! ```

use alloc::string::String;
use alloc::vec::Vec;

/// Field: the user id (string).
pub const UID: &str = "uid";
/// Field: the access-token expiry, ms since the epoch (number).
pub const ATE: &str = "ate";
/// Field: the access-token payload (object).
pub const UP: &str = "up";
/// `front-token: remove`: the backend cleared the session.
pub const REMOVE: &str = "remove";

/// Why a front token could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontTokenError {
    /// Not base64.
    Base64,
    /// Decodes to bytes that are not UTF-8.
    Utf8,
    /// Not a JSON object with a string `uid`, a numeric `ate` and an object `up`.
    Shape,
}

impl FrontTokenError {
    /// The error's message (also its `Display`), as plain text without `core::fmt`.
    pub fn message(self) -> &'static str {
        match self {
            FrontTokenError::Base64 => "the front token is not valid base64",
            FrontTokenError::Utf8 => "the front token is not UTF-8",
            FrontTokenError::Shape => "the front token is not a JSON object with uid, ate and up",
        }
    }
}

impl core::fmt::Display for FrontTokenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for FrontTokenError {}

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
    let bytes = input.as_bytes();
    let unpadded = bytes.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let data = bytes.get(..unpadded).unwrap_or_default();
    if bytes.len() - data.len() > 2 || data.len() % 4 == 1 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_padded_unpadded_and_url_safe() {
        assert_eq!(decode("eyJ1aWQiOiJ1MSJ9").as_deref(), Ok(r#"{"uid":"u1"}"#));
        assert_eq!(base64_decode("QQ==").unwrap(), b"A");
        assert_eq!(base64_decode("QQ").unwrap(), b"A");
        assert_eq!(base64_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64_decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64_decode("").unwrap(), b"");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode("a"), Err(FrontTokenError::Base64));
        assert_eq!(decode("QQ==="), Err(FrontTokenError::Base64));
        assert_eq!(decode("Q Q="), Err(FrontTokenError::Base64));
        assert_eq!(decode("//79"), Err(FrontTokenError::Utf8));
    }

    #[test]
    fn display_is_the_message() {
        use alloc::string::ToString;
        for e in [
            FrontTokenError::Base64,
            FrontTokenError::Utf8,
            FrontTokenError::Shape,
        ] {
            assert_eq!(e.to_string(), e.message());
        }
    }
}
