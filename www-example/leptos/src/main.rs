//! The fauna-session demo as a Leptos app (client-side rendering), using the library's Rust API:
//!
//! * `Session::init(Config::new(origin))` once at start-up;
//! * sign-up / sign-in: `session.fetch(POST /auth/signin)` — the session handles the cookies and `front-token`;
//! * a protected call: `session.fetch(GET /sessioninfo)` — refreshed and retried on a 401;
//! * `session.faunadb_token(min_validity)` right before a Fauna query (plain HTTP, FQL v10);
//! * `session.sign_out()`.
//!
//! `Session` is a `Copy` handle with no JavaScript inside, so it could also go into Leptos context.
use fauna_session::{Session, config::Config};
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

/// What the page shows.
#[derive(Clone, PartialEq)]
enum Auth {
    Loading,
    SignedOut,
    SignedIn { user_id: String },
}

fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// The session of this page, configured at start-up (in `main`).
fn session() -> Session {
    Session::get().expect("Session::init ran in main")
}

async fn current_auth() -> Auth {
    let session = session();
    if !session.does_session_exist().await.unwrap_or(false) {
        return Auth::SignedOut;
    }
    match session.user_id().await {
        Ok(user_id) => Auth::SignedIn { user_id },
        Err(_) => Auth::SignedOut,
    }
}

/// POST /auth/signup or /auth/signin through the session; `Err` holds a message for the user.
async fn sign_up_or_in(action: &str, email: &str, password: &str) -> Result<(), String> {
    let body = json!({ "formFields": [ { "id": "email", "value": email }, { "id": "password", "value": password } ] });
    let request = Request::post(&format!("{}/auth/{action}", origin()))
        .json(&body)
        .map_err(|e| e.to_string())?;
    let response = session().fetch(request).await.map_err(|e| e.to_string())?;
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    match answer["status"].as_str() {
        Some("OK") => Ok(()),
        Some("WRONG_CREDENTIALS_ERROR") => Err("Wrong email or password.".into()),
        Some("EMAIL_ALREADY_EXISTS_ERROR") => Err("This email is already registered: sign in instead.".into()),
        Some("FIELD_ERROR") => Err(answer["formFields"].to_string()),
        _ => Err(format!("The server answered {}.", response.status())),
    }
}

/// GET /sessioninfo through the session: the status and the body.
async fn protected_call() -> String {
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
            if let Some(Value::String(secret)) = body.pointer_mut("/accessTokenPayload/faunadbToken") {
                *secret = format!("{}…", secret.chars().take(8).collect::<String>());
            }
            format!("status {status}\n{}", serde_json::to_string_pretty(&body).unwrap_or_default())
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
    config["faunaEndpoint"].as_str().unwrap_or("http://localhost:8443").trim_end_matches('/').to_string()
}

/// Read the faunadbToken, then list the notes with it (FQL v10 over HTTP).
async fn fauna_query() -> String {
    let secret = match session().faunadb_token(2.0).await {
        Ok(secret) => secret,
        Err(e) => return format!("no faunadbToken: {e}"),
    };
    let shown = format!("faunadbToken {}…", secret.chars().take(8).collect::<String>());
    let request = Request::post(&format!("{}/query/1", fauna_endpoint().await))
        .header("authorization", &format!("Bearer {secret}"))
        .json(&json!({ "query": "Note.all()" }));
    let response = match request {
        Ok(request) => request.send().await,
        Err(e) => return format!("{shown}\nerror: {e}"),
    };
    match response {
        Ok(r) => {
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if status == 200 {
                format!("{shown}\nNote.all() has {} notes", body["data"]["data"].as_array().map_or(0, Vec::len))
            } else {
                format!("{shown}\nFauna refused: {status} {}", body["error"])
            }
        }
        Err(e) => format!("{shown}\nerror: {e}"),
    }
}

#[component]
fn App() -> impl IntoView {
    let (auth, set_auth) = signal(Auth::Loading);
    let (message, set_message) = signal(String::new());
    let (api_result, set_api_result) = signal(String::new());
    let (fauna_result, set_fauna_result) = signal(String::new());
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();

    spawn_local(async move { set_auth.set(current_auth().await) });

    let submit = move |action: &'static str| {
        let value = |r: NodeRef<leptos::html::Input>| r.get().map(|i| i.value()).unwrap_or_default();
        let (email, password) = (value(email), value(password));
        spawn_local(async move {
            match sign_up_or_in(action, &email, &password).await {
                Ok(()) => {
                    set_message.set(String::new());
                    set_auth.set(current_auth().await);
                }
                Err(e) => set_message.set(e),
            }
        });
    };
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = session().sign_out().await;
            set_auth.set(current_auth().await);
        })
    };
    let call_api = move |_| spawn_local(async move { set_api_result.set(protected_call().await) });
    let query_fauna = move |_| spawn_local(async move { set_fauna_result.set(fauna_query().await) });

    let body = move || match auth.get() {
        Auth::Loading => view! { <p id="state" data-state="loading">"Loading…"</p> }.into_any(),
        Auth::SignedOut => view! {
            <form class="card" id="state" data-state="signed-out" on:submit=|e| e.prevent_default()>
                <h2>"Sign up or sign in"</h2>
                <input node_ref=email id="email" type="email" placeholder="email" />
                <input node_ref=password id="password" type="password" placeholder="password (8+ characters)" />
                <button id="signup" type="button" on:click=move |_| submit("signup")>"Sign up"</button>
                <button id="signin" type="button" on:click=move |_| submit("signin")>"Sign in"</button>
                <p id="message" class="error">{move || message.get()}</p>
            </form>
        }
        .into_any(),
        Auth::SignedIn { user_id } => view! {
            <div id="state" data-state="signed-in">
                <p>
                    "Signed in as user " <code id="user-id">{user_id}</code> " "
                    <button id="signout" on:click=sign_out>"Sign out"</button>
                </p>
                <div class="card">
                    <h3>"Protected call: session.fetch(GET /sessioninfo)"</h3>
                    <button id="call-api" on:click=call_api>"Call /sessioninfo"</button>
                    <pre id="api-result">{move || api_result.get()}</pre>
                </div>
                <div class="card">
                    <h3>"session.faunadb_token(), then a Fauna query"</h3>
                    <button id="fauna-query" on:click=query_fauna>"List the notes in Fauna"</button>
                    <pre id="fauna-result">{move || fauna_result.get()}</pre>
                </div>
            </div>
        }
        .into_any(),
    };

    view! {
        <h1>"fauna-session · Leptos"</h1>
        <p>"The same session as the JavaScript demo, driven from Rust."</p>
        {body}
    }
}

fn main() {
    Session::init(Config::new(origin())).expect("a valid configuration");
    leptos::mount::mount_to_body(App);
}
