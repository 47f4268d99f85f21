//! Per-account back-off against password guessing: failed sign-ins are counted per email **in the session
//! database** (so every instance sharing PostgreSQL sees one count), and past a threshold that account's
//! sign-in answers `429` with `Retry-After` for a back-off window — even with the right password — while
//! other accounts are unaffected. A success resets the count.
//!
//! Unknown emails are counted like known ones, so a lockout does not reveal whether an account exists.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::crypto::now_ms;
use crate::store::{SqlStore, StoreError, with_pool};
use crate::users::{
    PasswordChangeError, SignInError, SignUpError, User, UserStore, impl_user_store_around,
};

/// When an account backs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutConfig {
    /// Consecutive failed sign-ins that start a back-off (default 10; `0` disables the lockout).
    pub threshold: u32,
    /// The first back-off window (default 5 min); each further failure after a window doubles it, up to
    /// 16 times the window.
    pub window: Duration,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            threshold: 10,
            window: Duration::from_secs(300),
        }
    }
}

/// A count is forgotten this long after its last failure (and the row pruned), unless still locked.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;
/// How often (in recorded failures, per instance) forgotten rows are deleted.
const PRUNE_EVERY: u64 = 256;

/// A [`UserStore`] wrapper that counts failed sign-ins per email in a [`SqlStore`] and refuses sign-ins to an
/// account during its back-off with [`SignInError::LockedOut`].
#[derive(Debug)]
pub struct AccountLockout<U> {
    inner: U,
    store: Arc<SqlStore>,
    config: LockoutConfig,
    failures_recorded: AtomicU64,
}

impl<U: UserStore> AccountLockout<U> {
    /// Guard `inner`'s sign-ins, counting in `store` (the session database).
    pub fn new(inner: U, store: Arc<SqlStore>, config: LockoutConfig) -> Self {
        Self {
            inner,
            store,
            config,
            failures_recorded: AtomicU64::new(0),
        }
    }

    /// Milliseconds until `email` may try again, if it is backing off now.
    async fn locked_for(&self, email: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT locked_until FROM sign_in_failures WHERE email = $1";
        let until: Option<i64> = with_pool!(&*self.store, read, |p| sqlx::query_scalar(sql)
            .bind(email)
            .fetch_optional(p)
            .await?);
        Ok(until.filter(|u| *u > now).map(|u| u - now))
    }

    /// Count a failure; starts (or lengthens) the back-off at the threshold. Returns the back-off in ms, if any.
    async fn record_failure(&self, email: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let count = "INSERT INTO sign_in_failures (email, failures, last_failure_at, locked_until) \
                     VALUES ($1, 1, $2, 0) ON CONFLICT (email) DO UPDATE SET \
                     failures = CASE WHEN sign_in_failures.last_failure_at < $3 THEN 1 \
                     ELSE sign_in_failures.failures + 1 END, last_failure_at = $2 RETURNING failures";
        let failures: i64 = with_pool!(&*self.store, write, |p| sqlx::query_scalar(count)
            .bind(email)
            .bind(now)
            .bind(now - FORGET_AFTER_MS)
            .fetch_one(p)
            .await?);
        if self
            .failures_recorded
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
        {
            self.prune(now).await?;
        }
        let over = failures - i64::from(self.config.threshold);
        if over < 0 {
            return Ok(None);
        }
        let window = i64::try_from(self.config.window.as_millis()).unwrap_or(i64::MAX / 32);
        let backoff = window.max(1000).saturating_mul(1 << over.min(4));
        let lock = "UPDATE sign_in_failures SET locked_until = $2 WHERE email = $1";
        with_pool!(&*self.store, write, |p| sqlx::query(lock)
            .bind(email)
            .bind(now + backoff)
            .execute(p)
            .await?
            .rows_affected());
        Ok(Some(backoff))
    }

    async fn reset(&self, email: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM sign_in_failures WHERE email = $1";
        with_pool!(&*self.store, write, |p| sqlx::query(sql)
            .bind(email)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Delete counts whose last failure is older than a day and that are not locked.
    async fn prune(&self, now: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM sign_in_failures WHERE last_failure_at < $1 AND locked_until < $2";
        Ok(with_pool!(&*self.store, write, |p| sqlx::query(sql)
            .bind(now - FORGET_AFTER_MS)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected()))
    }
}

fn secs(ms: i64) -> u64 {
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

impl_user_store_around!([U: UserStore] AccountLockout<U>, |this| this.inner, {
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> {
        self.inner.sign_up(email, password).await
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError> {
        if self.config.threshold == 0 {
            return self.inner.sign_in(email, password).await;
        }
        let now = now_ms();
        if let Some(ms) = self.locked_for(email, now).await? {
            return Err(SignInError::LockedOut {
                retry_after_secs: secs(ms),
                started: false,
            });
        }
        match self.inner.sign_in(email, password).await {
            Ok(user) => {
                self.reset(email).await?;
                Ok(user)
            }
            Err(SignInError::WrongCredentials) => match self.record_failure(email, now).await? {
                Some(ms) => Err(SignInError::LockedOut {
                    retry_after_secs: secs(ms),
                    started: true,
                }),
                None => Err(SignInError::WrongCredentials),
            },
            Err(e) => Err(e),
        }
    }

    /// The inner store's change; a new password (set through a reset link) also ends the sign-in back-off.
    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError> {
        let changed = self.inner.set_password(user_id, password).await?;
        if changed && let Some(user) = self.inner.user_by_id(user_id).await? {
            self.reset(&user.email).await?;
        }
        Ok(changed)
    }
});

impl_user_store_around!([] Arc<dyn UserStore>, |this| (**this), {
    async fn sign_up(&self, email: &str, password: &str) -> Result<User, SignUpError> {
        (**self).sign_up(email, password).await
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<User, SignInError> {
        (**self).sign_in(email, password).await
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError> {
        (**self).set_password(user_id, password).await
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(secs(1), 1);
        assert_eq!(secs(1000), 1);
        assert_eq!(secs(1001), 2);
        assert_eq!(secs(0), 1);
    }
}
