//! From a SOAP request to an operation and back: read the envelope, find the operation by
//! its element name (`<ManagedObjectType>_<Method>`), check `_this` and the session, apply
//! fault rules, call the handler, frame `<Method>Response` (or the fault).

use super::{
    authentication, faults, injected_fault, jwt_token, query_service, Call, Content, CookieChange,
    Operation, Reply, VlsiSession, COOKIE_PATH, SESSION_COOKIE, VDI_NS,
};
use crate::control::faults::Injected;
use crate::control::{InjectedFault, OperationName};
use crate::soap::{self, Envelope, SoapFault};
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;

/// Every managed object's operations.
const OBJECTS: &[&[Operation]] = &[
    authentication::OPERATIONS,
    jwt_token::OPERATIONS,
    query_service::OPERATIONS,
];

/// The operation whose method element is `name`.
pub fn find(name: &str) -> Option<&'static Operation> {
    OBJECTS
        .iter()
        .flat_map(|ops| ops.iter())
        .find(|op| op.name == name)
}

/// Every operation's wire name, sorted.
pub fn operation_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = OBJECTS
        .iter()
        .flat_map(|ops| ops.iter().map(|op| op.name))
        .collect();
    names.sort_unstable();
    names
}

/// The managed object types served, sorted.
pub fn services() -> Vec<&'static str> {
    let mut services: Vec<&'static str> = OBJECTS
        .iter()
        .flat_map(|ops| ops.iter().map(Operation::service))
        .collect();
    services.sort_unstable();
    services.dedup();
    services
}

/// A SOAP 1.1 request body, read within the configured size limit and parsed into a
/// bounded tree; anything else is a `Client` fault.
pub struct SoapRequest(pub Envelope);

impl FromRequest for SoapRequest {
    type Error = SoapFault;
    type Future = LocalBoxFuture<'static, Result<Self, SoapFault>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| faults::unexpected("The server is not configured.", "no state"))?;
            let body = crate::http::read_body(&req, payload, state.config.body_limit)
                .await
                .map_err(|e| SoapFault::client(e.to_string()))?;
            Ok(Self(soap::read_envelope_recent(
                &body,
                state.config.xml_limits,
            )?))
        })
    }
}

/// Why a call produced no reply: a SOAP fault, or (injected) a raw HTTP response.
enum Refusal {
    Fault(SoapFault),
    Raw(HttpResponse),
}

impl From<SoapFault> for Refusal {
    fn from(fault: SoapFault) -> Self {
        Self::Fault(fault)
    }
}

pub async fn sdk_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: VlsiSession,
    request: SoapRequest,
) -> HttpResponse {
    match dispatch(&state, &req, session.0, request.0).await {
        Err(Refusal::Fault(fault)) => soap::fault_response(&fault),
        Err(Refusal::Raw(response)) => response,
        Ok((operation, reply)) => {
            let mut response = HttpResponse::Ok();
            response.content_type(soap::CONTENT_TYPE);
            match reply.cookie {
                CookieChange::Keep => {}
                CookieChange::Set(id) => {
                    response.cookie(session_cookie(&req, id));
                }
                CookieChange::Clear => {
                    let mut cookie = session_cookie(&req, String::new());
                    cookie.make_removal();
                    response.cookie(cookie);
                }
            }
            match reply.content {
                Content::Fragment(content) => {
                    response.body(response_envelope(operation.name, &content))
                }
                Content::Envelope(envelope) => response.body(envelope),
            }
        }
    }
}

/// The envelope around `<{Method}Response xmlns="urn:vdi">{content}</{Method}Response>`
/// (empty when the method returns nothing), written once: a GetPublicKeys reply is a few
/// KB of PEM.
pub fn response_envelope(name: &str, content: &str) -> String {
    if content.is_empty() {
        soap::envelope_of(&["<", name, "Response xmlns=\"", VDI_NS, "\"/>"])
    } else {
        soap::envelope_of(&[
            "<",
            name,
            "Response xmlns=\"",
            VDI_NS,
            "\">",
            content,
            "</",
            name,
            "Response>",
        ])
    }
}

fn session_cookie(req: &HttpRequest, value: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(crate::http::is_https(req))
        .same_site(SameSite::Lax)
        .finish()
}

/// What a fired fault rule makes of a SOAP call.
fn injected(injected: Injected<'_>) -> Refusal {
    match injected {
        Injected::Response(response) => Refusal::Raw(response),
        Injected::Typed(typed) => {
            let fault = injected_fault(&typed);
            match typed.status {
                Some(code) if code != StatusCode::INTERNAL_SERVER_ERROR => Refusal::Raw(
                    HttpResponse::build(code)
                        .content_type(soap::CONTENT_TYPE)
                        .body(soap::fault_xml(&fault)),
                ),
                _ => Refusal::Fault(fault),
            }
        }
    }
}

async fn dispatch(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lookup: Result<Option<crate::core::sessions::Session>, crate::core::CoreError>,
    envelope: Envelope,
) -> Result<(&'static Operation, Reply), Refusal> {
    let (session, lookup_failure) = match lookup {
        Ok(session) => (session, None),
        Err(e) => (None, Some(e)),
    };
    let op_el = envelope.operation;
    let operation = find(&op_el.name).ok_or_else(|| {
        faults::invalid_request(&format!(
            "Unknown operation {}: this server implements {}",
            op_el.name,
            operation_names().join(", ")
        ))
    })?;
    req.extensions_mut().insert(OperationName(operation.name));
    let principal = session.as_ref().map(|s| s.principal.as_str());
    if let Some(fired) = state
        .control
        .faults
        .check(Surface::Vlsi, operation.name, principal)
    {
        req.extensions_mut()
            .insert(InjectedFault(fired.rule_id.clone()));
        let refusal = injected(fired.injected());
        if let (Refusal::Fault(fault), Some(hook)) = (&refusal, operation.on_fault) {
            hook(&state.core, principal, fault);
        }
        return Err(refusal);
    }
    // The session goes to the handler; a fault hook needs only whose call it was.
    let hook = operation
        .on_fault
        .map(|hook| (hook, principal.map(str::to_string)));
    let result = match lookup_failure {
        // The session could not be looked up (the store failed): say so, not SecurityError.
        Some(e) if operation.needs_session => Err(SoapFault::from(e)),
        _ => check_and_call(state, operation, op_el, session).await,
    };
    if let (Err(fault), Some((hook, principal))) = (&result, hook) {
        hook(&state.core, principal.as_deref(), fault);
    }
    Ok((operation, result?))
}

async fn check_and_call(
    state: &web::Data<AppState>,
    operation: &Operation,
    op_el: std::rc::Rc<crate::xml::Element>,
    session: Option<crate::core::sessions::Session>,
) -> Result<Reply, SoapFault> {
    let service = operation.service();
    let this = op_el.child("_this").ok_or_else(|| {
        faults::invalid_request(&format!(
            "{} needs its _this parameter (a ManagedObjectReference to {service})",
            operation.name
        ))
    })?;
    let mor_type = this.attr("type").unwrap_or(service);
    if mor_type != service {
        return Err(faults::invalid_type(
            "_this",
            service,
            &format!(
                "{} must be called on a {service} reference, not {mor_type}",
                operation.name
            ),
        ));
    }
    let value = this.trimmed_text();
    if value != service {
        return Err(faults::entity_not_found(
            value,
            &format!("No {service} object with id [{value}] exists."),
        ));
    }
    if operation.needs_session && session.is_none() {
        return Err(faults::security_error());
    }
    (operation.handler)(Call {
        state: state.clone(),
        op: op_el,
        session,
    })
    .await
}
