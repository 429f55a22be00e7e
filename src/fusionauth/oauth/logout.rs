//! `GET|POST /oauth2/logout`: ends the SSO session (refresh tokens stay, as in FusionAuth)
//! and redirects to `post_logout_redirect_uri` (an authorized redirect URI of the client),
//! else the client's logout URL, with `state`; without either, a "signed out" page.

use super::{cookie, pages, with_params, OAuthForm, SSO_COOKIE};
use crate::core::fusionauth::oauth::{LogoutParams, LogoutTarget};
use crate::fusionauth::errors::{FaError, FaResult};
use crate::fusionauth::extract::cookie as cookie_value;
use crate::state::AppState;
use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: OAuthForm,
) -> FaResult<HttpResponse> {
    let params = LogoutParams {
        client_id: form.owned("client_id"),
        id_token_hint: form.owned("id_token_hint"),
        post_logout_redirect_uri: form.owned("post_logout_redirect_uri"),
    };
    let sso = cookie_value(&req, SSO_COOKIE);
    let target = state
        .core
        .fusionauth()
        .oauth_logout(sso.as_deref(), &params)
        .await
        .map_err(FaError::OAuthPage)?;
    let mut res = match target {
        LogoutTarget::Redirect(url) => {
            let fields: Vec<(&str, &str)> = form
                .get("state")
                .map(|s| ("state", s))
                .into_iter()
                .collect();
            let mut res = HttpResponse::Found()
                .insert_header((LOCATION, with_params(&url, &fields)))
                .finish();
            super::no_store(res.headers_mut());
            res
        }
        LogoutTarget::LoggedOut => pages::html(StatusCode::OK, pages::logged_out_page()),
    };
    let _ = res.add_cookie(&cookie(&req, SSO_COOKIE, String::new(), "/", 0));
    Ok(res)
}
