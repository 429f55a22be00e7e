//! FusionAuth rules: tenants, applications, users, API keys and identity providers
//! (`mod.rs`), refresh tokens (`refresh.rs`), and access tokens: login, issue, validate,
//! vend, reconcile (`jwt.rs`). The HTTP shim lives in `crate::fusionauth`.

pub mod jwt;
pub mod refresh;
pub mod spec;

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::hash_password;
use crate::core::Core;
use crate::store::{trees, Store, StoreResult, Table};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use spec::{ExpirationPolicy, FusionAuthSpec, JwtConfigSpec, UsagePolicy};
use std::sync::{Arc, RwLock};

pub use refresh::RefreshToken;

pub const SURFACE: &str = "fusionauth";
pub const MODULE: &str = "FusionAuth";
/// FusionAuth's webhook event names.
pub const EVENT_LOGIN_SUCCESS: &str = "user.login.success";
pub const EVENT_LOGIN_FAILED: &str = "user.login.failed";
pub const EVENT_REFRESH: &str = "jwt.refresh";
pub const EVENT_REFRESH_REVOKE: &str = "jwt.refresh-token.revoke";
pub const EVENT_USER_CREATE: &str = "user.create";
/// vlsim's own names where FusionAuth has no event.
pub const EVENT_ISSUE: &str = "jwt.issue";
pub const EVENT_VEND: &str = "jwt.vend";

const META_FUSIONAUTH: &str = "fusionauth";

pub const DEFAULT_ACCESS_TTL_SECS: i64 = 3600;
pub const DEFAULT_REFRESH_TTL_MINUTES: i64 = 43_200;

/// The resolved `jwtConfiguration` that applies to one application (or tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtPolicy {
    pub signing_key: String,
    pub ttl_secs: i64,
    pub refresh_ttl_minutes: i64,
    pub usage: UsagePolicy,
    pub expiration: ExpirationPolicy,
}

impl JwtPolicy {
    fn overlay(&self, o: &JwtConfigSpec) -> Self {
        Self {
            signing_key: o
                .signing_key
                .clone()
                .unwrap_or_else(|| self.signing_key.clone()),
            ttl_secs: o.time_to_live_seconds.unwrap_or(self.ttl_secs),
            refresh_ttl_minutes: o
                .refresh_token_ttl_minutes
                .unwrap_or(self.refresh_ttl_minutes),
            usage: o.refresh_token_usage_policy.unwrap_or(self.usage),
            expiration: o.refresh_token_expiration_policy.unwrap_or(self.expiration),
        }
    }

    pub fn refresh_ttl_ms(&self) -> i64 {
        self.refresh_ttl_minutes.saturating_mul(60_000)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub jwt: JwtConfigSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub tenant_id: String,
    pub roles: Vec<String>,
    pub default_roles: Vec<String>,
    pub generate_refresh_tokens: bool,
    pub allow_token_refresh: bool,
    pub require_authentication: bool,
    pub jwt: Option<JwtConfigSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    /// Hex SHA-256 of the key; the key itself is not kept.
    pub key_hash: String,
    pub description: String,
    pub tenant_id: Option<String>,
    pub superuser: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityProvider {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub hmac_secret: String,
    pub unique_identity_claim: String,
    pub applications: Vec<String>,
}

/// Everything but users and tokens: fixed by the fixtures, cached in memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Directory {
    pub tenants: Vec<Tenant>,
    pub applications: Vec<Application>,
    pub api_keys: Vec<ApiKey>,
    pub identity_providers: Vec<IdentityProvider>,
}

impl Directory {
    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn application(&self, id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.id == id)
    }

    pub fn identity_provider(&self, id: &str) -> Option<&IdentityProvider> {
        self.identity_providers.iter().find(|p| p.id == id)
    }

    pub fn tenant_policy(&self, tenant: &Tenant, default_key: &str) -> JwtPolicy {
        let base = JwtPolicy {
            signing_key: default_key.to_string(),
            ttl_secs: DEFAULT_ACCESS_TTL_SECS,
            refresh_ttl_minutes: DEFAULT_REFRESH_TTL_MINUTES,
            usage: UsagePolicy::Reusable,
            expiration: ExpirationPolicy::Fixed,
        };
        base.overlay(&tenant.jwt)
    }

    /// The application's effective policy: its own `jwt` over its tenant's.
    pub fn application_policy(&self, app: &Application, default_key: &str) -> JwtPolicy {
        let tenant = self
            .tenant(&app.tenant_id)
            .map(|t| self.tenant_policy(t, default_key))
            .unwrap_or_else(|| JwtPolicy {
                signing_key: default_key.to_string(),
                ttl_secs: DEFAULT_ACCESS_TTL_SECS,
                refresh_ttl_minutes: DEFAULT_REFRESH_TTL_MINUTES,
                usage: UsagePolicy::Reusable,
                expiration: ExpirationPolicy::Fixed,
            });
        match &app.jwt {
            Some(o) => tenant.overlay(o),
            None => tenant,
        }
    }

    /// The API key presented in `Authorization`, if it is one of ours.
    pub fn api_key(&self, presented: &str) -> Option<&ApiKey> {
        let hash = sha256_hex(presented);
        self.api_keys.iter().find(|k| k.key_hash == hash)
    }

    /// Every issuer a FusionAuth tenant signs with.
    pub fn issuers(&self) -> Vec<String> {
        self.tenants.iter().map(|t| t.issuer.clone()).collect()
    }
}

/// A user (FusionAuth `User`) with its registrations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    pub active: bool,
    pub verified: bool,
    pub insert_instant: i64,
    #[serde(default)]
    pub registrations: Vec<Registration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Registration {
    pub id: String,
    pub application_id: String,
    pub roles: Vec<String>,
    pub insert_instant: i64,
}

impl User {
    pub fn registration(&self, application_id: &str) -> Option<&Registration> {
        self.registrations
            .iter()
            .find(|r| r.application_id == application_id)
    }

    /// FusionAuth's `User` JSON (no password).
    pub fn to_json(&self) -> Value {
        let registrations: Vec<Value> = self
            .registrations
            .iter()
            .map(|r| {
                serde_json::json!({
                    "applicationId": r.application_id,
                    "id": r.id,
                    "insertInstant": r.insert_instant,
                    "roles": r.roles,
                    "usernameStatus": "ACTIVE",
                    "verified": true,
                })
            })
            .collect();
        let mut user = serde_json::json!({
            "active": self.active,
            "email": self.email,
            "id": self.id,
            "insertInstant": self.insert_instant,
            "passwordChangeRequired": false,
            "registrations": registrations,
            "tenantId": self.tenant_id,
            "usernameStatus": "ACTIVE",
            "verified": self.verified,
        });
        if let Some(obj) = user.as_object_mut() {
            if let Some(u) = &self.username {
                obj.insert("username".into(), Value::String(u.clone()));
            }
            if let Some(n) = &self.first_name {
                obj.insert("firstName".into(), Value::String(n.clone()));
            }
            if let Some(n) = &self.last_name {
                obj.insert("lastName".into(), Value::String(n.clone()));
            }
        }
        user
    }
}

/// Hex SHA-256 (how refresh tokens and API keys are keyed).
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The store key of the login-id index: tenant and lower-cased login id.
fn login_key(tenant_id: &str, login_id: &str) -> String {
    format!("{tenant_id}\n{}", login_id.trim().to_lowercase())
}

/// The FusionAuth part of [`Core`]: its tables and the cached directory.
pub struct FusionAuthState {
    directory: RwLock<Arc<Directory>>,
    pub(crate) users: Table<User>,
    /// `tenant \n lower(loginId)` → user id.
    pub(crate) user_logins: Table<String>,
    /// hex SHA-256 of the token → record.
    pub(crate) refresh_tokens: Table<RefreshToken>,
    /// token id → hex SHA-256 of its current value.
    pub(crate) refresh_ids: Table<String>,
    /// `userId/tokenId` → hex SHA-256 (index by user).
    pub(crate) refresh_by_user: Table<String>,
}

impl FusionAuthState {
    pub fn open(store: &Store) -> StoreResult<Self> {
        Ok(Self {
            directory: RwLock::new(Arc::new(Directory::default())),
            users: store.table(trees::FA_USERS)?,
            user_logins: store.table(trees::FA_USER_LOGINS)?,
            refresh_tokens: store.table(trees::FA_REFRESH_TOKENS)?,
            refresh_ids: store.table(trees::FA_REFRESH_IDS)?,
            refresh_by_user: store.table(trees::FA_REFRESH_BY_USER)?,
        })
    }
}

fn fixture_error(what: String) -> CoreError {
    CoreError::invalid_argument("fusionauth", what)
}

impl Core {
    pub fn fa_directory(&self) -> Arc<Directory> {
        self.fusionauth
            .directory
            .read()
            .map(|g| Arc::clone(&g))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// The key that signs when nothing else is configured: the Horizon signing key (the
    /// default RSA key).
    pub fn fa_default_key(&self) -> String {
        self.horizon_settings().signing_key.clone()
    }

    /// Loads the `[fusionauth]` fixtures into the (already cleared) store.
    pub(crate) fn fusionauth_load(
        &self,
        spec: &FusionAuthSpec,
        key_ids: &[String],
    ) -> CoreResult<()> {
        let known_key = |id: &Option<String>, owner: &str| -> CoreResult<()> {
            match id {
                Some(id) if !key_ids.iter().any(|k| k == id) => Err(fixture_error(format!(
                    "{owner}: signing_key {id} is not one of the fixture keys"
                ))),
                _ => Ok(()),
            }
        };
        let mut dir = Directory::default();
        for t in &spec.tenants {
            known_key(&t.jwt.signing_key, &format!("tenant {}", t.id))?;
            dir.tenants.push(Tenant {
                id: t.id.clone(),
                name: t.name.clone(),
                issuer: t.issuer.clone(),
                jwt: t.jwt.clone(),
            });
        }
        for a in &spec.applications {
            if dir.tenant(&a.tenant).is_none() {
                return Err(fixture_error(format!(
                    "application {}: unknown tenant {}",
                    a.id, a.tenant
                )));
            }
            if let Some(jwt) = &a.jwt {
                known_key(&jwt.signing_key, &format!("application {}", a.id))?;
            }
            dir.applications.push(Application {
                id: a.id.clone(),
                name: a.name.clone(),
                tenant_id: a.tenant.clone(),
                roles: a.roles.clone(),
                default_roles: a.default_roles.clone(),
                generate_refresh_tokens: a.generate_refresh_tokens,
                allow_token_refresh: a.allow_token_refresh,
                require_authentication: a.require_authentication,
                jwt: a.jwt.clone(),
            });
        }
        for k in &spec.api_keys {
            if let Some(t) = &k.tenant {
                if dir.tenant(t).is_none() {
                    return Err(fixture_error(format!("api key: unknown tenant {t}")));
                }
            }
            dir.api_keys.push(ApiKey {
                key_hash: sha256_hex(&k.key),
                description: k.description.clone(),
                tenant_id: k.tenant.clone(),
                superuser: k.superuser,
            });
        }
        for p in &spec.identity_providers {
            if p.kind != "ExternalJWT" {
                return Err(fixture_error(format!(
                    "identity provider {}: only type ExternalJWT is emulated",
                    p.id
                )));
            }
            dir.identity_providers.push(IdentityProvider {
                id: p.id.clone(),
                name: p.name.clone(),
                kind: p.kind.clone(),
                hmac_secret: p.hmac_secret.clone(),
                unique_identity_claim: p.unique_identity_claim.clone(),
                applications: p.applications.clone(),
            });
        }
        let now = self.clock.now_ms();
        for u in &spec.users {
            if dir.tenant(&u.tenant).is_none() {
                return Err(fixture_error(format!(
                    "user {}: unknown tenant {}",
                    u.id, u.tenant
                )));
            }
            let mut registrations = Vec::new();
            for r in &u.registrations {
                let app = dir.application(&r.application).ok_or_else(|| {
                    fixture_error(format!(
                        "user {}: unknown application {}",
                        u.id, r.application
                    ))
                })?;
                if app.tenant_id != u.tenant {
                    return Err(fixture_error(format!(
                        "user {}: application {} is in another tenant",
                        u.id, r.application
                    )));
                }
                registrations.push(Registration {
                    id: r.id.clone(),
                    application_id: r.application.clone(),
                    roles: r.roles.clone(),
                    insert_instant: now,
                });
            }
            let user = User {
                id: u.id.clone(),
                tenant_id: u.tenant.clone(),
                email: u.email.clone(),
                username: u.username.clone(),
                password_hash: u.password.as_deref().map(hash_password),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                active: true,
                verified: true,
                insert_instant: now,
                registrations,
            };
            self.fa_put_user(&user)?;
        }
        let json = serde_json::to_string(&dir)
            .map_err(|e| CoreError::Internal(format!("encoding fusionauth directory: {e}")))?;
        self.store.meta_put(META_FUSIONAUTH, &json)?;
        Ok(())
    }

    pub(crate) fn fusionauth_refresh_cache(&self) -> CoreResult<()> {
        let dir = match self.store.meta_get(META_FUSIONAUTH)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| CoreError::Internal(format!("stored fusionauth directory: {e}")))?,
            None => Directory::default(),
        };
        if let Ok(mut guard) = self.fusionauth.directory.write() {
            *guard = Arc::new(dir);
        }
        Ok(())
    }

    fn fa_put_user(&self, user: &User) -> CoreResult<()> {
        self.fusionauth.users.put(&user.id, user)?;
        self.fusionauth
            .user_logins
            .put(login_key(&user.tenant_id, &user.email), &user.id)?;
        if let Some(name) = &user.username {
            self.fusionauth
                .user_logins
                .put(login_key(&user.tenant_id, name), &user.id)?;
        }
        Ok(())
    }

    pub fn fa_user(&self, id: &str) -> CoreResult<Option<User>> {
        Ok(self.fusionauth.users.get(id)?)
    }

    /// A user by email or username within a tenant.
    pub fn fa_user_by_login(&self, tenant_id: &str, login_id: &str) -> CoreResult<Option<User>> {
        match self
            .fusionauth
            .user_logins
            .get(login_key(tenant_id, login_id))?
        {
            Some(id) => self.fa_user(&id),
            None => Ok(None),
        }
    }

    pub(crate) fn fa_event(
        &self,
        event_type: &'static str,
        success: bool,
        user: Option<String>,
        message: String,
        details: Map<String, Value>,
    ) {
        let recorded = self.record_event(NewEvent {
            event_type,
            severity: if success {
                "AUDIT_SUCCESS"
            } else {
                "AUDIT_FAIL"
            },
            module: MODULE,
            surface: SURFACE,
            user,
            message,
            details,
        });
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not record {event_type}");
        }
    }
}

/// Who may see what: `None` sees every tenant, `Some(t)` only tenant `t` (a tenant-locked
/// API key, or the `X-FusionAuth-TenantId` header).
pub type TenantScope<'a> = Option<&'a str>;

pub fn in_scope(scope: TenantScope<'_>, tenant_id: &str) -> bool {
    scope.is_none_or(|t| t == tenant_id)
}

pub(crate) fn details(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}
