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
//! * **JavaScript** (cargo feature `js`, the npm build): `init(config)` patches `window.fetch` (and, with
//!   `compat`, `XMLHttpRequest`) once, then `doesSessionExist()`, `getUserId()`, `getAccessTokenPayloadSecurely()` (alias
//!   `getJWTPayloadSecurely()`), `getAccessToken()`, `attemptRefreshingSession()`, `signOut({ scope })`,
//!   `getFaunadbToken({ minValiditySeconds })`, the user's devices `listSessions()` / `revokeSession(handle)`,
//!   and SuperTokens' claims API `getClaimValue({ claim })`, `validateClaims()`, `getInvalidClaimsFromResponse({
//!   response })` with the package's `EmailVerificationClaim` (so a page can show "check your inbox"), typed in the
//!   generated `.d.ts`.
//! * **Rust** (always; for Yew and Leptos apps): `Session` (wasm32 only) with `fetch(gloo_net::http::Request)`,
//!   `fauna().query::<T>(fql, args)` (feature `serde`: a typed FQL v10 client whose Fauna token the session
//!   manages, see [`fauna`]), `access_token_payload::<T>()` (feature `serde`), `faunadb_token(min_validity)`,
//!   `sign_out()` / `sign_out_with(SignOutScope)`, `list_sessions()` / `revoke_session(handle)` (see [`devices`]),
//!   `claim_value(EmailVerificationClaim)` / `validate_claims(validators)` / `invalid_claims(&response)` (see
//!   [`claims`]), `attempt_refreshing_session()` and `Session::on_event`. It does not touch `window.fetch` unless asked
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
//! tested natively: [`scope`] (which URLs are intercepted), [`config`] (defaults and validation), [`headers`]
//! (the session headers of a request, for `fetch` and XHR alike), [`cookies`] (cookie strings), [`front_token`]
//! (token decoding), [`devices`] (device-list URLs and answers, sign-out scopes), [`claims`] (when `st-ev` is
//! stale, whether it passes), [`state`] (local session
//! state, post-lock decisions, events, retry budget, clock skew), [`fauna`] (which requests are Fauna's, token
//! validity, the FQL v10 wire format), [`tabs`] (cross-tab messages, bounded lock waits), [`failure`]
//! (which refresh failures end a session, corrupt stored state). The wire names come from the `fauna-session-protocol` crate, which the server uses too. The browser backend (`wasm32` only,
//! private) puts them to work in modules by concern, none importing a later one: `sys` (browser bindings),
//! `lock` (the localStorage lock, `compat`), `settings` (what `init` configured), `events`, `frontend` (the cookie
//! state), `driver` (the request, single-flight refresh and session-API flows: a small JavaScript module,
//! `src/wasm/driver.js`, awaits the promises and asks synchronous Rust decisions between them, so the wasm carries
//! no futures executor), `fetch`, `xhr`, `api` (the session API as Rust futures), `session` and `fauna_client`
//! (Rust).
//!
//! ## Cargo features
//!
//! | feature | what |
//! |---|---|
//! | `js` | the `#[wasm_bindgen]` JavaScript API (`js` module when built for wasm32) — the npm build; also makes `lol_alloc`'s free-list allocator the `#[global_allocator]` on wasm32 (smaller than dlmalloc), so a crate that sets its own must not enable `js` |
//! | `std` (default) | the Rust API (`Session`, on gloo-net) and the standard library, with `compat`; the npm build turns it off and is `no_std` (its panics trap) |
//! | `compat` | `XMLHttpRequest` interception (axios' XHR adapter) and the localStorage refresh lock where Web Locks are missing (without it, refreshes are serialised per page there); the npm package's `fauna-session/compat` entry |
//! | `serde` | `Session::access_token_payload::<T>()` and `front_token::parse` deserialise into your types |
//!
//! ## State and single flight
//!
//! Session state is never held in memory: every decision re-reads the frontend cookies (`sFrontToken`,
//! `st-last-access-token-update`, `sAntiCsrf`, and `st-access-token`/`st-refresh-token` in header mode), so tabs,
//! frames and the SuperTokens JS SDK agree. A request that gets the session-expired status takes the refresh
//! lock (Web Locks; with `compat` the `browser-tabs-lock` localStorage protocol where `navigator.locks` is missing), then
//! compares `st-last-access-token-update` with the value it saw before sending: if it changed, someone else
//! already refreshed and the request is simply retried. Only the first caller calls the refresh endpoint.
//!
//! ## Size
//!
//! `scripts/size-report.sh` builds the npm flavour (`--profile wasm-release --no-default-features --features js`,
//! `wasm-bindgen --target web`, `wasm-opt -Oz` with the npm build's Binaryen, and the package's own steps before
//! and after it) and prints raw and `gzip -9` sizes of the wasm and its JS glue. What keeps it small: the npm
//! flavour is `no_std` (no std panic machinery; a panic traps) and is compiled by a pinned nightly with core and
//! alloc built for it with `panic=immediate-abort` (no panic messages, locations or `core::fmt` code in the
//! wasm; `scripts/wasm-post.sh`), no `core::fmt` on our paths (messages are concatenated `&str`s, numbers go through
//! JavaScript), JavaScript values read with `Reflect` instead of serde, no async Rust (the JavaScript driver awaits;
//! Rust decides synchronously), one closure shape ([`Closure`](wasm_bindgen::closure::Closure) of five `JsValue`s)
//! for every callback, shared bindings where web-sys has one per type, a small allocator, and short import/export names with a
//! minified glue in the package.
//!
//! ## Testing
//!
//! `./scripts/test.sh` runs every test of the workspace (after `scripts/setup.sh` installs what is missing), in
//! stages: the static checks (`scripts/check.sh`: `cargo fmt --check`, clippy with warnings denied natively and for
//! wasm32 in the `std`, `js` and `js`+`compat` flavours, rustdoc), the native tests (`cargo test --workspace`), the
//! fauna-js driver against the Fauna emulator, this crate in Chromium, Firefox and WebKit, and the npm package and
//! example app end to end (`e2e/run.sh`). To run one part:
//!
//! * this crate's pure logic, natively (its modules' tests and `tests/logic*.rs`, no browser):
//!   `cargo test -p fauna-session --features serde`;
//! * the browser backend in one engine: `bash scripts/browser-test.sh chromium|firefox|webkit` (cargo test
//!   arguments may follow, e.g. `--test browser_tabs`). It builds and starts the real `fauna-session-server` on
//!   127.0.0.1:3001 (2-second access tokens, a Fauna token per session from the Fauna emulator on a free port) and
//!   `tests/support/servers.py` (the extra servers the failure tests start and kill), then runs
//!   `cargo test -p fauna-session --target wasm32-unknown-unknown --features js,serde` through
//!   `scripts/wasm-test-runner.sh`, with the test page on 127.0.0.1:8000. Those two ports are fixed: run one at a
//!   time.
#![deny(missing_docs)]
// The npm build (`--no-default-features --features js`) is `no_std`: it leaves out std's panic machinery and
// the `core::fmt` code it drags in. Everything else (native builds, Rust apps) has `std`.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

pub mod claims;
pub mod config;
pub mod cookies;
pub mod devices;
mod driver_ops;
mod error;
pub mod event;
pub mod failure;
pub mod fauna;
pub mod front_token;
pub mod headers;
pub mod scope;
pub mod state;
pub mod tabs;
mod text;

pub use error::Error;
pub use event::Event;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(all(target_arch = "wasm32", feature = "serde"))]
pub use wasm::fauna_client::Fauna;
#[cfg(all(target_arch = "wasm32", feature = "std"))]
pub use wasm::session::{Session, Subscription};

/// The JavaScript API (feature `js`): the functions the npm package exports, callable from Rust too.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub mod js;

/// The npm build's allocator: `lol_alloc`'s small free-list allocator instead of the standard library's dlmalloc
/// (about 3.4 KB smaller gzipped). Only with `js`: a library must not choose the allocator of a Rust app.
#[cfg(all(
    target_arch = "wasm32",
    feature = "js",
    not(target_feature = "atomics")
))]
#[global_allocator]
#[allow(unsafe_code)]
// SAFETY: without the `atomics` target feature (checked by the cfg above) wasm32 code runs on one thread only, so
// the allocator is never used from two threads at once.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// The npm build's panic handler (it has no std): trap. Our code is written not to panic (it parses with
/// `get`/`checked_*` instead of indexing and does not unwrap), so this guards against bugs; a trap surfaces in
/// JavaScript as a `RuntimeError: unreachable`.
#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(all(
    target_arch = "wasm32",
    not(feature = "std"),
    target_feature = "atomics"
))]
compile_error!(
    "the no_std (npm) build assumes one thread: build it without the `atomics` target feature"
);
