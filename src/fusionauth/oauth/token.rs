//! `POST /oauth2/token`: the grants, client authentication by `client_secret_basic`,
//! `client_secret_post` or none (+ PKCE), never cached.

use super::bodies::TokenBody;
use super::{client_credentials, no_store, origin, OAuthForm};
use crate::core::fusionauth::oauth::TokenParams;
use crate::fusionauth::client_ip;
use crate::fusionauth::errors::{json_response, Challenge, FaError, FaResult};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: OAuthForm,
) -> FaResult<HttpResponse> {
    let creds = client_credentials(&req, &form)?;
    let challenge = Challenge::for_client(creds.basic);
    let params = TokenParams {
        grant_type: form.owned("grant_type"),
        creds,
        code: form.owned("code"),
        code_verifier: form.owned("code_verifier"),
        redirect_uri: form.owned("redirect_uri"),
        refresh_token: form.owned("refresh_token"),
        scope: form.owned("scope"),
        username: form.owned("username").or_else(|| form.owned("loginId")),
        password: form.owned("password"),
        client_ip: client_ip(&req, None),
    };
    let issued = state
        .core
        .fusionauth()
        .token(params, &origin(&req))
        .await
        .map_err(|failure| FaError::OAuth { failure, challenge })?;
    let mut res = json_response(StatusCode::OK, &TokenBody::from(&issued));
    no_store(res.headers_mut());
    Ok(res)
}
