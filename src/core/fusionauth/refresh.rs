//! Refresh tokens: opaque random strings, keyed by their SHA-256 (hex) with the user,
//! application, tenant, instants and device metadata, and the value itself (the Retrieve
//! API returns it, as FusionAuth does); indexed by id and by user. Reusable or
//! OneTimeUse (rotation by an atomic compare-and-swap: of concurrent refreshes exactly one
//! wins), Fixed or SlidingWindow expiry, per the application's effective policy.

use super::access::Grant;
use super::{
    in_scope, sha256_hex, Application, Directory, FusionAuth, JwtPolicy, TenantScope, User,
    EVENT_ISSUE, EVENT_REFRESH,
};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::details;
use crate::spec::fusionauth::{ExpirationPolicy, UsagePolicy};
use crate::store::Page;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Random bytes in a refresh token (64 URL-safe characters, like recent FusionAuth).
const REFRESH_TOKEN_BYTES: usize = 48;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefreshToken {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub application_id: String,
    pub tenant_id: String,
    /// Milliseconds; moves on refresh under SlidingWindow.
    pub start_instant: i64,
    pub insert_instant: i64,
    /// Milliseconds; computed from the policy at issue and on every refresh.
    pub expiration_instant: i64,
    /// Seconds: when the user originally authenticated (`auth_time`).
    pub auth_time: i64,
    /// `metaData.device` (description, name, type, lastAccessedAddress, lastAccessedInstant).
    #[serde(default)]
    pub device: Map<String, Value>,
    /// `metaData.scopes`: the OAuth scopes granted with it (none for the Login API).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The token's value ("the string representation of the encoded Refresh Token"); absent
    /// in records stored before vlsim kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A refresh token handed to a client.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    pub token: String,
    pub id: String,
    /// Seconds until it expires (the cookie's Max-Age).
    pub max_age_secs: i64,
}

/// A `/api/jwt/refresh` request.
#[derive(Debug, Clone, Default)]
pub struct RefreshRequest {
    /// The refresh token presented.
    pub token: String,
    pub ttl_override: Option<i64>,
    /// The previous access token, relayed in the `jwt.refresh` event's `original`.
    pub original: Option<String>,
    /// The client's address, kept as `metaData.device.lastAccessedAddress`.
    pub client_ip: Option<String>,
    /// The OAuth refresh grant: the token must belong to this application (client)...
    pub application_id: Option<String>,
    /// ...and may only ask for scopes it was granted.
    pub scopes: Option<Vec<String>>,
}

/// A refresh token after a successful [`FusionAuth::rotate`].
pub(super) struct Rotation {
    pub next: RefreshToken,
    pub user: User,
    pub app: Application,
    pub policy: JwtPolicy,
    /// The value to hand back (new under OneTimeUse).
    pub token_value: String,
    pub auth_time: i64,
    pub now_ms: i64,
    pub now_secs: i64,
    /// Seconds the new access token lives.
    pub ttl: i64,
}

impl Rotation {
    pub fn issued(&self) -> IssuedRefresh {
        IssuedRefresh {
            token: self.token_value.clone(),
            id: self.next.id.clone(),
            max_age_secs: self
                .next
                .expiration_instant
                .saturating_sub(self.now_ms)
                .div_euclid(1000),
        }
    }
}

/// The `InvalidArgument` field of a refresh asking for scopes its token was not granted.
pub const SCOPE_NOT_GRANTED: &str = "[invalid]scope";

/// What `/api/jwt/refresh` returns.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub access_token: String,
    pub refresh: IssuedRefresh,
}

fn invalid_refresh() -> CoreError {
    CoreError::invalid_argument("refreshToken", "The refreshToken is invalid.")
}

fn user_index_key(user_id: &str, token_id: &str) -> String {
    format!("{user_id}/{token_id}")
}

pub struct NewRefresh<'a> {
    pub user: &'a User,
    pub application_id: &'a str,
    pub policy: &'a JwtPolicy,
    pub auth_time: i64,
    pub device: Map<String, Value>,
    /// Keep this start instant (issue keeps the original's).
    pub start_instant: Option<i64>,
    /// OAuth scopes granted with it.
    pub scopes: Vec<String>,
}

impl FusionAuth<'_> {
    /// Creates and stores a refresh token (not flushed: the caller flushes before answering).
    pub fn new_refresh(&self, new: NewRefresh<'_>) -> CoreResult<IssuedRefresh> {
        let now = self.svc.clock.now_ms();
        let token = crate::core::identity::random_token(REFRESH_TOKEN_BYTES);
        let start = new.start_instant.unwrap_or(now);
        let mut device = new.device;
        device.insert("lastAccessedInstant".into(), json!(now));
        let record = RefreshToken {
            id: uuid::Uuid::new_v4().to_string(),
            token_hash: sha256_hex(&token),
            user_id: new.user.id.clone(),
            application_id: new.application_id.to_string(),
            tenant_id: new.user.tenant_id.clone(),
            start_instant: start,
            insert_instant: now,
            expiration_instant: start.saturating_add(new.policy.refresh_ttl_ms()),
            auth_time: new.auth_time,
            device,
            scopes: new.scopes,
            token: Some(token.clone()),
        };
        let fa = self.state;
        // The token and its two indexes land together or not at all, even across a crash:
        // a token missing from the by-user index would escape a revoke-by-user.
        self.svc.store.transact(&[
            fa.refresh_tokens.put_op(&record.token_hash, &record)?,
            fa.refresh_ids.put_op(&record.id, &record.token_hash)?,
            fa.refresh_by_user.put_op(
                user_index_key(&record.user_id, &record.id),
                &record.token_hash,
            )?,
        ])?;
        Ok(IssuedRefresh {
            token,
            id: record.id.clone(),
            max_age_secs: record
                .expiration_instant
                .saturating_sub(now)
                .div_euclid(1000),
        })
    }

    /// A live (unexpired) refresh token by its value.
    pub fn refresh_by_value(&self, token: &str) -> CoreResult<Option<RefreshToken>> {
        let record = self
            .state
            .refresh_tokens
            .get(sha256_hex(token))?
            .filter(|r| r.expiration_instant > self.svc.clock.now_ms());
        Ok(record)
    }

    /// The user id of a live refresh token (logout's `global`).
    pub fn refresh_owner(&self, token: &str) -> CoreResult<Option<String>> {
        Ok(self.refresh_by_value(token)?.map(|r| r.user_id))
    }

    pub(super) fn refresh_by_id(&self, id: &str) -> CoreResult<Option<RefreshToken>> {
        let Some(hash) = self.state.refresh_ids.get(id)? else {
            return Ok(None);
        };
        let now = self.svc.clock.now_ms();
        Ok(self
            .state
            .refresh_tokens
            .get(hash)?
            .filter(|r| r.id == id && r.expiration_instant > now))
    }

    pub(super) fn drop_indexes(&self, record: &RefreshToken) -> CoreResult<()> {
        let fa = self.state;
        // Only drop the id index if it still points at this value (not a rotated successor).
        fa.refresh_ids
            .remove_if_unchanged(&record.id, &record.token_hash)?;
        fa.refresh_by_user.remove_if_unchanged(
            user_index_key(&record.user_id, &record.id),
            &record.token_hash,
        )?;
        Ok(())
    }

    /// `POST /api/jwt/refresh`: a new access token (and, under OneTimeUse, a new refresh
    /// token with the same id). Flushed before it returns.
    pub async fn refresh(
        &self,
        request: RefreshRequest,
        scope: TenantScope<'_>,
    ) -> CoreResult<Refreshed> {
        let dir = self.directory();
        let rotation = self.rotate(&dir, &request, scope)?;
        let Rotation {
            ref next,
            ref user,
            ref app,
            ref policy,
            auth_time,
            now_secs,
            ttl,
            ..
        } = rotation;
        let grant = Grant {
            app: Some(app),
            policy,
            authentication_type: "REFRESH_TOKEN",
            sid: Some(&next.id),
            auth_time,
            iat: now_secs,
            exp: now_secs.saturating_add(ttl),
            oauth: None,
        };
        let access_token = self.mint_access(&dir, user, grant)?;
        self.svc.store.flush().await?;
        self.refresh_event(&rotation, request.original);
        Ok(Refreshed {
            access_token,
            refresh: rotation.issued(),
        })
    }

    /// Records FusionAuth's `jwt.refresh` event for a rotation.
    pub(super) fn refresh_event(&self, rotation: &Rotation, original: Option<String>) {
        let next = &rotation.next;
        let mut event = details([
            ("refreshTokenId", json!(next.id)),
            ("applicationId", json!(next.application_id)),
            ("userId", json!(rotation.user.id)),
            (
                "rotated",
                json!(rotation.policy.usage == UsagePolicy::OneTimeUse),
            ),
        ]);
        // "When provided on the request, this value will be relayed in the related JWT Refresh
        // webhook event within the original field."
        if let Some(original) = original {
            event.insert("original".into(), json!(original));
        }
        self.event(
            EVENT_REFRESH,
            true,
            Some(rotation.user.email.clone()),
            format!("Refresh token {} exchanged for a new access token", next.id),
            event,
        );
    }

    /// The stored half of a refresh: checks the presented token (and, for the OAuth grant,
    /// its application and scopes), moves its window and last-access data, and under
    /// OneTimeUse swaps its value. Not flushed: the caller mints, flushes and answers.
    pub(super) fn rotate(
        &self,
        dir: &Directory,
        request: &RefreshRequest,
        scope: TenantScope<'_>,
    ) -> CoreResult<Rotation> {
        let presented = request.token.as_str();
        let ttl_override = request.ttl_override;
        let now = self.svc.clock.now_ms();
        let hash = sha256_hex(presented);
        let fa = self.state;
        let Some(stored) = fa.refresh_tokens.get_stored(&hash)? else {
            return Err(invalid_refresh());
        };
        let record = &stored.value;
        if !in_scope(scope, &record.tenant_id) {
            return Err(invalid_refresh());
        }
        if record.expiration_instant <= now {
            // Expired: forget it (best effort; a concurrent refresh may have taken it).
            if fa.refresh_tokens.remove_if_unchanged(&hash, record)? {
                self.drop_indexes(record)?;
            }
            return Err(invalid_refresh());
        }
        if request
            .application_id
            .as_ref()
            .is_some_and(|a| *a != record.application_id)
        {
            return Err(invalid_refresh());
        }
        if let Some(wanted) = &request.scopes {
            if wanted.iter().any(|s| !record.scopes.contains(s)) {
                return Err(CoreError::invalid_argument(
                    SCOPE_NOT_GRANTED,
                    "The scope provided is different than the scope used to generate the refresh token.",
                ));
            }
        }
        let app = dir
            .application(&record.application_id)
            .ok_or_else(invalid_refresh)?
            .clone();
        if !app.allow_token_refresh {
            return Err(CoreError::invalid_argument(
                "[disabled]refreshToken",
                "Refreshing tokens is disabled for this application.",
            ));
        }
        let policy = dir.application_policy(&app, &self.default_key());
        let ttl = match ttl_override {
            None | Some(0) => policy.ttl_secs,
            Some(t) if t < 0 || t > policy.ttl_secs => {
                return Err(CoreError::invalid_argument(
                    "timeToLiveInSeconds",
                    format!(
                        "timeToLiveInSeconds must be between 1 and {}",
                        policy.ttl_secs
                    ),
                ))
            }
            Some(t) => t,
        };
        let user = self.user(&record.user_id)?.ok_or(CoreError::NotFound {
            entity: "user",
            id: record.user_id.clone(),
            message: "The user of this refresh token no longer exists".into(),
        })?;

        let mut next = record.clone();
        next.device.insert("lastAccessedInstant".into(), json!(now));
        if let Some(ip) = &request.client_ip {
            next.device.insert("lastAccessedAddress".into(), json!(ip));
        }
        if policy.expiration == ExpirationPolicy::SlidingWindow {
            next.start_instant = now;
            next.expiration_instant = now.saturating_add(policy.refresh_ttl_ms());
        }
        let token_value = match policy.usage {
            UsagePolicy::OneTimeUse => {
                let fresh = crate::core::identity::random_token(REFRESH_TOKEN_BYTES);
                next.token_hash = sha256_hex(&fresh);
                next.token = Some(fresh.clone());
                // The atomic take and rotation: exactly one concurrent caller finds the old
                // value still in place; the old value goes and the new one with its
                // indexes arrives in one transaction.
                let rotated = self.svc.store.transact(&[
                    fa.refresh_tokens.expect_op(&hash, record)?,
                    fa.refresh_tokens.remove_op(&hash),
                    fa.refresh_tokens.put_op(&next.token_hash, &next)?,
                    fa.refresh_ids.put_op(&next.id, &next.token_hash)?,
                    fa.refresh_by_user
                        .put_op(user_index_key(&next.user_id, &next.id), &next.token_hash)?,
                ])?;
                if !rotated {
                    return Err(invalid_refresh());
                }
                fresh
            }
            UsagePolicy::Reusable => {
                // Losing this race to another refresh is fine (it wrote the same facts);
                // losing it to a revocation is not.
                if !fa.refresh_tokens.replace_stored(&hash, &stored, &next)?
                    && fa.refresh_tokens.get(&hash)?.is_none()
                {
                    return Err(invalid_refresh());
                }
                presented.to_string()
            }
        };
        Ok(Rotation {
            auth_time: record.auth_time,
            next,
            user,
            app,
            policy,
            token_value,
            now_ms: now,
            now_secs: now.div_euclid(1000),
            ttl,
        })
    }

    /// A page of refresh tokens in key order after the key `after` (state dump).
    pub fn refresh_token_page(
        &self,
        after: Option<&[u8]>,
        limit: usize,
    ) -> CoreResult<Page<RefreshToken>> {
        Ok(self.state.refresh_tokens.page(after, limit)?)
    }

    /// `GET /api/jwt/refresh/{tokenId}`.
    pub fn retrieve_refresh(&self, id: &str, scope: TenantScope<'_>) -> CoreResult<RefreshToken> {
        self.refresh_by_id(id)?
            .filter(|r| in_scope(scope, &r.tenant_id))
            .ok_or_else(|| CoreError::NotFound {
                entity: "refreshToken",
                id: id.to_string(),
                message: "No such refresh token".into(),
            })
    }

    /// `GET /api/jwt/refresh?userId=`: the user's live tokens.
    pub fn user_refresh_tokens(
        &self,
        user_id: &str,
        scope: TenantScope<'_>,
    ) -> CoreResult<Vec<RefreshToken>> {
        // The seed lists no 404 for this call: a user that does not exist (or is in another
        // tenant) simply has no refresh tokens.
        match self.scoped_user(user_id, scope) {
            Ok(user) => self.tokens_of(&user.id),
            Err(CoreError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub(super) fn tokens_of(&self, user_id: &str) -> CoreResult<Vec<RefreshToken>> {
        let now = self.svc.clock.now_ms();
        let mut out = Vec::new();
        let fa = self.state;
        for (key, first) in fa.refresh_by_user.scan_prefix(format!("{user_id}/"))? {
            // A OneTimeUse rotation may swap the token between reading the index and reading
            // the record (it replaces both atomically): follow the index to the new value.
            let mut hash = first;
            for _ in 0..8 {
                if let Some(r) = fa.refresh_tokens.get(&hash)? {
                    if r.expiration_instant > now {
                        out.push(r);
                    }
                    break;
                }
                match fa.refresh_by_user.get(&key)? {
                    Some(current) if current != hash => hash = current,
                    _ => break,
                }
            }
        }
        out.sort_by_key(|r| r.insert_instant);
        Ok(out)
    }

    /// Records vlsim's `jwt.issue` event (FusionAuth has none for this).
    pub(super) fn issue_event(&self, user: &User, application_id: &str, kind: &str) {
        self.event(
            EVENT_ISSUE,
            true,
            Some(user.email.clone()),
            format!(
                "Access token issued to {} for application {application_id} ({kind})",
                user.email
            ),
            details([
                ("userId", json!(user.id)),
                ("applicationId", json!(application_id)),
                ("authenticationType", json!(kind)),
            ]),
        );
    }
}
