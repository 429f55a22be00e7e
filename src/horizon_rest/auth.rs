//! `POST /rest/login`, `/rest/refresh` and `/rest/logout`. None of them needs (or looks at)
//! an `Authorization` header: clients send a stale one.

use super::bodies::{AccessToken, AuthTokens};
use super::errors::{RestError, RestResult};
use super::extract::JsonBody;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::{Map, Value};

const LOGIN_INVALID: &str = "rest.auth.login.invalid";

fn login_field<'a>(body: &'a Map<String, Value>, name: &str) -> RestResult<&'a str> {
    match body.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(RestError::bad_request(
            LOGIN_INVALID,
            format!("'{name}' must be a string"),
        )),
        None => Err(RestError::bad_request(
            LOGIN_INVALID,
            format!(
                "'{name}' is required (the body is {{\"domain\", \"username\", \"password\"}})"
            ),
        )),
    }
}

/// `password`: a string, or (as the swagger types it) an array of one string.
fn password(body: &Map<String, Value>) -> RestResult<&str> {
    match body.get("password") {
        Some(Value::Array(items)) => match items.as_slice() {
            [Value::String(s)] => Ok(s),
            _ => Err(RestError::bad_request(
                LOGIN_INVALID,
                "'password' must be a string or an array of one string",
            )),
        },
        _ => login_field(body, "password"),
    }
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn login(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> RestResult<HttpResponse> {
    let body = body.map_err(|e| RestError::bad_request(LOGIN_INVALID, e))?;
    let username = login_field(&body, "username")?;
    if username.trim().is_empty() {
        return Err(RestError::bad_request(
            LOGIN_INVALID,
            "'username' must not be empty",
        ));
    }
    let password = password(&body)?;
    let domain = login_field(&body, "domain")?;
    let tokens = state
        .core
        .horizon()
        .rest_login(username, password, domain)
        .await?;
    Ok(HttpResponse::Ok().json(AuthTokens {
        access_token: &tokens.access_token,
        refresh_token: &tokens.refresh_token,
    }))
}

/// `refresh_token` of a refresh or logout body (400 when missing or not a string).
fn refresh_token(body: Result<Map<String, Value>, String>) -> RestResult<String> {
    let body = body.map_err(RestError::InvalidRefresh)?;
    match body.get("refresh_token") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(RestError::InvalidRefresh(
            "'refresh_token' (a string) is required".into(),
        )),
    }
}

/// 200 `{"access_token"}` only, as the swagger's `AccessToken` (the refresh token is not
/// echoed; see README).
#[tracing::instrument(skip_all, level = "debug")]
pub async fn refresh(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> RestResult<HttpResponse> {
    let token = refresh_token(body)?;
    let access = state
        .core
        .horizon()
        .rest_refresh(&token)
        .map_err(RestError::refresh)?;
    Ok(HttpResponse::Ok().json(AccessToken {
        access_token: &access,
    }))
}

/// 200 with an empty body; every token of the login is refused afterwards.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn logout(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody,
) -> RestResult<HttpResponse> {
    let token = refresh_token(body)?;
    state
        .core
        .horizon()
        .rest_logout(&token)
        .await
        .map_err(RestError::refresh)?;
    Ok(HttpResponse::Ok().finish())
}
