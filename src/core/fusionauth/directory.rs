//! The FusionAuth directory: tenants, applications, API keys and identity providers, fixed
//! by the fixtures and cached in memory, and the JWT policy each application resolves to.

use super::{sha256_hex, DEFAULT_ACCESS_TTL_SECS, DEFAULT_REFRESH_TTL_MINUTES};
use crate::spec::fusionauth::{
    ExpirationPolicy, JwtConfigSpec, OAuthConfigSpec, TenantOAuthSpec, UsagePolicy, ORIGIN_ISSUER,
};
use serde::{Deserialize, Serialize};

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
    #[serde(default)]
    pub oauth: TenantOAuthSpec,
}

/// FusionAuth's default authorization code lifetime.
pub const DEFAULT_CODE_TTL_SECS: i64 = 30;
/// How long a hosted-login SSO session lives unless the tenant says otherwise.
pub const DEFAULT_SSO_TTL_SECS: i64 = 3600;

impl Tenant {
    /// The `iss` of what `/oauth2/*` mints for a client that reached vlsim at `origin`
    /// (`scheme://host[:port]`).
    pub fn oauth_issuer(&self, origin: &str) -> String {
        match self.oauth.issuer.as_deref() {
            None => self.issuer.clone(),
            Some(ORIGIN_ISSUER) => origin.to_string(),
            Some(fixed) => fixed.to_string(),
        }
    }

    pub fn code_ttl_secs(&self) -> i64 {
        self.oauth
            .authorization_code_ttl_seconds
            .unwrap_or(DEFAULT_CODE_TTL_SECS)
    }

    pub fn sso_ttl_secs(&self) -> i64 {
        self.oauth
            .sso_session_ttl_seconds
            .unwrap_or(DEFAULT_SSO_TTL_SECS)
    }
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
    /// Its OAuth client settings; `None`: not an OAuth client.
    #[serde(default)]
    pub oauth: Option<OAuthConfigSpec>,
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
