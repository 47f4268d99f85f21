//! # fauna-emulator — a development tool, not Fauna
//!
//! An in-memory emulator of the subset of the [Fauna] Core HTTP API (`POST /query/1`, FQL v10)
//! that `fauna-session` and its users' browser code touch: keys, user tokens with ttl,
//! credentials, user-defined collections and their documents. It answers with the engine's
//! status codes, error codes, messages and wire formats (simple and tagged), so tests and
//! demos can run where the real engine cannot. State lives in memory and is lost on exit.
//!
//! Anything outside the subset answers 400 `invalid_query` with a message saying it is not
//! emulated. See the crate's `README.md` for the subset and the differences from the engine.
//!
//! [Fauna]: https://fauna.com
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fauna_emulator::{Config, Emulator};
//! let config = Config {
//!     listen: "127.0.0.1:0".parse().unwrap(),
//!     collections: vec!["User".into()],
//!     token_role: "User:read".parse().unwrap(),
//!     ..Config::default()
//! };
//! let emulator = Emulator::bind(config).await?;
//! println!("emulating Fauna at http://{}", emulator.local_addr());
//! emulator.serve().await
//! # }
//! ```
#![deny(missing_docs)]

mod auth;
mod config;
mod db;
mod eval;
mod http;
mod lexer;
mod parser;
mod time;
mod value;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use config::{Config, Privileges, TokenRole, TokenRoleError};
pub use db::SetupError;

/// A bound, not yet serving emulator.
#[derive(Debug)]
pub struct Emulator {
    listener: tokio::net::TcpListener,
    router: axum::Router,
}

impl Emulator {
    /// The router alone (for embedding in another server or `tower` tests).
    pub fn router(config: Config) -> Result<axum::Router, SetupError> {
        let state = db::State::new(&config)?;
        Ok(http::router(http::Shared {
            config: Arc::new(config),
            state: Arc::new(Mutex::new(state)),
            evaluator: http::spawn_evaluator().map_err(SetupError::Thread)?,
            in_flight: Arc::default(),
        }))
    }

    /// Binds `config.listen` (port 0 picks a free port). A non-loopback address is refused
    /// (`PermissionDenied`) unless `config.insecure_listen` is set.
    pub async fn bind(config: Config) -> std::io::Result<Emulator> {
        if !config.listen.ip().is_loopback() && !config.insecure_listen {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to listen on {}: not a loopback address, and the root key is admin \
                     (pass --insecure-listen, or set Config::insecure_listen, to allow it)",
                    config.listen
                ),
            ));
        }
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let router = Self::router(config)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        Ok(Emulator { listener, router })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until the process ends.
    pub async fn serve(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).await
    }

    /// Serves until `shutdown` completes.
    pub async fn serve_with_shutdown<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Spawns the server on the current tokio runtime and returns its address.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.local_addr();
        tokio::spawn(self.serve());
        addr
    }
}
