//! Access tokens: login, issue, validate, vend and reconcile (External JWT identity provider).

use super::refresh::{IssuedRefresh, NewRefresh};
use super::{
    details, in_scope, Application, Directory, JwtPolicy, Registration, TenantScope, User,
    EVENT_LOGIN_FAILED, EVENT_LOGIN_SUCCESS, EVENT_USER_CREATE, EVENT_VEND,
};
use crate::core::error::{CoreError, CoreResult};
use crate::core::identity::verify_password;
use crate::core::keys::SigningKey;
use crate::core::tokens::{self, Claims, Expectations};
use crate::core::Core;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// Claims the caller of vend cannot set.
const VEND_RESERVED: &[&str] = &["exp", "iat", "amr", "cnf"];

/// What login and reconcile hand back.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub user: User,
    /// False: authenticated but not registered to the requested application (202).
    pub registered: bool,
    pub token: Option<String>,
    /// Milliseconds.
    pub token_expiration_instant: Option<i64>,
    pub refresh: Option<IssuedRefresh>,
}

/// A `/api/login` request, parsed.
#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    pub login_id: String,
    pub password: String,
    pub application_id: Option<String>,
    pub no_jwt: bool,
    pub ip_address: Option<String>,
    pub device: Map<String, Value>,
}

/// A `/api/jwt/reconcile` request, parsed.
#[derive(Debug, Clone, Default)]
pub struct ReconcileRequest {
    pub application_id: String,
    pub identity_provider_id: String,
    pub token: String,
    pub no_jwt: bool,
    pub ip_address: Option<String>,
    pub device: Map<String, Value>,
}

/// `/api/jwt/issue`'s answer.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub refresh_token: Option<String>,
    pub registered: bool,
}

fn tenant_required() -> CoreError {
    CoreError::invalid_argument(
        "[TenantIdRequired]",
        "A Tenant Id is required to complete this request. To complete this request, you may assign a Tenant to your API key, or add the X-FusionAuth-TenantId HTTP request header with the Tenant Id.",
    )
}

fn invalid_application(id: &str) -> CoreError {
    CoreError::invalid_argument("applicationId", format!("No application with id [{id}]"))
}

impl Core {
    pub(crate) fn fa_signing_key(&self, id: &str) -> CoreResult<Arc<SigningKey>> {
        self.key_ring()
            .get(id)
            .ok_or_else(|| CoreError::Internal(format!("signing key {id} is missing")))
    }

    /// Mints a FusionAuth access token for `user` (application claims only when registered).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fa_mint_access(
        &self,
        dir: &Directory,
        user: &User,
        app: Option<&Application>,
        policy: &JwtPolicy,
        authentication_type: &str,
        sid: Option<&str>,
        auth_time: i64,
        exp: i64,
    ) -> CoreResult<String> {
        let now = self.clock.now_secs();
        let issuer = dir
            .tenant(&user.tenant_id)
            .map(|t| t.issuer.clone())
            .unwrap_or_default();
        let mut claims: Claims = details(&[
            ("exp", json!(exp)),
            ("iat", json!(now)),
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
        if let Some(app) = app {
            claims.insert("aud".into(), json!(app.id));
            if let Some(reg) = user.registration(&app.id) {
                claims.insert("applicationId".into(), json!(app.id));
                claims.insert("roles".into(), json!(reg.roles));
            }
        }
        if let Some(sid) = sid {
            claims.insert("sid".into(), json!(sid));
        }
        let key = self.fa_signing_key(&policy.signing_key)?;
        tokens::mint(&key, &claims)
    }

    /// The application the caller named, if the caller may see it.
    fn fa_scoped_app(dir: &Directory, id: &str, scope: TenantScope<'_>) -> CoreResult<Application> {
        dir.application(id)
            .filter(|a| in_scope(scope, &a.tenant_id))
            .cloned()
            .ok_or_else(|| invalid_application(id))
    }

    /// `POST /api/login`. `authenticated`: a valid API key came with the request.
    pub async fn fa_login(
        &self,
        req: LoginRequest,
        scope: TenantScope<'_>,
        authenticated: bool,
    ) -> CoreResult<LoginOutcome> {
        let dir = self.fa_directory();
        let app = match &req.application_id {
            Some(id) => Some(Self::fa_scoped_app(&dir, id, scope)?),
            None => None,
        };
        let tenant_id = match (scope, &app) {
            (_, Some(a)) => a.tenant_id.clone(),
            (Some(t), None) => t.to_string(),
            (None, None) if dir.tenants.len() == 1 => dir
                .tenants
                .first()
                .map(|t| t.id.clone())
                .unwrap_or_default(),
            (None, None) => return Err(tenant_required()),
        };
        if app.as_ref().is_some_and(|a| a.require_authentication) && !authenticated {
            return Err(CoreError::NotAuthenticated(
                "this application requires an API key to use the Login API".into(),
            ));
        }
        let user = self
            .fa_user_by_login(&tenant_id, &req.login_id)?
            .filter(|u| {
                u.active
                    && u.password_hash
                        .as_deref()
                        .is_some_and(|h| verify_password(&req.password, h))
            });
        let Some(user) = user else {
            self.fa_event(
                EVENT_LOGIN_FAILED,
                false,
                Some(req.login_id.clone()),
                format!("Login failed for [{}]", req.login_id),
                details(&[
                    ("tenantId", json!(tenant_id)),
                    ("applicationId", json!(req.application_id)),
                ]),
            );
            return Err(CoreError::InvalidCredentials(
                "The user was not found or the password was incorrect".into(),
            ));
        };
        let outcome = self
            .fa_sign_in(
                &dir,
                user,
                app.as_ref(),
                "PASSWORD",
                req.no_jwt,
                req.device,
                req.ip_address,
            )
            .await?;
        self.fa_event(
            EVENT_LOGIN_SUCCESS,
            true,
            Some(outcome.user.email.clone()),
            format!("User {} logged in", outcome.user.email),
            details(&[
                ("userId", json!(outcome.user.id)),
                ("applicationId", json!(req.application_id)),
                ("authenticationType", json!("PASSWORD")),
                (
                    "refreshTokenId",
                    json!(outcome.refresh.as_ref().map(|r| r.id.clone())),
                ),
            ]),
        );
        Ok(outcome)
    }

    /// Shared tail of login and reconcile: token, refresh token, flush.
    #[allow(clippy::too_many_arguments)]
    async fn fa_sign_in(
        &self,
        dir: &Directory,
        user: User,
        app: Option<&Application>,
        authentication_type: &str,
        no_jwt: bool,
        mut device: Map<String, Value>,
        ip_address: Option<String>,
    ) -> CoreResult<LoginOutcome> {
        let now = self.clock.now_secs();
        let default_key = self.fa_default_key();
        let policy = match app {
            Some(a) => dir.application_policy(a, &default_key),
            None => dir
                .tenant(&user.tenant_id)
                .map(|t| dir.tenant_policy(t, &default_key))
                .ok_or_else(|| {
                    CoreError::Internal(format!("tenant {} is missing", user.tenant_id))
                })?,
        };
        let registered = app.is_none_or(|a| user.registration(&a.id).is_some());
        if no_jwt {
            return Ok(LoginOutcome {
                user,
                registered,
                token: None,
                token_expiration_instant: None,
                refresh: None,
            });
        }
        if let Some(ip) = ip_address {
            device.insert("lastAccessedAddress".into(), json!(ip));
        }
        let refresh = match app {
            Some(a) if registered && a.generate_refresh_tokens => {
                Some(self.fa_new_refresh(NewRefresh {
                    user: &user,
                    application_id: &a.id,
                    policy: &policy,
                    auth_time: now,
                    device,
                    start_instant: None,
                })?)
            }
            _ => None,
        };
        let exp = now.saturating_add(policy.ttl_secs);
        let token = self.fa_mint_access(
            dir,
            &user,
            app,
            &policy,
            authentication_type,
            refresh.as_ref().map(|r| r.id.as_str()),
            now,
            exp,
        )?;
        if refresh.is_some() {
            self.store.flush().await?;
        }
        Ok(LoginOutcome {
            user,
            registered,
            token: Some(token),
            token_expiration_instant: Some(exp.saturating_mul(1000)),
            refresh,
        })
    }

    /// Issuers `/api/jwt/validate` trusts: every tenant's, plus the Horizon Connection
    /// Server name (tokens from `JwtToken_Generate`).
    pub fn fa_trusted_issuers(&self) -> Vec<String> {
        let mut issuers = self.fa_directory().issuers();
        issuers.push(self.horizon_settings().connection_server_name.clone());
        issuers
    }

    /// `GET /api/jwt/validate`: the claims of a token signed by a key of the ring, unexpired,
    /// already valid (`nbf`), from a trusted issuer; a `tid` outside `scope` is refused.
    pub fn fa_validate(&self, token: &str, scope: TenantScope<'_>) -> CoreResult<Claims> {
        let issuers = self.fa_trusted_issuers();
        let expect = Expectations {
            issuers: Some(&issuers),
            ..Default::default()
        };
        let verified = tokens::verify(&self.key_ring(), token, self.clock.now_secs(), &expect)?;
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
    pub async fn fa_issue(
        &self,
        jwt: &str,
        application_id: &str,
        refresh_token: Option<&str>,
        scope: TenantScope<'_>,
    ) -> CoreResult<Issued> {
        let claims = self
            .fa_validate(jwt, scope)
            .map_err(|e| CoreError::NotAuthenticated(e.to_string()))?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let user = self
            .fa_user(sub)?
            .ok_or_else(|| CoreError::NotAuthenticated("the token's user does not exist".into()))?;
        let dir = self.fa_directory();
        let app = Self::fa_scoped_app(&dir, application_id, Some(&user.tenant_id))?;
        let default_key = self.fa_default_key();
        let policy = dir.application_policy(&app, &default_key);
        let now = self.clock.now_secs();
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
        let sid = claims.get("sid").and_then(Value::as_str);
        // A usable refresh token (same user, its id = the JWT's sid, target app issues them,
        // same expiration policy) yields a new one for the target app; anything else is
        // silently ignored, as FusionAuth does.
        let mut new_refresh = None;
        if let Some(presented) = refresh_token {
            if let Some(record) = self.fa_refresh_by_value(presented)? {
                let same_policy = dir
                    .application(&record.application_id)
                    .map(|a| dir.application_policy(a, &default_key).expiration)
                    == Some(policy.expiration);
                if registered
                    && record.user_id == user.id
                    && Some(record.id.as_str()) == sid
                    && app.generate_refresh_tokens
                    && same_policy
                {
                    new_refresh = Some(self.fa_new_refresh(NewRefresh {
                        user: &user,
                        application_id: &app.id,
                        policy: &policy,
                        auth_time: record.auth_time,
                        device: record.device.clone(),
                        start_instant: Some(record.start_instant),
                    })?);
                }
            }
        }
        let token = self.fa_mint_access(
            &dir,
            &user,
            Some(&app),
            &policy,
            "JWT_SSO",
            new_refresh.as_ref().map(|r| r.id.as_str()),
            auth_time,
            exp,
        )?;
        if new_refresh.is_some() {
            self.store.flush().await?;
        }
        self.fa_issue_event(&user, &app.id, "JWT_SSO");
        Ok(Issued {
            token,
            refresh_token: new_refresh.map(|r| r.token),
            registered,
        })
    }

    /// `POST /api/jwt/vend`: caller claims (minus reserved ones) plus `iat`, `exp`, `jti`,
    /// signed with `key_id` or the tenant's access-token key.
    pub fn fa_vend(
        &self,
        claims: Map<String, Value>,
        key_id: Option<&str>,
        ttl: Option<i64>,
        scope: TenantScope<'_>,
    ) -> CoreResult<String> {
        let dir = self.fa_directory();
        let tenant = match scope {
            Some(t) => dir.tenant(t),
            None => dir.tenants.first(),
        };
        let default_key = self.fa_default_key();
        let policy = tenant.map(|t| dir.tenant_policy(t, &default_key));
        let ttl = match ttl {
            None | Some(0) => policy
                .as_ref()
                .map_or(super::DEFAULT_ACCESS_TTL_SECS, |p| p.ttl_secs),
            Some(t) if t < 0 => {
                return Err(CoreError::invalid_argument(
                    "timeToLiveInSeconds",
                    "timeToLiveInSeconds must be positive",
                ))
            }
            Some(t) => t,
        };
        let key = match key_id {
            Some(id) => self.key_ring().get(id).ok_or_else(|| {
                CoreError::invalid_argument("keyId", format!("No key with id [{id}]"))
            })?,
            None => self.fa_signing_key(&policy.map_or(default_key, |p| p.signing_key))?,
        };
        let now = self.clock.now_secs();
        let mut payload: Claims = claims
            .into_iter()
            .filter(|(k, _)| !VEND_RESERVED.contains(&k.as_str()))
            .collect();
        payload.insert("iat".into(), json!(now));
        payload.insert("exp".into(), json!(now.saturating_add(ttl)));
        payload.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        let token = tokens::mint(&key, &payload)?;
        self.fa_event(
            EVENT_VEND,
            true,
            payload
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_string),
            format!("Vended a JWT signed with key {}", key.id),
            details(&[
                ("keyId", json!(key.id)),
                ("timeToLiveInSeconds", json!(ttl)),
            ]),
        );
        Ok(token)
    }

    /// `POST /api/jwt/reconcile`: logs in (creating and registering the user if needed) the
    /// holder of a JWT signed by an External JWT identity provider.
    pub async fn fa_reconcile(
        &self,
        req: ReconcileRequest,
        scope: TenantScope<'_>,
    ) -> CoreResult<LoginOutcome> {
        let dir = self.fa_directory();
        let refused = |why: String| CoreError::NotAuthenticated(why);
        let idp = dir
            .identity_provider(&req.identity_provider_id)
            .ok_or_else(|| {
                refused(format!(
                    "unknown identity provider {}",
                    req.identity_provider_id
                ))
            })?;
        let app = dir
            .application(&req.application_id)
            .filter(|a| in_scope(scope, &a.tenant_id))
            .filter(|a| idp.applications.is_empty() || idp.applications.contains(&a.id))
            .ok_or_else(|| refused(format!("unknown application {}", req.application_id)))?
            .clone();
        let claims = self
            .fa_verify_external(&req.token, &idp.hmac_secret)
            .map_err(|e| refused(e.to_string()))?;
        let unique = claims
            .get(&idp.unique_identity_claim)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                refused(format!(
                    "the token lacks the unique identity claim [{}]",
                    idp.unique_identity_claim
                ))
            })?
            .to_string();
        let now_ms = self.clock.now_ms();
        let existing = self.fa_user_by_login(&app.tenant_id, &unique)?;
        let mut user = match existing {
            Some(u) => u,
            None => {
                let user = User {
                    id: uuid::Uuid::new_v4().to_string(),
                    tenant_id: app.tenant_id.clone(),
                    email: unique.clone(),
                    username: None,
                    password_hash: None,
                    first_name: claims
                        .get("given_name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    last_name: claims
                        .get("family_name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    active: true,
                    verified: true,
                    insert_instant: now_ms,
                    registrations: Vec::new(),
                };
                self.fa_event(
                    EVENT_USER_CREATE,
                    true,
                    Some(user.email.clone()),
                    format!(
                        "User {} created by identity provider {}",
                        user.email, idp.name
                    ),
                    details(&[
                        ("userId", json!(user.id)),
                        ("identityProviderId", json!(idp.id)),
                    ]),
                );
                user
            }
        };
        if user.registration(&app.id).is_none() {
            user.registrations.push(Registration {
                id: uuid::Uuid::new_v4().to_string(),
                application_id: app.id.clone(),
                roles: app.default_roles.clone(),
                insert_instant: now_ms,
            });
        }
        self.fa_put_user(&user)?;
        self.store.flush().await?;
        let outcome = self
            .fa_sign_in(
                &dir,
                user,
                Some(&app),
                "FEDERATED_JWT",
                req.no_jwt,
                req.device,
                req.ip_address,
            )
            .await?;
        self.fa_event(
            EVENT_LOGIN_SUCCESS,
            true,
            Some(outcome.user.email.clone()),
            format!("User {} logged in through {}", outcome.user.email, idp.name),
            details(&[
                ("userId", json!(outcome.user.id)),
                ("applicationId", json!(app.id)),
                ("identityProviderId", json!(idp.id)),
                ("authenticationType", json!("FEDERATED_JWT")),
            ]),
        );
        Ok(outcome)
    }

    /// Verifies an external HS256 token with the provider's secret and the server clock.
    fn fa_verify_external(&self, token: &str, secret: &str) -> CoreResult<Claims> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| CoreError::InvalidToken(format!("the token is malformed: {e}")))?;
        if header.alg != Algorithm::HS256 {
            return Err(CoreError::InvalidToken(
                "the identity provider only accepts HS256 tokens".into(),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .map_err(|e| CoreError::InvalidToken(format!("the token signature is invalid: {e}")))?;
        let now = self.clock.now_secs();
        let num = |name: &str| data.claims.get(name).and_then(Value::as_i64);
        if num("exp").is_some_and(|exp| now >= exp) {
            return Err(CoreError::InvalidToken("the token has expired".into()));
        }
        if num("nbf").is_some_and(|nbf| now < nbf) {
            return Err(CoreError::InvalidToken("the token is not valid yet".into()));
        }
        Ok(data.claims)
    }

    /// The key that signs `application_id`'s access tokens (`None`: no such application).
    pub fn fa_application_key(&self, application_id: &str) -> CoreResult<Option<Arc<SigningKey>>> {
        let dir = self.fa_directory();
        match dir.application(application_id) {
            Some(app) => {
                let policy = dir.application_policy(app, &self.fa_default_key());
                Ok(Some(self.fa_signing_key(&policy.signing_key)?))
            }
            None => Ok(None),
        }
    }
}
