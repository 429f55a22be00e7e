//! `GET /api/jwt/issue`, `POST /api/jwt/reconcile`, `GET /api/jwt/validate`,
//! `POST /api/jwt/vend`, `GET /api/jwt/public-key`.

use super::bodies::{InstantsInMillis, PublicKeyBody, PublicKeysBody, TokenBody, ValidatedBody};
use super::errors::{json_response, FaError, FaResult};
use super::extract::{
    cookie, ApiKeyAuth, BearerJwt, JsonBody, QueryParams, TenantHeader, REFRESH_TOKEN_COOKIE,
};
use super::login::login_response;
use super::{parse_uuid, sign_in_options};
use crate::core::fusionauth::ReconcileRequest;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

#[tracing::instrument(skip_all, level = "debug")]
pub async fn validate(
    state: web::Data<AppState>,
    BearerJwt(token): BearerJwt,
    tenant: Result<TenantHeader, FaError>,
) -> FaResult<HttpResponse> {
    // validate answers 401 to anything wrong with the request, the tenant header included.
    let TenantHeader(scope) =
        tenant.map_err(|_| FaError::Unauthorized("unusable X-FusionAuth-TenantId".into()))?;
    let claims = state.core.fusionauth().validate(&token, scope.as_deref())?;
    let body = ValidatedBody {
        jwt: InstantsInMillis(&claims),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    BearerJwt(token): BearerJwt,
    TenantHeader(scope): TenantHeader,
    QueryParams(query): QueryParams,
) -> FaResult<HttpResponse> {
    let application_id = query
        .uuid("applicationId")?
        .ok_or_else(|| FaError::missing("applicationId"))?;
    let refresh = cookie(&req, REFRESH_TOKEN_COOKIE)
        .or_else(|| query.get("refreshToken").map(str::to_string));
    let issued = state
        .core
        .fusionauth()
        .issue(
            &token,
            &application_id,
            refresh.as_deref(),
            scope.as_deref(),
        )
        .await?;
    let status = if issued.registered {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = TokenBody {
        token: &issued.token,
        refresh_token: issued.refresh_token.as_deref(),
    };
    Ok(json_response(status, &body))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn vend(
    state: web::Data<AppState>,
    auth: ApiKeyAuth,
    JsonBody(body): JsonBody,
) -> FaResult<HttpResponse> {
    let claims = body.object("claims")?.unwrap_or_default();
    let key_id = body.uuid("keyId")?;
    let ttl = body.integer("timeToLiveInSeconds")?;
    let token =
        state
            .core
            .fusionauth()
            .vend(claims, key_id.as_deref(), ttl, auth.scope.as_deref())?;
    let body = TokenBody {
        token: &token,
        refresh_token: None,
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn reconcile(
    state: web::Data<AppState>,
    req: HttpRequest,
    TenantHeader(scope): TenantHeader,
    JsonBody(body): JsonBody,
) -> FaResult<HttpResponse> {
    let application_id = body
        .uuid("applicationId")?
        .ok_or_else(|| FaError::missing("applicationId"))?;
    let identity_provider_id = body
        .uuid("identityProviderId")?
        .ok_or_else(|| FaError::missing("identityProviderId"))?;
    let data_token = match body.object("data")? {
        Some(data) => match data.get("token") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(FaError::field(
                    "couldNotConvert",
                    "data.token",
                    "The [data.token] property must be a string.",
                ))
            }
        },
        None => None,
    };
    let token = data_token
        .or(body.string("encodedJWT")?)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| FaError::missing("data.token"))?;
    let request = ReconcileRequest {
        application_id,
        identity_provider_id,
        token,
        options: sign_in_options(&req, &body)?,
    };
    let outcome = state
        .core
        .fusionauth()
        .reconcile(request, scope.as_deref())
        .await?;
    Ok(login_response(&state, &req, &outcome))
}

/// All public keys by kid; one by `kid`; the signing key of `applicationId` (`{}` if HMAC).
#[tracing::instrument(skip_all, level = "debug")]
pub async fn public_key(
    state: web::Data<AppState>,
    QueryParams(query): QueryParams,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    if let Some(application_id) = query.get("applicationId") {
        let application_id = parse_uuid("applicationId", application_id)?;
        let key = core
            .fusionauth()
            .application_key(&application_id)?
            .ok_or(FaError::NotFound)?;
        let body = PublicKeyBody {
            public_key: key.public_pem.as_deref(),
        };
        return Ok(json_response(StatusCode::OK, &body));
    }
    let ring = core.key_ring();
    if let Some(kid) = query.get("kid") {
        let key = ring.get(kid).ok_or(FaError::NotFound)?;
        let pem = key.public_pem.as_deref().ok_or(FaError::NotFound)?;
        let body = PublicKeyBody {
            public_key: Some(pem),
        };
        return Ok(json_response(StatusCode::OK, &body));
    }
    let body = PublicKeysBody {
        public_keys: ring
            .public()
            .filter_map(|k| k.public_pem.as_deref().map(|p| (k.id.as_str(), p)))
            .collect(),
    };
    Ok(json_response(StatusCode::OK, &body))
}
