//! The vCenter surface: `/api/session` (`session.rs`), RFC 8693 token exchange as a form
//! (`token.rs`), vAPI JSON-RPC 2.0 on `POST /api` (`jsonrpc.rs`), the legacy `/rest` forms
//! (`legacy.rs`), OIDC discovery and JWKS (`oidc.rs`), the callers' credentials
//! (`extract.rs`) and the one error mapping (`errors.rs`). Rules live in `core::vcenter`;
//! this module parses and encodes.
//!
//! Only exact paths are registered (no `/api` scope), so other surfaces may serve their own
//! `/api/...` routes beside these.

pub mod bodies;
pub mod errors;
pub mod extract;
pub mod jsonrpc;
pub mod legacy;
pub mod oidc;
pub mod rpc_errors;
pub mod session;
pub mod token;

use crate::control::routes::SurfaceDef;
use crate::route;
use crate::surface::Surface;
use actix_web::HttpRequest;

pub const SESSION_HEADER: &str = "vmware-api-session-id";

pub static SURFACE: SurfaceDef = SurfaceDef {
    surface: Surface::Vcenter,
    prefixes: &[
        "/api/session",
        "/api/vcenter",
        "/rest/com/vmware",
        "/rest/vcenter",
        "/openidconnect",
    ],
    routes: &[
        route!(POST "/api/session" => session::create, "Log in (Basic, SIGN SAML token or Bearer JWT)"),
        route!(GET "/api/session" => session::get, "The session's user and times"),
        route!(DELETE "/api/session" => session::delete, "Log out"),
        route!(POST "/api/vcenter/authentication/token" => token::issue, "RFC 8693 token exchange (Token.issue)"),
        route!(POST "/api" => jsonrpc::invoke, "vAPI JSON-RPC 2.0 (the operation is in the call)"),
        route!(POST "/rest/com/vmware/cis/session" => legacy::session_post, "Legacy login (and ?~action=get|delete)"),
        route!(GET "/rest/com/vmware/cis/session" => legacy::session_get, "Legacy session info"),
        route!(DELETE "/rest/com/vmware/cis/session" => legacy::session_delete, "Legacy logout"),
        route!(POST "/rest/vcenter/tokenservice/token-exchange" => legacy::token_exchange, "Legacy token exchange (TokenExchange.exchange)"),
        route!(GET "/openidconnect/{domain}/.well-known/openid-configuration" => oidc::discovery, "OIDC discovery of the SSO domain"),
        route!(GET "/openidconnect/jwks/{domain}" => oidc::jwks, "JWKS of the SSO domain (with x5c)"),
    ],
    operations: jsonrpc::operation_names,
    typed_fault: Some(errors::injected_fault),
    fault_names: errors::FAULT_NAMES,
};

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
