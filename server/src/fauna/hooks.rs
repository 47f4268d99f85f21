//! [`FaunaHooks`]: mint a Fauna token per session and refresh, delete them on revocation.

use serde_json::{Map, Value, json};

use super::client::{FaunaClient, FaunaError, long, str_field};
use super::{FAUNADB_TOKEN_KEY, FaunaConfig};
use crate::hooks::{HookError, RevokedSession, SessionHooks, SessionMint};

/// Mints the token, failing with `document_not_found` when the user document does not exist
/// (`Token.create` alone would accept a missing document silently).
const MINT: &str = r#"let u = coll.byId(uid)!
let t = Token.create({ document: u, ttl: Time.now().add(ttl_ms, "milliseconds"), data: { session: session } })
{ id: t.id, secret: t.secret }"#;

/// Mints the token, creating the user document first if it is missing.
const MINT_CREATING_USER: &str = r#"let u = coll.byId(uid) ?? coll.create({ id: uid })
let t = Token.create({ document: u, ttl: Time.now().add(ttl_ms, "milliseconds"), data: { session: session } })
{ id: t.id, secret: t.secret }"#;

/// Deletes every token minted for the listed sessions.
const REVOKE: &str = r#"sessions.forEach(s => Token.byDocument(coll.byId(s.user)).where(.data?.session == s.session).forEach(.delete()))"#;

/// [`SessionHooks`] giving every session a short-lived Fauna token. See the [module
/// docs](super).
#[derive(Debug, Clone)]
pub struct FaunaHooks {
    client: FaunaClient,
    config: FaunaConfig,
}

impl FaunaHooks {
    /// Hooks talking to `config.endpoint`.
    pub fn new(config: FaunaConfig) -> Self {
        Self {
            client: FaunaClient::new(&config),
            config,
        }
    }

    /// The client (e.g. to count round trips).
    pub fn client(&self) -> &FaunaClient {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &FaunaConfig {
        &self.config
    }

    fn coll(&self) -> Value {
        json!({ "@mod": self.config.user_collection })
    }

    /// Mints a token for `user_id`'s document, tagged with the session handle; returns the
    /// secret. One round trip.
    pub async fn mint(&self, mint: &SessionMint<'_>) -> Result<String, HookError> {
        let ttl = mint.access_token_lifetime + self.config.ttl_lag;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let query = if self.config.create_missing_user_documents {
            MINT_CREATING_USER
        } else {
            MINT
        };
        let args = json!({
            "coll": self.coll(),
            "uid": mint.user_id,
            "ttl_ms": long(ttl_ms),
            "session": mint.session_handle,
        });
        let data = self
            .client
            .query(query, args)
            .await
            .map_err(|e| self.unavailable(&e, mint.user_id))?;
        str_field(&data, "secret")
            .map(str::to_owned)
            .map_err(|e| self.unavailable(&e, mint.user_id))
    }

    fn unavailable(&self, e: &FaunaError, user_id: &str) -> HookError {
        let cause = match e.query_code() {
            Some("document_not_found" | "null_value") => format!(
                "user document `{}/{user_id}` does not exist in Fauna",
                self.config.user_collection
            ),
            Some("invalid_id") => format!("user id `{user_id}` is not a valid Fauna document id"),
            Some("permission_denied") => {
                "the Fauna secret may not create tokens (use a server or admin key)".to_owned()
            }
            _ => e.to_string(),
        };
        tracing::warn!(%cause, endpoint = %self.config.endpoint, "Fauna token not minted");
        HookError::Unavailable {
            service: "fauna",
            cause,
        }
    }

    /// Deletes the Fauna tokens of `sessions` (pairs of user id and session handle). One round
    /// trip; tokens already gone are not an error.
    pub async fn revoke(&self, sessions: &[(&str, &str)]) -> Result<(), FaunaError> {
        if sessions.is_empty() {
            return Ok(());
        }
        let list: Vec<Value> = sessions
            .iter()
            .map(|(user, session)| json!({ "user": user, "session": session }))
            .collect();
        self.client
            .query(REVOKE, json!({ "coll": self.coll(), "sessions": list }))
            .await
            .map(drop)
    }
}

fn insert_token(map: &mut Map<String, Value>, secret: String) {
    map.insert(FAUNADB_TOKEN_KEY.to_owned(), Value::String(secret));
}

#[async_trait::async_trait]
impl SessionHooks for FaunaHooks {
    async fn on_create(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
        let secret = self.mint(mint).await?;
        if self.config.access_faunadb_token_from_frontend {
            insert_token(mint.access_token_payload, secret);
        } else {
            insert_token(mint.session_data, secret);
        }
        Ok(())
    }

    async fn on_refresh(&self, mint: &mut SessionMint<'_>) -> Result<(), HookError> {
        let secret = self.mint(mint).await?;
        // Follow where the session keeps its token (so changing the flag does not move
        // existing sessions' tokens); sessions without one use the flag.
        let in_payload = mint.access_token_payload.contains_key(FAUNADB_TOKEN_KEY);
        let in_data = mint.session_data.contains_key(FAUNADB_TOKEN_KEY);
        if in_payload || (!in_data && self.config.access_faunadb_token_from_frontend) {
            insert_token(mint.access_token_payload, secret);
        } else {
            insert_token(mint.session_data, secret);
        }
        Ok(())
    }

    async fn on_revoke(&self, revoked: &[RevokedSession]) {
        let pairs: Vec<(&str, &str)> = revoked
            .iter()
            .map(|r| (r.user_id.as_str(), r.session_handle.as_str()))
            .collect();
        if let Err(e) = self.revoke(&pairs).await {
            tracing::warn!(error = %e, sessions = pairs.len(), "Fauna tokens of revoked sessions not deleted; they expire by their ttl");
        }
    }
}
