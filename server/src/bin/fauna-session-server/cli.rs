//! Command-line/environment configuration of the binary, and serving the app until a signal.
//!
//! Every flag has a matching environment variable (see `fauna-session-server --help`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use fauna_session_server::accounts::{AccountsConfig, EmailVerification};
use fauna_session_server::app::{AppOptions, app, metrics_app};
use fauna_session_server::email::{EmailConfig, EmailError, Mailer};
use fauna_session_server::fauna::{
    FaunaConfig, FaunaHooks, FaunaSecret, FaunaUserStore, WithFaunaUserDocuments,
};
use fauna_session_server::security::AuditLogConfig;
use fauna_session_server::store::{ConnectOptions, SqlStore, StoreError};
use fauna_session_server::users::{SqlUserStore, UserStore};
use fauna_session_server::{
    AccountLockout, AntiCsrf, HashPool, SameSite, SessionConfig, SessionEngine,
};

use crate::limits::LimitArgs;

/// Command-line and environment configuration of the server.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "fauna-session-server",
    version,
    about = "Session authority speaking the SuperTokens FDI"
)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, env = "FAUNA_SESSION_LISTEN", default_value = "127.0.0.1:3001")]
    pub(crate) listen: SocketAddr,
    /// Database: `sqlite://file` (created when missing) or `postgres://user@host:port/db`. Its value
    /// is never printed (it may hold a password).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        hide_default_value = true,
        default_value = "sqlite://fauna-session.sqlite"
    )]
    pub(crate) database_url: String,
    /// Base path of the FDI routes.
    #[arg(long, env = "FAUNA_SESSION_API_BASE_PATH", default_value = "/auth")]
    pub(crate) api_base_path: String,
    /// Public origin of this API (decides cookie defaults and the token issuer); default `http://<listen>`.
    #[arg(long, env = "FAUNA_SESSION_API_DOMAIN")]
    pub(crate) api_domain: Option<String>,
    /// Website origin allowed by CORS with credentials (repeatable; env: comma-separated).
    #[arg(
        long = "website-origin",
        env = "FAUNA_SESSION_WEBSITE_ORIGIN",
        value_delimiter = ','
    )]
    pub(crate) website_origins: Vec<String>,
    /// Access-token lifetime in seconds.
    #[arg(
        long,
        env = "FAUNA_SESSION_ACCESS_TOKEN_LIFETIME",
        default_value_t = 3600
    )]
    pub(crate) access_token_lifetime: u64,
    /// Refresh-token lifetime in seconds (sliding).
    #[arg(
        long,
        env = "FAUNA_SESSION_REFRESH_TOKEN_LIFETIME",
        default_value_t = 8_640_000
    )]
    pub(crate) refresh_token_lifetime: u64,
    /// Absolute session lifetime in seconds, however often the session is refreshed (`0` or `off`: none).
    /// Past it a refresh answers 401 and the session is revoked (its Fauna token deleted).
    #[arg(
        long,
        env = "FAUNA_SESSION_SESSION_MAX_LIFETIME",
        value_name = "SECONDS|off",
        value_parser = seconds_or_off,
        default_value_t = 365 * 86_400
    )]
    pub(crate) session_max_lifetime: u64,
    /// `Secure` cookie attribute (default: API domain is https).
    #[arg(long, env = "FAUNA_SESSION_COOKIE_SECURE")]
    pub(crate) cookie_secure: Option<bool>,
    /// `SameSite` cookie attribute: strict, lax or none (default: lax if website and API are same-site).
    #[arg(long, env = "FAUNA_SESSION_COOKIE_SAME_SITE")]
    pub(crate) cookie_same_site: Option<SameSite>,
    /// `Domain` cookie attribute (default: host-only).
    #[arg(long, env = "FAUNA_SESSION_COOKIE_DOMAIN")]
    pub(crate) cookie_domain: Option<String>,
    /// Anti-CSRF mode: VIA_TOKEN, VIA_CUSTOM_HEADER or NONE (default: from SameSite).
    #[arg(long, env = "FAUNA_SESSION_ANTI_CSRF")]
    pub(crate) anti_csrf: Option<AntiCsrf>,
    /// Signing-key rotation interval in seconds.
    #[arg(long, env = "FAUNA_SESSION_KEY_ROTATION_INTERVAL", default_value_t = 168 * 3600)]
    pub(crate) key_rotation_interval: u64,
    /// Serve this directory at `/` (SPA fallback to `index.html`).
    #[arg(long, env = "FAUNA_SESSION_STATIC_DIR")]
    pub(crate) static_dir: Option<PathBuf>,
    /// Serve Prometheus counters at `GET /metrics` on --listen (see --metrics-listen for a private address).
    #[arg(long, env = "FAUNA_SESSION_METRICS", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) metrics: bool,
    /// Serve `GET /metrics` on this address only, not on --listen (implies --metrics). Keep it private:
    /// e.g. 127.0.0.1:9464, or an address only the Prometheus network reaches.
    #[arg(long, env = "FAUNA_SESSION_METRICS_LISTEN", value_name = "ADDR")]
    pub(crate) metrics_listen: Option<SocketAddr>,
    /// Log filter (e.g. `info`, `debug`, `fauna_session_server=debug`).
    #[arg(long, env = "FAUNA_SESSION_LOG", default_value = "info")]
    pub(crate) log: String,
    /// Log format: `text` (ANSI colours only when stdout is a terminal) or `json` (one object a line).
    #[arg(long, env = "FAUNA_SESSION_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) log_format: String,
    /// Allow serving on a non-loopback address with an `http://` API domain or without `Secure`
    /// cookies (refused otherwise: session tokens would cross the network in clear text).
    #[arg(long, env = "FAUNA_SESSION_ALLOW_INSECURE_HTTP", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) allow_insecure_http: bool,
    /// Open an existing SQLite database file that its group or others may read (refused otherwise: it holds
    /// the signing keys, password hashes and live Fauna tokens; new files are created 0600).
    #[arg(long, env = "FAUNA_SESSION_ALLOW_READABLE_DB", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) allow_readable_db: bool,
    /// Keep security events (sign-ins, failures, rate limits, lockouts, sign-outs, refreshes, token theft,
    /// revocations) in the database table `audit_log`: time, event, user id, session handle, IP, user agent.
    /// Never passwords, tokens or emails (a failed sign-in's email is a keyed hash). They are always logged
    /// (target fauna_session::security) and counted (fauna_session_security_events_total).
    #[arg(long, env = "FAUNA_SESSION_AUDIT_LOG", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) audit_log: bool,
    /// Days an audit row is kept; older rows are deleted by the maintenance task.
    #[arg(
        long,
        env = "FAUNA_SESSION_AUDIT_LOG_RETENTION",
        value_name = "DAYS",
        default_value_t = 90
    )]
    pub(crate) audit_log_retention: u64,
    /// Most audit rows kept; the maintenance task deletes the oldest beyond it.
    #[arg(long, env = "FAUNA_SESSION_AUDIT_LOG_MAX_ROWS", value_name = "N", default_value_t = AuditLogConfig::default().max_rows)]
    pub(crate) audit_log_max_rows: u64,
    /// Turn off `GET {base}/emailpassword/email/exists` (it tells anyone whether an email has an account).
    #[arg(long, env = "FAUNA_SESSION_DISABLE_EMAIL_EXISTS", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) disable_email_exists: bool,
    /// Fauna Core HTTP API endpoint (the self-hosted engine or `fauna-emulator`).
    #[arg(long, env = "FAUNA_ENDPOINT", default_value = "http://localhost:8443")]
    pub(crate) fauna_endpoint: String,
    /// Fauna server secret; setting it gives every session a Fauna token.
    #[arg(long, env = "FAUNA_SECRET", hide_env_values = true)]
    pub(crate) fauna_secret: Option<FaunaSecret>,
    /// Fauna collection of the user documents.
    #[arg(long, env = "FAUNA_USER_COLLECTION", default_value = "User")]
    pub(crate) fauna_user_collection: String,
    /// Put the Fauna token into the access-token payload (`faunadbToken`, readable by the browser).
    #[arg(long, env = "FAUNA_FRONTEND_ACCESS", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) fauna_frontend_access: bool,
    /// Seconds added to the access-token lifetime to get the Fauna token's ttl.
    #[arg(long, env = "FAUNA_TTL_LAG", default_value_t = 30)]
    pub(crate) fauna_ttl_lag: u64,
    /// Where email/password users live: `sql` or `fauna` (needs --fauna-secret).
    #[arg(long, env = "FAUNA_SESSION_USER_STORE", default_value = "sql", value_parser = ["sql", "fauna"])]
    pub(crate) user_store: String,
    /// SMTP server for password-reset and verification emails: `smtp://host:port`,
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://user:pass@host` (TLS). Unset: email is off.
    #[arg(long, env = "FAUNA_SESSION_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp_url: Option<String>,
    /// Sender of the emails, e.g. `My App <no-reply@example.com>`.
    #[arg(
        long,
        env = "FAUNA_SESSION_EMAIL_FROM",
        default_value = "no-reply@localhost"
    )]
    pub(crate) email_from: String,
    /// Origin of the website the email links open (default: the first --website-origin, else the API domain).
    #[arg(long, env = "FAUNA_SESSION_WEBSITE_DOMAIN")]
    pub(crate) website_domain: Option<String>,
    /// Path of the website's auth pages (`<website-domain><path>/reset-password`, `…/verify-email`).
    #[arg(long, env = "FAUNA_SESSION_WEBSITE_BASE_PATH", default_value = "/auth")]
    pub(crate) website_base_path: String,
    /// App name shown in the emails.
    #[arg(long, env = "FAUNA_SESSION_APP_NAME", default_value = "Fauna Session")]
    pub(crate) app_name: String,
    /// Folder of email templates replacing the built-in ones (`password-reset.{subject,txt,html}`,
    /// `email-verification.{subject,txt,html}`).
    #[arg(long, env = "FAUNA_SESSION_EMAIL_TEMPLATES")]
    pub(crate) email_templates: Option<PathBuf>,
    /// Email verification: `off` (default), `optional` (routes and the `st-ev` claim) or `required` (protected
    /// routes answer 403 invalid claim until the email is verified).
    #[arg(long, env = "FAUNA_SESSION_EMAIL_VERIFICATION", default_value = "off")]
    pub(crate) email_verification: EmailVerification,
    /// Lifetime of a password-reset link, seconds.
    #[arg(
        long,
        env = "FAUNA_SESSION_PASSWORD_RESET_TOKEN_LIFETIME",
        default_value_t = 3600
    )]
    pub(crate) password_reset_token_lifetime: u64,
    /// Lifetime of an email-verification link, seconds.
    #[arg(
        long,
        env = "FAUNA_SESSION_EMAIL_VERIFICATION_TOKEN_LIFETIME",
        default_value_t = 86_400
    )]
    pub(crate) email_verification_token_lifetime: u64,
    /// Rate limits, back-off and capacity bounds.
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

impl Args {
    /// The email settings, when `--smtp-url` is given.
    pub(crate) fn email_config(&self) -> Option<EmailConfig> {
        let smtp_url = self.smtp_url.clone().filter(|u| !u.trim().is_empty())?;
        let website_domain = self
            .website_domain
            .clone()
            .or_else(|| self.website_origins.first().cloned())
            .unwrap_or_else(|| {
                self.api_domain
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", self.listen))
            });
        Some(EmailConfig {
            smtp_url,
            from: self.email_from.clone(),
            website_domain,
            website_base_path: self.website_base_path.clone(),
            app_name: self.app_name.clone(),
            templates_dir: self.email_templates.clone(),
            ..EmailConfig::default()
        })
    }

    /// The account settings these arguments describe (builds the mailer).
    pub(crate) fn accounts_config(&self) -> Result<AccountsConfig, EmailError> {
        Ok(AccountsConfig {
            mailer: self.email_config().as_ref().map(Mailer::new).transpose()?,
            email_verification: self.email_verification,
            password_reset_token_lifetime: Duration::from_secs(
                self.password_reset_token_lifetime.max(60),
            ),
            email_verification_token_lifetime: Duration::from_secs(
                self.email_verification_token_lifetime.max(60),
            ),
            ..AccountsConfig::default()
        })
    }

    /// The engine configuration these arguments describe.
    pub(crate) fn session_config(&self) -> SessionConfig {
        SessionConfig {
            api_domain: self
                .api_domain
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.listen)),
            api_base_path: self.api_base_path.clone(),
            website_origins: self.website_origins.clone(),
            access_token_lifetime: Duration::from_secs(self.access_token_lifetime),
            refresh_token_lifetime: Duration::from_secs(self.refresh_token_lifetime),
            session_max_lifetime: (self.session_max_lifetime > 0)
                .then(|| Duration::from_secs(self.session_max_lifetime)),
            cookie_secure: self.cookie_secure,
            cookie_same_site: self.cookie_same_site,
            cookie_domain: self.cookie_domain.clone(),
            anti_csrf: self.anti_csrf,
            key_rotation_interval: Duration::from_secs(self.key_rotation_interval.max(120)),
            rate_limits: self.limits.rate_limits(),
            lockout: self.limits.lockout(),
            email_exists_route: !self.disable_email_exists,
            audit_log: AuditLogConfig {
                enabled: self.audit_log,
                retention: Duration::from_secs(self.audit_log_retention.max(1) * 24 * 3600),
                max_rows: self.audit_log_max_rows,
                ..AuditLogConfig::default()
            },
            hooks: match self.fauna_config() {
                Some(f) => Arc::new(FaunaHooks::new(f)),
                None => SessionConfig::default().hooks,
            },
            ..SessionConfig::default()
        }
    }

    /// The Fauna settings, when `--fauna-secret` is given.
    pub(crate) fn fauna_config(&self) -> Option<FaunaConfig> {
        let secret = self
            .fauna_secret
            .clone()
            .filter(|s| !s.expose().is_empty())?;
        Some(FaunaConfig {
            endpoint: self.fauna_endpoint.clone(),
            user_collection: self.fauna_user_collection.clone(),
            access_faunadb_token_from_frontend: self.fauna_frontend_access,
            ttl_lag: Duration::from_secs(self.fauna_ttl_lag),
            create_missing_user_documents: self.user_store == "sql",
            ..FaunaConfig::new(secret)
        })
    }

    /// Refuse a non-loopback listen address with an `http://` API domain or non-`Secure` cookies, unless
    /// `--allow-insecure-http`.
    pub(crate) fn check_transport_security(&self) -> Result<(), String> {
        if self.listen.ip().is_loopback() || self.allow_insecure_http {
            return Ok(());
        }
        let config = self.session_config();
        let why = if !config.api_domain.starts_with("https://") {
            format!("the API domain {} is not https", config.api_domain)
        } else if !config.cookie_secure() {
            "cookies are not Secure (--cookie-secure false)".to_owned()
        } else {
            return Ok(());
        };
        Err(format!(
            "refusing to serve on the non-loopback address {}: {why}, so session tokens would cross the \
             network in clear text; set --api-domain https://… (behind a TLS proxy) or pass \
             --allow-insecure-http (FAUNA_SESSION_ALLOW_INSECURE_HTTP)",
            self.listen
        ))
    }

    /// The user store these arguments select, over `store`.
    pub(crate) fn user_store(&self, store: Arc<SqlStore>) -> Result<Arc<dyn UserStore>, String> {
        let pool = HashPool::new(self.limits.hash_pool());
        let sql: Arc<dyn UserStore> = Arc::new(SqlUserStore::with_pool(store.clone(), pool));
        let users: Arc<dyn UserStore> = match (self.user_store.as_str(), self.fauna_config()) {
            ("fauna", Some(f)) => Arc::new(FaunaUserStore::new(&f)),
            ("fauna", None) => return Err("--user-store fauna needs --fauna-secret".into()),
            (_, Some(f)) => Arc::new(WithFaunaUserDocuments::new(sql, &f)),
            (_, None) => sql,
        };
        Ok(Arc::new(AccountLockout::new(
            users,
            store,
            self.limits.lockout(),
        )))
    }
}

/// A number of seconds, or `off` (= 0).
fn seconds_or_off(s: &str) -> Result<u64, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(0);
    }
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds or `off`"))
}

/// Connect the store, build the engine (with `config`, its account settings from `args`), serve until
/// SIGINT/SIGTERM.
pub(crate) async fn serve(
    args: &Args,
    mut config: SessionConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    args.check_transport_security()?;
    config.accounts = args.accounts_config()?;
    let connect = ConnectOptions::default().allow_readable_file(args.allow_readable_db);
    let store = SqlStore::connect_with_options(&args.database_url, &connect)
        .await
        .map_err(|e: StoreError| format!("database (--database-url / DATABASE_URL): {e}"))?;
    tracing::info!(backend = store.backend(), "database ready");
    let store = Arc::new(store);
    let users = args.user_store(store.clone())?;
    let engine = SessionEngine::with_user_store(config, store.clone(), users).await?;
    let maintenance = engine.spawn_maintenance();
    let app = app(
        &engine,
        &AppOptions {
            metrics: args.metrics && args.metrics_listen.is_none(),
            static_dir: args.static_dir.clone(),
        },
    );
    let app = args.limits.bound(app);
    let metrics = match args.metrics_listen {
        Some(addr) => Some(serve_metrics(addr, &engine, args.limits.header_timeout()).await?),
        None => {
            if args.metrics && !args.listen.ip().is_loopback() {
                tracing::warn!(
                    listen = %args.listen,
                    "GET /metrics is served on the public listener; use --metrics-listen to serve it on a private address"
                );
            }
            None
        }
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {} (FAUNA_SESSION_LISTEN): {e}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, base_path = %engine.config().base_path(), "fauna-session-server listening");
    fauna_session_server::serve::serve(
        listener,
        app,
        &args.limits.serve_options(),
        shutdown_signal(),
    )
    .await;
    if let Some(task) = metrics {
        task.abort();
    }
    maintenance.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Bind `addr` and serve [`metrics_app`] there (no CORS, no session routes) until the task is aborted.
async fn serve_metrics(
    addr: SocketAddr,
    engine: &SessionEngine,
    header_timeout: Option<Duration>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics-listen {addr} (FAUNA_SESSION_METRICS_LISTEN): {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    if local.ip().is_unspecified() {
        tracing::warn!(metrics_listen = %local, "GET /metrics on every interface: firewall it, or name a private address");
    }
    tracing::info!(metrics_listen = %local, "serving GET /metrics");
    let app = metrics_app(engine);
    let options = fauna_session_server::serve::ServeOptions {
        header_timeout,
        max_connections_per_ip: 0,
        ..Default::default()
    };
    Ok(tokio::spawn(async move {
        fauna_session_server::serve::serve(listener, app, &options, std::future::pending()).await;
    }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn cli_flags_configure_fauna_without_printing_the_secret() {
        let args = Args::try_parse_from([
            "fauna-session-server",
            "--fauna-endpoint",
            "http://fauna.internal:8443",
            "--fauna-secret",
            "fnAsupersecretvalue",
            "--fauna-user-collection",
            "Member",
            "--fauna-frontend-access",
            "--fauna-ttl-lag",
            "10",
            "--user-store",
            "fauna",
        ])
        .unwrap();
        let f = args.fauna_config().expect("Fauna enabled by the secret");
        assert_eq!(f.endpoint, "http://fauna.internal:8443");
        assert_eq!(f.secret.expose(), "fnAsupersecretvalue");
        assert_eq!(f.user_collection, "Member");
        assert!(f.access_faunadb_token_from_frontend);
        assert_eq!(f.ttl_lag, Duration::from_secs(10));
        assert!(!f.create_missing_user_documents);
        for printed in [
            format!("{args:?}"),
            format!("{f:?}"),
            format!("{:?}", args.session_config()),
        ] {
            assert!(!printed.contains("supersecret"), "{printed}");
        }
        let plain = Args::try_parse_from(["fauna-session-server"]).unwrap();
        assert!(plain.fauna_config().is_none());
        assert!(Args::try_parse_from(["fauna-session-server", "--user-store", "ldap"]).is_err());
        let sql = Args::try_parse_from(["fauna-session-server", "--fauna-secret", "s"]).unwrap();
        assert!(sql.fauna_config().unwrap().create_missing_user_documents);
    }

    #[test]
    fn session_max_lifetime_flag() {
        let lifetime = |args: &[&str]| {
            let mut all = vec!["fauna-session-server"];
            all.extend_from_slice(args);
            Args::try_parse_from(all).map(|a| a.session_config().session_max_lifetime)
        };
        assert_eq!(
            lifetime(&[]).unwrap(),
            fauna_session_server::SessionConfig::default().session_max_lifetime,
            "the binary's default is the library's"
        );
        assert_eq!(
            lifetime(&["--session-max-lifetime", "3600"]).unwrap(),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(lifetime(&["--session-max-lifetime", "0"]).unwrap(), None);
        assert_eq!(lifetime(&["--session-max-lifetime", "OFF"]).unwrap(), None);
        assert!(lifetime(&["--session-max-lifetime", "a year"]).is_err());
    }
}
