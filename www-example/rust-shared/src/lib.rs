//! What the two Rust examples of fauna-session (`www-example/yew/` and `www-example/leptos/`) share: every call
//! to the library's Rust API and to the servers, so that each app keeps only its UI (components, state).
//!
//! * [`start`] → `Session::init(Config::new(origin))`, once at start-up;
//! * [`sign_up_or_in`] → `session.fetch(POST /auth/signup or /auth/signin)` — the session handles the cookies and
//!   `front-token`;
//! * [`protected_call`] → `session.fetch(GET /sessioninfo)` — refreshed and retried on a 401;
//! * [`fauna_query`] → `session.fauna().query::<T>(fql, args)`: the library's typed FQL v10 client, which manages
//!   the faunadbToken (refreshed before it would expire, one refresh-and-retry on a Fauna 401);
//! * [`sign_out`] → `session.sign_out()`.
//!
//! Every function answers with what the page shows: an [`Auth`] state or a text for the user. `Session` is a `Copy`
//! handle with no JavaScript inside: here each call takes it with `Session::get()`, an app could as well keep it in
//! a Yew or Leptos context.
use fauna_session::{Session, config::Config, fauna::FaunaConfig};
use gloo_net::http::Request;
use serde_json::{Value, json};

/// What the page shows.
#[derive(Clone, PartialEq)]
pub enum Auth {
    /// Before [`current_auth`] has answered.
    Loading,
    /// No session: the sign-up / sign-in form.
    SignedOut,
    /// A session, for this user.
    SignedIn {
        /// The signed-in user's id.
        user_id: String,
    },
}

/// The page's origin, where the fauna-session server answers.
fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Configures the page's session: call it once, in `main`, before anything else here.
pub fn start() {
    Session::init(Config::new(origin())).expect("a valid configuration");
}

/// The session of this page, configured by [`start`].
fn session() -> Session {
    Session::get().expect("start() ran in main")
}

/// Signed in (and as whom) or signed out, refreshing first if the access token has expired.
pub async fn current_auth() -> Auth {
    let session = session();
    if !session.does_session_exist().await.unwrap_or(false) {
        return Auth::SignedOut;
    }
    match session.user_id().await {
        Ok(user_id) => Auth::SignedIn { user_id },
        Err(_) => Auth::SignedOut,
    }
}

/// POST /auth/signup or /auth/signin (`action`) through the session; `Err` holds a message for the user.
pub async fn sign_up_or_in(action: &str, email: &str, password: &str) -> Result<(), String> {
    let body = json!({ "formFields": [ { "id": "email", "value": email }, { "id": "password", "value": password } ] });
    let request = Request::post(&format!("{}/auth/{action}", origin()))
        .json(&body)
        .map_err(|e| e.to_string())?;
    let response = session().fetch(request).await.map_err(|e| e.to_string())?;
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match answer["status"].as_str() {
        Some("OK") => Ok(()),
        Some("WRONG_CREDENTIALS_ERROR") => Err("Wrong email or password.".into()),
        Some("EMAIL_ALREADY_EXISTS_ERROR") => {
            Err("This email is already registered: sign in instead.".into())
        }
        Some("FIELD_ERROR") => Err(answer["formFields"].to_string()),
        _ => Err(format!("The server answered {}.", response.status())),
    }
}

/// Signs out (whatever the server answers), then tells what the page shows now.
pub async fn sign_out() -> Auth {
    let _ = session().sign_out().await;
    current_auth().await
}

/// GET /sessioninfo through the session: the status and the body, as text to show.
pub async fn protected_call() -> String {
    let request = Request::get(&format!("{}/sessioninfo", origin())).build();
    let result = match request {
        Ok(request) => session().fetch(request).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(response) => {
            let status = response.status();
            let mut body: Value = response.json().await.unwrap_or(Value::Null);
            // The Fauna secret is a credential: show only its start.
            if let Some(Value::String(secret)) =
                body.pointer_mut("/accessTokenPayload/faunadbToken")
            {
                *secret = format!("{}…", secret.chars().take(8).collect::<String>());
            }
            format!(
                "status {status}\n{}",
                serde_json::to_string_pretty(&body).unwrap_or_default()
            )
        }
        Err(e) => format!("error: {e}"),
    }
}

/// Where Fauna is: /config.json, written by the demo script.
async fn fauna_endpoint() -> String {
    let config: Value = match Request::get("/config.json").send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    config["faunaEndpoint"]
        .as_str()
        .unwrap_or("http://localhost:8443")
        .trim_end_matches('/')
        .to_string()
}

/// How long a Fauna token must still live when a query is sent, as in the Vite example: shorter than the demo's and
/// the end-to-end tests' access-token lifetimes (60 s and 4 s), since no token can outlive a fresh session's.
const FAUNA_MIN_VALIDITY_SECONDS: f64 = 2.0;

/// The session with its Fauna endpoint configured (`Config::fauna`): the first call reads /config.json and
/// re-initialises the session with it, later calls find it there.
async fn session_with_fauna() -> Result<Session, String> {
    let mut config = Config::new(origin());
    let mut fauna = FaunaConfig::new(fauna_endpoint().await);
    fauna.min_validity_seconds = FAUNA_MIN_VALIDITY_SECONDS;
    config.fauna = Some(fauna);
    Session::init(config).map_err(|e| e.to_string())
}

/// Counts the user's notes with `session.fauna().query(…)` (FQL v10): the session puts its faunadbToken on the
/// request, refreshed first when it would live less than [`FAUNA_MIN_VALIDITY_SECONDS`], and retries once after a
/// refresh if Fauna refuses it. A text to show.
pub async fn fauna_query() -> String {
    let session = match session_with_fauna().await {
        Ok(session) => session,
        Err(e) => return format!("error: {e}"),
    };
    // The token the query will carry (the same call the client makes first), shown shortened.
    let shown = match session.faunadb_token(FAUNA_MIN_VALIDITY_SECONDS).await {
        Ok(secret) => format!(
            "faunadbToken {}…",
            secret.chars().take(8).collect::<String>()
        ),
        Err(e) => return format!("no faunadbToken: {e}"),
    };
    match session
        .fauna()
        .query::<Value>("Note.all()", Value::Null)
        .await
    {
        Ok(page) => format!(
            "{shown}\nNote.all() has {} notes",
            page["data"].as_array().map_or(0, Vec::len)
        ),
        Err(e) => format!("{shown}\nFauna refused: {e}"),
    }
}
