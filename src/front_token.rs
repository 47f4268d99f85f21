//! The `front-token`: `base64(JSON {uid, ate, up})` sent by the backend on every session change.
//!
//! `uid` is the user id, `ate` the access-token expiry (ms since the epoch, server clock) and `up` the
//! access-token payload (where the `faunadbToken` claim lives). [`decode`] (from `fauna-session-protocol`, shared
//! with the server) turns the header value into the JSON text; the browser backend parses that with the browser's own `JSON.parse`, and with the `serde` feature
//! `parse` deserialises it into the app's payload type.
//!
//! ```
//! // {"uid":"u1","ate":5,"up":{}} in standard base64:
//! let json = fauna_session::front_token::decode("eyJ1aWQiOiJ1MSIsImF0ZSI6NSwidXAiOnt9fQ==").unwrap();
//! assert_eq!(json, r#"{"uid":"u1","ate":5,"up":{}}"#);
//! assert!(fauna_session::front_token::decode("not base64!").is_err());
//! ```

pub use fauna_session_protocol::front_token::{
    ATE, FrontTokenError, REMOVE, UID, UP, base64_decode, decode,
};

/// A front token with the payload deserialised into the app's type.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct FrontToken<T> {
    /// User id.
    pub uid: alloc::string::String,
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
