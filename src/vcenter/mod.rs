//! The vCenter surface: `/api/session` (`session.rs`), RFC 8693 token exchange as a form
//! (`token.rs`), vAPI JSON-RPC 2.0 on `POST /api` (`jsonrpc.rs`), the legacy `/rest` forms
//! (`legacy.rs`), OIDC discovery and JWKS (`oidc.rs`), and the one error mapping
//! (`errors.rs`). Rules live in `core::vcenter`; this module parses and encodes.
//!
//! Only exact paths are registered (no `/api` scope), so other surfaces may serve their own
//! `/api/...` routes beside these.

pub mod errors;
pub mod jsonrpc;
pub mod legacy;
pub mod oidc;
pub mod session;
pub mod token;

use crate::core::sessions::Session;
use crate::core::vcenter::Subject;
use crate::core::{Core, CoreError, CoreResult};
use actix_web::{web, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub const SESSION_HEADER: &str = "vmware-api-session-id";

/// The emulated operations, named as the journal and fault rules name them (JSON-RPC
/// calls by their vAPI service and operation).
pub const OPERATIONS: &[&str] = &[
    "POST /api/session",
    "GET /api/session",
    "DELETE /api/session",
    "POST /api/vcenter/authentication/token",
    "POST /api",
    "com.vmware.cis.session.create",
    "com.vmware.cis.session.get",
    "com.vmware.cis.session.delete",
    "com.vmware.vcenter.authentication.token.issue",
    "com.vmware.vcenter.tokenservice.token_exchange.exchange",
    "POST /rest/com/vmware/cis/session",
    "GET /rest/com/vmware/cis/session",
    "DELETE /rest/com/vmware/cis/session",
    "POST /rest/vcenter/tokenservice/token-exchange",
    "GET /openidconnect/{domain}/.well-known/openid-configuration",
    "GET /openidconnect/jwks/{domain}",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/session")
            .route(web::post().to(session::create))
            .route(web::get().to(session::get))
            .route(web::delete().to(session::delete)),
    )
    .service(web::resource("/api/vcenter/authentication/token").route(web::post().to(token::issue)))
    .service(web::resource("/api").route(web::post().to(jsonrpc::invoke)))
    .service(
        web::resource("/rest/com/vmware/cis/session")
            .route(web::post().to(legacy::session_post))
            .route(web::get().to(legacy::session_get))
            .route(web::delete().to(legacy::session_delete)),
    )
    .service(
        web::resource("/rest/vcenter/tokenservice/token-exchange")
            .route(web::post().to(legacy::token_exchange)),
    )
    .service(
        web::resource("/openidconnect/{domain}/.well-known/openid-configuration")
            .route(web::get().to(oidc::discovery)),
    )
    .service(web::resource("/openidconnect/jwks/{domain}").route(web::get().to(oidc::jwks)));
}

/// The host the client addressed (`Host`), reduced to host-name characters; it goes into
/// issued tokens' `iss`.
pub fn client_host(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let host: String = info
        .host()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
        .take(255)
        .collect();
    if host.is_empty() {
        "localhost".into()
    } else {
        host
    }
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The session id from the `vmware-api-session-id` header (and, with `cookie`, its cookie).
pub fn session_id(req: &HttpRequest, cookie: bool) -> Option<String> {
    header(req, SESSION_HEADER).map(str::to_string).or_else(|| {
        cookie
            .then(|| req.cookie(SESSION_HEADER))
            .flatten()
            .map(|c| c.value().to_string())
    })
}

/// What the `Authorization` header carries.
pub enum Authorization {
    Basic {
        user: String,
        password: String,
    },
    /// `SIGN token="..."`: the token as sent (base64 of gzip'ed SAML XML).
    Sign(String),
    Bearer(String),
}

pub fn authorization(req: &HttpRequest) -> Option<Authorization> {
    let value = header(req, "Authorization")?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some(Authorization::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    } else if scheme.eq_ignore_ascii_case("sign") {
        // SIGN token="...", signature_alg="...", signature="...", nonce="...", bodyhash="..."
        let start = rest.find("token=\"")?.checked_add("token=\"".len())?;
        let tail = rest.get(start..)?;
        let end = tail.find('"')?;
        Some(Authorization::Sign(tail.get(..end)?.to_string()))
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Some(Authorization::Bearer(rest.to_string()))
    } else {
        None
    }
}

fn not_authenticated() -> CoreError {
    CoreError::NotAuthenticated("Authentication required.".into())
}

/// The live session named by the request.
pub fn require_session(core: &Core, req: &HttpRequest, cookie: bool) -> CoreResult<Session> {
    let id = session_id(req, cookie).ok_or_else(not_authenticated)?;
    core.vcenter_session(&id)
}

/// Who may call the token service: a session, or a Bearer JWT from a trusted issuer.
pub fn caller(core: &Core, req: &HttpRequest, cookie: bool) -> CoreResult<String> {
    if let Some(id) = session_id(req, cookie) {
        return core.vcenter_session(&id).map(|s| s.principal);
    }
    match authorization(req) {
        Some(Authorization::Bearer(token)) => core
            .vcenter_jwt_subject(&token)
            .map(|Subject { principal, .. }| principal)
            .map_err(|_| not_authenticated()),
        _ => Err(not_authenticated()),
    }
}
