//! The Rust API, for Yew and Leptos apps.

use alloc::rc::Rc;

use super::settings::{self, Settings};
use super::{Fail, api, events, fetch, sys};
use crate::config::Config;
use crate::error::Error;
use crate::event::Event;

/// Handle to the page's session. Cheap to copy, `Send + Sync` (it holds no JavaScript value), so it can go into a
/// Leptos context or a Yew context as it is.
///
/// ```no_run
/// use fauna_session::{config::Config, Event, Session};
/// # async fn demo() -> Result<(), fauna_session::Error> {
/// let session = Session::init(Config::new("https://api.example.com"))?;
/// let _subscription = session.on_event(|event| {
///     if matches!(event, Event::Unauthorised { .. }) { /* show the sign-in page */ }
/// });
/// let request = gloo_net::http::Request::get("https://api.example.com/sessioninfo").build().unwrap();
/// let response = session.fetch(request).await?; // refreshes and retries on a 401
/// let token = session.faunadb_token(60.0).await?; // a Fauna secret valid for 60 s at least
/// # let _ = (response, token);
/// session.sign_out().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    _private: (),
}

impl Session {
    /// Validates `config` and makes it this page's session configuration (a later call replaces it). Does not
    /// patch `window.fetch`; see [`Session::intercept_global_fetch`].
    pub fn init(config: Config) -> Result<Session, Error> {
        let config = config.normalise(&sys::page_hostname())?;
        // The JavaScript hooks of an earlier JS `init` stay.
        let hooks = settings::current()
            .map(|s| s.hooks.clone())
            .unwrap_or_default();
        settings::install(Settings { config, hooks });
        super::events::follow_other_tabs();
        Ok(Session { _private: () })
    }

    /// The session configured by an earlier [`Session::init`] (or by the JavaScript `init`).
    pub fn get() -> Result<Session, Error> {
        settings::current()?;
        Ok(Session { _private: () })
    }

    /// Patches `window.fetch` (once), so every request of the page (gloo-net, reqwest, JavaScript) gets the
    /// session handling, not only [`Session::fetch`].
    pub fn intercept_global_fetch(&self) -> Result<(), Error> {
        settings::current()?;
        super::intercept();
        Ok(())
    }

    /// Sends `request` with the session headers; on the session-expired status refreshes (once, whatever else is
    /// refreshing) and retries. A failed refresh answers with the refresh endpoint's response.
    pub async fn fetch(
        &self,
        request: gloo_net::http::Request,
    ) -> Result<gloo_net::http::Response, Error> {
        let raw: web_sys::Request = request.into();
        let resp = fetch::do_request(raw.into(), wasm_bindgen::JsValue::UNDEFINED)
            .await
            .map_err(Fail::into_error)?;
        Ok(resp.into())
    }

    /// True if a session exists (refreshing first if its access token has expired).
    pub async fn does_session_exist(&self) -> Result<bool, Error> {
        api::does_session_exist().await.map_err(Fail::into_error)
    }

    /// The signed-in user's id.
    pub async fn user_id(&self) -> Result<String, Error> {
        api::user_id().await.map_err(Fail::into_error)
    }

    /// The access-token payload as JSON text, refreshing first if the access token has expired.
    pub async fn access_token_payload_json(&self) -> Result<String, Error> {
        let up = api::payload_securely().await.map_err(Fail::into_error)?;
        Ok(sys::stringify(&up))
    }

    /// The access-token payload deserialised into `T`, refreshing first if the access token has expired.
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Claims { sub: String, #[serde(rename = "faunadbToken")] fauna: String }
    /// let claims: Claims = session.access_token_payload().await?;
    /// # let _ = claims.sub; Ok(()) }
    /// ```
    #[cfg(feature = "serde")]
    pub async fn access_token_payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let json = self.access_token_payload_json().await?;
        serde_json::from_str(&json).map_err(|e| Error::Payload(e.to_string()))
    }

    /// The header-mode access token (`None` in cookie mode or without a session).
    pub async fn access_token(&self) -> Result<Option<String>, Error> {
        api::access_token().await.map_err(Fail::into_error)
    }

    /// The session's `faunadbToken`, valid for at least `min_validity_seconds` (refreshing first if needed).
    pub async fn faunadb_token(&self, min_validity_seconds: f64) -> Result<String, Error> {
        api::faunadb_token(min_validity_seconds)
            .await
            .map_err(Fail::into_error)
    }

    /// Refreshes now: `Ok(true)` if a session is (now) fresh, `Ok(false)` if there is none.
    pub async fn attempt_refreshing_session(&self) -> Result<bool, Error> {
        api::attempt_refreshing_session()
            .await
            .map_err(Fail::into_error)
    }

    /// Signs out (`POST <apiBasePath>/signout`) and clears the local session.
    pub async fn sign_out(&self) -> Result<(), Error> {
        api::sign_out().await.map_err(Fail::into_error)
    }

    /// The typed FQL v10 client (feature `serde`) for the Fauna endpoint of [`Config::fauna`]: every query carries
    /// the session's `faunadbToken`, refreshed first when it would live less than the configured minimum, and a
    /// Fauna 401 refreshes the session (once, shared with API 401s) and retries once.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use fauna_session::{config::Config, fauna::FaunaConfig, Session};
    /// let mut config = Config::new("https://api.example.com");
    /// config.fauna = Some(FaunaConfig::new("https://db.fauna.com"));
    /// let session = Session::init(config)?;
    /// let count: i64 = session.fauna().query("Note.all().count()", serde_json::Value::Null).await?;
    /// # let _ = count; Ok(()) }
    /// ```
    #[cfg(feature = "serde")]
    pub fn fauna(&self) -> super::fauna_client::Fauna {
        super::fauna_client::Fauna { _private: () }
    }

    /// Calls `f` for every session [`Event`] until the returned [`Subscription`] is dropped.
    pub fn on_event(&self, f: impl Fn(&Event) + 'static) -> Subscription {
        Subscription {
            id: Some(events::subscribe(Rc::new(f))),
        }
    }
}

/// An event subscription; dropping it unsubscribes.
#[derive(Debug)]
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    id: Option<u32>,
}

impl Subscription {
    /// Keeps the subscription for the page's lifetime.
    pub fn forget(mut self) {
        self.id = None;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            events::unsubscribe(id);
        }
    }
}
