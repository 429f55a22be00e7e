//! The legacy `/rest` forms: `/rest/com/vmware/cis/session` (`{"value": ...}`, the
//! `vmware-api-session-id` cookie) and the deprecated token service
//! `POST /rest/vcenter/tokenservice/token-exchange` (`{"spec": ...}` → `{"value": ...}`).

use super::bodies::{SessionInfo, TokenInfoBody, Value};
use super::errors::{Rest, RestToken, VcError};
use super::extract::{login_from_header, IssueRequest, LiveSession};
use super::{client_host, SESSION_HEADER};
use crate::core::CoreError;
use crate::http::is_https;
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

fn action(req: &HttpRequest) -> Option<String> {
    req.query_string()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "~action" || *k == "%7Eaction")
        .map(|(_, v)| v.to_string())
}

/// `POST`: log in (Basic or SIGN); `POST ?~action=get` / `?~action=delete`: the others.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn session_post(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, VcError<Rest>> {
    match action(&req).as_deref() {
        Some("get") => {
            let session = LiveSession::<Rest>::extract(&req).await?;
            return Ok(session_get(session).await);
        }
        Some("delete") => {
            let session = LiveSession::<Rest>::extract(&req).await?;
            return session_delete(state, session).await;
        }
        Some(other) => {
            return Err(
                CoreError::invalid_argument("~action", format!("unknown action {other}")).into(),
            )
        }
        None => {}
    }
    let session = login_from_header(&state.core, &req).await?;
    let mut response = HttpResponse::Ok();
    let header_only = req
        .headers()
        .get("vmware-use-header-authn")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !header_only {
        let cookie = Cookie::build(SESSION_HEADER, session.id.clone())
            .path("/rest")
            .http_only(true)
            .secure(is_https(&req))
            .finish();
        response.cookie(cookie);
    }
    Ok(response.json(Value { value: session.id }))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn session_get(LiveSession(session, ..): LiveSession<Rest>) -> HttpResponse {
    HttpResponse::Ok().json(Value {
        value: SessionInfo::from(&session),
    })
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn session_delete(
    state: web::Data<AppState>,
    LiveSession(session, ..): LiveSession<Rest>,
) -> Result<HttpResponse, VcError<Rest>> {
    state.core.vcenter().logout(&session).await?;
    let mut gone = Cookie::build(SESSION_HEADER, "").path("/rest").finish();
    gone.make_removal();
    Ok(HttpResponse::Ok().cookie(gone).finish())
}

/// `TokenExchange.exchange`: JSON `{"spec": {...}}`.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn token_exchange(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: IssueRequest<RestToken>,
) -> Result<HttpResponse, VcError<RestToken>> {
    let info =
        state
            .core
            .vcenter()
            .issue_token(&request.caller, &request.spec, &client_host(&req))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Value {
            value: TokenInfoBody::from(&info),
        }))
}
