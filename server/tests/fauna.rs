//! The Fauna integration end to end: the server and the Fauna emulator both on loopback ports,
//! talking real HTTP; a test client plays the browser (FDI header transport) and queries the
//! emulator with the `faunadbToken` it gets.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use fauna_emulator::{Config as EmuConfig, Emulator};
use fauna_session_server::app::{AppOptions, app};
use fauna_session_server::fauna::{
    FaunaConfig, FaunaHooks, FaunaSession as _, FaunaUserStore, WithFaunaUserDocuments,
};
use fauna_session_server::store::SqlStore;
use fauna_session_server::users::{SqlUserStore, UserStore};
use fauna_session_server::{Session, SessionConfig, SessionEngine, SessionError, TokenTransfer};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use common::Backend;

/// Access-token lifetime in these tests, and the Fauna ttl lag.
const LIFETIME: Duration = Duration::from_secs(4);
const LAG: Duration = Duration::from_secs(1);

/// The emulator on a fixed loopback port that can be taken down and brought back with its state.
struct Fauna {
    router: Router,
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    http: reqwest::Client,
    server_key: String,
}

impl Fauna {
    async fn start() -> Fauna {
        let router = Emulator::router(EmuConfig {
            collections: vec!["User".into()],
            token_role: "User:read".parse().unwrap(),
            ..EmuConfig::default()
        })
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut f = Fauna {
            router,
            addr,
            stop: None,
            task: None,
            http: reqwest::Client::new(),
            server_key: String::new(),
        };
        f.serve(listener);
        let r = f
            .query("secret", "Key.create({ role: 'server' }).secret", json!({}))
            .await;
        f.server_key = r.1["data"].as_str().unwrap().to_owned();
        f
    }

    fn serve(&mut self, listener: TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let router = self.router.clone();
        self.stop = Some(tx);
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        }));
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Takes the emulator off the network (connections refused).
    async fn down(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }

    /// Brings it back on the same port, with the same state.
    async fn up(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    async fn query(&self, secret: &str, q: &str, args: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/query/1", self.endpoint()))
            .bearer_auth(secret)
            .json(&json!({"query": q, "arguments": args}))
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    /// `Query.identity()!.id` with a user token: Some(user id) when the token works, None on 401.
    async fn identity(&self, token: &str) -> Option<String> {
        let (status, body) = self.query(token, "Query.identity()!.id", json!({})).await;
        match status {
            200 => Some(body["data"].as_str().unwrap().to_owned()),
            401 => {
                assert_eq!(body["error"]["code"], "unauthorized");
                None
            }
            s => panic!("unexpected {s}: {body}"),
        }
    }

    /// Queries the emulator has served so far.
    async fn served(&self) -> u64 {
        self.stats().await["queries"].as_u64().unwrap()
    }

    /// The emulator's counters (`/_emulator/stats`).
    async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_emulator/stats", self.endpoint()))
            .bearer_auth("secret")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Arm a fault (`/_emulator/fault`), e.g. `{"delay_ms": 100, "count": 1}`.
    async fn fault(&self, fault: Value) {
        let res = self
            .http
            .post(format!("{}/_emulator/fault", self.endpoint()))
            .bearer_auth("secret")
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    /// Delay the next `count` queries by `ms`.
    async fn delay(&self, ms: u64, count: u64) {
        self.fault(json!({"delay_ms": ms, "count": count})).await;
    }

    /// Waits (bounded: 10 s) until a query is held by the emulator, i.e. a caller is waiting on Fauna.
    async fn wait_for_query_in_flight(&self) {
        for _ in 0..500 {
            if self.stats().await["in_flight"].as_u64().unwrap() > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no query reached the emulator");
    }

    async fn inject(&self, status: u16, count: u64) {
        self.fault(json!({"status": status, "count": count})).await;
    }

    fn config(&self, frontend: bool) -> FaunaConfig {
        FaunaConfig {
            endpoint: self.endpoint(),
            access_faunadb_token_from_frontend: frontend,
            ttl_lag: LAG,
            timeout: Duration::from_secs(2),
            retry_backoff: Duration::from_millis(20),
            ..FaunaConfig::new(self.server_key.clone())
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Users {
    /// SQL users mirrored into Fauna at sign-up.
    Sql,
    /// SQL users, strict minting (the user document must exist).
    SqlStrict,
    /// Users in Fauna.
    Fauna,
}

struct Server {
    url: String,
    engine: SessionEngine,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fauna_token_route(
    session: Session,
) -> Result<Json<Value>, fauna_session_server::SessionRejection> {
    let token = session.faunadb_token().await?;
    Ok(Json(json!({ "faunadbToken": token })))
}

/// `POST /test/merge`: merge the JSON body into the access-token payload.
async fn merge_route(
    mut session: Session,
    Json(update): Json<Map<String, Value>>,
) -> Result<Json<Value>, fauna_session_server::SessionRejection> {
    session.merge_into_access_token_payload(&update).await?;
    Ok(Json(Value::Object(session.access_token_payload().clone())))
}

impl Server {
    /// The live session handles of `uid`, as the engine lists them.
    async fn handles(&self, uid: &str) -> Vec<String> {
        self.engine.session_handles_for_user(uid).await.unwrap()
    }

    /// `POST /test/merge` with `c`'s access token; `c` takes the re-signed token.
    async fn merge(&self, c: &mut Client, update: Value) {
        let res = self
            .http
            .post(format!("{}/test/merge", self.url))
            .bearer_auth(&c.access)
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        c.update(res.headers());
    }

    async fn start(fauna: &Fauna, frontend: bool, users: Users) -> Server {
        Self::start_on(Backend::Sqlite, fauna, frontend, users).await
    }

    async fn start_on(backend: Backend, fauna: &Fauna, frontend: bool, users: Users) -> Server {
        Self::start_with(backend, fauna, frontend, users, |_| {}).await
    }

    /// Like [`start_on`](Self::start_on), with the session config adjusted by `f`.
    async fn start_with(
        backend: Backend,
        fauna: &Fauna,
        frontend: bool,
        users: Users,
        f: impl FnOnce(&mut SessionConfig),
    ) -> Server {
        let (url, dir) = common::fresh_database(backend).await;
        let store = SqlStore::connect(&url).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fauna_config = FaunaConfig {
            create_missing_user_documents: users == Users::Sql,
            ..fauna.config(frontend)
        };
        let mut config = SessionConfig {
            api_domain: format!("http://{addr}"),
            access_token_lifetime: LIFETIME,
            hooks: Arc::new(FaunaHooks::new(fauna_config.clone())),
            ..SessionConfig::default()
        };
        f(&mut config);
        let store: Arc<SqlStore> = Arc::new(store);
        let user_store: Arc<dyn UserStore> = match users {
            Users::Sql | Users::SqlStrict => Arc::new(WithFaunaUserDocuments::new(
                Arc::new(SqlUserStore::new(store.clone())),
                &fauna_config,
            )),
            Users::Fauna => Arc::new(FaunaUserStore::new(&fauna_config)),
        };
        let engine = SessionEngine::with_user_store(config, store, user_store)
            .await
            .unwrap();
        let router = app(&engine, &AppOptions::default()).merge(
            Router::new()
                .route("/test/fauna", get(fauna_token_route))
                .route("/test/merge", axum::routing::post(merge_route))
                .layer(engine.layer()),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Server {
            url: format!("http://{addr}"),
            engine,
            http: reqwest::Client::new(),
            _dir: dir,
            task,
        }
    }

    async fn post_form(&self, path: &str, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .header("st-auth-mode", "header")
            .header("rid", "emailpassword")
            .json(&json!({"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}))
            .send()
            .await
            .unwrap()
    }

    async fn sign_up(&self, email: &str) -> Client {
        let res = self.post_form("/auth/signup", email, "pw-123456").await;
        assert_eq!(res.status(), 200);
        Client::from(res).await
    }

    async fn sign_in(&self, email: &str) -> reqwest::Response {
        self.post_form("/auth/signin", email, "pw-123456").await
    }

    async fn verify(&self, c: &mut Client) -> u16 {
        let res = self
            .http
            .get(format!("{}/sessioninfo", self.url))
            .bearer_auth(&c.access)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        c.update(res.headers());
        status
    }

    async fn refresh(&self, c: &mut Client) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/auth/session/refresh", self.url))
            .header("rid", "session")
            .header("st-auth-mode", "header")
            .bearer_auth(&c.refresh)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        c.update(res.headers());
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn sign_out(&self, c: &Client) -> u16 {
        self.http
            .post(format!("{}/auth/signout", self.url))
            .header("rid", "session")
            .bearer_auth(&c.access)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// `Session::faunadb_token()` as a handler sees it.
    async fn server_side_token(&self, c: &Client) -> Option<String> {
        let res = self
            .http
            .get(format!("{}/test/fauna", self.url))
            .bearer_auth(&c.access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["faunadbToken"].as_str().map(str::to_owned)
    }
}

/// The browser side: tokens from the header transport and the decoded front-token.
struct Client {
    access: String,
    refresh: String,
    front: Value,
    body: Value,
}

impl Client {
    async fn from(res: reqwest::Response) -> Client {
        let h = res.headers().clone();
        let mut c = Client {
            access: String::new(),
            refresh: String::new(),
            front: Value::Null,
            body: Value::Null,
        };
        c.update(&h);
        assert!(
            !c.access.is_empty() && !c.refresh.is_empty(),
            "no tokens: {h:?}"
        );
        c.body = res.json().await.unwrap();
        c
    }

    fn update(&mut self, h: &HeaderMap) {
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(a) = get("st-access-token") {
            self.access = a;
        }
        if let Some(r) = get("st-refresh-token") {
            self.refresh = r;
        }
        if let Some(f) = get("front-token").filter(|f| f != "remove") {
            let bytes = base64::engine::general_purpose::STANDARD.decode(f).unwrap();
            self.front = serde_json::from_slice(&bytes).unwrap();
        }
    }

    fn user_id(&self) -> String {
        self.front["uid"].as_str().unwrap().to_owned()
    }

    /// `front-token.up.faunadbToken`.
    fn faunadb_token(&self) -> Option<String> {
        self.front["up"]["faunadbToken"].as_str().map(str::to_owned)
    }
}

fn email() -> String {
    format!(
        "u{}@example.com",
        fauna_session_server::users::new_user_id()
    )
}

#[tokio::test]
async fn frontend_token_lifecycle_and_round_trips() {
    token_lifecycle(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontend_token_lifecycle_on_postgres() {
    token_lifecycle(Backend::Postgres).await;
}

async fn fauna_down_at_refresh_on(backend: Backend) {
    let mut fauna = Fauna::start().await;
    let server = Server::start_on(backend, &fauna, true, Users::Sql).await;
    let mut c = server.sign_up(&email()).await;
    let refresh_token = c.refresh.clone();
    fauna.down().await;
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 503);
    fauna.up().await;
    assert_eq!(c.refresh, refresh_token);
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    assert_eq!(
        fauna.identity(&c.faunadb_token().unwrap()).await,
        Some(c.user_id())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fauna_down_at_refresh_on_postgres() {
    fauna_down_at_refresh_on(Backend::Postgres).await;
}

async fn token_lifecycle(backend: Backend) {
    let fauna = Fauna::start().await;
    let server = Server::start_on(backend, &fauna, true, Users::Sql).await;
    let email = email();
    let c = server.sign_up(&email).await;
    assert_eq!(server.sign_out(&c).await, 200);

    // Sign-in: one Fauna round trip; the browser gets a working token in the front-token.
    let before = fauna.served().await;
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 200);
    let mut c = Client::from(res).await;
    assert_eq!(fauna.served().await - before, 1, "round trips per sign-in");
    let t1 = c.faunadb_token().expect("faunadbToken in the front-token");
    assert!(t1.starts_with("fnE"));
    assert_eq!(fauna.identity(&t1).await, Some(c.user_id()));
    assert_eq!(
        server.server_side_token(&c).await.as_deref(),
        Some(t1.as_str())
    );
    // The server secret never reaches the browser.
    assert!(!c.front.to_string().contains(&fauna.server_key));
    assert!(!c.body.to_string().contains(&fauna.server_key));

    // Verify: no Fauna round trip.
    let before = fauna.served().await;
    assert_eq!(server.verify(&mut c).await, 200);
    assert_eq!(fauna.served().await - before, 0, "round trips per verify");

    // Refresh: one round trip, a different working token; the old one still works until its ttl.
    let before = fauna.served().await;
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    assert_eq!(fauna.served().await - before, 1, "round trips per refresh");
    let t2 = c.faunadb_token().unwrap();
    assert_ne!(t1, t2);
    assert_eq!(fauna.identity(&t2).await, Some(c.user_id()));
    assert_eq!(fauna.identity(&t1).await, Some(c.user_id()));
    let before = fauna.served().await;
    assert_eq!(server.verify(&mut c).await, 200);
    assert_eq!(
        fauna.served().await - before,
        0,
        "round trips per verify after refresh"
    );

    // After the access-token lifetime plus the lag, the first token is rejected.
    tokio::time::sleep(LIFETIME + LAG + Duration::from_millis(300)).await;
    assert_eq!(fauna.identity(&t1).await, None);

    // Sign-out: one round trip; the current token is rejected at once.
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    let t3 = c.faunadb_token().unwrap();
    assert_eq!(fauna.identity(&t3).await, Some(c.user_id()));
    let before = fauna.served().await;
    assert_eq!(server.sign_out(&c).await, 200);
    assert_eq!(fauna.served().await - before, 1, "round trips per sign-out");
    assert_eq!(fauna.identity(&t3).await, None);
}

#[tokio::test]
async fn token_stays_out_of_the_front_token_without_frontend_access() {
    let fauna = Fauna::start().await;
    let server = Server::start(&fauna, false, Users::Sql).await;
    let email = email();
    let mut c = server.sign_up(&email).await;
    assert_eq!(c.faunadb_token(), None);
    assert!(!c.front.to_string().contains("fnE"));
    let t1 = server
        .server_side_token(&c)
        .await
        .expect("Session::faunadb_token()");
    assert_eq!(fauna.identity(&t1).await, Some(c.user_id()));
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    assert_eq!(c.faunadb_token(), None);
    let t2 = server.server_side_token(&c).await.unwrap();
    assert_ne!(t1, t2);
    assert_eq!(fauna.identity(&t2).await, Some(c.user_id()));
    // Revoking every session of the user deletes their tokens.
    let uid = c.user_id();
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 200);
    let mut other = Client::from(res).await;
    let t_other = server.server_side_token(&other).await.unwrap();
    let revoked = server
        .engine
        .revoke_all_sessions_for_user(&uid)
        .await
        .unwrap();
    assert_eq!(revoked.len(), 2);
    assert_eq!(fauna.identity(&t2).await, None);
    assert_eq!(fauna.identity(&t_other).await, None);
    assert_eq!(
        server.verify(&mut other).await,
        401,
        "the instance that ended the sessions refuses their access tokens at once"
    );
}

#[tokio::test]
async fn theft_deletes_the_sessions_tokens() {
    let fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::Sql).await;
    let mut c = server.sign_up(&email()).await;
    let old_refresh = c.refresh.clone();
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    assert_eq!(server.verify(&mut c).await, 200); // uses the new refresh token's lineage
    let t = c.faunadb_token().unwrap();
    assert!(fauna.identity(&t).await.is_some());
    let mut thief = Client {
        access: String::new(),
        refresh: old_refresh,
        front: Value::Null,
        body: Value::Null,
    };
    let (status, body) = server.refresh(&mut thief).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "token theft detected");
    assert_eq!(fauna.identity(&t).await, None);
}

#[tokio::test]
async fn fauna_down_at_sign_in_creates_no_session() {
    let mut fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::Sql).await;
    let email = email();
    let c = server.sign_up(&email).await;
    let uid = c.user_id();
    assert_eq!(server.sign_out(&c).await, 200);
    assert!(server.handles(&uid).await.is_empty());

    fauna.down().await;
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().get("st-access-token").is_none());
    assert!(res.headers().get("st-refresh-token").is_none());
    let body: Value = res.json().await.unwrap();
    let message = body["message"].as_str().unwrap_or_default();
    assert_eq!(
        message, "fauna unavailable",
        "the 503 body names the service only (the cause is logged): {body}"
    );
    assert!(server.handles(&uid).await.is_empty());

    // 401 (wrong server secret), 429 and 5xx from Fauna: no session either.
    fauna.up().await;
    for status in [401, 429, 500, 503] {
        fauna.inject(status, 3).await;
        let res = server.sign_in(&email).await;
        assert_eq!(res.status(), 503, "Fauna answering {status}");
        assert!(server.handles(&uid).await.is_empty());
        fauna.inject(503, 0).await;
    }
    // Throttling shorter than the retry budget is absorbed (3 requests for 1 sign-in).
    fauna.inject(429, 2).await;
    let before = fauna.served().await;
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 200);
    assert_eq!(fauna.served().await - before, 3);
    assert_eq!(server.handles(&uid).await.len(), 1);
}

#[tokio::test]
async fn fauna_down_at_refresh_keeps_the_refresh_token_usable() {
    let mut fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::Sql).await;
    let mut c = server.sign_up(&email()).await;
    let t1 = c.faunadb_token().unwrap();
    let refresh_token = c.refresh.clone();

    fauna.down().await;
    let (status, body) = server.refresh(&mut c).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(c.refresh, refresh_token, "no new tokens on failure");
    fauna.up().await;
    fauna.inject(503, 3).await;
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 503);

    // The same refresh token works once Fauna is back.
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    assert_ne!(c.refresh, refresh_token);
    let t2 = c.faunadb_token().unwrap();
    assert_ne!(t1, t2);
    assert_eq!(fauna.identity(&t2).await, Some(c.user_id()));
    assert_eq!(server.verify(&mut c).await, 200);
}

#[tokio::test]
async fn missing_user_document_fails_cleanly() {
    let fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::SqlStrict).await;
    let uid = fauna_session_server::users::new_user_id();
    let err = server
        .engine
        .create_session(&uid, Map::new(), Map::new(), TokenTransfer::Header)
        .await
        .unwrap_err();
    match &err {
        SessionError::Hook(e) => assert!(e.to_string().contains("does not exist"), "{e}"),
        other => panic!("expected a hook error, got {other:?}"),
    }
    assert_eq!(err.status(), 503);
    assert!(server.handles(&uid).await.is_empty());
    let (_, body) = fauna
        .query(&fauna.server_key, "Token.all().count()", json!({}))
        .await;
    assert_eq!(body["data"], 0, "no token minted for a missing user");
    // Sign-up (which creates the document) then works in strict mode.
    let c = server.sign_up(&email()).await;
    assert!(fauna.identity(&c.faunadb_token().unwrap()).await.is_some());
}

#[tokio::test]
async fn users_stored_in_fauna() {
    let fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::Fauna).await;
    let email = email();
    let c = server.sign_up(&email).await;
    let uid = c.user_id();
    // The user id is the Fauna document id; the document holds no password.
    let (_, body) = fauna
        .query(&fauna.server_key, "User.byId(id)!", json!({"id": uid}))
        .await;
    assert_eq!(body["data"]["email"], email);
    assert!(!body["data"].to_string().contains("pw-123456"));
    assert_eq!(
        fauna.identity(&c.faunadb_token().unwrap()).await,
        Some(uid.clone())
    );
    // Duplicate sign-up, wrong password, right password, email exists.
    let res = server.post_form("/auth/signup", &email, "pw-123456").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "FIELD_ERROR");
    let res = server
        .post_form("/auth/signin", &email, "wrong-password")
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "WRONG_CREDENTIALS_ERROR");
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 200);
    let again = Client::from(res).await;
    assert_eq!(again.user_id(), uid);
    let res = server
        .http
        .get(format!(
            "{}/auth/emailpassword/email/exists?email={email}",
            server.url
        ))
        .header("rid", "emailpassword")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["exists"], true, "{body}");
}

#[tokio::test]
async fn slow_fauna_times_out_instead_of_hanging() {
    let fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::Sql).await;
    let email = email();
    let c = server.sign_up(&email).await;
    assert_eq!(server.sign_out(&c).await, 200);
    // The test client's timeout is 2 s (Fauna::config); Fauna answers after 30 s.
    let res = fauna
        .http
        .post(format!("{}/_emulator/fault", fauna.endpoint()))
        .bearer_auth("secret")
        .json(&json!({"delay_ms": 30_000, "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let started = std::time::Instant::now();
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 503);
    // Not a timing assertion on speed: only that the call was cut by the timeout, not by Fauna.
    assert!(started.elapsed() < Duration::from_secs(25));
    assert!(server.handles(&c.user_id()).await.is_empty());
}

#[tokio::test]
async fn sign_up_while_fauna_is_down_heals_at_the_next_sign_in() {
    let mut fauna = Fauna::start().await;
    let server = Server::start(&fauna, true, Users::Sql).await;
    let email = email();
    fauna.down().await;
    let res = server.post_form("/auth/signup", &email, "pw-123456").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().get("st-access-token").is_none());
    fauna.up().await;
    // The SQL user exists; its Fauna document is made by the first mint.
    let res = server.sign_in(&email).await;
    assert_eq!(res.status(), 200);
    let c = Client::from(res).await;
    assert_eq!(
        fauna.identity(&c.faunadb_token().unwrap()).await,
        Some(c.user_id())
    );
}

/// A refresh waits on a slowed Fauna (minting the session's next Fauna token) while the app removes a claim and
/// adds another: the refresh must neither bring the removed claim back nor drop the added one, in the token it
/// mints or in the database; and its new Fauna token must be kept.
async fn refresh_racing_a_payload_update_keeps_the_update(backend: Backend) {
    let fauna = Fauna::start().await;
    let server = Server::start_on(backend, &fauna, true, Users::Sql).await;
    let mut c = server.sign_up(&email()).await;
    server.merge(&mut c, json!({"role": "admin"})).await;
    assert_eq!(c.front["up"]["role"], "admin");
    let handle = c.front["up"]["sessionHandle"].as_str().map(str::to_owned);
    for round in 0..2 {
        let token_before = c.faunadb_token().expect("a Fauna token");
        fauna.delay(1500, 1).await;
        let refresh = {
            let (http, url, refresh) = (server.http.clone(), server.url.clone(), c.refresh.clone());
            tokio::spawn(async move {
                http.post(format!("{url}/auth/session/refresh"))
                    .header("rid", "session")
                    .header("st-auth-mode", "header")
                    .bearer_auth(refresh)
                    .send()
                    .await
                    .unwrap()
            })
        };
        fauna.wait_for_query_in_flight().await;
        // While the refresh waits on Fauna: the app changes the claims.
        let update = if round == 0 {
            json!({"role": null, "team": "ops"})
        } else {
            json!({"team": "dev"})
        };
        server.merge(&mut c, update).await;
        let res = refresh.await.unwrap();
        assert_eq!(res.status(), 200);
        c.update(res.headers());
        let up = &c.front["up"];
        assert!(
            up.get("role").is_none(),
            "round {round}: role came back: {up}"
        );
        let team = if round == 0 { "ops" } else { "dev" };
        assert_eq!(up["team"], team, "round {round}: {up}");
        let token_after = c.faunadb_token().expect("a Fauna token");
        assert_ne!(
            token_after, token_before,
            "the refresh minted a new Fauna token"
        );
        assert!(fauna.identity(&token_after).await.is_some());
        // And in the database, which the next token is minted from.
        let uid = c.user_id();
        let handles = server.handles(&uid).await;
        let info = server
            .engine
            .session_information(handle.as_deref().unwrap_or(&handles[0]))
            .await
            .unwrap()
            .expect("session");
        let stored = &info.custom_claims_in_access_token_payload;
        assert!(stored.get("role").is_none(), "{stored:?}");
        assert_eq!(stored["team"], team);
        assert_eq!(stored["faunadbToken"], token_after.as_str());
    }
}

#[tokio::test]
async fn refresh_racing_a_payload_update_keeps_the_update_sqlite() {
    refresh_racing_a_payload_update_keeps_the_update(Backend::Sqlite).await;
}

#[tokio::test]
async fn refresh_racing_a_payload_update_keeps_the_update_postgres() {
    refresh_racing_a_payload_update_keeps_the_update(Backend::Postgres).await;
}

/// Past the absolute session lifetime a refresh answers 401 and the session's Fauna token is deleted at once
/// (its ttl, the access-token lifetime of 60 s plus the lag, would have let it work for a minute).
async fn max_lifetime_deletes_the_sessions_token(backend: Backend) {
    let fauna = Fauna::start().await;
    let server = Server::start_with(backend, &fauna, true, Users::Sql, |c| {
        c.session_max_lifetime = Some(Duration::from_secs(2));
        c.access_token_lifetime = Duration::from_secs(60);
    })
    .await;
    let mut c = server.sign_up(&email()).await;
    let signed_up = std::time::Instant::now();
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 200);
    let t = c.faunadb_token().unwrap();
    assert_eq!(fauna.identity(&t).await, Some(c.user_id()));
    tokio::time::sleep(Duration::from_millis(2_200).saturating_sub(signed_up.elapsed())).await;
    let (status, body) = server.refresh(&mut c).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"message": "unauthorised"}));
    assert_eq!(fauna.identity(&t).await, None, "the Fauna token is deleted");
    let (status, _) = server.refresh(&mut c).await;
    assert_eq!(status, 401, "the session stays ended");
}

#[tokio::test]
async fn max_lifetime_deletes_the_sessions_token_sqlite() {
    max_lifetime_deletes_the_sessions_token(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_lifetime_deletes_the_sessions_token_postgres() {
    max_lifetime_deletes_the_sessions_token(Backend::Postgres).await;
}
