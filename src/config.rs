//! Configuration: the options of `init`, their defaults and their validation.
//!
//! [`Config`] holds what the app passes; [`Config::normalise`] checks it and produces the [`Normalised`] form the
//! interceptor works with. Defaults and error messages are the SuperTokens frontend SDK's.
//!
//! ```
//! use fauna_session::config::{Config, TokenTransferMethod};
//! let mut config = Config::new("http://127.0.0.1:3001");
//! config.token_transfer_method = TokenTransferMethod::Header;
//! let n = config.normalise("127.0.0.1").unwrap();
//! assert_eq!(n.refresh_url, "http://127.0.0.1:3001/auth/session/refresh");
//! assert_eq!(n.max_retry_attempts_for_session_refresh, 10);
//! ```

use alloc::string::String;

use fauna_session_protocol::path;

use crate::fauna::{FaunaConfig, FaunaConfigError, FaunaSettings};
use crate::scope::{self, ScopeError};

/// How the backend is asked to transfer tokens (`st-auth-mode`): `fauna-session-protocol`'s `TokenTransfer`
/// (the server uses the same type), under the SuperTokens option's name.
pub use fauna_session_protocol::TokenTransfer as TokenTransferMethod;

/// Options of `init`, before validation. Build with [`Config::new`] and set fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the session API lives, e.g. `https://api.example.com` (required).
    pub api_domain: String,
    /// Path prefix of the session endpoints. Default `/auth`.
    pub api_base_path: String,
    /// Status that means "access token expired": refresh, then retry. Default 401.
    pub session_expired_status_code: u16,
    /// Status that means "a claim is invalid" (fires `API_INVALID_CLAIM`). Default 403.
    pub invalid_claim_status_code: u16,
    /// Cookie or header transport. Default cookie.
    pub token_transfer_method: TokenTransferMethod,
    /// `domain=` of the cookies this library writes. Default: the page's host name.
    pub session_token_frontend_domain: Option<String>,
    /// Extra interception scope: this domain and its subdomains. Default none.
    pub session_token_backend_domain: Option<String>,
    /// Add `credentials: "include"` to intercepted requests that do not set credentials. Default true.
    pub auto_add_credentials: bool,
    /// Write frontend cookies `SameSite=None; Secure` (for pages inside iframes). Default false.
    pub is_in_iframe: bool,
    /// Refresh-and-retry cycles allowed per request. Default 10; 0 never refreshes on a 401.
    pub max_retry_attempts_for_session_refresh: u32,
    /// Fauna requests managed by the session (`Authorization: Bearer <faunadbToken>`, refreshed before it would
    /// expire, a Fauna 401 refreshes and retries once). Default none.
    pub fauna: Option<FaunaConfig>,
}

impl Config {
    /// A configuration with every option at its default.
    pub fn new(api_domain: impl Into<String>) -> Self {
        Config {
            api_domain: api_domain.into(),
            api_base_path: path::DEFAULT_API_BASE_PATH.into(),
            session_expired_status_code: fauna_session_protocol::SESSION_EXPIRED_STATUS,
            invalid_claim_status_code: fauna_session_protocol::INVALID_CLAIM_STATUS,
            token_transfer_method: TokenTransferMethod::Cookie,
            session_token_frontend_domain: None,
            session_token_backend_domain: None,
            auto_add_credentials: true,
            is_in_iframe: false,
            max_retry_attempts_for_session_refresh: 10,
            fauna: None,
        }
    }

    /// Validates and normalises; `page_hostname` is the default frontend cookie domain.
    pub fn normalise(&self, page_hostname: &str) -> Result<Normalised, ConfigError> {
        let api_domain = scope::normalise_url_domain(&self.api_domain)?;
        let api_base_path = scope::normalise_url_path(&self.api_base_path)?;
        let frontend = self
            .session_token_frontend_domain
            .as_deref()
            .unwrap_or(page_hostname);
        let session_token_frontend_domain = scope::normalise_session_scope(frontend)?;
        if self.session_expired_status_code == self.invalid_claim_status_code {
            return Err(ConfigError::SameStatusCodes);
        }
        let session_token_backend_domain = match &self.session_token_backend_domain {
            Some(d) => Some(scope::normalise_session_scope(d)?),
            None => None,
        };
        let fauna = match &self.fauna {
            Some(f) => Some(f.normalise()?),
            None => None,
        };
        let mut base = api_domain.clone();
        base.push_str(&api_base_path);
        let mut refresh_url = base.clone();
        refresh_url.push_str(path::REFRESH);
        let mut sign_out_url = base;
        sign_out_url.push_str(path::SIGN_OUT);
        Ok(Normalised {
            api_domain,
            api_base_path,
            refresh_url,
            sign_out_url,
            session_expired_status_code: self.session_expired_status_code,
            invalid_claim_status_code: self.invalid_claim_status_code,
            token_transfer_method: self.token_transfer_method,
            session_token_frontend_domain,
            session_token_backend_domain,
            auto_add_credentials: self.auto_add_credentials,
            is_in_iframe: self.is_in_iframe,
            max_retry_attempts_for_session_refresh: self.max_retry_attempts_for_session_refresh,
            fauna,
        })
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    /// `scheme://host[:port]`.
    pub api_domain: String,
    /// `/auth`-style path, `""` for the root.
    pub api_base_path: String,
    /// `POST` target of a refresh.
    pub refresh_url: String,
    /// `POST` target of a sign-out.
    pub sign_out_url: String,
    /// See [`Config::session_expired_status_code`].
    pub session_expired_status_code: u16,
    /// See [`Config::invalid_claim_status_code`].
    pub invalid_claim_status_code: u16,
    /// See [`Config::token_transfer_method`].
    pub token_transfer_method: TokenTransferMethod,
    /// Normalised cookie domain.
    pub session_token_frontend_domain: String,
    /// Normalised extra interception scope.
    pub session_token_backend_domain: Option<String>,
    /// See [`Config::auto_add_credentials`].
    pub auto_add_credentials: bool,
    /// See [`Config::is_in_iframe`].
    pub is_in_iframe: bool,
    /// See [`Config::max_retry_attempts_for_session_refresh`].
    pub max_retry_attempts_for_session_refresh: u32,
    /// See [`Config::fauna`].
    pub fauna: Option<FaunaSettings>,
}

impl Normalised {
    /// Whether a request to the absolute URL `url` is intercepted. See [`scope::should_intercept`] (the options are
    /// normalised already: [`scope::should_intercept_normalised`]).
    pub fn should_intercept(&self, url: &str) -> bool {
        scope::should_intercept_normalised(
            url,
            &self.api_domain,
            self.session_token_backend_domain.as_deref(),
        )
    }

    /// The `domain=` attribute to write on frontend cookies, if any (none for `localhost` or the page's own host).
    pub fn cookie_domain<'a>(&'a self, page_hostname: &str) -> Option<&'a str> {
        let d = self.session_token_frontend_domain.as_str();
        if d == "localhost" || d == page_hostname {
            None
        } else {
            Some(d)
        }
    }
}

/// Why a configuration was rejected. The messages are the SuperTokens SDK's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A domain or path option could not be normalised.
    Scope(ScopeError),
    /// `sessionExpiredStatusCode == invalidClaimStatusCode`.
    SameStatusCodes,
    /// A negative `maxRetryAttemptsForSessionRefresh`.
    NegativeRetryAttempts,
    /// `apiDomain` missing from the JavaScript config object.
    MissingApiDomain,
    /// The `fauna` options were rejected.
    Fauna(FaunaConfigError),
    /// An option of the wrong JavaScript type.
    InvalidOption(&'static str),
}

impl ConfigError {
    /// The error's message (also its `Display`), built without `core::fmt` (keeps the wasm build small).
    pub fn message(&self) -> String {
        match self {
            ConfigError::Scope(e) => e.message().into(),
            ConfigError::SameStatusCodes => {
                "sessionExpiredStatusCode and invalidClaimStatusCode cannot be the same.".into()
            }
            ConfigError::NegativeRetryAttempts => {
                "maxRetryAttemptsForSessionRefresh must be greater than or equal to 0.".into()
            }
            ConfigError::MissingApiDomain => ScopeError::InvalidDomain.message().into(),
            ConfigError::Fauna(e) => e.message().into(),
            ConfigError::InvalidOption(name) => {
                let mut s = String::from("Invalid config option: ");
                s.push_str(name);
                s
            }
        }
    }
}

crate::text::display_from_message!(ConfigError);

impl From<ScopeError> for ConfigError {
    fn from(e: ScopeError) -> Self {
        ConfigError::Scope(e)
    }
}

impl From<FaunaConfigError> for ConfigError {
    fn from(e: FaunaConfigError) -> Self {
        ConfigError::Fauna(e)
    }
}
