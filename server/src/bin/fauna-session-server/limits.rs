//! The server's limits as command-line flags and environment variables ([`LimitArgs`], flattened into the
//! binary's arguments). Each limit has a default that is on; see the README's server section.

use std::time::Duration;

use fauna_session_server::{
    HashPoolConfig, LockoutConfig, RateLimits, RequestLimits, TrustedProxies,
};

/// Flags and environment variables of the server's limits.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LimitArgs {
    /// Password hashes (argon2id, 19 MiB each) computed at once [default: the number of cores].
    #[arg(long, env = "FAUNA_SESSION_PASSWORD_HASH_THREADS", value_name = "N")]
    pub(crate) password_hash_threads: Option<usize>,
    /// Password hashes that may wait for a thread; sign-ins and sign-ups beyond that answer
    /// 503 with Retry-After [default: 4 per thread].
    #[arg(long, env = "FAUNA_SESSION_PASSWORD_HASH_QUEUE", value_name = "N")]
    pub(crate) password_hash_queue: Option<usize>,
    /// Sign-ins per minute per client IP (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_SIGNIN", value_name = "N", default_value_t = RateLimits::default().sign_in_per_minute)]
    pub(crate) rate_limit_signin: u32,
    /// Sign-ups per minute per client IP (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_SIGNUP", value_name = "N", default_value_t = RateLimits::default().sign_up_per_minute)]
    pub(crate) rate_limit_signup: u32,
    /// Email-exists checks per minute per client IP (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_EMAIL_EXISTS", value_name = "N", default_value_t = RateLimits::default().email_exists_per_minute)]
    pub(crate) rate_limit_email_exists: u32,
    /// Session refreshes per minute per client IP (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_REFRESH", value_name = "N", default_value_t = RateLimits::default().refresh_per_minute)]
    pub(crate) rate_limit_refresh: u32,
    /// Sign-outs per minute per client IP (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_SIGNOUT", value_name = "N", default_value_t = RateLimits::default().sign_out_per_minute)]
    pub(crate) rate_limit_signout: u32,
    /// Password-reset and verification emails asked for per minute per client IP, on each of the two routes
    /// (429 beyond; 0 disables). Emails per address are limited too (AccountsConfig::per_email).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_ACCOUNT_EMAIL", value_name = "N", default_value_t = RateLimits::default().account_email_per_minute)]
    pub(crate) rate_limit_account_email: u32,
    /// Password-reset and email-verification tokens redeemed per minute per client IP, on each of the two
    /// routes (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_RATE_LIMIT_ACCOUNT_TOKEN", value_name = "N", default_value_t = RateLimits::default().account_token_per_minute)]
    pub(crate) rate_limit_account_token: u32,
    /// A reverse proxy (CIDR, e.g. 10.0.0.0/8 or 127.0.0.1/32) whose X-Forwarded-For names the client
    /// (repeatable; env: comma-separated). Without it the socket peer is the client.
    #[arg(long = "trusted-proxy", env = "FAUNA_SESSION_TRUSTED_PROXY", value_name = "CIDR", value_delimiter = ',', value_parser = parse_cidr)]
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    /// Consecutive failed sign-ins of one account from one client address, or from one device that signed
    /// in to it before (counted in the database, shared by all instances), after which that source's
    /// sign-in answers 429 with Retry-After, even with the right password (0 disables the lockout).
    #[arg(long, env = "FAUNA_SESSION_LOCKOUT_THRESHOLD", value_name = "N", default_value_t = LockoutConfig::default().threshold)]
    pub(crate) lockout_threshold: u32,
    /// Failed sign-ins of one account from all addresses without a device cookie together, after which
    /// every such address answers 429 for it (devices that signed in to it before still can; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_LOCKOUT_ACCOUNT_THRESHOLD", value_name = "N", default_value_t = LockoutConfig::default().account_threshold)]
    pub(crate) lockout_account_threshold: u32,
    /// Seconds of the first back-off; each further failure after it doubles it (up to 16 times).
    #[arg(long, env = "FAUNA_SESSION_LOCKOUT_WINDOW", value_name = "SECS", default_value_t = LockoutConfig::default().window.as_secs())]
    pub(crate) lockout_window: u64,
    /// Seconds a request may take, reading its body included (408 beyond; 0 disables); also how long a
    /// connection may take to send a request's headers, or stay idle between requests, before it is closed.
    #[arg(
        long,
        env = "FAUNA_SESSION_REQUEST_TIMEOUT",
        value_name = "SECS",
        default_value_t = 30
    )]
    pub(crate) request_timeout: u64,
    /// Seconds reading a request's body may take (408 beyond; 0 disables). A body is read before the request
    /// takes one of --max-concurrent-requests, so a slow one holds only its client's share.
    #[arg(
        long,
        env = "FAUNA_SESSION_BODY_TIMEOUT",
        value_name = "SECS",
        default_value_t = 10
    )]
    pub(crate) body_timeout: u64,
    /// Requests one client IP (IPv6: its /64) may have open at once (429 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_MAX_REQUESTS_PER_IP", value_name = "N", default_value_t = RequestLimits::default().max_requests_per_ip)]
    pub(crate) max_requests_per_ip: usize,
    /// Connections one client IP may have open at once; more are closed at once (0 disables). Not applied to
    /// a --trusted-proxy, whose connections carry many clients.
    #[arg(
        long,
        env = "FAUNA_SESSION_MAX_CONNECTIONS_PER_IP",
        value_name = "N",
        default_value_t = 256
    )]
    pub(crate) max_connections_per_ip: usize,
    /// Largest request body in bytes (413 beyond; 0 disables).
    #[arg(long, env = "FAUNA_SESSION_MAX_BODY_BYTES", value_name = "BYTES", default_value_t = 64 * 1024)]
    pub(crate) max_body_bytes: usize,
    /// Requests handled at once by this instance, counted once their body is in; more wait (within
    /// --request-timeout). /health and /metrics are outside this bound (0 disables).
    #[arg(
        long,
        env = "FAUNA_SESSION_MAX_CONCURRENT_REQUESTS",
        value_name = "N",
        default_value_t = 1024
    )]
    pub(crate) max_concurrent_requests: usize,
}

/// A CIDR, or a bare address as its /32 or /128.
fn parse_cidr(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{s}` is not a CIDR such as 10.0.0.0/8 or an IP address"))
}

impl LimitArgs {
    /// `app` with the request timeout and the [`RequestLimits`] (body size and time, per-IP and global
    /// concurrency) applied.
    pub(crate) fn bound(&self, app: axum::Router) -> axum::Router {
        let limits = RequestLimits {
            max_concurrent_requests: self.max_concurrent_requests,
            max_requests_per_ip: self.max_requests_per_ip,
            body_timeout: (self.body_timeout > 0).then(|| Duration::from_secs(self.body_timeout)),
            max_body_bytes: self.max_body_bytes,
            trusted_proxies: TrustedProxies::new(self.trusted_proxies.clone()),
            ..RequestLimits::default()
        };
        let mut app = limits.apply(app);
        if self.request_timeout > 0 {
            app = app.layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(self.request_timeout),
            ));
        }
        app
    }

    /// How [`serve`](fauna_session_server::serve::serve) treats connections: the header deadline and the
    /// per-IP connection cap.
    pub(crate) fn serve_options(&self) -> fauna_session_server::serve::ServeOptions {
        fauna_session_server::serve::ServeOptions {
            header_timeout: self.header_timeout(),
            max_connections_per_ip: self.max_connections_per_ip,
            trusted_proxies: TrustedProxies::new(self.trusted_proxies.clone()),
        }
    }

    /// How long a connection may take to send a request's headers (`None`: no limit).
    pub(crate) fn header_timeout(&self) -> Option<Duration> {
        (self.request_timeout > 0).then(|| Duration::from_secs(self.request_timeout))
    }

    /// The per-account back-off these arguments describe.
    pub(crate) fn lockout(&self) -> LockoutConfig {
        LockoutConfig {
            threshold: self.lockout_threshold,
            account_threshold: self.lockout_account_threshold,
            window: Duration::from_secs(self.lockout_window.max(1)),
        }
    }

    /// The per-IP rate limits these arguments describe.
    pub(crate) fn rate_limits(&self) -> RateLimits {
        RateLimits {
            sign_in_per_minute: self.rate_limit_signin,
            sign_up_per_minute: self.rate_limit_signup,
            email_exists_per_minute: self.rate_limit_email_exists,
            refresh_per_minute: self.rate_limit_refresh,
            sign_out_per_minute: self.rate_limit_signout,
            account_email_per_minute: self.rate_limit_account_email,
            account_token_per_minute: self.rate_limit_account_token,
            trusted_proxies: TrustedProxies::new(self.trusted_proxies.clone()),
        }
    }

    /// The password-hashing pool these arguments describe.
    pub(crate) fn hash_pool(&self) -> HashPoolConfig {
        let default = match self.password_hash_threads {
            Some(n) => HashPoolConfig::for_threads(n),
            None => HashPoolConfig::default(),
        };
        HashPoolConfig {
            queue: self.password_hash_queue.unwrap_or(default.queue),
            ..default
        }
    }
}
