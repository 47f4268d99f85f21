//! # fauna-session
//!
//! The browser half of fauna-session: a session client speaking the SuperTokens Frontend Driver Interface, so it
//! works against our `fauna-session-server` and any SuperTokens backend. It keeps the session in the protocol's
//! frontend cookies (shared by all tabs, readable by the SuperTokens JS SDK), adds the session headers to requests
//! for the API domain, refreshes an expired access token **once** however many requests (in however many tabs)
//! hit the 401 at the same time, and reads the access-token payload, where the server puts each session's
//! short-lived `faunadbToken`.
//!
//! ## Two front doors
//!
//! * **JavaScript** (cargo feature `js`, the npm build): `init(config)` patches `window.fetch` and
//!   `XMLHttpRequest` once, then `doesSessionExist()`, `getUserId()`, `getAccessTokenPayloadSecurely()` (alias
//!   `getJWTPayloadSecurely()`), `getAccessToken()`, `attemptRefreshingSession()`, `signOut()` and
//!   `getFaunadbToken({ minValiditySeconds })`, typed in the generated `.d.ts`.
//! * **Rust** (always; for Yew and Leptos apps): `Session` (wasm32 only) with `fetch(gloo_net::http::Request)`,
//!   `access_token_payload::<T>()` (feature `serde`), `faunadb_token(min_validity)`, `sign_out()`,
//!   `attempt_refreshing_session()` and `Session::on_event`. It does not touch `window.fetch` unless asked
//!   (`Session::intercept_global_fetch`). A dependency on this crate without `js` exports no JavaScript.
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")]
//! # async fn demo() -> Result<(), fauna_session::Error> {
//! use fauna_session::{config::Config, Session};
//! let session = Session::init(Config::new("https://api.example.com"))?;
//! let response = session.fetch(gloo_net::http::Request::get("https://api.example.com/sessioninfo").build().unwrap()).await?;
//! assert!(response.ok());
//! let fauna_secret = session.faunadb_token(30.0).await?; // valid for at least 30 s
//! # let _ = fauna_secret;
//! # Ok(()) }
//! ```
//!
//! ## Pure logic
//!
//! Everything that is a decision rather than a browser call lives in target-independent modules and is unit
//! tested natively: [`scope`] (which URLs are intercepted), [`config`] (defaults and validation), [`cookies`]
//! (cookie strings), [`front_token`] (token decoding), [`state`] (local session state, post-lock decisions,
//! events, retry budget, clock skew). The browser backend (`wasm32` only) puts them to work.
#![deny(missing_docs)]

pub mod config;
pub mod cookies;
mod error;
pub mod event;
pub mod front_token;
pub mod scope;
pub mod state;

pub use error::Error;
pub use event::Event;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::session::{Session, Subscription};

/// The JavaScript API (feature `js`): the functions the npm package exports, callable from Rust too.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub mod js;
