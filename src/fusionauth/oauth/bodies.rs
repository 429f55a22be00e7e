//! OAuth2 / OIDC response bodies (snake_case, as RFC 6749 and OIDC Discovery spell them;
//! `userId` as FusionAuth adds it).

use crate::core::fusionauth::oauth::{OAuthFailure, TokenResponse};
use serde::Serialize;

/// RFC 6749 §5.2 plus FusionAuth's `error_reason`.
#[derive(Debug, Serialize)]
pub struct OAuthErrorBody<'a> {
    pub error: &'static str,
    pub error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<&'static str>,
}

impl<'a> From<&'a OAuthFailure> for OAuthErrorBody<'a> {
    fn from(f: &'a OAuthFailure) -> Self {
        Self {
            error: f.error.name(),
            error_description: &f.description,
            error_reason: f.reason,
        }
    }
}

/// The token endpoint's answer.
#[derive(Debug, Serialize)]
pub struct TokenBody<'a> {
    pub access_token: &'a str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
    pub token_type: &'static str,
    #[serde(rename = "userId")]
    pub user_id: &'a str,
}

impl<'a> From<&'a TokenResponse> for TokenBody<'a> {
    fn from(t: &'a TokenResponse) -> Self {
        Self {
            access_token: &t.access_token,
            expires_in: t.expires_in,
            id_token: t.id_token.as_deref(),
            refresh_token: t.refresh_token.as_deref(),
            refresh_token_id: t.refresh_token_id.as_deref(),
            scope: t.scope.as_deref(),
            token_type: t.token_type,
            user_id: &t.user_id,
        }
    }
}

/// OpenID Connect discovery for a tenant: exactly what vlsim serves.
#[derive(Debug, Serialize)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub introspection_endpoint: String,
    pub end_session_endpoint: String,
    pub jwks_uri: String,
    pub response_types_supported: &'static [&'static str],
    pub response_modes_supported: &'static [&'static str],
    pub grant_types_supported: &'static [&'static str],
    pub subject_types_supported: &'static [&'static str],
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: &'static [&'static str],
    pub introspection_endpoint_auth_methods_supported: &'static [&'static str],
    pub code_challenge_methods_supported: &'static [&'static str],
    pub scopes_supported: &'static [&'static str],
    pub claims_supported: &'static [&'static str],
    pub authorization_response_iss_parameter_supported: bool,
    pub backchannel_logout_supported: bool,
    pub frontchannel_logout_supported: bool,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    /// OIDC Discovery's default is true: say false, `request_uri` is not served.
    pub request_uri_parameter_supported: bool,
}
