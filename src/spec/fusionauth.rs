//! `[fusionauth]`: tenants, applications, users and their
//! registrations, API keys and identity providers. Parsed strictly like the rest of the world.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FusionAuthSpec {
    #[serde(default)]
    pub tenants: Vec<TenantSpec>,
    #[serde(default)]
    pub applications: Vec<ApplicationSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub api_keys: Vec<ApiKeySpec>,
    #[serde(default)]
    pub identity_providers: Vec<IdentityProviderSpec>,
}

/// `refreshTokenUsagePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum UsagePolicy {
    Reusable,
    OneTimeUse,
}

/// `refreshTokenExpirationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum ExpirationPolicy {
    Fixed,
    SlidingWindow,
}

/// A `jwtConfiguration`. On a tenant, absent fields take FusionAuth's defaults; on an
/// application, present fields override the tenant's.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfigSpec {
    /// Key that signs access tokens (`accessTokenKeyId`).
    #[serde(default)]
    pub signing_key: Option<String>,
    #[serde(default)]
    pub time_to_live_seconds: Option<i64>,
    #[serde(default)]
    pub refresh_token_ttl_minutes: Option<i64>,
    #[serde(default)]
    pub refresh_token_usage_policy: Option<UsagePolicy>,
    #[serde(default)]
    pub refresh_token_expiration_policy: Option<ExpirationPolicy>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub id: String,
    pub name: String,
    pub issuer: String,
    #[serde(default)]
    pub jwt: JwtConfigSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSpec {
    pub id: String,
    pub name: String,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Roles given to users registered by reconcile.
    #[serde(default)]
    pub default_roles: Vec<String>,
    #[serde(default = "yes")]
    pub generate_refresh_tokens: bool,
    #[serde(default = "yes")]
    pub allow_token_refresh: bool,
    /// `loginConfiguration.requireAuthentication`: the Login API needs an API key.
    #[serde(default = "yes")]
    pub require_authentication: bool,
    #[serde(default)]
    pub jwt: Option<JwtConfigSpec>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub id: String,
    pub tenant: String,
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    /// Hashed (PBKDF2) when the world is loaded; never stored in clear.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub registrations: Vec<RegistrationSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSpec {
    pub id: String,
    pub application: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// The key as sent in `Authorization`.
    pub key: String,
    #[serde(default)]
    pub description: String,
    /// A tenant-locked key sees only this tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// May see private key material at `/api/key`.
    #[serde(default)]
    pub superuser: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderSpec {
    pub id: String,
    pub name: String,
    /// Only `ExternalJWT` is emulated.
    #[serde(rename = "type")]
    pub kind: String,
    /// HS256 secret that signs the external tokens.
    pub hmac_secret: String,
    pub unique_identity_claim: String,
    /// Applications it may log users into; empty means every application.
    #[serde(default)]
    pub applications: Vec<String>,
}
