//! `POST /api/login` and `POST /api/logout`.

use super::auth::{self, Credential, REFRESH_TOKEN_COOKIE};
use super::errors::{json_response, FaError, FaResult};
use super::{client_ip, device, token_cookies, Body, Query};
use crate::core::fusionauth::jwt::{LoginOutcome, LoginRequest};
use crate::core::fusionauth::refresh::RevokeTarget;
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// The Login API answer (also used by reconcile): 200, or 202 when the user is not
/// registered to the application; token cookies unless `noJWT`.
pub fn login_response(state: &AppState, req: &HttpRequest, outcome: &LoginOutcome) -> HttpResponse {
    let mut body = json!({ "user": outcome.user.to_json() });
    if let Some(obj) = body.as_object_mut() {
        if let Some(token) = &outcome.token {
            obj.insert("token".into(), json!(token));
        }
        if let Some(exp) = outcome.token_expiration_instant {
            obj.insert("tokenExpirationInstant".into(), json!(exp));
        }
        if let Some(r) = &outcome.refresh {
            obj.insert("refreshToken".into(), json!(r.token));
            obj.insert("refreshTokenId".into(), json!(r.id));
        }
    }
    let status = if outcome.registered {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let mut res = json_response(status, &body);
    let cookies = token_cookies(
        state,
        req,
        outcome.token.as_deref(),
        outcome
            .refresh
            .as_ref()
            .map(|r| (r.token.as_str(), r.max_age_secs)),
    );
    for c in cookies {
        // A cookie we built ourselves always encodes; ignore the impossible failure.
        let _ = res.add_cookie(&c);
    }
    res
}

fn required_text(body: &Body, name: &str) -> FaResult<String> {
    match body.string(name)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(FaError::field(
            "blank",
            name,
            format!("You must specify the [{name}] property."),
        )),
    }
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let key = match auth::credential(core, &req)? {
        Credential::ApiKey(k) => Some(k),
        _ => None,
    };
    let scope = auth::scope(core, &req, key.as_ref())?;
    let body = Body::read(&state, &req, payload).await?;
    let login_id = required_text(&body, "loginId")?;
    let password = required_text(&body, "password")?;
    let request = LoginRequest {
        login_id,
        password,
        application_id: body.uuid("applicationId")?,
        no_jwt: body.bool("noJWT")?.unwrap_or(false),
        ip_address: client_ip(&req, body.string("ipAddress")?),
        device: device(&body)?,
    };
    let outcome = core
        .fa_login(request, scope.as_deref(), key.is_some())
        .await?;
    Ok(login_response(&state, &req, &outcome))
}

/// `POST /api/logout?global=&refreshToken=` (or the JSON body): revokes the refresh token
/// (all of the user's with `global`), clears the token cookies, 200 with no body.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> FaResult<HttpResponse> {
    let core = &state.core;
    let query = Query::parse(&req)?;
    let body = Body::read(&state, &req, payload).await?;
    let global = match query.get("global") {
        Some(v) => v == "true",
        None => body.bool("global")?.unwrap_or(false),
    };
    let token = query
        .get("refreshToken")
        .map(str::to_string)
        .or(body.string("refreshToken")?)
        .or_else(|| auth::cookie(&req, REFRESH_TOKEN_COOKIE));
    if let Some(token) = token {
        if global {
            if let Some(user_id) = core.fa_refresh_owner(&token)? {
                // Nothing to revoke is not an error for logout.
                let _ = core
                    .fa_revoke(RevokeTarget::User(user_id), None, None)
                    .await;
            }
        } else {
            let _ = core.fa_revoke(RevokeTarget::Token(token), None, None).await;
        }
    }
    let mut res = HttpResponse::Ok().finish();
    for name in [auth::ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE] {
        let mut c = Cookie::build(name, "").path("/").finish();
        c.make_removal();
        let _ = res.add_cookie(&c);
    }
    Ok(res)
}
