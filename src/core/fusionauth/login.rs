//! Signing users in: the Login API (password) and reconcile (a JWT from an External JWT
//! identity provider), sharing one tail that mints the access and refresh tokens.

use super::access::Grant;
use super::refresh::{IssuedRefresh, NewRefresh};
use super::{
    in_scope, Application, Directory, FusionAuth, Registration, TenantScope, User,
    EVENT_LOGIN_FAILED, EVENT_LOGIN_SUCCESS, EVENT_USER_CREATE,
};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::details;
use crate::core::identity::verify_password;
use crate::core::tokens::Claims;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// How a login (or reconcile) wants to be signed in.
#[derive(Debug, Clone, Default)]
pub struct SignInOptions {
    /// Authenticate only: no access or refresh token.
    pub no_jwt: bool,
    /// The client's address, kept as the refresh token's `lastAccessedAddress`.
    pub ip_address: Option<String>,
    /// `metaData.device` of the request.
    pub device: Map<String, Value>,
}

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
    pub options: SignInOptions,
}

/// A `/api/jwt/reconcile` request, parsed.
#[derive(Debug, Clone, Default)]
pub struct ReconcileRequest {
    pub application_id: String,
    pub identity_provider_id: String,
    pub token: String,
    pub options: SignInOptions,
}

fn tenant_required() -> CoreError {
    CoreError::invalid_argument(
        "[TenantIdRequired]",
        "A Tenant Id is required to complete this request. To complete this request, you may assign a Tenant to your API key, or add the X-FusionAuth-TenantId HTTP request header with the Tenant Id.",
    )
}

impl FusionAuth<'_> {
    pub async fn login(
        &self,
        req: LoginRequest,
        scope: TenantScope<'_>,
        authenticated: bool,
    ) -> CoreResult<LoginOutcome> {
        let dir = self.directory();
        let app = match &req.application_id {
            Some(id) => Some(Self::scoped_app(&dir, id, scope)?),
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
        let user = self.check_password(
            &tenant_id,
            &req.login_id,
            &req.password,
            req.application_id.as_deref(),
        )?;
        let outcome = self
            .sign_in(&dir, user, app.as_ref(), "PASSWORD", req.options)
            .await?;
        self.login_success_event(
            &outcome.user,
            req.application_id.as_deref(),
            "PASSWORD",
            outcome.refresh.as_ref().map(|r| r.id.as_str()),
        );
        Ok(outcome)
    }

    /// The active user of `tenant_id` with this login id and password, or
    /// `InvalidCredentials` (recorded as `user.login.failed`).
    pub(super) fn check_password(
        &self,
        tenant_id: &str,
        login_id: &str,
        password: &str,
        application_id: Option<&str>,
    ) -> CoreResult<User> {
        let user = self.user_by_login(tenant_id, login_id)?.filter(|u| {
            u.active
                && u.password_hash
                    .as_deref()
                    .is_some_and(|h| verify_password(password, h))
        });
        user.ok_or_else(|| {
            self.event(
                EVENT_LOGIN_FAILED,
                false,
                Some(login_id.to_string()),
                format!("Login failed for [{login_id}]"),
                details([
                    ("tenantId", json!(tenant_id)),
                    ("applicationId", json!(application_id)),
                ]),
            );
            CoreError::InvalidCredentials(
                "The user was not found or the password was incorrect".into(),
            )
        })
    }

    /// Records `user.login.success`.
    pub(super) fn login_success_event(
        &self,
        user: &User,
        application_id: Option<&str>,
        authentication_type: &str,
        refresh_token_id: Option<&str>,
    ) {
        self.event(
            EVENT_LOGIN_SUCCESS,
            true,
            Some(user.email.clone()),
            format!("User {} logged in", user.email),
            details([
                ("userId", json!(user.id)),
                ("applicationId", json!(application_id)),
                ("authenticationType", json!(authentication_type)),
                ("refreshTokenId", json!(refresh_token_id)),
            ]),
        );
    }

    /// Shared tail of login and reconcile: token, refresh token, flush.
    async fn sign_in(
        &self,
        dir: &Directory,
        mut user: User,
        app: Option<&Application>,
        authentication_type: &str,
        options: SignInOptions,
    ) -> CoreResult<LoginOutcome> {
        let SignInOptions {
            no_jwt,
            ip_address,
            mut device,
        } = options;
        let now = self.svc.clock.now_secs();
        let default_key = self.default_key();
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
        user.logged_in(app.map(|a| a.id.as_str()), self.svc.clock.now_ms());
        self.put_user(&user)?;
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
                Some(self.new_refresh(NewRefresh {
                    user: &user,
                    application_id: &a.id,
                    policy: &policy,
                    auth_time: now,
                    device,
                    start_instant: None,
                    scopes: Vec::new(),
                })?)
            }
            _ => None,
        };
        let exp = now.saturating_add(policy.ttl_secs);
        let grant = Grant {
            app,
            policy: &policy,
            authentication_type,
            sid: refresh.as_ref().map(|r| r.id.as_str()),
            auth_time: now,
            iat: now,
            exp,
            oauth: None,
        };
        let token = self.mint_access(dir, &user, grant)?;
        if refresh.is_some() {
            self.svc.store.flush().await?;
        }
        Ok(LoginOutcome {
            user,
            registered,
            token: Some(token),
            token_expiration_instant: Some(exp.saturating_mul(1000)),
            refresh,
        })
    }

    /// `POST /api/jwt/reconcile`: logs in (creating and registering the user if needed) the
    /// holder of a JWT signed by an External JWT identity provider.
    pub async fn reconcile(
        &self,
        req: ReconcileRequest,
        scope: TenantScope<'_>,
    ) -> CoreResult<LoginOutcome> {
        let dir = self.directory();
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
            .verify_external(&req.token, &idp.hmac_secret)
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
        let now_ms = self.svc.clock.now_ms();
        let existing = self.user_by_login(&app.tenant_id, &unique)?;
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
                    last_login_instant: None,
                    last_update_instant: Some(now_ms),
                    registrations: Vec::new(),
                };
                self.event(
                    EVENT_USER_CREATE,
                    true,
                    Some(user.email.clone()),
                    format!(
                        "User {} created by identity provider {}",
                        user.email, idp.name
                    ),
                    details([
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
                last_login_instant: None,
            });
            user.last_update_instant = Some(now_ms);
        }
        self.put_user(&user)?;
        self.svc.store.flush().await?;
        let outcome = self
            .sign_in(&dir, user, Some(&app), "FEDERATED_JWT", req.options)
            .await?;
        self.event(
            EVENT_LOGIN_SUCCESS,
            true,
            Some(outcome.user.email.clone()),
            format!("User {} logged in through {}", outcome.user.email, idp.name),
            details([
                ("userId", json!(outcome.user.id)),
                ("applicationId", json!(app.id)),
                ("identityProviderId", json!(idp.id)),
                ("authenticationType", json!("FEDERATED_JWT")),
            ]),
        );
        Ok(outcome)
    }

    /// Verifies an external HS256 token with the provider's secret and the server clock.
    fn verify_external(&self, token: &str, secret: &str) -> CoreResult<Claims> {
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
        let now = self.svc.clock.now_secs();
        let num = |name: &str| data.claims.get(name).and_then(Value::as_i64);
        if num("exp").is_some_and(|exp| now >= exp) {
            return Err(CoreError::InvalidToken("the token has expired".into()));
        }
        if num("nbf").is_some_and(|nbf| now < nbf) {
            return Err(CoreError::InvalidToken("the token is not valid yet".into()));
        }
        Ok(data.claims)
    }
}
