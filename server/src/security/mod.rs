//! Security events: what an operator watches (sign-ins, failures, limits, theft, revocations), emitted from
//! one place ([`SessionEngine`](crate::SessionEngine)'s internal security log) to four sinks:
//!
//! - **`tracing`**, target `fauna_session::security`, as fields (`event`, `user_id`, `session_handle`,
//!   `client_ip`, `user_agent`, …), never as format strings; token theft and lockouts at `WARN`, the rest at
//!   `INFO`;
//! - **Prometheus**: `fauna_session_security_events_total{event="…"}` (every event name starts at 0);
//! - **your hook**: [`SessionHooks::on_security_event`](crate::hooks::SessionHooks::on_security_event), e.g. to
//!   page someone on token theft;
//! - **the audit table** `audit_log` (time, event, user id, session handle, IP, user agent, detail), only when
//!   [`AuditLogConfig::enabled`] (`--audit-log`); rows older than [`AuditLogConfig::retention`] are deleted by
//!   [`SessionEngine::maintenance`](crate::SessionEngine::maintenance).
//!
//! The events of HTTP requests are emitted by the routes of [`SessionEngine::router`](crate::SessionEngine::router)
//! (they know the client); revocations the app makes through the engine's API are emitted by the engine.
//!
//! **No secrets**: events never carry passwords, tokens, or the email of a sign-in. A failed (or refused)
//! sign-in carries [`EmailFingerprint`] instead: an HMAC-SHA256 of the normalised email under a random key
//! kept in the session database, so repeated attempts on one account can be told apart and counted without
//! logs or the audit table holding the addresses (SuperTokens and GoTrue log the email; a plain hash of an
//! email is reversed by guessing it, a keyed one is not). To find the attempts on a given address, compute its
//! fingerprint with [`SessionEngine::email_fingerprint`](crate::SessionEngine::email_fingerprint).

mod audit;
mod log;

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

pub use audit::{AuditLogConfig, AuditRow, AuditStore};
pub(crate) use log::SecurityLog;

/// Longest user agent kept (for devices and security events); longer ones are cut at a character boundary.
pub(crate) const MAX_USER_AGENT: usize = 512;

/// Where a request came from, as far as the server can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Client {
    /// The client's address: the socket peer, or the nearest untrusted `X-Forwarded-For` hop behind a
    /// `--trusted-proxy`. `None` when the app is served without connect info.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header (at most 512 bytes), if sent.
    pub user_agent: Option<String>,
}

impl Client {
    /// A client at `ip` sending `headers`.
    pub(crate) fn new(ip: Option<IpAddr>, headers: &HeaderMap) -> Self {
        let user_agent = Some(user_agent(headers)).filter(|ua| !ua.is_empty());
        Self { ip, user_agent }
    }
}

/// The request's `User-Agent` (empty when missing), cut to [`MAX_USER_AGENT`] bytes.
pub(crate) fn user_agent(headers: &HeaderMap) -> String {
    let mut ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if ua.len() > MAX_USER_AGENT {
        let mut cut = MAX_USER_AGENT;
        while !ua.is_char_boundary(cut) {
            cut -= 1;
        }
        ua.truncate(cut);
    }
    ua
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    /// The client as the per-IP rate limiter resolved it (the nearest untrusted hop behind trusted proxies),
    /// else the connection's peer when the app is served with
    /// `into_make_service_with_connect_info::<SocketAddr>()` (the binary does); no address without either.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<Client>() {
            return Ok(client.clone());
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self::new(peer, &parts.headers))
    }
}

/// A keyed hash (HMAC-SHA256 under a per-deployment secret, first 16 bytes as hex) of a normalised email: the
/// same address always gives the same fingerprint on every instance sharing the database, and the address
/// cannot be recovered from it without that secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailFingerprint(pub(crate) String);

impl EmailFingerprint {
    /// The fingerprint as 32 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which sessions a sign-out ends (`POST {base}/signout` `{"scope": …}`): the protocol crate's, shared with the
/// browser library.
pub use fauna_session_protocol::accounts::SignOutScope;

/// Why a session was revoked (other than by its own sign-out or by token theft, which have events of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeReason {
    /// The app called [`SessionEngine::revoke_session`](crate::SessionEngine::revoke_session),
    /// [`revoke_all_sessions_for_user`](crate::SessionEngine::revoke_all_sessions_for_user) or
    /// [`Session::revoke`](crate::Session::revoke).
    Api,
    /// The user ended it from another session (`DELETE {base}/sessions/<handle>`).
    Device,
    /// A sign-out with scope `others` or `global` from another of the user's sessions.
    SignOut,
    /// The user's password was reset, which ends every session of theirs.
    PasswordReset,
    /// The session outlived [`SessionConfig::session_max_lifetime`](crate::SessionConfig::session_max_lifetime).
    MaxLifetime,
}

impl RevokeReason {
    /// `api`, `device`, `sign_out`, `password_reset` or `max_lifetime`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Device => "device",
            Self::SignOut => "sign_out",
            Self::PasswordReset => "password_reset",
            Self::MaxLifetime => "max_lifetime",
        }
    }
}

/// Something that matters to the security of the deployment. Carries who (user id, session handle) and from
/// where ([`Client`]) as far as known; never passwords, tokens or sign-in emails (see the
/// [module docs](self)).
///
/// An app alerts on it with [`SessionHooks::on_security_event`](crate::hooks::SessionHooks::on_security_event),
/// which runs on the request's task and must return quickly: do I/O on a task of its own.
///
/// ```
/// use fauna_session_server::hooks::SessionHooks;
/// use fauna_session_server::security::SecurityEvent;
///
/// struct PageOnTheft;
///
/// #[async_trait::async_trait]
/// impl SessionHooks for PageOnTheft {
///     fn on_security_event(&self, event: &SecurityEvent) {
///         if let SecurityEvent::TokenTheft { user_id, session_handle, client, .. } = event {
///             let (user, handle, ip) = (user_id.clone(), session_handle.clone(), client.ip);
///             // Never block the request: send the alert from a task of its own.
///             tokio::spawn(async move {
///                 eprintln!("ALERT: refresh token theft for user {user} (session {handle}) from {ip:?}");
///             });
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityEvent {
    /// A sign-in with the right password; a session was created.
    #[non_exhaustive]
    SignIn {
        /// The user.
        user_id: String,
        /// The new session.
        session_handle: String,
        /// Where from.
        client: Client,
    },
    /// A sign-in with an unknown email or a wrong password (indistinguishable, on purpose).
    #[non_exhaustive]
    SignInFailed {
        /// The email tried, as a keyed hash.
        email: EmailFingerprint,
        /// Where from.
        client: Client,
    },
    /// A sign-in refused because the account is backing off after repeated failures (429), whatever the
    /// password.
    #[non_exhaustive]
    SignInLockedOut {
        /// The email tried, as a keyed hash.
        email: EmailFingerprint,
        /// Seconds until the account may try again.
        retry_after_secs: u64,
        /// Where from.
        client: Client,
    },
    /// A failed sign-in reached the lockout threshold: the account backs off (this request is answered 429).
    #[non_exhaustive]
    LockoutStarted {
        /// The account's email, as a keyed hash.
        email: EmailFingerprint,
        /// Length of the back-off, seconds.
        backoff_secs: u64,
        /// Where from (the request that started it).
        client: Client,
    },
    /// A client went over its per-IP rate limit on a route (429). One event stands for all of a client's
    /// refusals on a route in a minute, so a flood of them writes two log lines and audit rows a minute, not
    /// one per request: the first refusal is sent at once (`count` 1), the others of that minute as one
    /// event when the minute is over (`count` their number). The Prometheus counter counts every refusal.
    #[non_exhaustive]
    RateLimited {
        /// The route's path, e.g. `/auth/signin`.
        path: String,
        /// Where from.
        client: Client,
        /// How many refusals the event stands for.
        count: u64,
    },
    /// A new user signed up; a session was created.
    #[non_exhaustive]
    SignUp {
        /// The new user.
        user_id: String,
        /// The new session.
        session_handle: String,
        /// Where from.
        client: Client,
    },
    /// A session signed out (`scope` says which sessions ended).
    #[non_exhaustive]
    SignOut {
        /// The user.
        user_id: String,
        /// The session that signed out.
        session_handle: String,
        /// Which sessions ended.
        scope: SignOutScope,
        /// Where from.
        client: Client,
    },
    /// A session was refreshed (new tokens issued).
    #[non_exhaustive]
    Refresh {
        /// The user.
        user_id: String,
        /// The session.
        session_handle: String,
        /// Where from.
        client: Client,
    },
    /// A refresh token of an older generation was presented: someone holds a copy. The session was revoked.
    #[non_exhaustive]
    TokenTheft {
        /// The user.
        user_id: String,
        /// The revoked session.
        session_handle: String,
        /// Where the old token came from.
        client: Client,
    },
    /// A session was revoked for `reason` (one event per session).
    #[non_exhaustive]
    Revoked {
        /// The user.
        user_id: String,
        /// The revoked session.
        session_handle: String,
        /// Why.
        reason: RevokeReason,
        /// Who asked, when it was a request (`None` fields for the app's own API calls).
        client: Client,
    },
}

impl SecurityEvent {
    /// Every event's [`name`](Self::name), in declaration order.
    pub const NAMES: [&'static str; 10] = [
        "sign_in",
        "sign_in_failed",
        "sign_in_locked_out",
        "lockout_started",
        "rate_limited",
        "sign_up",
        "sign_out",
        "refresh",
        "token_theft",
        "revoked",
    ];

    /// The event's name as logged, counted and stored: `sign_in`, `sign_in_failed`, `sign_in_locked_out`,
    /// `lockout_started`, `rate_limited`, `sign_up`, `sign_out`, `refresh`, `token_theft`, `revoked`.
    pub fn name(&self) -> &'static str {
        let i = match self {
            Self::SignIn { .. } => 0,
            Self::SignInFailed { .. } => 1,
            Self::SignInLockedOut { .. } => 2,
            Self::LockoutStarted { .. } => 3,
            Self::RateLimited { .. } => 4,
            Self::SignUp { .. } => 5,
            Self::SignOut { .. } => 6,
            Self::Refresh { .. } => 7,
            Self::TokenTheft { .. } => 8,
            Self::Revoked { .. } => 9,
        };
        Self::NAMES[i]
    }

    /// The user concerned, when known.
    pub fn user_id(&self) -> Option<&str> {
        self.subject().map(|(user, _)| user)
    }

    /// The session concerned, when there is one.
    pub fn session_handle(&self) -> Option<&str> {
        self.subject().map(|(_, handle)| handle)
    }

    /// `(user id, session handle)` of the events about a session; `None` for those about an email or a route.
    fn subject(&self) -> Option<(&str, &str)> {
        match self {
            Self::SignIn {
                user_id,
                session_handle,
                ..
            }
            | Self::SignUp {
                user_id,
                session_handle,
                ..
            }
            | Self::SignOut {
                user_id,
                session_handle,
                ..
            }
            | Self::Refresh {
                user_id,
                session_handle,
                ..
            }
            | Self::TokenTheft {
                user_id,
                session_handle,
                ..
            }
            | Self::Revoked {
                user_id,
                session_handle,
                ..
            } => Some((user_id, session_handle)),
            Self::SignInFailed { .. }
            | Self::SignInLockedOut { .. }
            | Self::LockoutStarted { .. }
            | Self::RateLimited { .. } => None,
        }
    }

    /// Where the request came from.
    pub fn client(&self) -> &Client {
        match self {
            Self::SignIn { client, .. }
            | Self::SignInFailed { client, .. }
            | Self::SignInLockedOut { client, .. }
            | Self::LockoutStarted { client, .. }
            | Self::RateLimited { client, .. }
            | Self::SignUp { client, .. }
            | Self::SignOut { client, .. }
            | Self::Refresh { client, .. }
            | Self::TokenTheft { client, .. }
            | Self::Revoked { client, .. } => client,
        }
    }

    /// What else the event knows, as a JSON object (`{}` when nothing): `email` (fingerprint),
    /// `retryAfterSecs`, `backoffSecs`, `path`, `count`, `scope`, `reason`.
    pub fn detail(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let v = match self {
            Self::SignInFailed { email, .. } => json!({"email": email.as_str()}),
            Self::SignInLockedOut {
                email,
                retry_after_secs,
                ..
            } => json!({"email": email.as_str(), "retryAfterSecs": retry_after_secs}),
            Self::LockoutStarted {
                email,
                backoff_secs,
                ..
            } => json!({"email": email.as_str(), "backoffSecs": backoff_secs}),
            Self::RateLimited { path, count, .. } => json!({"path": path, "count": count}),
            Self::SignOut { scope, .. } => json!({"scope": scope.as_str()}),
            Self::Revoked { reason, .. } => json!({"reason": reason.as_str()}),
            Self::SignIn { .. }
            | Self::SignUp { .. }
            | Self::Refresh { .. }
            | Self::TokenTheft { .. } => json!({}),
        };
        match v {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_user_agents_are_bounded() {
        let mut names = SecurityEvent::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SecurityEvent::NAMES.len());
        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, "é".repeat(400).parse().unwrap());
        let ua = user_agent(&h);
        assert!(ua.len() <= MAX_USER_AGENT && ua.chars().all(|c| c == 'é'));
        assert_eq!(Client::new(None, &HeaderMap::new()).user_agent, None);
    }

    #[test]
    fn events_report_who_and_what() {
        let e = SecurityEvent::SignOut {
            user_id: "u1".into(),
            session_handle: "h1".into(),
            scope: SignOutScope::Global,
            client: Client::default(),
        };
        assert_eq!(e.name(), "sign_out");
        assert_eq!(e.user_id(), Some("u1"));
        assert_eq!(e.session_handle(), Some("h1"));
        assert_eq!(e.detail()["scope"], "global");
        let f = SecurityEvent::SignInFailed {
            email: EmailFingerprint("ab".into()),
            client: Client::default(),
        };
        assert_eq!((f.name(), f.user_id()), ("sign_in_failed", None));
        assert_eq!(f.detail()["email"], "ab");
    }
}
