//! Email/password users: the pluggable [`UserStore`] trait and the SQL implementation with argon2id hashes.

use std::sync::Arc;

use sqlx::Row as _;

use crate::crypto::{now_ms, random_bytes};
use crate::hashing::{HashPool, PoolBusy};
use crate::store::{SqlStore, StoreError, with_pool};

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
    /// Password hashing is at capacity; answered 503 with `Retry-After`.
    #[error(transparent)]
    Busy(#[from] PoolBusy),
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
    /// The account is backing off after repeated failures ([`AccountLockout`](crate::AccountLockout));
    /// answered 429 with `Retry-After`.
    #[error("too many failed sign-ins")]
    LockedOut {
        /// Seconds until sign-in may be tried again.
        retry_after_secs: u64,
        /// This attempt failed and started (or lengthened) the back-off; `false`: refused during one.
        started: bool,
    },
    /// Password hashing is at capacity; answered 503 with `Retry-After`.
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a password change failed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    /// Password hashing is at capacity; answered 503 with `Retry-After`.
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a sign-in attempt comes from, as the per-account back-off ([`AccountLockout`](crate::AccountLockout))
/// counts it: failures are counted per source as well as per account, and a device that signed in to the
/// account before is counted apart from everyone else.
///
/// ```
/// use fauna_session_server::users::SignInSource;
/// let from = SignInSource::new(Some("198.51.100.7".parse().unwrap()), None);
/// assert!(from.device.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignInSource {
    /// The client's address, when known.
    pub ip: Option<std::net::IpAddr>,
    /// The id of a device that signed in to this account before (its device cookie verified), if any.
    pub device: Option<String>,
}

impl SignInSource {
    /// An attempt from `ip`, by the known `device` if any.
    pub fn new(ip: Option<std::net::IpAddr>, device: Option<String>) -> Self {
        Self { ip, device }
    }
}

/// Where email/password users live. Implement it to plug in another user database (e.g. Fauna).
#[async_trait::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Register a user. `email` is already normalised and validated.
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError>;
    /// Check credentials.
    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError>;
    /// Check credentials of an attempt made `from` a client. The sign-in route calls this; the default ignores
    /// `from` and calls [`sign_in`](Self::sign_in). [`AccountLockout`](crate::AccountLockout) counts by it.
    async fn sign_in_from(
        &self,
        email: &str,
        password: &str,
        from: &SignInSource,
    ) -> Result<User, SignInError> {
        let _ = from;
        self.sign_in(email, password).await
    }
    /// Whether an email is registered.
    async fn email_exists(&self, email: &str) -> Result<bool, StoreError>;
    /// The user with this (normalised) email, if any.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// The user with this id, if any.
    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError>;
    /// Replace a user's password (already checked against the password rules) and void what the old one
    /// gave outside the sessions (e.g. the user's Fauna tokens). `false` if the user is gone.
    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError>;
}

/// `impl UserStore` for a store that wraps another: the three lookups (`email_exists`, `user_by_email`,
/// `user_by_id`) are answered by the wrapped store `$inner` (an expression in which `$this` is `self`), the
/// other methods are the ones given.
///
/// ```ignore
/// impl_user_store_around!([U: UserStore] Wrapper<U>, |this| this.inner, {
///     async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> { .. }
///     async fn sign_in(..) .. async fn set_password(..) ..
/// });
/// ```
macro_rules! impl_user_store_around {
    ([$($generics:tt)*] $ty:ty, |$this:ident| $inner:expr, { $($methods:tt)* }) => {
        #[async_trait::async_trait]
        impl<$($generics)*> $crate::users::UserStore for $ty {
            $($methods)*

            async fn email_exists(&self, email: &str) -> Result<bool, $crate::store::StoreError> {
                let $this = self;
                $inner.email_exists(email).await
            }

            async fn user_by_email(
                &self,
                email: &str,
            ) -> Result<Option<$crate::users::User>, $crate::store::StoreError> {
                let $this = self;
                $inner.user_by_email(email).await
            }

            async fn user_by_id(
                &self,
                user_id: &str,
            ) -> Result<Option<$crate::users::User>, $crate::store::StoreError> {
                let $this = self;
                $inner.user_by_id(user_id).await
            }
        }
    };
}
pub(crate) use impl_user_store_around;

/// Normalise an email the way sign-up and sign-in compare them: trimmed, lower-cased, Unicode NFC (so a
/// composed and a decomposed `é` are one address), an internationalised domain in its ASCII (IDNA) form
/// (`bücher.de` ⇒ `xn--bcher-kva.de`). A domain IDNA refuses is left as it is, and [`email_is_valid`] refuses
/// it.
///
/// ```
/// use fauna_session_server::users::normalise_email;
/// assert_eq!(normalise_email("  A@B.Com "), "a@b.com");
/// assert_eq!(normalise_email("Jose\u{301}@Bücher.de"), "jos\u{e9}@xn--bcher-kva.de");
/// ```
pub fn normalise_email(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let email: String = email.trim().to_lowercase().nfc().collect();
    match email.rsplit_once('@') {
        Some((local, domain)) if !domain.is_ascii() => match idna::domain_to_ascii_strict(domain) {
            Ok(ascii) => format!("{local}@{ascii}"),
            Err(_) => email,
        },
        _ => email,
    }
}

/// Longest email accepted, in bytes (RFC 5321's limit on a forward path, less its angle brackets).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest local part (before the `@`), in bytes (RFC 5321).
const MAX_LOCAL_BYTES: usize = 64;

/// Whether a [normalised](normalise_email) email can be stored and mailed: at most [`MAX_EMAIL_BYTES`],
/// one `@`, no whitespace or control characters, no address metacharacters (`<>()[]\,;:"`) and no empty dot
/// segment in the local part, and an ASCII (IDNA) domain of letter-digit-hyphen labels ending in a top-level
/// label of letters (or an `xn--` one).
///
/// ```
/// use fauna_session_server::users::email_is_valid;
/// assert!(email_is_valid("a.b+tag@example.co"));
/// assert!(!email_is_valid("a@b"));
/// assert!(!email_is_valid("a\r\nbcc:x@example.com"));
/// assert!(!email_is_valid(&format!("{}@example.com", "a".repeat(250))));
/// ```
pub fn email_is_valid(email: &str) -> bool {
    if email.len() > MAX_EMAIL_BYTES || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= MAX_LOCAL_BYTES
        && !local.contains(|c| "@<>()[]\\,;:\"".contains(c))
        && !local.split('.').any(str::is_empty);
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    local_ok
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels.last().is_some_and(|tld| {
            tld.starts_with("xn--")
                || (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
        })
}

/// A new user id: decimal string of a random positive 63-bit integer.
pub fn new_user_id() -> String {
    let n = u64::from_be_bytes(random_bytes()) >> 1;
    n.max(1).to_string()
}

/// A stored email/password user.
#[derive(Debug, Clone)]
struct UserRow {
    user_id: String,
    /// Normalised email.
    email: String,
    /// PHC string of the argon2id hash.
    password_hash: String,
    /// Sign-up time, ms.
    time_joined: i64,
}

/// [`UserStore`] in the `users` table of a [`SqlStore`], argon2id password hashes computed on a bounded
/// [`HashPool`].
#[derive(Debug, Clone)]
pub struct SqlUserStore {
    store: Arc<SqlStore>,
    pool: HashPool,
}

impl SqlUserStore {
    /// Users in `store`, hashing on a pool sized to the cores.
    pub fn new(store: Arc<SqlStore>) -> Self {
        Self::with_pool(store, HashPool::default())
    }

    /// Users in `store`, hashing on `pool` (clones of one pool share its bound).
    pub fn with_pool(store: Arc<SqlStore>, pool: HashPool) -> Self {
        Self { store, pool }
    }

    /// Check `password` against the stored `phc` (the dummy hash when `None`) on the pool.
    async fn verify_on_pool(&self, password: &str, phc: Option<String>) -> Result<bool, PoolBusy> {
        let password = password.to_owned();
        self.pool
            .run(move || match phc {
                Some(phc) => verify_password(&password, &phc),
                None => verify_password(&password, dummy_hash()),
            })
            .await
    }

    /// Insert a user; `false` if the email is taken.
    async fn insert_user(&self, u: &UserRow) -> Result<bool, StoreError> {
        let sql = "INSERT INTO users (user_id, email, password_hash, time_joined) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT DO NOTHING";
        let n = with_pool!(&*self.store, write, |p| sqlx::query(sql)
            .bind(&u.user_id)
            .bind(&u.email)
            .bind(&u.password_hash)
            .bind(u.time_joined)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// A user by normalised email.
    async fn row_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = "SELECT user_id, email, password_hash, time_joined FROM users WHERE email = $1";
        with_pool!(&*self.store, read, |p| {
            let row = sqlx::query(sql).bind(email).fetch_optional(p).await?;
            row.map(|r| {
                Ok::<_, sqlx::Error>(UserRow {
                    user_id: r.try_get(0)?,
                    email: r.try_get(1)?,
                    password_hash: r.try_get(2)?,
                    time_joined: r.try_get(3)?,
                })
            })
            .transpose()
            .map_err(StoreError::from)
        })
    }
}

/// An argon2id PHC hash of `password` with a fresh salt.
fn hash_password(password: &str) -> Result<String, StoreError> {
    crate::password::hash(password).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn verify_password(password: &str, phc: &str) -> bool {
    crate::password::verify(password, phc)
}

/// An argon2id hash to verify against when the email is unknown, so timing does not reveal accounts.
/// Computed once per process, on the pool thread of the first caller that needs it.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

#[async_trait::async_trait]
impl UserStore for SqlUserStore {
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> {
        if self.row_by_email(email).await?.is_some() {
            return Err(SignUpError::EmailExists);
        }
        let password = password.to_owned();
        let password_hash = self.pool.run(move || hash_password(&password)).await??;
        for _ in 0..3 {
            let row = UserRow {
                user_id: new_user_id(),
                email: email.to_owned(),
                password_hash: password_hash.clone(),
                time_joined: now_ms(),
            };
            if self.insert_user(&row).await? {
                return Ok(User {
                    id: row.user_id,
                    email: row.email,
                    time_joined: row.time_joined,
                });
            }
            if self.row_by_email(email).await?.is_some() {
                return Err(SignUpError::EmailExists);
            }
        }
        Err(SignUpError::Store(StoreError::Database(
            "could not allocate a user id".into(),
        )))
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError> {
        let Some(row) = self.row_by_email(email).await? else {
            self.verify_on_pool(password, None).await?;
            return Err(SignInError::WrongCredentials);
        };
        if self
            .verify_on_pool(password, Some(row.password_hash))
            .await?
        {
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
        Ok(self.row_by_email(email).await?.is_some())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self.row_by_email(email).await?.map(|row| User {
            id: row.user_id,
            email: row.email,
            time_joined: row.time_joined,
        }))
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let sql = "SELECT email, time_joined FROM users WHERE user_id = $1";
        with_pool!(&*self.store, read, |p| {
            let row = sqlx::query(sql).bind(user_id).fetch_optional(p).await?;
            row.map(|r| {
                Ok::<_, sqlx::Error>(User {
                    id: user_id.to_owned(),
                    email: r.try_get(0)?,
                    time_joined: r.try_get(1)?,
                })
            })
            .transpose()
            .map_err(StoreError::from)
        })
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError> {
        let password = password.to_owned();
        let hash = self.pool.run(move || hash_password(&password)).await??;
        let sql = "UPDATE users SET password_hash = $1 WHERE user_id = $2";
        let n = with_pool!(&*self.store, write, |p| sqlx::query(sql)
            .bind(&hash)
            .bind(user_id)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(n == 1)
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
