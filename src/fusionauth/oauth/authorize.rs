//! `GET|POST /oauth2/authorize`: checks the request, then either skips to the redirect
//! (a live SSO session), refuses (`prompt=none` without one), or serves the hosted login
//! page; the page posts back here with `loginId`, `password` and its CSRF token.

use super::pages::{self, LoginPage};
use super::{cookie, origin, with_params, OAuthForm, CSRF_COOKIE, CSRF_FIELD, SSO_COOKIE};
use crate::core::fusionauth::oauth::{
    Authorization, AuthorizeParams, AuthorizeRefusal, ErrorCode, FormLogin, Granted, LoginRefusal,
    OAuthFailure, ResponseMode, LOGIN_FORM_TTL_SECS,
};
use crate::fusionauth::errors::{FaError, FaResult};
use crate::fusionauth::extract::cookie as cookie_value;
use crate::state::AppState;
use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The authorize parameters the login form carries back.
const CARRIED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

pub const INVALID_LOGIN: &str = "Invalid login credentials.";
const NOT_REGISTERED: &str = "You are not registered for this application.";
const CSRF_REFUSED: &str =
    "This sign-in form expired or was not sent by this browser. Please sign in again.";

fn params(form: &OAuthForm) -> AuthorizeParams {
    AuthorizeParams {
        client_id: form.owned("client_id"),
        redirect_uri: form.owned("redirect_uri"),
        response_type: form.owned("response_type"),
        response_mode: form.owned("response_mode"),
        scope: form.owned("scope"),
        nonce: form.owned("nonce"),
        code_challenge: form.owned("code_challenge"),
        code_challenge_method: form.owned("code_challenge_method"),
        prompt: form.owned("prompt"),
    }
}

/// The authorization response: a 302 to the redirect URI, or the `form_post` page.
fn respond(redirect_uri: &str, mode: ResponseMode, fields: &[(&str, &str)]) -> HttpResponse {
    match mode {
        ResponseMode::Query => {
            let mut res = HttpResponse::Found()
                .insert_header((LOCATION, with_params(redirect_uri, fields)))
                .finish();
            super::no_store(res.headers_mut());
            res
        }
        ResponseMode::FormPost => {
            pages::html(StatusCode::OK, pages::form_post_page(redirect_uri, fields))
        }
    }
}

fn error_redirect(
    failure: &OAuthFailure,
    redirect_uri: &str,
    mode: ResponseMode,
    issuer: &str,
    state: Option<&str>,
) -> HttpResponse {
    let mut fields = vec![
        ("error", failure.error.name()),
        ("error_reason", failure.reason.unwrap_or_default()),
        ("error_description", failure.description.as_str()),
        ("iss", issuer),
    ];
    if let Some(s) = state {
        fields.push(("state", s));
    }
    respond(redirect_uri, mode, &fields)
}

fn granted(auth: &Authorization, granted: &Granted, state: Option<&str>) -> HttpResponse {
    let mut fields = vec![
        ("code", granted.code.as_str()),
        ("iss", auth.issuer.as_str()),
    ];
    if let Some(s) = state {
        fields.push(("state", s));
    }
    fields.push(("userState", granted.user_state));
    respond(&auth.redirect_uri, auth.mode, &fields)
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: OAuthForm,
) -> FaResult<HttpResponse> {
    let fa = state.core.fusionauth();
    let client_state = form.get("state");
    let auth = match fa.authorize_request(&params(&form), &origin(&req)) {
        Ok(auth) => auth,
        Err(AuthorizeRefusal::Page(failure)) => return Err(FaError::OAuthPage(failure)),
        Err(AuthorizeRefusal::Redirect {
            failure,
            redirect_uri,
            mode,
            issuer,
        }) => {
            return Ok(error_redirect(
                &failure,
                &redirect_uri,
                mode,
                &issuer,
                client_state,
            ))
        }
    };
    if form.is_post && (form.has("loginId") || form.has("password")) {
        return login(&state, &req, &form, &auth).await;
    }
    if !auth.prompt_login {
        let session = match cookie_value(&req, SSO_COOKIE) {
            Some(token) => fa
                .sso_session(&token, &auth.client.tenant.id)
                .map_err(|e| FaError::OAuthPage(e.into()))?,
            None => None,
        };
        if let Some(session) = session {
            match fa.authorize_with_session(&auth, &session).await {
                Ok(g) => return Ok(granted(&auth, &g, client_state)),
                Err(LoginRefusal::Failed(f)) => return Err(FaError::OAuthPage(f)),
                // The session's user cannot use this client: sign in as someone else.
                Err(_) => {}
            }
        }
    }
    if auth.prompt_none {
        let failure = OAuthFailure::new(
            ErrorCode::LoginRequired,
            "authentication_required",
            "The user is required to complete authentication.",
        );
        return Ok(error_redirect(
            &failure,
            &auth.redirect_uri,
            auth.mode,
            &auth.issuer,
            client_state,
        ));
    }
    login_form(
        &state,
        &req,
        &form,
        &auth,
        form.get("login_hint").unwrap_or_default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// Serves the login form with a fresh CSRF token (and its cookie).
async fn login_form(
    state: &AppState,
    req: &HttpRequest,
    form: &OAuthForm,
    auth: &Authorization,
    login_id: &str,
    message: Option<&str>,
    status: StatusCode,
) -> FaResult<HttpResponse> {
    let csrf = state
        .core
        .fusionauth()
        .new_login_form(&auth.client)
        .await
        .map_err(|e| FaError::OAuthPage(e.into()))?;
    let hidden = CARRIED
        .iter()
        .filter_map(|name| form.get(name).map(|v| (*name, v)))
        .collect();
    let page = pages::login_page(&LoginPage {
        application: &auth.client.app.name,
        hidden,
        csrf: &csrf,
        login_id,
        message,
    });
    let mut res = pages::html(status, page);
    let c = cookie(req, CSRF_COOKIE, csrf, "/oauth2/", LOGIN_FORM_TTL_SECS);
    // A cookie we built ourselves always encodes; ignore the impossible failure.
    let _ = res.add_cookie(&c);
    Ok(res)
}

/// The login form came back: CSRF first (cookie and field equal, a live form), then the
/// password; success sets the SSO cookie and answers with the code.
async fn login(
    state: &AppState,
    req: &HttpRequest,
    form: &OAuthForm,
    auth: &Authorization,
) -> FaResult<HttpResponse> {
    let login_id = form.get("loginId").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let field = form.get(CSRF_FIELD).unwrap_or_default();
    let from_cookie = cookie_value(req, CSRF_COOKIE).unwrap_or_default();
    let same = !field.is_empty()
        && aws_lc_rs::constant_time::verify_slices_are_equal(
            field.as_bytes(),
            from_cookie.as_bytes(),
        )
        .is_ok();
    if !same {
        return login_form(
            state,
            req,
            form,
            auth,
            login_id,
            Some(CSRF_REFUSED),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let outcome = state
        .core
        .fusionauth()
        .authorize_with_password(auth, field, login_id, password)
        .await;
    match outcome {
        Ok(FormLogin {
            sso_token,
            sso_max_age_secs,
            granted: g,
        }) => {
            let mut res = granted(auth, &g, form.get("state"));
            let _ = res.add_cookie(&cookie(req, SSO_COOKIE, sso_token, "/", sso_max_age_secs));
            let _ = res.add_cookie(&cookie(req, CSRF_COOKIE, String::new(), "/oauth2/", 0));
            Ok(res)
        }
        Err(refusal) => {
            // The form again, saying why; a failure of the request itself is an error page.
            let (message, status) = match refusal {
                LoginRefusal::InvalidCredentials => (INVALID_LOGIN, StatusCode::OK),
                LoginRefusal::NotRegistered => (NOT_REGISTERED, StatusCode::OK),
                LoginRefusal::Csrf => (CSRF_REFUSED, StatusCode::FORBIDDEN),
                LoginRefusal::Failed(f) => return Err(FaError::OAuthPage(f)),
            };
            login_form(state, req, form, auth, login_id, Some(message), status).await
        }
    }
}
