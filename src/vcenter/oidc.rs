//! OIDC discovery and JWKS for the SSO domain, at the paths a real vCenter uses:
//! `/openidconnect/<domain>/.well-known/openid-configuration` and
//! `/openidconnect/jwks/<domain>`. The JWKS key carries `x5c`: the certificate that also
//! signs the SAML assertions.

use crate::state::AppState;
use crate::vcenter::client_host;
use crate::vcenter::errors::{api_std, StdError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// The runtime serving `domain`, or the std error to answer with.
fn runtime_for(
    state: &AppState,
    domain: &str,
) -> Result<std::sync::Arc<crate::core::vcenter::VcenterRuntime>, (StdError, String)> {
    let rt = state.core.vcenter().map_err(|_| {
        (
            StdError::InternalServerError,
            "vCenter is not configured".to_string(),
        )
    })?;
    if !rt.spec.domain.eq_ignore_ascii_case(domain) {
        return Err((
            StdError::NotFound,
            format!("No identity provider for the domain {domain}"),
        ));
    }
    Ok(rt)
}

pub async fn discovery(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let rt = match runtime_for(&state, &path) {
        Ok(rt) => rt,
        Err((std, text)) => return api_std(std, &text),
    };
    let host = client_host(&req);
    let base = format!("{}://{host}", req.connection_info().scheme());
    let domain = &rt.spec.domain;
    HttpResponse::Ok().json(json!({
        "issuer": rt.issuer(&host),
        "jwks_uri": format!("{base}/openidconnect/jwks/{domain}"),
        "token_endpoint": format!("{base}/api/vcenter/authentication/token"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "grant_types_supported": [crate::core::vcenter::GRANT_TOKEN_EXCHANGE],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "jti", "domain", "group_names", "username"],
    }))
}

pub async fn jwks(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    match runtime_for(&state, &path) {
        Ok(rt) => HttpResponse::Ok().json(rt.jwks()),
        Err((std, text)) => api_std(std, &text),
    }
}
