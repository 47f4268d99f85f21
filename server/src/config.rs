//! Engine configuration: a plain struct with protocol defaults.

use std::sync::Arc;
use std::time::Duration;

use crate::accounts::AccountsConfig;
use crate::hooks::{NoHooks, SessionHooks};
use crate::lockout::LockoutConfig;
use crate::security::AuditLogConfig;
use crate::throttle::RateLimits;

/// Cookie `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=Lax`
    Lax,
    /// `SameSite=None` (needs `Secure` except on localhost/IP origins)
    None,
}

impl SameSite {
    /// The attribute value as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

impl std::str::FromStr for SameSite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Ok(Self::Strict),
            "lax" => Ok(Self::Lax),
            "none" => Ok(Self::None),
            _ => Err(format!("unknown SameSite value {s:?} (strict, lax, none)")),
        }
    }
}

/// Anti-CSRF protection for cookie-transported sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AntiCsrf {
    /// Non-GET requests must carry an `anti-csrf` header equal to the token issued with the session.
    ViaToken,
    /// Non-GET requests must carry a `rid` header (any value), which a cross-site form cannot send.
    ViaCustomHeader,
    /// No check (safe with `SameSite=Lax`/`Strict`).
    None,
}

impl std::str::FromStr for AntiCsrf {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "VIA_TOKEN" => Ok(Self::ViaToken),
            "VIA_CUSTOM_HEADER" => Ok(Self::ViaCustomHeader),
            "NONE" => Ok(Self::None),
            _ => Err(format!(
                "unknown anti-CSRF mode {s:?} (VIA_TOKEN, VIA_CUSTOM_HEADER, NONE)"
            )),
        }
    }
}

/// Configuration of a [`SessionEngine`](crate::SessionEngine). Start from [`SessionConfig::default`].
///
/// ```
/// use std::time::Duration;
/// use fauna_session_server::SessionConfig;
///
/// let config = SessionConfig {
///     api_domain: "https://api.example.com".into(),
///     website_origins: vec!["https://example.com".into()],
///     access_token_lifetime: Duration::from_secs(600),
///     ..SessionConfig::default()
/// };
/// assert_eq!(config.api_base_path, "/auth");
/// assert!(config.cookie_secure());
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    /// Scheme and authority the API is reached at (e.g. `http://127.0.0.1:3001`). Decides cookie defaults and
    /// the token issuer.
    pub api_domain: String,
    /// Base path of the FDI routes (default `/auth`).
    pub api_base_path: String,
    /// Website origins allowed by CORS (with credentials).
    pub website_origins: Vec<String>,
    /// Access-token lifetime (default 3600 s).
    pub access_token_lifetime: Duration,
    /// Refresh-token lifetime, sliding on use (default 100 days): a session unused this long ends.
    pub refresh_token_lifetime: Duration,
    /// Absolute session lifetime, counted from the session's creation however often it is refreshed (default
    /// 365 days; `None` turns it off). Past it a refresh answers 401 and the session is revoked (its Fauna token
    /// deleted), and no access token is ever minted to expire after it. Checked in the refresh's
    /// compare-and-swap, so instances sharing a database cannot race past it.
    pub session_max_lifetime: Option<Duration>,
    /// `Secure` cookie attribute; default: `api_domain` is https.
    pub cookie_secure: Option<bool>,
    /// `SameSite` cookie attribute; default: `Lax` when the website and API share site and scheme, else `None`.
    pub cookie_same_site: Option<SameSite>,
    /// `Domain` cookie attribute; default: host-only cookies.
    pub cookie_domain: Option<String>,
    /// Anti-CSRF mode; default: `ViaCustomHeader` when SameSite resolves to `None`, else `None`.
    pub anti_csrf: Option<AntiCsrf>,
    /// How often a new signing key is created (default 168 h).
    pub key_rotation_interval: Duration,
    /// How long a new key is published in the JWKS before it signs (default 60 s).
    pub key_publish_ahead: Duration,
    /// How often expired sessions and keys are deleted and keys rotated (default 60 s).
    pub maintenance_interval: Duration,
    /// How often the sessions other instances ended are read from the shared database, so their access
    /// tokens are refused here too (default 1 s; zero turns it off, and only the instance that ended a session
    /// refuses its tokens before they expire). Run by [`SessionEngine::spawn_maintenance`](crate::SessionEngine::spawn_maintenance).
    pub revocation_sync_interval: Duration,
    /// Hooks run at session creation, refresh and revocation (default: none).
    pub hooks: Arc<dyn SessionHooks>,
    /// Per-client-IP rate limits on the FDI routes (default: on, see [`RateLimits`]).
    pub rate_limits: RateLimits,
    /// Per-account back-off after failed sign-ins, counted in the session database (default: on, see
    /// [`LockoutConfig`]). Applied by [`SessionEngine::new`](crate::SessionEngine::new); wrap your own
    /// [`UserStore`](crate::users::UserStore) in [`AccountLockout`](crate::AccountLockout) otherwise.
    pub lockout: LockoutConfig,
    /// Serve `GET {base}/emailpassword/email/exists` (default true). It tells anyone whether an email has an
    /// account; turn it off when the sign-up form does not need it.
    pub email_exists_route: bool,
    /// Password reset, email verification and devices (default: email off, verification off).
    pub accounts: AccountsConfig,
    /// The audit table of security events (default: off; see [`crate::security`]).
    pub audit_log: AuditLogConfig,
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("api_domain", &self.api_domain)
            .field("api_base_path", &self.api_base_path)
            .field("website_origins", &self.website_origins)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("refresh_token_lifetime", &self.refresh_token_lifetime)
            .field("session_max_lifetime", &self.session_max_lifetime)
            .field("cookie_secure", &self.cookie_secure())
            .field("cookie_same_site", &self.cookie_same_site())
            .field("cookie_domain", &self.cookie_domain)
            .field("anti_csrf", &self.anti_csrf())
            .field("rate_limits", &self.rate_limits)
            .field("lockout", &self.lockout)
            .field("accounts", &self.accounts)
            .field("audit_log", &self.audit_log)
            .finish_non_exhaustive()
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            api_domain: "http://127.0.0.1:3001".into(),
            api_base_path: fauna_session_protocol::path::DEFAULT_API_BASE_PATH.into(),
            website_origins: Vec::new(),
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(100 * 24 * 3600),
            session_max_lifetime: Some(Duration::from_secs(365 * 24 * 3600)),
            cookie_secure: None,
            cookie_same_site: None,
            cookie_domain: None,
            anti_csrf: None,
            key_rotation_interval: Duration::from_secs(168 * 3600),
            key_publish_ahead: Duration::from_secs(60),
            maintenance_interval: Duration::from_secs(60),
            revocation_sync_interval: Duration::from_secs(1),
            hooks: Arc::new(NoHooks),
            rate_limits: RateLimits::default(),
            lockout: LockoutConfig::default(),
            email_exists_route: true,
            accounts: AccountsConfig::default(),
            audit_log: AuditLogConfig::default(),
        }
    }
}

/// `(scheme, host)` of an origin or URL such as `https://api.example.com:8443/x`.
fn scheme_host(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("").to_string()
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_string()
    };
    (scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
}

/// The "site" of a host: the host itself for IPs and single labels, else its last two labels.
fn site_of(host: &str) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    if labels.len() <= 2 {
        host.to_string()
    } else {
        labels[labels.len() - 2..].join(".")
    }
}

impl SessionConfig {
    /// Normalised base path: leading `/`, no trailing `/` (`""` for the root).
    pub fn base_path(&self) -> String {
        let p = self.api_base_path.trim().trim_end_matches('/');
        if p.is_empty() {
            String::new()
        } else if p.starts_with('/') {
            p.to_string()
        } else {
            format!("/{p}")
        }
    }

    /// Path of the refresh endpoint, which is also the refresh cookie's `Path`.
    pub fn refresh_path(&self) -> String {
        format!(
            "{}{}",
            self.base_path(),
            fauna_session_protocol::path::REFRESH
        )
    }

    /// Token issuer (`iss`): `api_domain + base path`.
    pub fn issuer(&self) -> String {
        format!(
            "{}{}",
            self.api_domain.trim_end_matches('/'),
            self.base_path()
        )
    }

    /// Resolved `Secure` attribute.
    pub fn cookie_secure(&self) -> bool {
        self.cookie_secure
            .unwrap_or_else(|| scheme_host(&self.api_domain).0 == "https")
    }

    /// Resolved `SameSite` attribute.
    pub fn cookie_same_site(&self) -> SameSite {
        if let Some(s) = self.cookie_same_site {
            return s;
        }
        let (api_scheme, api_host) = scheme_host(&self.api_domain);
        let same = self.website_origins.iter().all(|o| {
            let (scheme, host) = scheme_host(o);
            scheme == api_scheme && site_of(&host) == site_of(&api_host)
        });
        if same { SameSite::Lax } else { SameSite::None }
    }

    /// Resolved anti-CSRF mode.
    pub fn anti_csrf(&self) -> AntiCsrf {
        self.anti_csrf
            .unwrap_or(if self.cookie_same_site() == SameSite::None {
                AntiCsrf::ViaCustomHeader
            } else {
                AntiCsrf::None
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_defaults() {
        let mut c = SessionConfig {
            website_origins: vec!["http://127.0.0.1:8000".into()],
            ..Default::default()
        };
        assert_eq!(c.cookie_same_site(), SameSite::Lax);
        assert_eq!(c.anti_csrf(), AntiCsrf::None);
        c.website_origins = vec!["https://app.example.com".into()];
        assert_eq!(c.cookie_same_site(), SameSite::None);
        assert_eq!(c.anti_csrf(), AntiCsrf::ViaCustomHeader);
        c.api_domain = "https://api.example.com".into();
        assert_eq!(c.cookie_same_site(), SameSite::Lax);
        assert!(c.cookie_secure());
    }

    #[test]
    fn base_path_normalised() {
        let c = SessionConfig {
            api_base_path: "api/auth/".into(),
            ..Default::default()
        };
        assert_eq!(c.base_path(), "/api/auth");
        assert_eq!(c.refresh_path(), "/api/auth/session/refresh");
    }
}
