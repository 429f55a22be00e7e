//! `POST /api/jwt/refresh` (exchange), `GET /api/jwt/refresh[/{tokenId}]` (retrieve) and
//! every `DELETE /api/jwt/refresh...` variant (revoke).

use super::bodies::{OneRefreshToken, RefreshTokenBody, RefreshTokens, RefreshedBody};
use super::errors::{json_response, FaError, FaResult};
use super::extract::{
    cookie, ApiKeyAuth, JsonBody, QueryParams, Revoker, TenantHeader, ACCESS_TOKEN_COOKIE,
    REFRESH_TOKEN_COOKIE,
};
use super::{client_ip, parse_uuid, token_cookies};
use crate::core::fusionauth::{RefreshRequest, RevokeTarget};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    TenantHeader(scope): TenantHeader,
    JsonBody(body): JsonBody,
) -> FaResult<HttpResponse> {
    let from_body = body.string("refreshToken")?;
    // The previous access token (cookie wins) is only relayed in the jwt.refresh event.
    let original = cookie(&req, ACCESS_TOKEN_COOKIE).or(body.string("token")?);
    let ttl = body.integer("timeToLiveInSeconds")?;
    // The cookie wins over the body.
    let presented = cookie(&req, REFRESH_TOKEN_COOKIE)
        .or(from_body)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FaError::missing("refreshToken"))?;
    let request = RefreshRequest {
        token: presented,
        ttl_override: ttl,
        original,
        client_ip: client_ip(&req, None),
        ..RefreshRequest::default()
    };
    let refreshed = state
        .core
        .fusionauth()
        .refresh(request, scope.as_deref())
        .await?;
    let body = RefreshedBody {
        refresh_token: &refreshed.refresh.token,
        refresh_token_id: &refreshed.refresh.id,
        token: &refreshed.access_token,
    };
    let mut res = json_response(StatusCode::OK, &body);
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
    auth: ApiKeyAuth,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let id = parse_uuid("tokenId", &path.into_inner())?;
    let token = state
        .core
        .fusionauth()
        .retrieve_refresh(&id, auth.scope.as_deref())?;
    let body = OneRefreshToken {
        refresh_token: RefreshTokenBody::from(&token),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn retrieve_by_user(
    state: web::Data<AppState>,
    auth: ApiKeyAuth,
    QueryParams(query): QueryParams,
) -> FaResult<HttpResponse> {
    let user_id = query
        .uuid("userId")?
        .ok_or_else(|| FaError::missing("userId"))?;
    let tokens = state
        .core
        .fusionauth()
        .user_refresh_tokens(&user_id, auth.scope.as_deref())?;
    let body = RefreshTokens {
        refresh_tokens: tokens.iter().map(RefreshTokenBody::from).collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}

async fn revoke_as(state: &AppState, who: Revoker, target: RevokeTarget) -> FaResult<HttpResponse> {
    state
        .core
        .fusionauth()
        .revoke(target, who.scope.as_deref(), who.owner.as_deref())
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// `DELETE /api/jwt/refresh` with `token`, `userId`, `applicationId` in the query, a JSON
/// body, or a form body. Precedence: token; userId + applicationId; userId; applicationId.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn revoke(
    state: web::Data<AppState>,
    who: Revoker,
    QueryParams(query): QueryParams,
    JsonBody(body): JsonBody,
) -> FaResult<HttpResponse> {
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
    revoke_as(&state, who, target).await
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn revoke_by_id(
    state: web::Data<AppState>,
    who: Revoker,
    path: web::Path<String>,
) -> FaResult<HttpResponse> {
    let id = parse_uuid("tokenId", &path.into_inner())?;
    revoke_as(&state, who, RevokeTarget::TokenId(id)).await
}
