//! Shared test harness: the server on a loopback port over SQLite (temp dir) or PostgreSQL (own cluster), and
//! small HTTP helpers.
#![allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    missing_debug_implementations
)]

pub mod pg;
pub mod process;
pub mod smtp;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use fauna_session_server::app::{AppOptions, app};
use fauna_session_server::hooks::SessionHooks;
use fauna_session_server::security::{RevokeReason, SecurityEvent};
use fauna_session_server::store::SqlStore;
use fauna_session_server::{Session, SessionConfig, SessionEngine};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

/// Session hooks that record every security event the server emits, in order (and run on no refresh).
#[derive(Default)]
pub struct EventRecorder(Mutex<Vec<SecurityEvent>>);

impl SessionHooks for EventRecorder {
    fn runs_on_refresh(&self) -> bool {
        false
    }
    fn on_security_event(&self, event: &SecurityEvent) {
        self.events().push(event.clone());
    }
}

impl EventRecorder {
    fn events(&self) -> std::sync::MutexGuard<'_, Vec<SecurityEvent>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The events' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.events().iter().map(|e| e.name()).collect()
    }

    /// The first event named `name`, if any.
    pub fn first(&self, name: &str) -> Option<SecurityEvent> {
        self.events().iter().find(|e| e.name() == name).cloned()
    }

    /// The reasons of the `Revoked` events, in order.
    pub fn revoke_reasons(&self) -> Vec<RevokeReason> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                SecurityEvent::Revoked { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect()
    }
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The test binary's PostgreSQL cluster, started on first use.
pub fn cluster() -> &'static pg::PgCluster {
    static C: OnceLock<pg::PgCluster> = OnceLock::new();
    C.get_or_init(pg::PgCluster::start_new)
}

/// A fresh database URL for one test.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("test.sqlite").display()
            );
            (url, Some(dir))
        }
        Backend::Postgres => {
            let c = tokio::task::spawn_blocking(cluster).await.expect("cluster");
            let name = format!("t{}", fauna_session_server::users::new_user_id());
            let admin = sqlx::PgPool::connect(&c.url("postgres"))
                .await
                .expect("connect admin db");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create database");
            admin.close().await;
            (c.url(&name), None)
        }
    }
}

/// As `SessionEngine::new`: SQL users behind the sign-in back-off.
fn sql_users_with_lockout(
    store: Arc<SqlStore>,
    config: &SessionConfig,
) -> Arc<dyn fauna_session_server::users::UserStore> {
    Arc::new(fauna_session_server::AccountLockout::new(
        fauna_session_server::users::SqlUserStore::new(store.clone()),
        store,
        config.lockout,
    ))
}

/// A server under test.
pub struct TestServer {
    pub url: String,
    pub engine: SessionEngine,
    pub store: SqlStore,
    pub http: reqwest::Client,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `POST /test/merge` (merge JSON body into the payload) and `POST /test/data` (replace session data, returns
/// old) — routes that exercise the session API from a handler.
fn test_routes() -> Router {
    async fn merge(
        mut session: Session,
        Json(update): Json<Map<String, Value>>,
    ) -> Result<Json<Value>, fauna_session_server::SessionRejection> {
        session.merge_into_access_token_payload(&update).await?;
        Ok(Json(Value::Object(session.access_token_payload().clone())))
    }
    async fn data(
        session: Session,
        Json(new): Json<Map<String, Value>>,
    ) -> Result<Json<Value>, fauna_session_server::SessionRejection> {
        let old = session.session_data().await?;
        session.update_session_data(&new).await?;
        Ok(Json(Value::Object(old)))
    }
    async fn admin(
        session: Session,
    ) -> Result<Json<Value>, fauna_session_server::SessionRejection> {
        use fauna_session_server::claims::ClaimCheck;
        session.check_claims(&[
            ClaimCheck::equals("role", "admin"),
            ClaimCheck::includes("teams", "ops"),
        ])?;
        Ok(Json(json!({"ok": true})))
    }
    async fn checked(
        parts: axum::http::request::Parts,
    ) -> Result<Json<Value>, fauna_session_server::SessionRejection> {
        let options = fauna_session_server::VerifyOptions::default().check_database(true);
        let session = Session::with_options(&parts, options).await?;
        Ok(Json(
            json!({"userId": session.map(|s| s.user_id().to_owned())}),
        ))
    }
    async fn optional(session: Option<Session>) -> Json<Value> {
        Json(json!({"userId": session.map(|s| s.user_id().to_owned())}))
    }
    Router::new()
        .route("/test/merge", post(merge))
        .route("/test/data", post(data))
        .route("/test/optional", post(optional).get(optional))
        .route("/test/admin", post(admin))
        .route("/test/checked", axum::routing::get(checked))
}

impl TestServer {
    /// Start with the default config adjusted by `f`.
    pub async fn start(backend: Backend, f: impl FnOnce(&mut SessionConfig)) -> Self {
        Self::start_with_users(backend, f, sql_users_with_lockout).await
    }

    /// Like [`start`](Self::start), with the user store `users` makes over the session store.
    pub async fn start_with_users(
        backend: Backend,
        f: impl FnOnce(&mut SessionConfig),
        users: impl FnOnce(
            Arc<SqlStore>,
            &SessionConfig,
        ) -> Arc<dyn fauna_session_server::users::UserStore>,
    ) -> Self {
        let (database_url, dir) = fresh_database(backend).await;
        Self::start_with(database_url, dir, f, users).await
    }

    /// A second instance over the database of another (`database_url`), as several servers share one.
    pub async fn start_on(database_url: &str, f: impl FnOnce(&mut SessionConfig)) -> Self {
        Self::start_with(database_url.to_owned(), None, f, sql_users_with_lockout).await
    }

    async fn start_with(
        database_url: String,
        dir: Option<tempfile::TempDir>,
        f: impl FnOnce(&mut SessionConfig),
        users: impl FnOnce(
            Arc<SqlStore>,
            &SessionConfig,
        ) -> Arc<dyn fauna_session_server::users::UserStore>,
    ) -> Self {
        let store = SqlStore::connect_with(&database_url, Duration::from_millis(300))
            .await
            .expect("connect store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = SessionConfig {
            api_domain: format!("http://{addr}"),
            website_origins: vec!["http://127.0.0.1:8000".into()],
            ..SessionConfig::default()
        };
        f(&mut config);
        let shared = Arc::new(store.clone());
        let users = users(shared.clone(), &config);
        let engine = SessionEngine::with_user_store(config, shared, users)
            .await
            .expect("engine");
        let router = app(
            &engine,
            &AppOptions {
                metrics: true,
                static_dir: None,
            },
        )
        .merge(test_routes().layer(engine.layer()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        TestServer {
            url: format!("http://{addr}"),
            engine,
            store,
            http,
            database_url,
            _dir: dir,
            task,
        }
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Sign up a fresh user; returns the response.
    pub async fn signup(&self, mode: &str) -> reqwest::Response {
        let email = format!(
            "u{}@example.com",
            fauna_session_server::users::new_user_id()
        );
        self.http
            .post(self.at("/auth/signup"))
            .header("st-auth-mode", mode)
            .header("rid", "emailpassword")
            .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": "secret123"}]}))
            .send()
            .await
            .expect("signup request")
    }

    /// `POST {path}` (sign-up or sign-in) with an email/password form, header mode.
    pub async fn credentials(&self, path: &str, email: &str, password: &str) -> reqwest::Response {
        self.credentials_with(&self.http, path, email, password)
            .await
    }

    /// [`credentials`](Self::credentials) through the client `http`.
    pub async fn credentials_with(
        &self,
        http: &reqwest::Client,
        path: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        http.post(self.at(path))
            .header("rid", "emailpassword")
            .header("st-auth-mode", "header")
            .json(&json!({"formFields": [
                {"id": "email", "value": email},
                {"id": "password", "value": password},
            ]}))
            .send()
            .await
            .expect("credentials request")
    }

    /// A new session via sign-up in `mode` (`cookie` or `header`).
    pub async fn new_session(&self, mode: &str) -> Tokens {
        let r = self.signup(mode).await;
        assert_eq!(r.status(), 200);
        Tokens::from_response(r.headers()).expect("tokens on signup")
    }

    /// `GET /sessioninfo` with `tokens`.
    pub async fn session_info(&self, t: &Tokens) -> reqwest::Response {
        t.apply(self.http.get(self.at("/sessioninfo")))
            .send()
            .await
            .expect("sessioninfo")
    }

    /// `POST /auth/session/refresh` with `tokens`.
    pub async fn refresh(&self, t: &Tokens) -> reqwest::Response {
        t.apply_refresh(
            self.http
                .post(self.at("/auth/session/refresh"))
                .header("rid", "session"),
        )
        .send()
        .await
        .expect("refresh")
    }

    /// `GET {path}`'s JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        json_body(self.http.get(self.at(path)).send().await.expect("GET")).await
    }

    /// The live session handles of `user_id`, as the engine lists them.
    pub async fn handles(&self, user_id: &str) -> Vec<String> {
        self.engine
            .session_handles_for_user(user_id)
            .await
            .expect("handles")
    }

    /// Current value of a Prometheus counter.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .http
            .get(self.at("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("metric {name} missing"))
    }
}

/// One `Set-Cookie` header, parsed.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
}

/// A response's JSON body.
pub async fn json_body(r: reqwest::Response) -> Value {
    r.json::<Value>().await.expect("json")
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|s| {
            let mut parts = s.split(';').map(str::trim);
            let (name, value) = parts
                .next()
                .and_then(|p| p.split_once('='))
                .unwrap_or(("", ""));
            let attrs = parts
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None => (p.to_owned(), None),
                })
                .collect();
            SetCookie {
                name: name.to_owned(),
                value: value.to_owned(),
                attrs,
            }
        })
        .collect()
}

/// Asserts a response cleared a cookie session: `front-token: remove`, and both token cookies emptied with an
/// expiry at the epoch.
pub fn assert_cookies_cleared(headers: &HeaderMap) {
    assert_eq!(header(headers, "front-token"), Some("remove"));
    for name in ["sAccessToken", "sRefreshToken"] {
        let c = set_cookie(headers, name).unwrap_or_else(|| panic!("{name} is cleared"));
        assert_eq!(c.value, "", "{name} emptied");
        assert_eq!(
            c.attr("Expires"),
            Some(Some("Thu, 01 Jan 1970 00:00:00 GMT")),
            "{name} expired"
        );
    }
}

pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<SetCookie> {
    set_cookies(headers).into_iter().find(|c| c.name == name)
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Decode a `front-token` header.
pub fn front_token(headers: &HeaderMap) -> Option<Value> {
    use base64::Engine as _;
    let raw = header(headers, "front-token")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// JWT payload without verification.
pub fn jwt_payload(token: &str) -> Value {
    use base64::Engine as _;
    let p = token.split('.').nth(1).expect("payload segment");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .expect("b64"),
    )
    .expect("json")
}

/// A client's tokens, in the transport they were issued in.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub cookie_mode: bool,
    pub access: String,
    pub refresh: String,
    pub anti_csrf: Option<String>,
}

impl Tokens {
    /// Tokens set by a response (cookie or header mode).
    pub fn from_response(h: &HeaderMap) -> Option<Tokens> {
        let anti_csrf = header(h, "anti-csrf").map(str::to_owned);
        if let (Some(a), Some(r)) = (
            set_cookie(h, "sAccessToken"),
            set_cookie(h, "sRefreshToken"),
        ) {
            return Some(Tokens {
                cookie_mode: true,
                access: a.value,
                refresh: r.value,
                anti_csrf,
            });
        }
        let (a, r) = (
            header(h, "st-access-token")?,
            header(h, "st-refresh-token")?,
        );
        Some(Tokens {
            cookie_mode: false,
            access: a.to_owned(),
            refresh: r.to_owned(),
            anti_csrf,
        })
    }

    /// Update with whatever a response set (e.g. a replacement access token).
    pub fn update(&mut self, h: &HeaderMap) {
        if let Some(a) = set_cookie(h, "sAccessToken")
            .map(|c| c.value)
            .or_else(|| header(h, "st-access-token").map(str::to_owned))
        {
            self.access = a;
        }
        if let Some(r) = set_cookie(h, "sRefreshToken")
            .map(|c| c.value)
            .or_else(|| header(h, "st-refresh-token").map(str::to_owned))
        {
            self.refresh = r;
        }
        if let Some(a) = header(h, "anti-csrf") {
            self.anti_csrf = Some(a.to_owned());
        }
    }

    pub fn apply(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let rb = if self.cookie_mode {
            rb.header("cookie", format!("sAccessToken={}", self.access))
        } else {
            rb.header("authorization", format!("Bearer {}", self.access))
        };
        match &self.anti_csrf {
            Some(a) => rb.header("anti-csrf", a),
            None => rb,
        }
    }

    pub fn apply_refresh(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let rb = if self.cookie_mode {
            rb.header("cookie", format!("sRefreshToken={}", self.refresh))
        } else {
            rb.header("authorization", format!("Bearer {}", self.refresh))
        };
        match &self.anti_csrf {
            Some(a) => rb.header("anti-csrf", a),
            None => rb,
        }
    }
}

/// Run `$body` with `$pool` connected to the database at `$url` (SQLite or PostgreSQL).
#[macro_export]
macro_rules! on_database {
    ($url:expr, |$pool:ident| $body:expr) => {
        if $url.starts_with("sqlite") {
            let $pool = sqlx::SqlitePool::connect($url).await.unwrap();
            let out = $body;
            $pool.close().await;
            out
        } else {
            let $pool = sqlx::PgPool::connect($url).await.unwrap();
            let out = $body;
            $pool.close().await;
            out
        }
    };
}

/// Run an async test body on both backends: `both_backends!(name1, name2)` expects `async fn name(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::common::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::common::Backend::Postgres).await }
            )*
        }
    };
}
