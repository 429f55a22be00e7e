//! `GET /api/jwt/issue`, `POST /api/jwt/reconcile`, `GET /api/jwt/validate`,
//! `POST /api/jwt/vend`, `GET /api/jwt/public-key`.

use super::auth::{self, REFRESH_TOKEN_COOKIE};
use super::errors::{json_response, FaError, FaResult};
use super::login::login_response;
use super::{client_ip, device, Body, Query};
use crate::core::fusionauth::jwt::ReconcileRequest;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn validate(state: web::Data<AppState>, req: HttpRequest) -> FaResult<HttpResponse> {
    let core = &state.core;
    let token = auth::jwt_only(core, &req)?;
    let scope = auth::tenant_header(core, &req)
        .map_err(|_| FaError::Unauthorized("unusable X-FusionAuth-TenantId".into()))?;
    let claims = core.fa_validate(&token, scope.as_deref())?;
    #[derive(serde::Serialize)]
    struct Validated<'a> {
        jwt: &'a crate::core::tokens::Claims,
    }
    Ok(json_response(StatusCode::OK, &Validated { jwt: &claims }))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn issue(state: web::Data<AppState>, req: HttpRequest) -> FaResult<HttpResponse> {
    let core = &state.core;
    let token = auth::jwt_only(core, &req)?;
    let scope = auth::tenant_header(core, &req)?;
    let query = Query::parse(&req)?;
    let application_id = query
        .uuid("applicationId")?
        .ok_or_else(|| FaError::missing("applicationId"))?;
    let refresh = auth::cookie(&req, REFRESH_TOKEN_COOKIE)
        .or_else(|| query.get("refreshToken").map(str::to_string));
    let issued = core
        .fa_issue(
            &token,
            &application_id,
            refresh.as_deref(),
            scope.as_deref(),
        )
        .await?;
    let mut body = json!({ "token": issued.token });
    if let (Some(rt), Some(obj)) = (&issued.refresh_token, body.as_object_mut()) {
        obj.insert("refreshToken".into(), json!(rt));
    }
    let status = if issued.registered {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok(json_response(status, &body))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn vend(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let key = auth::api_key(core, &req)?;
    let scope = auth::scope(core, &req, Some(&key))?;
    let body = Body::read(&state, &req, payload).await?;
    let claims = body.object("claims")?.unwrap_or_else(Map::new);
    let key_id = body.uuid("keyId")?;
    let ttl = body.integer("timeToLiveInSeconds")?;
    let token = core.fa_vend(claims, key_id.as_deref(), ttl, scope.as_deref())?;
    Ok(json_response(StatusCode::OK, &json!({ "token": token })))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn reconcile(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let scope = auth::tenant_header(core, &req)?;
    let body = Body::read(&state, &req, payload).await?;
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
        no_jwt: body.bool("noJWT")?.unwrap_or(false),
        ip_address: client_ip(&req, body.string("ipAddress")?),
        device: device(&body)?,
    };
    let outcome = core.fa_reconcile(request, scope.as_deref()).await?;
    Ok(login_response(&state, &req, &outcome))
}

/// All public keys by kid; one by `kid`; the signing key of `applicationId` (`{}` if HMAC).
#[tracing::instrument(skip_all, level = "debug")]
pub async fn public_key(state: web::Data<AppState>, req: HttpRequest) -> FaResult<HttpResponse> {
    let core = &state.core;
    let query = Query::parse(&req)?;
    if let Some(application_id) = query.get("applicationId") {
        let application_id = super::parse_uuid("applicationId", application_id)?;
        let key = core
            .fa_application_key(&application_id)?
            .ok_or(FaError::NotFound)?;
        let body = match &key.public_pem {
            Some(pem) => json!({ "publicKey": pem }),
            None => json!({}),
        };
        return Ok(json_response(StatusCode::OK, &body));
    }
    let ring = core.key_ring();
    if let Some(kid) = query.get("kid") {
        let pem = ring
            .get(kid)
            .and_then(|k| k.public_pem.clone())
            .ok_or(FaError::NotFound)?;
        return Ok(json_response(StatusCode::OK, &json!({ "publicKey": pem })));
    }
    let keys: Map<String, Value> = ring
        .public()
        .filter_map(|k| k.public_pem.clone().map(|p| (k.id.clone(), json!(p))))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "publicKeys": keys }),
    ))
}
