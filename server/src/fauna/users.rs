//! Users in Fauna: [`FaunaUserStore`] keeps email/password users as Fauna documents with a
//! `Credential` (the server keeps no passwords), and [`WithFaunaUserDocuments`] gives users of
//! another store (SQL) a Fauna document at sign-up.

use std::sync::Arc;

use serde_json::{Value, json};

use super::FaunaConfig;
use super::client::{FaunaClient, FaunaError, int_field, long, str_field};
use crate::store::StoreError;
use crate::users::{SignInError, SignUpError, User, UserStore};

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

#[async_trait::async_trait]
impl UserStore for WithFaunaUserDocuments {
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

    async fn email_exists(&self, email: &str) -> Result<bool, StoreError> {
        self.inner.email_exists(email).await
    }
}
