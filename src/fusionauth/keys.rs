//! `GET /api/key[/{keyId}]` (Key Master, API key), `GET /.well-known/jwks.json` and
//! `GET /.well-known/openid-configuration[/{tenantId}]` (anonymous).

use super::auth;
use super::errors::{json_response, FaError, FaResult};
use crate::core::keys::{algorithm_name, SigningKey};
use crate::http::external_base_url;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

/// FusionAuth's `Key` object. Private material (`privateKey`, HMAC `secret`) only for a
/// superuser API key — a vlsim convenience; real FusionAuth never returns it.
fn key_json(key: &SigningKey, superuser: bool) -> Value {
    let (kind, length) = match key.algorithm {
        Algorithm::RS256 => ("RSA", 2048),
        Algorithm::ES256 => ("EC", 256),
        _ => ("HMAC", 256),
    };
    let mut out = json!({
        "id": key.id,
        "kid": key.id,
        "name": key.name,
        "algorithm": algorithm_name(key.algorithm),
        "type": kind,
        "length": length,
        "insertInstant": 0,
        "lastUpdateInstant": 0,
    });
    if let Some(obj) = out.as_object_mut() {
        if let Some(pem) = &key.public_pem {
            obj.insert("publicKey".into(), json!(pem));
            obj.insert("hasPrivateKey".into(), json!(true));
        }
        if superuser {
            if let Some(pem) = &key.material.private_pem {
                obj.insert("privateKey".into(), json!(pem));
            }
            if let Some(secret) = &key.material.secret_base64 {
                obj.insert("secret".into(), json!(secret));
            }
        }
    }
    out
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_all(state: web::Data<AppState>, req: HttpRequest) -> FaResult<HttpResponse> {
    let core = &state.core;
    let key = auth::api_key(core, &req)?;
    auth::scope(core, &req, Some(&key))?;
    let keys: Vec<Value> = core
        .key_ring()
        .all()
        .iter()
        .map(|k| key_json(k, key.superuser))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "keys": keys })))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_one(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let key = auth::api_key(core, &req)?;
    auth::scope(core, &req, Some(&key))?;
    let id = super::parse_uuid("keyId", &path.into_inner())?;
    let found = core.key_ring().get(&id).ok_or(FaError::NotFound)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "key": key_json(&found, key.superuser) }),
    ))
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
    let dir = state.core.fa_directory();
    let tenant = match &tenant_id {
        Some(id) => dir.tenant(id),
        None => dir.tenants.first(),
    }
    .ok_or(FaError::NotFound)?;
    let base = external_base_url(req);
    let algs: Vec<&str> = {
        let ring = state.core.key_ring();
        let mut v: Vec<&str> = ring
            .all()
            .iter()
            .map(|k| algorithm_name(k.algorithm))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let body = json!({
        "issuer": tenant.issuer,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{base}/oauth2/logout"),
        "device_authorization_endpoint": format!("{base}/oauth2/device_authorize"),
        "response_types_supported": ["code", "token", "id_token", "code id_token", "id_token token", "code id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "implicit", "password", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["applicationId", "aud", "auth_time", "authenticationType", "email", "email_verified", "exp", "iat", "iss", "jti", "preferred_username", "roles", "sid", "sub", "tid"],
        "backchannel_logout_supported": false,
        "frontchannel_logout_supported": true,
        "dpop_signing_alg_values_supported": ["ES256", "RS256"],
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// The tenant named by `X-FusionAuth-TenantId`, else the first (Default) tenant.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn openid_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> FaResult<HttpResponse> {
    let tenant = auth::tenant_header(&state.core, &req)?;
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
