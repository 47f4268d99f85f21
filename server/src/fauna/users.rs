//! Users in Fauna: [`FaunaUserStore`] keeps email/password users as Fauna documents with a
//! `Credential` (the server keeps no passwords), and [`WithFaunaUserDocuments`] gives users of
//! another store (SQL) a Fauna document at sign-up.

use std::sync::Arc;

use serde_json::{Value, json};

use super::FaunaConfig;
use super::client::{FaunaClient, FaunaError, int_field, long, str_field};
use crate::store::StoreError;
use crate::users::{
    PasswordChangeError, SignInError, SignUpError, User, UserStore, impl_user_store_around,
};

const SIGN_UP: &str = r#"if (coll.firstWhere(.email == email) != null) abort("email_exists") else {
  let u = coll.create({ email: email, time_joined: joined })
  Credential.create({ document: u, password: password })
  { id: u.id }
}"#;

const SIGN_IN: &str = r#"let u = coll.firstWhere(.email == email)
if (u == null) null
else if (Credential.byDocument(u)?.verify(password) == true) { id: u!.id, time_joined: u!.time_joined }
else null"#;

const EMAIL_EXISTS: &str = r#"coll.firstWhere(.email == email) != null"#;

const USER_BY_EMAIL: &str = r#"let u = coll.firstWhere(.email == email)
if (u == null) null else { id: u!.id, email: u!.email, time_joined: u!.time_joined }"#;

const USER_BY_ID: &str = r#"let u = coll.byId(uid)
if (u == null) null else { id: u!.id, email: u!.email, time_joined: u!.time_joined }"#;

/// New password in the user's `Credential`, and every token of the user document deleted.
const SET_PASSWORD: &str = r#"let u = coll.byId(uid)
if (u == null) false else {
  let c = Credential.byDocument(u!)
  if (c == null) Credential.create({ document: u!, password: password }) else c!.update({ password: password })
  Token.byDocument(u!).forEach(.delete())
  true
}"#;

/// Deletes every token of the user document (if it exists).
const DELETE_TOKENS: &str = r#"let u = coll.byId(uid)
if (u != null) Token.byDocument(u!).forEach(.delete())
null"#;

const ENSURE_DOCUMENT: &str = r#"coll.byId(uid) ?? coll.create({ id: uid })
null"#;

fn store_error(e: &FaunaError) -> StoreError {
    StoreError::Database(format!("fauna: {e}"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A [`UserStore`] keeping users in a Fauna collection: each user is a document
/// `{ email, time_joined }` with a `Credential` holding the password hash (inside Fauna). The
/// session's user id is the document id, so tokens minted by
/// [`FaunaHooks`](super::FaunaHooks) identify the user directly.
///
/// Sign-up is one round trip; sign-in one (`Credential.byDocument(u).verify(password)`).
/// Email lookups use `firstWhere(.email == …)`; on a real database, declare an index on
/// `email` (and a unique constraint) for large collections.
#[derive(Debug, Clone)]
pub struct FaunaUserStore {
    client: FaunaClient,
    collection: String,
}

impl FaunaUserStore {
    /// Users in `config.user_collection`.
    pub fn new(config: &FaunaConfig) -> Self {
        Self {
            client: FaunaClient::new(config),
            collection: config.user_collection.clone(),
        }
    }

    fn coll(&self) -> Value {
        json!({ "@mod": self.collection })
    }
}

#[async_trait::async_trait]
impl UserStore for FaunaUserStore {
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> {
        let joined = now_ms();
        let args = json!({
            "coll": self.coll(),
            "email": email,
            "password": password,
            "joined": long(joined),
        });
        match self.client.query(SIGN_UP, args).await {
            Ok(data) => Ok(User {
                id: str_field(&data, "id")
                    .map_err(|e| SignUpError::Store(store_error(&e)))?
                    .to_owned(),
                email: email.to_owned(),
                time_joined: joined,
            }),
            Err(FaunaError::Query {
                code,
                abort: Some(a),
                ..
            }) if code == "abort" && a == "email_exists" => Err(SignUpError::EmailExists),
            Err(e) => Err(SignUpError::Store(store_error(&e))),
        }
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError> {
        let args = json!({ "coll": self.coll(), "email": email, "password": password });
        let data = self
            .client
            .query(SIGN_IN, args)
            .await
            .map_err(|e| SignInError::Store(store_error(&e)))?;
        if data.is_null() {
            return Err(SignInError::WrongCredentials);
        }
        Ok(User {
            id: str_field(&data, "id")
                .map_err(|e| SignInError::Store(store_error(&e)))?
                .to_owned(),
            email: email.to_owned(),
            time_joined: int_field(&data, "time_joined").unwrap_or(0),
        })
    }

    async fn email_exists(&self, email: &str) -> Result<bool, StoreError> {
        let args = json!({ "coll": self.coll(), "email": email });
        let data = self
            .client
            .query(EMAIL_EXISTS, args)
            .await
            .map_err(|e| store_error(&e))?;
        Ok(data == Value::Bool(true))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let args = json!({ "coll": self.coll(), "email": email });
        self.user_query(USER_BY_EMAIL, args).await
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        if user_id.parse::<u64>().is_err() {
            return Ok(None);
        }
        let args = json!({ "coll": self.coll(), "uid": user_id });
        self.user_query(USER_BY_ID, args).await
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError> {
        if user_id.parse::<u64>().is_err() {
            return Ok(false);
        }
        let args = json!({ "coll": self.coll(), "uid": user_id, "password": password });
        let data = self
            .client
            .query(SET_PASSWORD, args)
            .await
            .map_err(|e| PasswordChangeError::Store(store_error(&e)))?;
        Ok(data == Value::Bool(true))
    }
}

impl FaunaUserStore {
    /// Run a query answering `null` or `{ id, email, time_joined }`.
    async fn user_query(&self, query: &str, args: Value) -> Result<Option<User>, StoreError> {
        let data = self
            .client
            .query(query, args)
            .await
            .map_err(|e| store_error(&e))?;
        if data.is_null() {
            return Ok(None);
        }
        Ok(Some(User {
            id: str_field(&data, "id")
                .map_err(|e| store_error(&e))?
                .to_owned(),
            email: str_field(&data, "email")
                .map_err(|e| store_error(&e))?
                .to_owned(),
            time_joined: int_field(&data, "time_joined").unwrap_or(0),
        }))
    }
}

/// Wraps another [`UserStore`] (the SQL one) so that sign-up also creates the user's Fauna
/// document with `id: <userId>`, making `User.byId(userId)` exist for token minting.
///
/// If that Fauna write fails the sign-up answers 503, but the inner store has already kept the
/// user; pair this with [`FaunaConfig::create_missing_user_documents`] so the document is made
/// at the user's next sign-in.
#[derive(Clone)]
pub struct WithFaunaUserDocuments {
    inner: Arc<dyn UserStore>,
    client: FaunaClient,
    collection: String,
}

impl std::fmt::Debug for WithFaunaUserDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithFaunaUserDocuments")
            .field("collection", &self.collection)
            .finish_non_exhaustive()
    }
}

impl WithFaunaUserDocuments {
    /// `inner`'s users, mirrored as documents of `config.user_collection`.
    pub fn new(inner: Arc<dyn UserStore>, config: &FaunaConfig) -> Self {
        Self {
            inner,
            client: FaunaClient::new(config),
            collection: config.user_collection.clone(),
        }
    }
}

impl_user_store_around!([] WithFaunaUserDocuments, |this| this.inner, {
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> {
        let user = self.inner.sign_up(email, password).await?;
        let args = json!({ "coll": { "@mod": self.collection }, "uid": user.id });
        self.client
            .query(ENSURE_DOCUMENT, args)
            .await
            .map_err(|e| SignUpError::Store(store_error(&e)))?;
        Ok(user)
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError> {
        self.inner.sign_in(email, password).await
    }

    /// The inner store's password change, then every Fauna token of the user's document deleted (if Fauna
    /// fails here the change stands, with a warning: the tokens end by their ttl).
    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError> {
        if !self.inner.set_password(user_id, password).await? {
            return Ok(false);
        }
        if user_id.parse::<u64>().is_ok() {
            let args = json!({ "coll": { "@mod": self.collection }, "uid": user_id });
            if let Err(e) = self.client.query(DELETE_TOKENS, args).await {
                tracing::warn!(error = %e, "Fauna tokens not deleted after a password change; they expire by their ttl");
            }
        }
        Ok(true)
    }
});
