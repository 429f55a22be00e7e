//! The legacy `/rest` forms: `/rest/com/vmware/cis/session` (`{"value": ...}`, the
//! `vmware-api-session-id` cookie) and the deprecated token service
//! `POST /rest/vcenter/tokenservice/token-exchange` (`{"spec": ...}` → `{"value": ...}`).

use crate::core::vcenter::IssueSpec;
use crate::core::CoreError;
use crate::http::{is_https, read_body};
use crate::state::AppState;
use crate::vcenter::errors::{legacy_error, Family};
use crate::vcenter::session::{info_json, login_from_header};
use crate::vcenter::{caller, client_host, require_session, SESSION_HEADER};
use actix_web::cookie::Cookie;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

fn action(req: &HttpRequest) -> Option<String> {
    req.query_string()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "~action" || *k == "%7Eaction")
        .map(|(_, v)| v.to_string())
}

fn info(state: &AppState, req: &HttpRequest) -> HttpResponse {
    match require_session(&state.core, req, true) {
        Ok(session) => HttpResponse::Ok().json(json!({"value": info_json(&session)})),
        Err(e) => legacy_error(&e, Family::Std),
    }
}

/// `POST`: log in (Basic or SIGN); `POST ?~action=get`: session info.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn session_post(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match action(&req).as_deref() {
        Some("get") => return info(&state, &req),
        Some("delete") => return session_delete(state, req).await,
        Some(other) => {
            return legacy_error(
                &CoreError::invalid_argument("~action", format!("unknown action {other}")),
                Family::Std,
            )
        }
        None => {}
    }
    match login_from_header(&state.core, &req).await {
        Ok(session) => {
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
            response.json(json!({"value": session.id}))
        }
        Err(e) => legacy_error(&e, Family::Std),
    }
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn session_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    info(&state, &req)
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn session_delete(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = match require_session(&state.core, &req, true) {
        Ok(session) => state.core.vcenter_logout(&session).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            let mut gone = Cookie::build(SESSION_HEADER, "").path("/rest").finish();
            gone.make_removal();
            HttpResponse::Ok().cookie(gone).finish()
        }
        Err(e) => legacy_error(&e, Family::Std),
    }
}

#[derive(Debug, Deserialize)]
struct ExchangeBody {
    spec: IssueSpec,
}

/// `TokenExchange.exchange`: JSON `{"spec": {...}}`.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn token_exchange(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let core = &state.core;
    let who = match caller(core, &req, true) {
        Ok(who) => who,
        Err(e) => return legacy_error(&e, Family::TokenService),
    };
    let parsed = match read_body(&req, payload, state.config.body_limit).await {
        Ok(body) => serde_json::from_slice::<ExchangeBody>(&body)
            .map_err(|e| CoreError::invalid_argument("spec", format!("malformed request: {e}"))),
        Err(e) => Err(CoreError::invalid_argument("body", e.to_string())),
    };
    let result = match parsed {
        Ok(b) => core.vcenter_issue_token(&who, &b.spec.normalised(), &client_host(&req)),
        Err(e) => {
            core.vcenter_token_failed(&who, None, "", &e);
            Err(e)
        }
    };
    match result {
        Ok(info) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({"value": info})),
        Err(e) => legacy_error(&e, Family::TokenService),
    }
}
