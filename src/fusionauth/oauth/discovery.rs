//! `GET /.well-known/openid-configuration` (the Default tenant, or the
//! `X-FusionAuth-TenantId` one), `/.well-known/openid-configuration/{tenantId}` and
//! FusionAuth 1.46's `/{tenantId}/.well-known/openid-configuration`: what vlsim serves and
//! nothing else. `issuer` is the tenant's OAuth issuer (for `"{origin}"`, the URL the
//! client used); endpoint URLs are built from the request.

use super::bodies::OpenIdConfiguration;
use crate::core::keys::algorithm_name;
use crate::fusionauth::errors::{json_response, FaError, FaResult};
use crate::fusionauth::extract::TenantHeader;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

fn document(
    state: &AppState,
    req: &HttpRequest,
    tenant_id: Option<&str>,
) -> FaResult<HttpResponse> {
    let dir = state.core.fusionauth().directory();
    let tenant = match tenant_id {
        Some(id) => dir.tenant(id),
        None => dir.tenants.first(),
    }
    .ok_or(FaError::NotFound)?;
    let base = crate::http::external_base_url(req);
    let mut algs: Vec<&'static str> = state
        .core
        .key_ring()
        .all()
        .iter()
        .map(|k| algorithm_name(k.algorithm))
        .collect();
    algs.sort_unstable();
    algs.dedup();
    let at = |path: &str| format!("{base}{path}");
    let body = OpenIdConfiguration {
        issuer: tenant.oauth_issuer(&base),
        authorization_endpoint: at("/oauth2/authorize"),
        token_endpoint: at("/oauth2/token"),
        userinfo_endpoint: at("/oauth2/userinfo"),
        introspection_endpoint: at("/oauth2/introspect"),
        end_session_endpoint: at("/oauth2/logout"),
        jwks_uri: at("/.well-known/jwks.json"),
        response_types_supported: &["code"],
        response_modes_supported: &["query", "form_post"],
        grant_types_supported: &["authorization_code", "refresh_token", "password"],
        subject_types_supported: &["public"],
        id_token_signing_alg_values_supported: algs,
        token_endpoint_auth_methods_supported: &[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: &[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        code_challenge_methods_supported: &["S256", "plain"],
        scopes_supported: &["openid", "offline_access", "profile", "email"],
        claims_supported: &[
            "applicationId",
            "at_hash",
            "aud",
            "auth_time",
            "authenticationType",
            "email",
            "email_verified",
            "exp",
            "family_name",
            "given_name",
            "iat",
            "iss",
            "jti",
            "name",
            "nonce",
            "preferred_username",
            "roles",
            "scope",
            "sid",
            "sub",
            "tid",
        ],
        authorization_response_iss_parameter_supported: true,
        backchannel_logout_supported: false,
        frontchannel_logout_supported: false,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// The tenant named by `X-FusionAuth-TenantId`, else the first (Default) tenant.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn openid_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    TenantHeader(tenant): TenantHeader,
) -> FaResult<HttpResponse> {
    document(&state, &req, tenant.as_deref())
}

/// `/.well-known/openid-configuration/{tenantId}` and `/{tenantId}/.well-known/...`.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn openid_configuration_for_tenant(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let id = uuid::Uuid::parse_str(path.into_inner().trim())
        .map_err(|_| FaError::NotFound)?
        .to_string();
    document(&state, &req, Some(&id))
}
