//! The fauna-session demo as a Yew app, using the library's Rust API:
//!
//! * `Session::init(Config::new(origin))` once at start-up;
//! * sign-up / sign-in: `session.fetch(POST /auth/signin)` — the session handles the cookies and `front-token`;
//! * a protected call: `session.fetch(GET /sessioninfo)` — refreshed and retried on a 401;
//! * `session.faunadb_token(min_validity)` right before a Fauna query (plain HTTP, FQL v10);
//! * `session.sign_out()`.
use fauna_session::{Session, config::Config};
use gloo_net::http::Request;
use serde_json::{Value, json};
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the page shows.
#[derive(Clone, PartialEq)]
enum Auth {
    Loading,
    SignedOut,
    SignedIn { user_id: String },
}

fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// The one session of this page, created at start-up.
fn session() -> Session {
    thread_local! {
        static SESSION: Session = Session::init(Config::new(origin())).expect("a valid configuration");
    }
    SESSION.with(Clone::clone)
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

/// Read the faunadbToken, then count the user's notes with it (FQL v10 over HTTP).
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

#[function_component]
fn App() -> Html {
    let auth = use_state(|| Auth::Loading);
    let message = use_state(String::new);
    let api_result = use_state(String::new);
    let fauna_result = use_state(String::new);
    let email = use_node_ref();
    let password = use_node_ref();

    {
        let auth = auth.clone();
        use_effect_with((), move |_| spawn_local(async move { auth.set(current_auth().await) }));
    }

    let submit = |action: &'static str| {
        let (auth, message, email, password) = (auth.clone(), message.clone(), email.clone(), password.clone());
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let (email, password) = (value(&email), value(&password));
            let (auth, message) = (auth.clone(), message.clone());
            spawn_local(async move {
                match sign_up_or_in(action, &email, &password).await {
                    Ok(()) => {
                        message.set(String::new());
                        auth.set(current_auth().await);
                    }
                    Err(e) => message.set(e),
                }
            });
        })
    };

    let call_api = {
        let api_result = api_result.clone();
        Callback::from(move |_| {
            let api_result = api_result.clone();
            spawn_local(async move { api_result.set(protected_call().await) });
        })
    };
    let query_fauna = {
        let fauna_result = fauna_result.clone();
        Callback::from(move |_| {
            let fauna_result = fauna_result.clone();
            spawn_local(async move { fauna_result.set(fauna_query().await) });
        })
    };
    let sign_out = {
        let auth = auth.clone();
        Callback::from(move |_| {
            let auth = auth.clone();
            spawn_local(async move {
                let _ = session().sign_out().await;
                auth.set(current_auth().await);
            });
        })
    };

    let body = match &*auth {
        Auth::Loading => html! { <p id="state" data-state="loading">{ "Loading…" }</p> },
        Auth::SignedOut => html! {
            <form class="card" id="state" data-state="signed-out">
                <h2>{ "Sign up or sign in" }</h2>
                <input ref={email.clone()} id="email" type="email" placeholder="email" />
                <input ref={password.clone()} id="password" type="password" placeholder="password (8+ characters)" />
                <button id="signup" onclick={submit("signup")}>{ "Sign up" }</button>
                <button id="signin" onclick={submit("signin")}>{ "Sign in" }</button>
                <p id="message" class="error">{ (*message).clone() }</p>
            </form>
        },
        Auth::SignedIn { user_id } => html! {
            <div id="state" data-state="signed-in">
                <p>{ "Signed in as user " }<code id="user-id">{ user_id.clone() }</code>
                   { " " }<button id="signout" onclick={sign_out}>{ "Sign out" }</button></p>
                <div class="card">
                    <h3>{ "Protected call: session.fetch(GET /sessioninfo)" }</h3>
                    <button id="call-api" onclick={call_api}>{ "Call /sessioninfo" }</button>
                    <pre id="api-result">{ (*api_result).clone() }</pre>
                </div>
                <div class="card">
                    <h3>{ "session.faunadb_token(), then a Fauna query" }</h3>
                    <button id="fauna-query" onclick={query_fauna}>{ "List the notes in Fauna" }</button>
                    <pre id="fauna-result">{ (*fauna_result).clone() }</pre>
                </div>
            </div>
        },
    };

    html! {
        <>
            <h1>{ "fauna-session · Yew" }</h1>
            <p>{ "The same session as the JavaScript demo, driven from Rust." }</p>
            { body }
        </>
    }
}

fn main() {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
        .expect("index.html has a #app element");
    root.set_inner_html("");
    yew::Renderer::<App>::with_root(root).render();
}
