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
    /// OAuth2 / OpenID Connect settings of the tenant (`[fusionauth.tenants.oauth]`).
    #[serde(default)]
    pub oauth: TenantOAuthSpec,
}

/// The reserved `oauth.issuer` value that stands for the origin a client reached vlsim at
/// (`http://127.0.0.1:8080`), so that strict OIDC clients find `issuer` equal to the URL
/// discovery started from.
pub const ORIGIN_ISSUER: &str = "{origin}";

/// A tenant's OAuth2 settings. Absent fields take FusionAuth's defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TenantOAuthSpec {
    /// `iss` of what `/oauth2/*` mints and of discovery: absent = the tenant's `issuer`
    /// (FusionAuth), `"{origin}"` = the request's origin.
    #[serde(default)]
    pub issuer: Option<String>,
    /// How long an authorization code lives (FusionAuth
    /// `authorizationGrantIdTimeToLiveInSeconds`, default 30).
    #[serde(default)]
    pub authorization_code_ttl_seconds: Option<i64>,
    /// How long a hosted-login SSO session lives (default 3600).
    #[serde(default)]
    pub sso_session_ttl_seconds: Option<i64>,
}

/// An OAuth grant an application may use (`enabledGrants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthGrant {
    AuthorizationCode,
    RefreshToken,
    Password,
}

impl OAuthGrant {
    pub fn name(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
        }
    }
}

/// `clientAuthenticationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
pub enum ClientAuthenticationPolicy {
    #[default]
    Required,
    NotRequired,
    #[serde(rename = "NotRequiredWhenUsingPKCE")]
    NotRequiredWhenUsingPkce,
}

/// `proofKeyForCodeExchangePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
pub enum PkcePolicy {
    Required,
    #[default]
    NotRequired,
    NotRequiredWhenUsingClientAuthentication,
}

/// An application's `oauthConfiguration`; its client id is the application id.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfigSpec {
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Redirect URIs compared exactly (`authorizedRedirectURLs`).
    #[serde(default)]
    pub authorized_redirect_urls: Vec<String>,
    /// Also accept any loopback redirect URI, `http://127.0.0.1:<any port>/...`,
    /// `http://[::1]:<port>/...` and `http://localhost:<port>/...` (RFC 8252 §7.3; a vlsim
    /// extension).
    #[serde(default)]
    pub allow_loopback_redirects: bool,
    #[serde(default = "default_grants")]
    pub enabled_grants: Vec<OAuthGrant>,
    #[serde(default)]
    pub client_authentication_policy: ClientAuthenticationPolicy,
    #[serde(default)]
    pub proof_key_for_code_exchange_policy: PkcePolicy,
    /// Where `/oauth2/logout` sends the browser without a `post_logout_redirect_uri`.
    #[serde(default)]
    pub logout_url: Option<String>,
    /// The hosted login only completes for users registered to the application.
    #[serde(default)]
    pub require_registration: bool,
}

fn default_grants() -> Vec<OAuthGrant> {
    vec![OAuthGrant::AuthorizationCode, OAuthGrant::RefreshToken]
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
    /// OAuth2 client settings (`[fusionauth.applications.oauth]`); without them the
    /// application is not an OAuth client.
    #[serde(default)]
    pub oauth: Option<OAuthConfigSpec>,
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
