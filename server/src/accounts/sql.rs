//! [`AccountStore`] on [`SqlStore`]: tables `account_tokens`, `verified_emails`, `session_devices`
//! (migration `20261201000002_accounts.sql`).

use sqlx::Row as _;

use super::store::{AccountStore, DeviceRow, TokenPurpose, TokenRow, UserSession};
use crate::store::{SqlStore, StoreError, with_pool};

fn purpose_from(s: &str) -> Result<TokenPurpose, StoreError> {
    match s {
        "password_reset" => Ok(TokenPurpose::PasswordReset),
        "email_verification" => Ok(TokenPurpose::EmailVerification),
        other => Err(StoreError::Corrupt(format!("token purpose {other:?}"))),
    }
}

#[async_trait::async_trait]
impl AccountStore for SqlStore {
    async fn insert_token(&self, t: &TokenRow, now: i64) -> Result<(), StoreError> {
        let purge = "DELETE FROM account_tokens WHERE expires_at <= $1";
        let insert = "INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at) \
                      VALUES ($1, $2, $3, $4, $5)";
        with_pool!(self, write, |p| {
            sqlx::query(purge).bind(now).execute(p).await?;
            sqlx::query(insert)
                .bind(&t.token_hash)
                .bind(t.purpose.as_str())
                .bind(&t.user_id)
                .bind(&t.email)
                .bind(t.expires_at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    async fn consume_token(
        &self,
        purpose: TokenPurpose,
        hash: &str,
    ) -> Result<Option<TokenRow>, StoreError> {
        // One statement: the presented token and its siblings go together, so two racing uses cannot both win.
        let sql = "DELETE FROM account_tokens WHERE purpose = $1 AND user_id = \
                   (SELECT user_id FROM account_tokens WHERE token_hash = $2 AND purpose = $1) \
                   RETURNING token_hash, purpose, user_id, email, expires_at";
        with_pool!(self, write, |p| {
            let rows = sqlx::query(sql)
                .bind(purpose.as_str())
                .bind(hash)
                .fetch_all(p)
                .await?;
            for r in rows {
                let token_hash: String = r.try_get(0)?;
                if token_hash == hash {
                    return Ok(Some(TokenRow {
                        token_hash,
                        purpose: purpose_from(&r.try_get::<String, _>(1)?)?,
                        user_id: r.try_get(2)?,
                        email: r.try_get(3)?,
                        expires_at: r.try_get(4)?,
                    }));
                }
            }
            Ok(None)
        })
    }

    async fn mark_email_verified(
        &self,
        user_id: &str,
        email: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO verified_emails (user_id, email, verified_at) VALUES ($1, $2, $3) \
                   ON CONFLICT DO NOTHING";
        with_pool!(self, write, |p| sqlx::query(sql)
            .bind(user_id)
            .bind(email)
            .bind(now)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn is_email_verified(&self, user_id: &str, email: &str) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM verified_emails WHERE user_id = $1 AND email = $2";
        with_pool!(self, read, |p| Ok(sqlx::query(sql)
            .bind(user_id)
            .bind(email)
            .fetch_optional(p)
            .await?
            .is_some()))
    }

    async fn insert_device(&self, d: &DeviceRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO session_devices (session_handle, user_agent, ip, last_active) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
        with_pool!(self, write, |p| sqlx::query(sql)
            .bind(&d.session_handle)
            .bind(&d.user_agent)
            .bind(&d.ip)
            .bind(d.last_active)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn touch_device(&self, session_handle: &str, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE session_devices SET last_active = $1 WHERE session_handle = $2";
        with_pool!(self, write, |p| sqlx::query(sql)
            .bind(now)
            .bind(session_handle)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn user_sessions(&self, user_id: &str, now: i64) -> Result<Vec<UserSession>, StoreError> {
        let sql = "SELECT s.session_handle, s.created_at, s.expires_at, d.user_agent, d.ip, d.last_active \
                   FROM sessions s LEFT JOIN session_devices d ON d.session_handle = s.session_handle \
                   WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at, s.session_handle";
        with_pool!(self, read, |p| {
            let rows = sqlx::query(sql)
                .bind(user_id)
                .bind(now)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    let session_handle: String = r.try_get(0)?;
                    let user_agent: Option<String> = r.try_get(3)?;
                    let device = match user_agent {
                        Some(user_agent) => Some(DeviceRow {
                            session_handle: session_handle.clone(),
                            user_agent,
                            ip: r.try_get(4)?,
                            last_active: r.try_get(5)?,
                        }),
                        None => None,
                    };
                    Ok(UserSession {
                        session_handle,
                        created_at: r.try_get(1)?,
                        expires_at: r.try_get(2)?,
                        device,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }

    async fn session_user(
        &self,
        session_handle: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT user_id FROM sessions WHERE session_handle = $1 AND expires_at > $2";
        Ok(self.texts(sql, session_handle, now).await?.pop())
    }
}
