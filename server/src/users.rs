//! Email/password users: the pluggable [`UserStore`] trait and the SQL implementation with argon2id hashes.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};

use crate::crypto::{now_ms, random_bytes};
use crate::store::{SessionStore, StoreError, UserRow};

/// A user as the FDI sign-up/sign-in endpoints report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User id: decimal string of a random positive 63-bit integer (a valid Fauna document id).
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// Sign-up time, ms since epoch.
    pub time_joined: i64,
}

/// Why a sign-up failed.
#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    /// The email is already registered.
    #[error("email already exists")]
    EmailExists,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email or wrong password (indistinguishable on purpose).
    #[error("wrong credentials")]
    WrongCredentials,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where email/password users live. Implement it to plug in another user database (e.g. Fauna).
#[async_trait::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Register a user. `email` is already normalised and validated.
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError>;
    /// Check credentials.
    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError>;
    /// Whether an email is registered.
    async fn email_exists(&self, email: &str) -> Result<bool, StoreError>;
    /// The user with this (normalised) email, if any.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// The user with this id, if any.
    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError>;
    /// Replace a user's password (already checked against the password rules) and void what the old one
    /// gave outside the sessions (e.g. the user's Fauna tokens). `false` if the user is gone.
    async fn set_password(&self, user_id: &str, password: &str) -> Result<bool, StoreError>;
}

/// Normalise an email the way sign-up and sign-in compare them: trimmed, lower-cased.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A new user id: decimal string of a random positive 63-bit integer.
pub fn new_user_id() -> String {
    let n = u64::from_be_bytes(random_bytes()) >> 1;
    n.max(1).to_string()
}

/// [`UserStore`] on the SQL [`SessionStore`] (`users` table), argon2id password hashes.
#[derive(Clone)]
pub struct SqlUserStore {
    store: Arc<dyn SessionStore>,
}

impl std::fmt::Debug for SqlUserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlUserStore").finish_non_exhaustive()
    }
}

impl SqlUserStore {
    /// Users in `store`.
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        Self { store }
    }
}

async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&random_bytes::<16>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .await
    .map_err(|e| StoreError::Corrupt(e.to_string()))?
}

async fn verify_password(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash to verify against when the email is unknown, so timing does not reveal accounts.
async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash_password("not a real password".into())
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

#[async_trait::async_trait]
impl UserStore for SqlUserStore {
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> {
        if self.store.user_by_email(email).await?.is_some() {
            return Err(SignUpError::EmailExists);
        }
        let password_hash = hash_password(password.to_owned()).await?;
        for _ in 0..3 {
            let row = UserRow {
                user_id: new_user_id(),
                email: email.to_owned(),
                password_hash: password_hash.clone(),
                time_joined: now_ms(),
            };
            if self.store.insert_user(&row).await? {
                return Ok(User {
                    id: row.user_id,
                    email: row.email,
                    time_joined: row.time_joined,
                });
            }
            if self.store.user_by_email(email).await?.is_some() {
                return Err(SignUpError::EmailExists);
            }
        }
        Err(SignUpError::Store(StoreError::Database(
            "could not allocate a user id".into(),
        )))
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError> {
        let Some(row) = self.store.user_by_email(email).await? else {
            verify_password(password.to_owned(), dummy_hash().await).await;
            return Err(SignInError::WrongCredentials);
        };
        if verify_password(password.to_owned(), row.password_hash).await {
            Ok(User {
                id: row.user_id,
                email: row.email,
                time_joined: row.time_joined,
            })
        } else {
            Err(SignInError::WrongCredentials)
        }
    }

    async fn email_exists(&self, email: &str) -> Result<bool, StoreError> {
        Ok(self.store.user_by_email(email).await?.is_some())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self.store.user_by_email(email).await?.map(|row| User {
            id: row.user_id,
            email: row.email,
            time_joined: row.time_joined,
        }))
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let Some(accounts) = self.store.accounts() else {
            return Ok(None);
        };
        Ok(accounts
            .user_by_id(user_id)
            .await?
            .map(|(email, time_joined)| User {
                id: user_id.to_owned(),
                email,
                time_joined,
            }))
    }

    async fn set_password(&self, user_id: &str, password: &str) -> Result<bool, StoreError> {
        let Some(accounts) = self.store.accounts() else {
            return Ok(false);
        };
        let hash = hash_password(password.to_owned()).await?;
        accounts.set_password_hash(user_id, &hash).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_positive_63_bit_decimals() {
        for _ in 0..100 {
            let id = new_user_id();
            let n: i64 = id.parse().expect("fits i64");
            assert!(n > 0);
        }
    }

    #[test]
    fn emails_normalised() {
        assert_eq!(normalise_email("  A@B.Com "), "a@b.com");
    }
}
