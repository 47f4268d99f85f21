//! Per-account back-off against password guessing, that strangers cannot turn on the account's owner.
//!
//! Failed sign-ins are counted **in the session database** (so every instance sharing PostgreSQL sees one
//! count), per email and *source*:
//!
//! - a device that signed in to the account before (a verified device cookie, see
//!   [`SignInSource::device`]) has a count of its own, and only its own failures lock it;
//! - any other attempt counts for its client address (IPv6: its /64) **and** for the account as a whole.
//!   [`LockoutConfig::threshold`] failures from one address lock that address out of the account;
//!   [`LockoutConfig::account_threshold`] failures from all of them together lock every address without a
//!   device cookie out of it.
//!
//! While locked, a sign-in from that source answers `429` with `Retry-After` even with the right password. So
//! one wrong guess every so often from anywhere keeps strangers out, but never the user's own devices: their
//! count never sees the strangers' failures. A success resets its own source's counts; a new password (reset
//! link) resets every count of the account. Unknown emails are counted like known ones, so a lockout does not
//! reveal whether an account exists.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::crypto::now_ms;
use crate::store::{SqlStore, StoreError, with_pool};
use crate::users::{
    PasswordChangeError, SignInError, SignInSource, SignUpError, User, UserStore,
    impl_user_store_around,
};

/// When an account backs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutConfig {
    /// Consecutive failed sign-ins from one source (a client address, or a known device) that lock that source
    /// out of the account (default 10; `0` disables the lockout).
    pub threshold: u32,
    /// Failed sign-ins from all sources without a device cookie together that lock all of them out of the
    /// account (default 50); known devices still sign in.
    pub account_threshold: u32,
    /// The first back-off window (default 5 min); each further failure after a window doubles it, up to
    /// 16 times the window.
    pub window: Duration,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            threshold: 10,
            account_threshold: 50,
            window: Duration::from_secs(300),
        }
    }
}

/// A count is forgotten this long after its last failure (and the row pruned), unless still locked.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;
/// How often (in recorded failures, per instance) forgotten rows are deleted.
const PRUNE_EVERY: u64 = 256;
/// The source of the whole account's count (attempts without a device cookie).
const ACCOUNT: &str = "*";

/// The counts an attempt is checked against and adds to, with their thresholds.
fn counts(from: &SignInSource, config: &LockoutConfig) -> Vec<(String, u32)> {
    if let Some(device) = &from.device {
        return vec![(format!("device:{device}"), config.threshold)];
    }
    // Counted as the per-IP rate limits count clients: IPv6 by its /64.
    let address = match from.ip.map(crate::throttle::client_key) {
        Some(IpAddr::V6(net)) => format!("ip:{net}/64"),
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".to_owned(),
    };
    let mut counts = vec![(address, config.threshold)];
    if config.account_threshold > 0 {
        counts.push((ACCOUNT.to_owned(), config.account_threshold));
    }
    counts
}

/// A [`UserStore`] wrapper that counts failed sign-ins per email and source in a [`SqlStore`] and refuses
/// sign-ins from a source during its back-off with [`SignInError::LockedOut`]. Sign-ins through
/// [`UserStore::sign_in`] (no source) count as from an unknown address.
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

    /// Milliseconds until `email` may try again from `source`, if that source is backing off now.
    async fn locked_for(
        &self,
        email: &str,
        source: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT locked_until FROM sign_in_failures WHERE email = $1 AND source = $2";
        let until: Option<i64> = with_pool!(&*self.store, read, |p| sqlx::query_scalar(sql)
            .bind(email)
            .bind(source)
            .fetch_optional(p)
            .await?);
        Ok(until.filter(|u| *u > now).map(|u| u - now))
    }

    /// Count a failure of `source`; starts (or lengthens) its back-off at `threshold`. Returns the back-off in
    /// ms, if any.
    async fn record_failure(
        &self,
        email: &str,
        source: &str,
        threshold: u32,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let count = "INSERT INTO sign_in_failures (email, source, failures, last_failure_at, locked_until) \
                     VALUES ($1, $2, 1, $3, 0) ON CONFLICT (email, source) DO UPDATE SET \
                     failures = CASE WHEN sign_in_failures.last_failure_at < $4 THEN 1 \
                     ELSE sign_in_failures.failures + 1 END, last_failure_at = $3 RETURNING failures";
        let failures: i64 = with_pool!(&*self.store, write, |p| sqlx::query_scalar(count)
            .bind(email)
            .bind(source)
            .bind(now)
            .bind(now - FORGET_AFTER_MS)
            .fetch_one(p)
            .await?);
        let over = failures - i64::from(threshold);
        if over < 0 {
            return Ok(None);
        }
        let window = i64::try_from(self.config.window.as_millis()).unwrap_or(i64::MAX / 32);
        let backoff = window.max(1000).saturating_mul(1 << over.min(4));
        let lock = "UPDATE sign_in_failures SET locked_until = $3 WHERE email = $1 AND source = $2";
        with_pool!(&*self.store, write, |p| sqlx::query(lock)
            .bind(email)
            .bind(source)
            .bind(now + backoff)
            .execute(p)
            .await?
            .rows_affected());
        Ok(Some(backoff))
    }

    /// Forget the counts of `source` (`None`: every count of the account).
    async fn reset(&self, email: &str, source: Option<&str>) -> Result<(), StoreError> {
        match source {
            Some(source) => {
                let sql = "DELETE FROM sign_in_failures WHERE email = $1 AND source = $2";
                with_pool!(&*self.store, write, |p| sqlx::query(sql)
                    .bind(email)
                    .bind(source)
                    .execute(p)
                    .await?
                    .rows_affected());
            }
            None => {
                let sql = "DELETE FROM sign_in_failures WHERE email = $1";
                with_pool!(&*self.store, write, |p| sqlx::query(sql)
                    .bind(email)
                    .execute(p)
                    .await?
                    .rows_affected());
            }
        }
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

    async fn guarded_sign_in(
        &self,
        email: &str,
        password: &str,
        from: &SignInSource,
    ) -> Result<User, SignInError> {
        if self.config.threshold == 0 {
            return self.inner.sign_in_from(email, password, from).await;
        }
        let now = now_ms();
        let counts = counts(from, &self.config);
        let mut locked = None;
        for (source, _) in &counts {
            locked = locked.max(self.locked_for(email, source, now).await?);
        }
        if let Some(ms) = locked {
            return Err(SignInError::LockedOut {
                retry_after_secs: secs(ms),
                started: false,
            });
        }
        match self.inner.sign_in_from(email, password, from).await {
            Ok(user) => {
                for (source, _) in &counts {
                    self.reset(email, Some(source)).await?;
                }
                Ok(user)
            }
            Err(SignInError::WrongCredentials) => {
                let mut backoff = None;
                for (source, threshold) in &counts {
                    backoff =
                        backoff.max(self.record_failure(email, source, *threshold, now).await?);
                }
                if self
                    .failures_recorded
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(PRUNE_EVERY)
                {
                    self.prune(now).await?;
                }
                match backoff {
                    Some(ms) => Err(SignInError::LockedOut {
                        retry_after_secs: secs(ms),
                        started: true,
                    }),
                    None => Err(SignInError::WrongCredentials),
                }
            }
            Err(e) => Err(e),
        }
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
        self.guarded_sign_in(email, password, &SignInSource::default())
            .await
    }

    async fn sign_in_from(
        &self,
        email: &str,
        password: &str,
        from: &SignInSource,
    ) -> Result<User, SignInError> {
        self.guarded_sign_in(email, password, from).await
    }

    /// The inner store's change; a new password (set through a reset link) also ends every back-off of the
    /// account.
    async fn set_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<bool, PasswordChangeError> {
        let changed = self.inner.set_password(user_id, password).await?;
        if changed && let Some(user) = self.inner.user_by_id(user_id).await? {
            self.reset(&user.email, None).await?;
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

    async fn sign_in_from(
        &self,
        email: &str,
        password: &str,
        from: &SignInSource,
    ) -> Result<User, SignInError> {
        (**self).sign_in_from(email, password, from).await
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
    fn devices_count_alone_strangers_by_address_and_together() {
        let config = LockoutConfig::default();
        let device = SignInSource::new(Some("198.51.100.7".parse().unwrap()), Some("d1".into()));
        assert_eq!(counts(&device, &config), vec![("device:d1".to_owned(), 10)]);
        let stranger = SignInSource::new(Some("2001:db8:1:2:3:4:5:6".parse().unwrap()), None);
        assert_eq!(
            counts(&stranger, &config),
            vec![
                ("ip:2001:db8:1:2::/64".to_owned(), 10),
                ("*".to_owned(), 50)
            ]
        );
        let unknown = LockoutConfig {
            account_threshold: 0,
            ..config
        };
        assert_eq!(
            counts(&SignInSource::default(), &unknown),
            vec![("ip:unknown".to_owned(), 10)]
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(secs(1), 1);
        assert_eq!(secs(1000), 1);
        assert_eq!(secs(1001), 2);
        assert_eq!(secs(0), 1);
    }
}
