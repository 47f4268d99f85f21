//! Browser backend (`wasm32` only): cookies, locks, the interceptor and the Rust API.

pub(crate) mod engine;
#[cfg(feature = "serde")]
pub(crate) mod fauna_client;
pub(crate) mod lock;
#[cfg(feature = "std")]
pub(crate) mod session;
pub(crate) mod sys;
pub(crate) mod xhr;
