//! The `fauna-session-server` binary as a child process on a free loopback port, for tests that need the
//! real binary (its flags, its socket handling) rather than the in-process app.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_fauna-session-server");

/// A free loopback port (bound and released; the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// A running server binary, killed on drop.
pub struct ServerProcess {
    pub url: String,
    pub http: reqwest::Client,
    child: Child,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// Start the binary on `database_url` with extra `args`; waits until it accepts connections.
    pub fn start(database_url: &str, args: &[&str]) -> Self {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("FAUNA_SESSION_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                child.try_wait().expect("try_wait").is_none(),
                "server exited early"
            );
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        ServerProcess {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            child,
        }
    }

    /// `POST {path}` with an email/password form (header transport), as `x-forwarded-for` when given.
    pub async fn credentials(
        &self,
        path: &str,
        email: &str,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("rid", "emailpassword")
            .header("st-auth-mode", "header")
            .json(&json!({"formFields": [
                {"id": "email", "value": email},
                {"id": "password", "value": password},
            ]}));
        if let Some(xff) = forwarded_for {
            req = req.header("x-forwarded-for", xff);
        }
        req.send().await.expect("request")
    }

    pub async fn sign_up(&self, email: &str) -> reqwest::Response {
        self.credentials("/auth/signup", email, "secret123", None)
            .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.credentials("/auth/signin", email, password, None)
            .await
    }

    /// `POST /auth/session/refresh` with a header-transport refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/auth/session/refresh", self.url))
            .header("rid", "session")
            .bearer_auth(refresh_token)
            .send()
            .await
            .expect("refresh")
    }
}

/// A "come back later" answer's status, `Retry-After` and body.
pub async fn retry_later(res: reqwest::Response) -> (u16, Option<u64>, Value) {
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry_after, res.json().await.unwrap_or(Value::Null))
}

/// A fresh email address.
pub fn email() -> String {
    format!(
        "u{}@example.com",
        fauna_session_server::users::new_user_id()
    )
}
