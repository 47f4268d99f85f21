//! [`FaunaSession`]: read a session's Fauna token.

use crate::error::SessionError;
use crate::extract::Session;

use super::FAUNADB_TOKEN_KEY;

/// What the Fauna integration adds to [`Session`]: its Fauna token. Bring it into scope with
/// `use fauna_session_server::fauna::FaunaSession as _;`.
#[async_trait::async_trait]
pub trait FaunaSession {
    /// The session's Fauna secret: from the access-token payload when the frontend may see it
    /// (no database read), else from the private session data. `None` if the session has none
    /// (for example when no Fauna integration is configured).
    ///
    /// ```no_run
    /// use fauna_session_server::Session;
    /// use fauna_session_server::fauna::FaunaSession as _;
    ///
    /// async fn handler(session: Session) -> String {
    ///     session.faunadb_token().await.ok().flatten().unwrap_or_default()
    /// }
    /// ```
    async fn faunadb_token(&self) -> Result<Option<String>, SessionError>;
}

#[async_trait::async_trait]
impl FaunaSession for Session {
    async fn faunadb_token(&self) -> Result<Option<String>, SessionError> {
        if let Some(t) = self
            .access_token_payload()
            .get(FAUNADB_TOKEN_KEY)
            .and_then(|v| v.as_str())
        {
            return Ok(Some(t.to_owned()));
        }
        let data = self.session_data().await?;
        Ok(data
            .get(FAUNADB_TOKEN_KEY)
            .and_then(|v| v.as_str())
            .map(str::to_owned))
    }
}
