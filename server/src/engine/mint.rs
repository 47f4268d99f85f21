//! Creating sessions and signing their tokens.

use serde_json::{Map, Value};

use super::{NewTokens, SessionEngine, to_text};
use crate::config::AntiCsrf;
use crate::crypto::{millis, now_ms, random_uuid_bytes, uuid_from_bytes};
use crate::error::SessionError;
use crate::hooks::{RevokedSession, SessionMint};
use crate::lineage::{self, RefreshToken};
use crate::store::SessionRow;
use crate::tokens::{self, ClaimsInput};
use crate::transport::{IssuedAccessToken, IssuedRefreshToken, TokenTransfer};

/// A refresh token to mint, and the access token that goes with it.
pub(super) struct Mint<'a> {
    /// The refresh token (already MACed).
    pub(super) refresh_token: String,
    /// Its expiry, ms.
    pub(super) refresh_expires_at: i64,
    /// hash1 of the token it was refreshed from (`None` for a new session).
    pub(super) parent_hash1: Option<String>,
    /// Session handle.
    pub(super) session_handle: &'a str,
    /// When the session was created, ms (its absolute lifetime counts from here).
    pub(super) session_created_at: i64,
    /// User id.
    pub(super) user_id: &'a str,
    /// The app's access-token claims.
    pub(super) payload: &'a Map<String, Value>,
    /// Transport the tokens go out in.
    pub(super) transfer: TokenTransfer,
}

impl SessionEngine {
    pub(super) fn access_lifetime_ms(&self) -> i64 {
        millis(self.inner.config.access_token_lifetime)
    }

    pub(super) fn refresh_lifetime_ms(&self) -> i64 {
        millis(self.inner.config.refresh_token_lifetime)
    }

    /// Sessions created at or before this (ms) have outlived
    /// [`session_max_lifetime`](crate::SessionConfig::session_max_lifetime) at `now`; `i64::MIN` when it is off.
    pub(crate) fn created_after(&self, now: i64) -> i64 {
        self.inner
            .config
            .session_max_lifetime
            .map_or(i64::MIN, |d| now.saturating_sub(millis(d)))
    }

    /// The absolute end (ms) of a session created at `created_at`; `i64::MAX` when there is none.
    pub(crate) fn session_end(&self, created_at: i64) -> i64 {
        self.inner
            .config
            .session_max_lifetime
            .map_or(i64::MAX, |d| created_at.saturating_add(millis(d)))
    }

    /// The anti-CSRF token bound to a refresh token (VIA_TOKEN mode).
    pub(crate) fn anti_csrf_for_refresh_token(&self, token: &str) -> String {
        lineage::anti_csrf_for(&self.inner.refresh_key, token)
    }

    /// Sign an access token with the current signing key (`iat` now, `iss` from the config).
    pub(super) fn issue_access_token(
        &self,
        claims: &ClaimsInput<'_>,
    ) -> Result<IssuedAccessToken, SessionError> {
        let key = self.inner.keys.signing_key()?;
        let claims_map = tokens::build_claims(claims, now_ms() / 1000, &self.inner.config.issuer());
        Ok(IssuedAccessToken {
            token: tokens::sign(&key, &claims_map),
            claims: claims_map,
            user_id: claims.user_id.to_owned(),
            expiry_ms: claims.exp * 1000,
        })
    }

    /// The tokens of `mint`: its refresh token, a fresh access token (expiring no later than the session's
    /// absolute end) and (VIA_TOKEN, cookies) the anti-CSRF token.
    pub(super) fn mint_tokens(&self, mint: Mint<'_>) -> Result<NewTokens, SessionError> {
        let anti_csrf = (mint.transfer == TokenTransfer::Cookie
            && self.inner.config.anti_csrf() == AntiCsrf::ViaToken)
            .then(|| self.anti_csrf_for_refresh_token(&mint.refresh_token));
        let access_token = self.issue_access_token(&ClaimsInput {
            user_id: mint.user_id,
            exp: (now_ms() + self.access_lifetime_ms())
                .min(self.session_end(mint.session_created_at))
                / 1000,
            session_handle: mint.session_handle,
            refresh_token_hash1: &lineage::hash1(&mint.refresh_token),
            parent_refresh_token_hash1: mint.parent_hash1.as_deref(),
            anti_csrf_token: anti_csrf.as_deref(),
            app_claims: mint.payload,
        })?;
        Ok(NewTokens {
            session_handle: mint.session_handle.to_owned(),
            user_id: mint.user_id.to_owned(),
            access_token,
            refresh_token: IssuedRefreshToken {
                token: mint.refresh_token,
                expiry_ms: mint.refresh_expires_at,
            },
            anti_csrf,
            transfer: mint.transfer,
        })
    }

    /// Create a session for `user_id` with public access-token claims and private session data.
    ///
    /// Protected claim names in `access_token_payload` are dropped. Runs the `on_create` hook first; if it fails
    /// nothing is stored.
    pub async fn create_session(
        &self,
        user_id: &str,
        access_token_payload: Map<String, Value>,
        session_data: Map<String, Value>,
        transfer: TokenTransfer,
    ) -> Result<NewTokens, SessionError> {
        let hooks = &self.inner.config.hooks;
        let handle_bytes = random_uuid_bytes();
        let handle = uuid_from_bytes(handle_bytes);
        let mut payload = tokens::strip_protected(&access_token_payload);
        let mut data = session_data;
        hooks
            .on_create(&mut SessionMint {
                user_id,
                session_handle: &handle,
                access_token_lifetime: self.inner.config.access_token_lifetime,
                access_token_payload: &mut payload,
                session_data: &mut data,
            })
            .await?;
        let payload = tokens::strip_protected(&payload);
        let now = now_ms();
        let rt = RefreshToken::new(handle_bytes, None).encode(&self.inner.refresh_key);
        let row = SessionRow {
            session_handle: handle.clone(),
            user_id: user_id.to_owned(),
            current_hash2: lineage::hash2(&rt),
            parent_hash2: None,
            access_token_payload: to_text(&payload),
            session_data: to_text(&data),
            created_at: now,
            expires_at: now + self.refresh_lifetime_ms(),
            version: 0,
        };
        if let Err(e) = self.inner.sessions.insert_session(&row).await {
            // Undo whatever the hook made for this session (e.g. a Fauna token).
            let revoked = RevokedSession {
                session_handle: handle,
                user_id: user_id.to_owned(),
                session_data: data,
            };
            hooks.on_revoke(std::slice::from_ref(&revoked)).await;
            return Err(e.into());
        }
        let tokens = self.mint_tokens(Mint {
            refresh_token: rt,
            refresh_expires_at: row.expires_at,
            parent_hash1: None,
            session_handle: &handle,
            session_created_at: row.created_at,
            user_id,
            payload: &payload,
            transfer,
        })?;
        self.inner.metrics.sessions_created.inc();
        tracing::debug!(session_handle = %handle, "session created");
        Ok(tokens)
    }
}
