//! `GET /api/key[/{keyId}]` (Key Master, API key) and `GET /.well-known/jwks.json`
//! (anonymous). OpenID discovery is in `oauth/discovery.rs`.

use super::bodies::{KeyBody, KeysBody, OneKey};
use super::errors::{json_response, FaError, FaResult};
use super::extract::ApiKeyAuth;
use super::parse_uuid;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

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
