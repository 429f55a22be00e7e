//! `GET /api/key[/{keyId}]` (Key Master, API key), `GET /.well-known/jwks.json` and
//! `GET /.well-known/openid-configuration[/{tenantId}]` (anonymous).

use super::bodies::{KeyBody, KeysBody, OneKey, OpenIdConfiguration};
use super::errors::{json_response, FaError, FaResult};
use super::extract::{ApiKeyAuth, TenantHeader};
use super::parse_uuid;
use crate::core::keys::algorithm_name;
use crate::http::external_base_url;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_all(state: web::Data<AppState>, auth: ApiKeyAuth) -> HttpResponse {
    let ring = state.core.key_ring();
    let body = KeysBody {
        keys: ring
            .all()
            .iter()
            .map(|k| KeyBody::new(k, auth.key.superuser))
            .collect(),
    };
    json_response(StatusCode::OK, &body)
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_one(
    state: web::Data<AppState>,
    auth: ApiKeyAuth,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let id = parse_uuid("keyId", &path.into_inner())?;
    let ring = state.core.key_ring();
    let found = ring.get(&id).ok_or(FaError::NotFound)?;
    let body = OneKey {
        key: KeyBody::new(&found, auth.key.superuser),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    json_response(StatusCode::OK, &state.core.key_ring().jwks())
}

fn openid(
    state: &AppState,
    req: &HttpRequest,
    tenant_id: Option<String>,
) -> FaResult<HttpResponse> {
    let dir = state.core.fusionauth().directory();
    let tenant = match &tenant_id {
        Some(id) => dir.tenant(id),
        None => dir.tenants.first(),
    }
    .ok_or(FaError::NotFound)?;
    let mut algs: Vec<&'static str> = state
        .core
        .key_ring()
        .all()
        .iter()
        .map(|k| algorithm_name(k.algorithm))
        .collect();
    algs.sort_unstable();
    algs.dedup();
    let body = OpenIdConfiguration {
        issuer: &tenant.issuer,
        jwks_uri: format!("{}/.well-known/jwks.json", external_base_url(req)),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: algs,
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        claims_supported: [
            "applicationId",
            "aud",
            "auth_time",
            "authenticationType",
            "email",
            "email_verified",
            "exp",
            "iat",
            "iss",
            "jti",
            "preferred_username",
            "roles",
            "sid",
            "sub",
            "tid",
        ],
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
    openid(&state, &req, tenant)
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn openid_configuration_for_tenant(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let id = uuid::Uuid::parse_str(path.into_inner().trim())
        .map_err(|_| FaError::NotFound)?
        .to_string();
    openid(&state, &req, Some(id))
}
