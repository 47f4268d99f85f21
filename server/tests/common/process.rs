//! The `fauna-session-server` binary as a child process, for tests that need the real binary (its flags, its
//! socket handling, its log) rather than the in-process app.
//!
//! [`Binary::start`] is the one way to start it: on `--listen 127.0.0.1:0`, the port read from its own
//! "listening" log line. (A free port chosen beforehand and released could be taken by another listener
//! meanwhile, which would then answer the test's requests.)

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_fauna-session-server");

/// How long the binary may take to log a line a test waits for.
const LOG_WAIT: Duration = Duration::from_secs(60);

/// The binary, running on a loopback port it chose; its stdout and stderr are read to their end by two threads
/// (so it never blocks on a full pipe). Killed on drop.
pub struct Binary {
    /// The port it listens on.
    pub port: u16,
    child: Child,
    lines: Receiver<String>,
    readers: Vec<JoinHandle<()>>,
    /// The lines read so far, stdout and stderr interleaved as they came.
    log: String,
}

/// Sends each line of `from` to `to`, until the end of the stream.
fn forward(from: impl Read + Send + 'static, to: Sender<String>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if to.send(line).is_err() {
                break;
            }
        }
    })
}

/// Field `field` (a string) of `line` if it is the JSON log line whose message is `message`.
fn log_field(line: &str, message: &str, field: &str) -> Option<String> {
    let v = serde_json::from_str::<Value>(line).ok()?;
    if v["fields"]["message"] != message {
        return None;
    }
    let value = v["fields"][field].as_str();
    Some(
        value
            .unwrap_or_else(|| panic!("no {field:?} in {line}"))
            .to_owned(),
    )
}

impl Binary {
    /// Starts `command` (the binary with its flags and env; a `FAUNA_SESSION_LOG` it sets must keep the `info`
    /// line "fauna-session-server listening", unset it is `info`) with `--listen 127.0.0.1:0` and JSON logs, and
    /// waits (bounded) for the port it bound. Panics, showing its output, if it exits first.
    pub fn start(mut command: Command) -> Self {
        if !command.get_envs().any(|(k, _)| k == "FAUNA_SESSION_LOG") {
            command.env("FAUNA_SESSION_LOG", "info");
        }
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            .env("FAUNA_SESSION_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let (to, lines) = channel();
        let readers = vec![
            forward(child.stdout.take().expect("stdout"), to.clone()),
            forward(child.stderr.take().expect("stderr"), to),
        ];
        let mut binary = Binary {
            port: 0,
            child,
            lines,
            readers,
            log: String::new(),
        };
        let listen = binary.wait_for_log("fauna-session-server listening", "listen");
        binary.port = listen
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("listening on {listen:?}"));
        binary
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits (bounded) for the JSON log line whose message is `message` (or finds it among the lines read
    /// already), and returns its field `field` (a string). Panics, showing the output so far, if the binary exits
    /// first or the line does not come.
    pub fn wait_for_log(&mut self, message: &str, field: &str) -> String {
        if let Some(value) = self.log.lines().find_map(|l| log_field(l, message, field)) {
            return value;
        }
        let deadline = Instant::now() + LOG_WAIT;
        loop {
            let line = match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {message:?} line in {LOG_WAIT:?}:\n{}", self.log)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("server exited before {message:?}:\n{}", self.log)
                }
            };
            self.log.push_str(&line);
            self.log.push('\n');
            if let Some(value) = log_field(&line, message, field) {
                return value;
            }
        }
    }

    /// Kills the binary and returns all it wrote.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.read_to_end()
    }

    /// Sends SIGTERM and waits (bounded: 20 s) for the binary to exit; returns how it exited and all it wrote.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(sent, "SIGTERM not sent");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        (status, self.read_to_end())
    }

    /// The whole output, once the binary has exited.
    fn read_to_end(&mut self) -> String {
        for reader in self.readers.drain(..) {
            reader.join().expect("log reader");
        }
        for line in self.lines.try_iter() {
            self.log.push_str(&line);
            self.log.push('\n');
        }
        std::mem::take(&mut self.log)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server binary with an HTTP client, killed on drop.
pub struct ServerProcess {
    pub url: String,
    pub http: reqwest::Client,
    binary: Binary,
}

impl ServerProcess {
    /// Start the binary on `database_url` with extra `args` (warnings logged); returns once it listens.
    pub fn start(database_url: &str, args: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("FAUNA_SESSION_LOG", "warn,fauna_session_server::cli=info");
        let binary = Binary::start(command);
        ServerProcess {
            url: binary.url(),
            http: reqwest::Client::new(),
            binary,
        }
    }

    /// Sends SIGTERM and waits for the exit (see [`Binary::terminate`]).
    pub fn terminate(self) -> (ExitStatus, String) {
        self.binary.terminate()
    }

    /// The binary's process id.
    pub fn pid(&self) -> u32 {
        self.binary.child.id()
    }

    /// Waits for the log line `message` and returns its field `field` (see [`Binary::wait_for_log`]).
    pub fn wait_for_log(&mut self, message: &str, field: &str) -> String {
        self.binary.wait_for_log(message, field)
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

/// Reads an HTTP/1.1 response's head (up to the blank line) from `stream`, or what came before it closed.
pub async fn response_head(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}
