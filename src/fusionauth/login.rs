//! `POST /api/login` and `POST /api/logout`.

use super::bodies::LoginBody;
use super::errors::{json_response, FaError, FaResult};
use super::extract::{
    cookie, JsonBody, LoginCaller, QueryParams, ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE,
};
use super::{sign_in_options, token_cookies, Body};
use crate::core::fusionauth::{LoginOutcome, LoginRequest, RevokeTarget};
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The Login API answer (also used by reconcile): 200, or 202 when the user is not
/// registered to the application; token cookies unless `noJWT`.
pub fn login_response(state: &AppState, req: &HttpRequest, outcome: &LoginOutcome) -> HttpResponse {
    let status = if outcome.registered {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let mut res = json_response(status, &LoginBody::from(outcome));
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
    caller: LoginCaller,
    JsonBody(body): JsonBody,
) -> FaResult<HttpResponse> {
    let request = LoginRequest {
        login_id: required_text(&body, "loginId")?,
        password: required_text(&body, "password")?,
        application_id: body.uuid("applicationId")?,
        options: sign_in_options(&req, &body)?,
    };
    let outcome = state
        .core
        .fusionauth()
        .login(request, caller.scope.as_deref(), caller.key.is_some())
        .await?;
    Ok(login_response(&state, &req, &outcome))
}

/// `POST /api/logout?global=&refreshToken=` (or the JSON body): revokes the refresh token
/// (all of the user's with `global`), clears the token cookies, 200 with no body.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    QueryParams(query): QueryParams,
    JsonBody(body): JsonBody,
) -> FaResult<HttpResponse> {
    let fusionauth = state.core.fusionauth();
    let global = match query.get("global") {
        Some(v) => v == "true",
        None => body.bool("global")?.unwrap_or(false),
    };
    let token = query
        .get("refreshToken")
        .map(str::to_string)
        .or(body.string("refreshToken")?)
        .or_else(|| cookie(&req, REFRESH_TOKEN_COOKIE));
    if let Some(token) = token {
        if global {
            if let Some(user_id) = fusionauth.refresh_owner(&token)? {
                // Nothing to revoke is not an error for logout.
                let _ = fusionauth
                    .revoke(RevokeTarget::User(user_id), None, None)
                    .await;
            }
        } else {
            let _ = fusionauth
                .revoke(RevokeTarget::Token(token), None, None)
                .await;
        }
    }
    let mut res = HttpResponse::Ok().finish();
    for name in [ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE] {
        let mut c = Cookie::build(name, "").path("/").finish();
        c.make_removal();
        let _ = res.add_cookie(&c);
    }
    Ok(res)
}
