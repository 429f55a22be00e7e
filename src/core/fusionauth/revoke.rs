//! Revoking refresh tokens: one by value or id, a user's, an application's, or a user's
//! for one application; racing rotations included.

use super::{in_scope, FusionAuth, RefreshToken, TenantScope, EVENT_REFRESH_REVOKE};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::details;
use crate::core::sweep::{self, Batch};
use serde_json::json;

/// Which tokens a DELETE revokes.
#[derive(Debug, Clone)]
pub enum RevokeTarget {
    Token(String),
    TokenId(String),
    UserAndApplication {
        user_id: String,
        application_id: String,
    },
    User(String),
    Application(String),
}

impl FusionAuth<'_> {
    /// `DELETE /api/jwt/refresh...`. `owner` is the `sub` of a JWT-authenticated caller,
    /// who may revoke only their own tokens, by value or id. Returns how many were revoked.
    pub async fn revoke(
        &self,
        target: RevokeTarget,
        scope: TenantScope<'_>,
        owner: Option<&str>,
    ) -> CoreResult<usize> {
        let not_found = || CoreError::NotFound {
            entity: "refreshToken",
            id: String::new(),
            message: "No such refresh token".into(),
        };
        let dir = self.directory();
        let scoped_app = |id: &str| {
            dir.application(id)
                .filter(|a| in_scope(scope, &a.tenant_id))
                .map(|a| a.id.clone())
                .ok_or_else(|| CoreError::NotFound {
                    entity: "application",
                    id: id.to_string(),
                    message: format!("No application with id [{id}]"),
                })
        };
        let single = matches!(target, RevokeTarget::Token(_) | RevokeTarget::TokenId(_));
        if owner.is_some() && !single {
            return Err(CoreError::NotAuthenticated(
                "a JWT may only revoke one of its own refresh tokens".into(),
            ));
        }
        let (victims, what) = match &target {
            RevokeTarget::Token(t) => {
                let r = self.refresh_by_value(t)?.ok_or_else(not_found)?;
                (vec![r], "token".to_string())
            }
            RevokeTarget::TokenId(id) => {
                let r = self.refresh_by_id(id)?.ok_or_else(not_found)?;
                (vec![r], format!("tokenId {id}"))
            }
            RevokeTarget::UserAndApplication {
                user_id,
                application_id,
            } => {
                let user = self.scoped_user(user_id, scope)?;
                let app = scoped_app(application_id)?;
                let all = self.tokens_of(&user.id)?;
                (
                    all.into_iter()
                        .filter(|r| r.application_id == app)
                        .collect(),
                    format!("userId {user_id} applicationId {application_id}"),
                )
            }
            RevokeTarget::User(user_id) => {
                let user = self.scoped_user(user_id, scope)?;
                (self.tokens_of(&user.id)?, format!("userId {user_id}"))
            }
            RevokeTarget::Application(application_id) => {
                let app = scoped_app(application_id)?;
                let all: Vec<RefreshToken> = self
                    .state
                    .refresh_tokens
                    .all()?
                    .into_iter()
                    .map(|(_, r)| r)
                    .filter(|r| r.application_id == app)
                    .collect();
                (all, format!("applicationId {application_id}"))
            }
        };
        if single {
            let ok = victims
                .iter()
                .all(|r| in_scope(scope, &r.tenant_id) && owner.is_none_or(|o| o == r.user_id));
            if !ok {
                return Err(not_found());
            }
        }
        let fa = self.state;
        let mut revoked: Vec<String> = Vec::new();
        // Remove whatever is stored now (a concurrent refresh may have touched the record:
        // it is revoked all the same).
        for r in &victims {
            if let Some(removed) = fa.refresh_tokens.remove(&r.token_hash)? {
                self.drop_indexes(&removed)?;
                revoked.push(removed.id.clone());
            }
        }
        // A OneTimeUse rotation that committed before a removal above left a successor
        // under the same id; take those too, until no id points at a live token. A rotation
        // needs its predecessor in place, so once the current value is gone the chain ends.
        for _ in 0..32 {
            let mut pending = false;
            for r in &victims {
                let Some(hash) = fa.refresh_ids.get(&r.id)? else {
                    continue;
                };
                match fa.refresh_tokens.remove(&hash)? {
                    Some(removed) => {
                        self.drop_indexes(&removed)?;
                        if !revoked.contains(&removed.id) {
                            revoked.push(removed.id.clone());
                        }
                        pending = true;
                    }
                    // Swapped by a rotation between the two reads: look again.
                    None if fa.refresh_ids.get(&r.id)?.is_some_and(|now| now != hash) => {
                        pending = true;
                    }
                    // A dangling index entry: clear it.
                    None => {
                        fa.refresh_ids.remove_if_unchanged(&r.id, &hash)?;
                    }
                }
            }
            if !pending {
                break;
            }
        }
        if single && revoked.is_empty() {
            return Err(not_found());
        }
        self.svc.store.flush().await?;
        self.event(
            EVENT_REFRESH_REVOKE,
            true,
            victims.first().map(|r| r.user_id.clone()),
            format!("Revoked {} refresh token(s) by {what}", revoked.len()),
            details([("refreshTokenIds", json!(revoked))]),
        );
        Ok(revoked.len())
    }

    /// Removes expired refresh tokens (and their id and user indexes, as a revocation
    /// does) among at most `limit` after the key `after` (sweeper). A token refreshed
    /// meanwhile (SlidingWindow moves its expiry) is left alone.
    pub fn sweep_refresh_tokens(
        &self,
        now: i64,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<Batch> {
        sweep::table(
            &self.state.refresh_tokens,
            after,
            limit,
            |r| r.expiration_instant <= now,
            |r| self.drop_indexes(r),
        )
    }
}
