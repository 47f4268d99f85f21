//! The fauna-session demo as a Yew app: only the UI. Every call to the library's Rust API (sign-up / sign-in,
//! the protected call to /sessioninfo, the faunadbToken and a Fauna query, sign-out) is in the `shared` crate,
//! `fauna-session-example-shared` (`www-example/rust-shared/`), which the Leptos app uses too.
use fauna_session_example_shared::{self as shared, Auth};
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

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
        use_effect_with((), move |_| {
            spawn_local(async move { auth.set(shared::current_auth().await) })
        });
    }

    let submit = |action: &'static str| {
        let (auth, message, email, password) = (
            auth.clone(),
            message.clone(),
            email.clone(),
            password.clone(),
        );
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let (email, password) = (value(&email), value(&password));
            let (auth, message) = (auth.clone(), message.clone());
            spawn_local(async move {
                match shared::sign_up_or_in(action, &email, &password).await {
                    Ok(()) => {
                        message.set(String::new());
                        auth.set(shared::current_auth().await);
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
            spawn_local(async move { api_result.set(shared::protected_call().await) });
        })
    };
    let query_fauna = {
        let fauna_result = fauna_result.clone();
        Callback::from(move |_| {
            let fauna_result = fauna_result.clone();
            spawn_local(async move { fauna_result.set(shared::fauna_query().await) });
        })
    };
    let sign_out = {
        let auth = auth.clone();
        Callback::from(move |_| {
            let auth = auth.clone();
            spawn_local(async move { auth.set(shared::sign_out().await) });
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
                    <h3>{ "session.fauna().query(…): the session manages the faunadbToken" }</h3>
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
    shared::start();
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
        .expect("index.html has a #app element");
    root.set_inner_html("");
    yew::Renderer::<App>::with_root(root).render();
}
