//! The fauna-session demo as a Leptos app (client-side rendering): only the UI. Every call to the library's Rust
//! API (sign-up / sign-in, the protected call to /sessioninfo, the faunadbToken and a Fauna query, sign-out) is in
//! the `shared` crate, `fauna-session-example-shared` (`www-example/rust-shared/`), which the Yew app uses too.
use fauna_session_example_shared::{self as shared, Auth};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
fn App() -> impl IntoView {
    let (auth, set_auth) = signal(Auth::Loading);
    let (message, set_message) = signal(String::new());
    let (api_result, set_api_result) = signal(String::new());
    let (fauna_result, set_fauna_result) = signal(String::new());
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();

    spawn_local(async move { set_auth.set(shared::current_auth().await) });

    let submit = move |action: &'static str| {
        let value =
            |r: NodeRef<leptos::html::Input>| r.get().map(|i| i.value()).unwrap_or_default();
        let (email, password) = (value(email), value(password));
        spawn_local(async move {
            match shared::sign_up_or_in(action, &email, &password).await {
                Ok(()) => {
                    set_message.set(String::new());
                    set_auth.set(shared::current_auth().await);
                }
                Err(e) => set_message.set(e),
            }
        });
    };
    let sign_out = move |_| spawn_local(async move { set_auth.set(shared::sign_out().await) });
    let call_api =
        move |_| spawn_local(async move { set_api_result.set(shared::protected_call().await) });
    let query_fauna =
        move |_| spawn_local(async move { set_fauna_result.set(shared::fauna_query().await) });

    let body = move || {
        match auth.get() {
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
                        <h3>"session.fauna().query(…): the session manages the faunadbToken"</h3>
                        <button id="fauna-query" on:click=query_fauna>"List the notes in Fauna"</button>
                        <pre id="fauna-result">{move || fauna_result.get()}</pre>
                    </div>
                </div>
            }
            .into_any(),
        }
    };

    view! {
        <h1>"fauna-session · Leptos"</h1>
        <p>"The same session as the JavaScript demo, driven from Rust."</p>
        {body}
    }
}

fn main() {
    shared::start();
    leptos::mount::mount_to_body(App);
}
