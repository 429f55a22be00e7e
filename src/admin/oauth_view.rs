//! The OAuth2 part of `GET /_vlsim/state`: each tenant's OAuth settings (and the issuer
//! they resolve to for this request), each client's configuration (never its secret),
//! and how many codes, SSO sessions and login forms are stored. The SSO sessions themselves
//! are a paged relation of the dump (`oauth_sso_sessions`), shown through [`SsoView`].

use crate::core::fusionauth::oauth::{OAuthCounts, SsoSession};
use crate::core::fusionauth::FusionAuth;
use crate::core::CoreResult;
use crate::spec::fusionauth::{ClientAuthenticationPolicy, OAuthGrant, PkcePolicy};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthView {
    tenants: Vec<TenantView>,
    clients: Vec<ClientView>,
    stored: OAuthCounts,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantView {
    id: String,
    name: String,
    /// As configured (`{origin}`, a fixed issuer, or absent = the tenant issuer).
    configured_issuer: Option<String>,
    /// What this request's origin makes of it.
    issuer: String,
    authorization_code_ttl_seconds: i64,
    sso_session_ttl_seconds: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientView {
    client_id: String,
    name: String,
    tenant_id: String,
    has_client_secret: bool,
    #[serde(rename = "authorizedRedirectURLs")]
    authorized_redirect_urls: Vec<String>,
    allow_loopback_redirects: bool,
    enabled_grants: Vec<OAuthGrant>,
    client_authentication_policy: ClientAuthenticationPolicy,
    proof_key_for_code_exchange_policy: PkcePolicy,
    #[serde(rename = "logoutURL")]
    logout_url: Option<String>,
    require_registration: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SsoView {
    id: String,
    user_id: String,
    tenant_id: String,
    auth_time: i64,
    expires: String,
    expired: bool,
}

pub fn view(fusionauth: &FusionAuth<'_>, origin: &str) -> CoreResult<OAuthView> {
    let dir = fusionauth.directory();
    Ok(OAuthView {
        tenants: dir
            .tenants
            .iter()
            .map(|t| TenantView {
                id: t.id.clone(),
                name: t.name.clone(),
                configured_issuer: t.oauth.issuer.clone(),
                issuer: t.oauth_issuer(origin),
                authorization_code_ttl_seconds: t.code_ttl_secs(),
                sso_session_ttl_seconds: t.sso_ttl_secs(),
            })
            .collect(),
        clients: dir
            .applications
            .iter()
            .filter_map(|a| {
                let o = a.oauth.as_ref()?;
                Some(ClientView {
                    client_id: a.id.clone(),
                    name: a.name.clone(),
                    tenant_id: a.tenant_id.clone(),
                    has_client_secret: o.client_secret.is_some(),
                    authorized_redirect_urls: o.authorized_redirect_urls.clone(),
                    allow_loopback_redirects: o.allow_loopback_redirects,
                    enabled_grants: o.enabled_grants.clone(),
                    client_authentication_policy: o.client_authentication_policy,
                    proof_key_for_code_exchange_policy: o.proof_key_for_code_exchange_policy,
                    logout_url: o.logout_url.clone(),
                    require_registration: o.require_registration,
                })
            })
            .collect(),
        stored: fusionauth.oauth_counts(),
    })
}

impl SsoView {
    pub fn new(s: SsoSession, now_ms: i64) -> Self {
        Self {
            expires: crate::clock::rfc3339_ms(s.expires_ms),
            expired: now_ms >= s.expires_ms,
            id: s.id,
            user_id: s.user_id,
            tenant_id: s.tenant_id,
            auth_time: s.auth_time,
        }
    }
}
