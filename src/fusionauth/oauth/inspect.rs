//! `GET|POST /oauth2/userinfo` (Bearer access token) and `POST /oauth2/introspect`
//! (RFC 7662, client authenticated like at the token endpoint).

use super::{client_credentials, no_store, OAuthForm};
use crate::core::fusionauth::oauth::{Introspection, OAuthFailure};
use crate::fusionauth::errors::{json_response, Challenge, FaError, FaResult};
use crate::state::AppState;
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// The access token: `Authorization: Bearer`, else an `access_token` form field (RFC 6750).
fn access_token(req: &HttpRequest, form: &OAuthForm) -> Option<String> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string())
        .filter(|t| !t.is_empty());
    header.or_else(|| form.is_post.then(|| form.owned("access_token")).flatten())
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: OAuthForm,
) -> FaResult<HttpResponse> {
    let bearer = |failure| FaError::OAuth {
        failure,
        challenge: Challenge::Bearer,
    };
    let token = access_token(&req, &form).ok_or_else(|| {
        bearer(OAuthFailure::invalid_request(
            "missing_access_token",
            "The request is missing the access token (Authorization: Bearer).",
        ))
    })?;
    let info = state.core.fusionauth().userinfo(&token).map_err(bearer)?;
    let mut res = json_response(StatusCode::OK, &info);
    no_store(res.headers_mut());
    Ok(res)
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: OAuthForm,
) -> FaResult<HttpResponse> {
    let creds = client_credentials(&req, &form)?;
    let challenge = Challenge::for_client(creds.basic);
    let answer = state
        .core
        .fusionauth()
        .introspect(&creds, form.get("token"), form.get("token_type_hint"))
        .map_err(|failure| FaError::OAuth { failure, challenge })?;
    let body = match answer {
        Introspection::Active(claims) => {
            let mut body = serde_json::Map::new();
            body.insert("active".into(), Value::Bool(true));
            body.extend(claims);
            Value::Object(body)
        }
        Introspection::Inactive => json!({"active": false}),
    };
    let mut res = json_response(StatusCode::OK, &body);
    no_store(res.headers_mut());
    Ok(res)
}
