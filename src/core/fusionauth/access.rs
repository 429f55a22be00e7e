//! Access tokens: minting them for a user, and the JWT API's validate, issue and vend.

use super::refresh::NewRefresh;
use super::{
    in_scope, Application, Directory, FusionAuth, JwtPolicy, TenantScope, User, EVENT_VEND,
};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::details;
use crate::core::keys::SigningKey;
use crate::core::tokens::{self, Claims, Expectations};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Claims the caller of vend cannot set: "The only 'reserved' claims that cannot be
/// specified are exp and iat."
const VEND_RESERVED: &[&str] = &["exp", "iat"];

/// What an access token says about the login it comes from.
pub(super) struct Grant<'a> {
    pub app: Option<&'a Application>,
    /// The policy whose key signs it.
    pub policy: &'a JwtPolicy,
    pub authentication_type: &'a str,
    /// The refresh token that goes with it.
    pub sid: Option<&'a str>,
    /// Seconds: when the user authenticated, when the token is issued and when it expires.
    /// `iat` is the instant `exp` was computed from, so the lifetime is exact.
    pub auth_time: i64,
    pub iat: i64,
    pub exp: i64,
    /// Set for tokens minted by `/oauth2/token`.
    pub oauth: Option<OAuthClaims<'a>>,
}

/// What an OAuth access token says beyond a Login API one: the tenant's OAuth issuer, the
/// client as audience (registered or not) and the granted scopes.
pub(super) struct OAuthClaims<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Space-separated; left out when empty.
    pub scope: &'a str,
}

/// `/api/jwt/issue`'s answer.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub refresh_token: Option<String>,
    pub registered: bool,
}

fn invalid_application(id: &str) -> CoreError {
    CoreError::invalid_argument("applicationId", format!("No application with id [{id}]"))
}

impl FusionAuth<'_> {
    pub(super) fn signing_key(&self, id: &str) -> CoreResult<Arc<SigningKey>> {
        self.svc.keys.get(id)
    }

    /// Mints a FusionAuth access token for `user` (application claims only when registered).
    pub(super) fn mint_access(
        &self,
        dir: &Directory,
        user: &User,
        grant: Grant<'_>,
    ) -> CoreResult<String> {
        let Grant {
            app,
            policy,
            authentication_type,
            sid,
            auth_time,
            iat,
            exp,
            oauth,
        } = grant;
        let issuer = match &oauth {
            Some(o) => o.issuer.to_string(),
            None => dir
                .tenant(&user.tenant_id)
                .map(|t| t.issuer.clone())
                .unwrap_or_default(),
        };
        let mut claims: Claims = details([
            ("exp", json!(exp)),
            ("iat", json!(iat)),
            ("iss", json!(issuer)),
            ("sub", json!(user.id)),
            ("jti", json!(uuid::Uuid::new_v4().to_string())),
            ("authenticationType", json!(authentication_type)),
            ("email", json!(user.email)),
            ("email_verified", json!(user.verified)),
            ("auth_time", json!(auth_time)),
            ("tid", json!(user.tenant_id)),
        ]);
        if let Some(name) = &user.username {
            claims.insert("preferred_username".into(), json!(name));
        }
        // A user not registered to the application gets no claims for it, `aud` included
        // ("the returned access token will not contain claims for an application").
        if let Some((app, reg)) = app.and_then(|a| user.registration(&a.id).map(|r| (a, r))) {
            claims.insert("aud".into(), json!(app.id));
            claims.insert("applicationId".into(), json!(app.id));
            claims.insert("roles".into(), json!(reg.roles));
        }
        if let Some(sid) = sid {
            claims.insert("sid".into(), json!(sid));
        }
        if let Some(o) = oauth {
            claims.insert("aud".into(), json!(o.client_id));
            if !o.scope.is_empty() {
                claims.insert("scope".into(), json!(o.scope));
            }
        }
        let key = self.signing_key(&policy.signing_key)?;
        tokens::mint(&key, &claims)
    }

    /// The application the caller named, if the caller may see it.
    pub(super) fn scoped_app(
        dir: &Directory,
        id: &str,
        scope: TenantScope<'_>,
    ) -> CoreResult<Application> {
        dir.application(id)
            .filter(|a| in_scope(scope, &a.tenant_id))
            .cloned()
            .ok_or_else(|| invalid_application(id))
    }

    /// `GET /api/jwt/validate`: "the signature is valid and the payload has not been
    /// tampered with and the token is not expired" — signed by a key of this instance (the
    /// `kid` picks it, the key fixes the algorithm), unexpired (a token without `exp` never
    /// expires, as in FusionAuth's JWT library), already valid (`nbf`), whoever its issuer.
    /// A `tid` outside `scope` is refused.
    pub fn validate(&self, token: &str, scope: TenantScope<'_>) -> CoreResult<Claims> {
        let expect = Expectations {
            allow_missing_exp: true,
            ..Default::default()
        };
        let verified = tokens::verify(
            &self.svc.keys.ring(),
            token,
            self.svc.clock.now_secs(),
            &expect,
        )?;
        if let Some(tid) = verified.claim_str("tid") {
            if !in_scope(scope, tid) {
                return Err(CoreError::InvalidToken(
                    "the token belongs to another tenant".into(),
                ));
            }
        }
        Ok(verified.claims)
    }

    /// `GET /api/jwt/issue`: a token for `application_id` in exchange for a valid one.
    pub async fn issue(
        &self,
        jwt: &str,
        application_id: &str,
        refresh_token: Option<&str>,
        scope: TenantScope<'_>,
    ) -> CoreResult<Issued> {
        let claims = self
            .validate(jwt, scope)
            .map_err(|e| CoreError::NotAuthenticated(e.to_string()))?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let user = self
            .user(sub)?
            .ok_or_else(|| CoreError::NotAuthenticated("the token's user does not exist".into()))?;
        let dir = self.directory();
        let app = Self::scoped_app(&dir, application_id, Some(&user.tenant_id))?;
        let default_key = self.default_key();
        let policy = dir.application_policy(&app, &default_key);
        let now = self.svc.clock.now_secs();
        let presented_exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        let exp = now.saturating_add(policy.ttl_secs).min(presented_exp);
        let auth_time = claims
            .get("auth_time")
            .and_then(Value::as_i64)
            .unwrap_or(now);
        let registered = user.registration(&app.id).is_some();
        // "a valid non-expired refresh token" of the same user, for a target application that
        // generates them and has the same expiration policy, yields a new one for the target
        // application (keeping the original's start); anything else is silently ignored, as
        // FusionAuth does. Which login the refresh token came from does not matter.
        let mut new_refresh = None;
        if let Some(presented) = refresh_token {
            if let Some(record) = self.refresh_by_value(presented)? {
                let same_policy = dir
                    .application(&record.application_id)
                    .map(|a| dir.application_policy(a, &default_key).expiration)
                    == Some(policy.expiration);
                if registered
                    && record.user_id == user.id
                    && app.generate_refresh_tokens
                    && same_policy
                {
                    new_refresh = Some(self.new_refresh(NewRefresh {
                        user: &user,
                        application_id: &app.id,
                        policy: &policy,
                        auth_time: record.auth_time,
                        device: record.device.clone(),
                        start_instant: Some(record.start_instant),
                        scopes: record.scopes.clone(),
                    })?);
                }
            }
        }
        let grant = Grant {
            app: Some(&app),
            policy: &policy,
            authentication_type: "JWT_SSO",
            sid: new_refresh.as_ref().map(|r| r.id.as_str()),
            auth_time,
            iat: now,
            exp,
            oauth: None,
        };
        let token = self.mint_access(&dir, &user, grant)?;
        if new_refresh.is_some() {
            self.svc.store.flush().await?;
        }
        self.issue_event(&user, &app.id, "JWT_SSO");
        Ok(Issued {
            token,
            refresh_token: new_refresh.map(|r| r.token),
            registered,
        })
    }

    /// `POST /api/jwt/vend`: caller claims (minus reserved ones) plus `iat`, `exp`, `jti`,
    /// signed with `key_id` or the tenant's access-token key.
    pub fn vend(
        &self,
        claims: Map<String, Value>,
        key_id: Option<&str>,
        ttl: Option<i64>,
        scope: TenantScope<'_>,
    ) -> CoreResult<String> {
        let dir = self.directory();
        let tenant = match scope {
            Some(t) => dir.tenant(t),
            None => dir.tenants.first(),
        };
        let default_key = self.default_key();
        let policy = tenant.map(|t| dir.tenant_policy(t, &default_key));
        let ttl = match ttl {
            None => policy
                .as_ref()
                .map_or(super::DEFAULT_ACCESS_TTL_SECS, |p| p.ttl_secs),
            // "Any integer value greater than 0 is allowed."
            Some(t) if t <= 0 => {
                return Err(CoreError::invalid_argument(
                    "timeToLiveInSeconds",
                    format!("timeToLiveInSeconds must be greater than 0, got {t}"),
                ))
            }
            Some(t) => t,
        };
        let key = match key_id {
            Some(id) => self.svc.keys.ring().get(id).ok_or_else(|| {
                CoreError::invalid_argument("keyId", format!("No key with id [{id}]"))
            })?,
            None => self.signing_key(&policy.map_or(default_key, |p| p.signing_key))?,
        };
        let now = self.svc.clock.now_secs();
        let mut payload: Claims = claims
            .into_iter()
            .filter(|(k, _)| !VEND_RESERVED.contains(&k.as_str()))
            .collect();
        payload.insert("iat".into(), json!(now));
        payload.insert("exp".into(), json!(now.saturating_add(ttl)));
        payload.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        let token = tokens::mint(&key, &payload)?;
        self.event(
            EVENT_VEND,
            true,
            payload
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_string),
            format!("Vended a JWT signed with key {}", key.id),
            details([
                ("keyId", json!(key.id)),
                ("timeToLiveInSeconds", json!(ttl)),
            ]),
        );
        Ok(token)
    }

    /// The key that signs `application_id`'s access tokens (`None`: no such application).
    pub fn application_key(&self, application_id: &str) -> CoreResult<Option<Arc<SigningKey>>> {
        let dir = self.directory();
        match dir.application(application_id) {
            Some(app) => {
                let policy = dir.application_policy(app, &self.default_key());
                Ok(Some(self.signing_key(&policy.signing_key)?))
            }
            None => Ok(None),
        }
    }
}
