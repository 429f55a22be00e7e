//! `/api/session` (`Cis.Session`): create with Basic, `SIGN token="..."` (a SAML token from
//! the exchange) or Bearer (a JWT from a trusted issuer); get; delete.

use crate::core::sessions::Session;
use crate::core::vcenter::{decode_saml_token, Credentials};
use crate::core::{Core, CoreError, CoreResult};
use crate::state::AppState;
use crate::vcenter::errors::{api_error, Family};
use crate::vcenter::{authorization, require_session, Authorization};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// Opens a session from the request's `Authorization` header.
pub async fn login_from_header(core: &Core, req: &HttpRequest) -> CoreResult<Session> {
    let unauthenticated = || CoreError::NotAuthenticated("Authentication required.".into());
    match authorization(req).ok_or_else(unauthenticated)? {
        Authorization::Basic { user, password } => {
            core.vcenter_login(Credentials::Password {
                user: &user,
                password: &password,
            })
            .await
        }
        Authorization::Sign(token) => {
            let xml = decode_saml_token(&token).map_err(|_| unauthenticated())?;
            core.vcenter_login(Credentials::Saml(&xml)).await
        }
        Authorization::Bearer(token) => core.vcenter_login(Credentials::Jwt(&token)).await,
    }
}

/// `com.vmware.cis.session.info` as plain JSON.
pub fn info_json(session: &Session) -> serde_json::Value {
    json!({
        "user": Core::vcenter_display_user(&session.principal),
        "created_time": crate::clock::rfc3339_ms(session.created_ms),
        "last_accessed_time": crate::clock::rfc3339_ms(session.last_access_ms),
    })
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn create(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match login_from_header(&state.core, &req).await {
        Ok(session) => HttpResponse::Created().json(session.id),
        Err(e) => api_error(&e, Family::Std),
    }
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match require_session(&state.core, &req, false) {
        Ok(session) => HttpResponse::Ok().json(info_json(&session)),
        Err(e) => api_error(&e, Family::Std),
    }
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn delete(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = match require_session(&state.core, &req, false) {
        Ok(session) => state.core.vcenter_logout(&session).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => api_error(&e, Family::Std),
    }
}
