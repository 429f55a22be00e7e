//! `POST /api/jwt/refresh` (exchange), `GET /api/jwt/refresh[/{tokenId}]` (retrieve) and
//! every `DELETE /api/jwt/refresh...` variant (revoke).

use super::auth::{self, Credential, REFRESH_TOKEN_COOKIE};
use super::errors::{json_response, FaError, FaResult};
use super::{parse_uuid, token_cookies, Body, Query};
use crate::core::fusionauth::refresh::RevokeTarget;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

#[tracing::instrument(skip_all, level = "debug")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let scope = auth::tenant_header(core, &req)?;
    let body = Body::read(&state, &req, payload).await?;
    let from_body = body.string("refreshToken")?;
    // The previous access token (cookie wins) is only relayed in the jwt.refresh event.
    let original = auth::cookie(&req, auth::ACCESS_TOKEN_COOKIE).or(body.string("token")?);
    let ttl = body.integer("timeToLiveInSeconds")?;
    // The cookie wins over the body.
    let presented = auth::cookie(&req, REFRESH_TOKEN_COOKIE)
        .or(from_body)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FaError::missing("refreshToken"))?;
    let refreshed = core
        .fa_refresh(&presented, scope.as_deref(), ttl, original.as_deref())
        .await?;
    let mut res = json_response(
        StatusCode::OK,
        &json!({
            "token": refreshed.access_token,
            "refreshToken": refreshed.refresh.token,
            "refreshTokenId": refreshed.refresh.id,
        }),
    );
    for c in token_cookies(
        &state,
        &req,
        Some(&refreshed.access_token),
        Some((&refreshed.refresh.token, refreshed.refresh.max_age_secs)),
    ) {
        let _ = res.add_cookie(&c);
    }
    Ok(res)
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_by_id(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let key = auth::api_key(core, &req)?;
    let scope = auth::scope(core, &req, Some(&key))?;
    let id = parse_uuid("tokenId", &path.into_inner())?;
    let token = core.fa_retrieve_refresh(&id, scope.as_deref())?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "refreshToken": token.to_json() }),
    ))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_by_user(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let key = auth::api_key(core, &req)?;
    let scope = auth::scope(core, &req, Some(&key))?;
    let query = Query::parse(&req)?;
    let user_id = query
        .uuid("userId")?
        .ok_or_else(|| FaError::missing("userId"))?;
    let tokens = core.fa_user_refresh_tokens(&user_id, scope.as_deref())?;
    let list: Vec<_> = tokens.iter().map(|t| t.to_json()).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "refreshTokens": list }),
    ))
}

/// Who revokes: an API key (scoped), or a JWT (only its own token, by value or id).
/// Returns (tenant scope, owner = the JWT's `sub`).
fn revoker(state: &AppState, req: &HttpRequest) -> FaResult<(Option<String>, Option<String>)> {
    let core = &state.core;
    Ok(match auth::credential(core, req)? {
        Credential::ApiKey(key) => (auth::scope(core, req, Some(&key))?, None),
        Credential::Jwt(jwt) => {
            let scope = auth::tenant_header(core, req)?;
            let claims = core.fa_validate(&jwt, scope.as_deref())?;
            let sub = claims
                .get("sub")
                .and_then(|v| v.as_str())
                .ok_or_else(|| FaError::Unauthorized("the JWT has no subject".into()))?
                .to_string();
            (scope, Some(sub))
        }
        Credential::None => return Err(FaError::Unauthorized("no credentials".into())),
    })
}

async fn revoke_with(
    state: &AppState,
    who: (Option<String>, Option<String>),
    target: RevokeTarget,
) -> FaResult<HttpResponse> {
    let (scope, owner) = who;
    state
        .core
        .fa_revoke(target, scope.as_deref(), owner.as_deref())
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// `DELETE /api/jwt/refresh` with `token`, `userId`, `applicationId` in the query, a JSON
/// body, or a form body. Precedence: token; userId + applicationId; userId; applicationId.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> FaResult<HttpResponse> {
    let who = revoker(&state, &req)?;
    let query = Query::parse(&req)?;
    let body = Body::read(&state, &req, payload).await?;
    let token = match query.get("token") {
        Some(t) => Some(t.to_string()),
        None => body.string("token")?.filter(|t| !t.is_empty()),
    };
    let user_id = match query.uuid("userId")? {
        Some(u) => Some(u),
        None => body.uuid("userId")?,
    };
    let application_id = match query.uuid("applicationId")? {
        Some(a) => Some(a),
        None => body.uuid("applicationId")?,
    };
    let target = match (token, user_id, application_id) {
        (Some(t), _, _) => RevokeTarget::Token(t),
        (None, Some(user_id), Some(application_id)) => RevokeTarget::UserAndApplication {
            user_id,
            application_id,
        },
        (None, Some(u), None) => RevokeTarget::User(u),
        (None, None, Some(a)) => RevokeTarget::Application(a),
        (None, None, None) => {
            return Err(FaError::general(
                "[invalid]",
                "You must specify a token, tokenId, userId or applicationId.",
            ))
        }
    };
    revoke_with(&state, who, target).await
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn revoke_by_id(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let who = revoker(&state, &req)?;
    let id = parse_uuid("tokenId", &path.into_inner())?;
    revoke_with(&state, who, RevokeTarget::TokenId(id)).await
}
