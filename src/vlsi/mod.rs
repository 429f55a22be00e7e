//! The Horizon View API (VLSI) SOAP surface at `/view-vlsi/sdk`: one file per managed
//! object (`authentication.rs`, `jwt_token.rs`), a dispatch table keyed by
//! (managed object type, method), and the fault mapping in `faults.rs`.

pub mod authentication;
pub mod faults;
pub mod jwt_token;
pub mod query_service;
pub mod types;
pub mod wsdl;

use crate::core::sessions::Session;
use crate::core::Core;
use crate::soap::xml::Element;
use crate::soap::{self, SoapFault};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use std::collections::HashMap;

pub const VDI_NS: &str = "urn:vdi";
pub const SESSION_COOKIE: &str = "JSESSIONID";
pub const COOKIE_PATH: &str = "/view-vlsi";
pub const SDK_PATH: &str = "/view-vlsi/sdk";

/// What an operation handler gets.
pub struct Call {
    pub state: web::Data<AppState>,
    pub op: Element,
    pub session: Option<Session>,
}

impl Call {
    pub fn core(&self) -> &Core {
        &self.state.core
    }
}

/// What an operation handler returns: the rendered `<Method>Response` element and what
/// happens to the session cookie.
pub struct Reply {
    pub body: String,
    pub cookie: CookieChange,
}

pub enum CookieChange {
    Keep,
    Set(String),
    Clear,
}

impl Reply {
    /// `<{method}Response xmlns="urn:vdi">{content}</{method}Response>` (empty element when
    /// the method returns nothing).
    pub fn new(method: &str, content: &str) -> Self {
        let body = if content.is_empty() {
            format!(r#"<{method}Response xmlns="{VDI_NS}"/>"#)
        } else {
            format!(r#"<{method}Response xmlns="{VDI_NS}">{content}</{method}Response>"#)
        };
        Self {
            body,
            cookie: CookieChange::Keep,
        }
    }

    pub fn with_cookie(mut self, cookie: CookieChange) -> Self {
        self.cookie = cookie;
        self
    }
}

pub type Handler = fn(Call) -> LocalBoxFuture<'static, Result<Reply, SoapFault>>;
/// Called when the operation fails, whatever refused it (e.g. to record an event).
pub type FaultHook = fn(&Core, Option<&Session>, &SoapFault);

pub struct Operation {
    /// Managed object type, e.g. `JwtToken`.
    pub service: &'static str,
    /// Wire name of the method element, e.g. `JwtToken_Generate`.
    pub method: &'static str,
    pub needs_session: bool,
    pub handler: Handler,
    pub on_fault: Option<FaultHook>,
}

/// Every operation, keyed by its method element name, `<ManagedObjectType>_<Operation>`
/// (so the key is the (type, operation) pair the VLSI wire names carry).
pub struct Dispatcher {
    operations: HashMap<&'static str, Operation>,
}

impl Dispatcher {
    pub fn new() -> Self {
        let mut operations = HashMap::new();
        for op in authentication::operations()
            .into_iter()
            .chain(jwt_token::operations())
            .chain(query_service::operations())
        {
            operations.insert(op.method, op);
        }
        Self { operations }
    }

    pub fn find(&self, method: &str) -> Option<&Operation> {
        self.operations.get(method)
    }

    /// (service, method) pairs, sorted, for the admin API's coverage listing.
    pub fn operation_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .operations
            .values()
            .map(|o| o.method.to_string())
            .collect();
        names.sort();
        names
    }

    pub fn services(&self) -> Vec<&'static str> {
        let mut s: Vec<&'static str> = self.operations.values().map(|o| o.service).collect();
        s.sort_unstable();
        s.dedup();
        s
    }
}

impl Default for Dispatcher {
    fn default() -> Self {
        Self::new()
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(SDK_PATH)
            .route(web::post().to(sdk_post))
            .route(web::get().to(wsdl::sdk_get))
            .default_service(web::to(method_not_allowed)),
    )
    .service(web::resource("/view-vlsi/sdk/vdiService.wsdl").route(web::get().to(wsdl::wsdl)))
    .service(web::resource("/view-vlsi/sdk/vdiService.xsd").route(web::get().to(wsdl::xsd)));
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("Allow", "GET, POST"))
        .content_type("text/plain; charset=utf-8")
        .body("POST SOAP 1.1 envelopes to /view-vlsi/sdk; GET /view-vlsi/sdk?wsdl for the WSDL.\n")
}

/// The live VLSI session named by any request cookie (clients replay whatever cookie name
/// they were given, so `JSESSIONID` is tried first, then every other cookie).
fn find_session(core: &Core, req: &HttpRequest) -> Option<Session> {
    let cookies = req.cookies().ok()?;
    let mut ordered: Vec<&Cookie<'static>> = cookies.iter().collect();
    ordered.sort_by_key(|c| c.name() != SESSION_COOKIE);
    ordered
        .into_iter()
        .filter(|c| c.value().len() <= 128)
        .find_map(|c| core.session(crate::core::horizon::SURFACE, c.value()).ok())
}

async fn sdk_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let limit = state.config.body_limit;
    let body = match crate::http::read_body(&req, payload, limit).await {
        Ok(body) => body,
        Err(e) => return soap::fault_response(&SoapFault::client(e.to_string())),
    };
    match dispatch(&state, &req, &body).await {
        Err(Refusal::Fault(fault)) => soap::fault_response(&fault),
        Err(Refusal::Raw(response)) => response,
        Ok(reply) => {
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
            response.body(soap::envelope(&reply.body))
        }
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

/// What a fired fault rule makes of a SOAP call.
fn injected(fired: &crate::control::faults::Fired) -> Refusal {
    use crate::control::faults::FaultAction;
    use actix_web::http::StatusCode;
    match &fired.action {
        FaultAction::Drop => Refusal::Raw(crate::control::middleware::dropped_connection()),
        FaultAction::Status { status, body } => {
            Refusal::Raw(crate::control::middleware::status_response(*status, body))
        }
        FaultAction::Typed {
            fault,
            message,
            status,
        } => {
            let message = crate::control::middleware::fault_message(fired, message);
            let soap_fault =
                faults::by_name(fault.as_deref().unwrap_or("UnexpectedFault"), &message);
            match status.and_then(|s| StatusCode::from_u16(s).ok()) {
                Some(code) if code != StatusCode::INTERNAL_SERVER_ERROR => Refusal::Raw(
                    HttpResponse::build(code)
                        .content_type(soap::CONTENT_TYPE)
                        .body(soap::fault_xml(&soap_fault)),
                ),
                _ => Refusal::Fault(soap_fault),
            }
        }
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

async fn dispatch(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    body: &[u8],
) -> Result<Reply, Refusal> {
    let envelope = soap::read_envelope(body, state.config.xml_limits)?;
    let op_el = envelope.operation;
    let method = op_el.name.clone();
    let operation = state.vlsi.find(&method).ok_or_else(|| {
        faults::invalid_request(&format!(
            "Unknown operation {method}: this server implements {}",
            state.vlsi.operation_names().join(", ")
        ))
    })?;
    req.extensions_mut()
        .insert(crate::control::OperationName(method.clone()));
    let session = find_session(&state.core, req);
    let principal = session.as_ref().map(|s| s.principal.as_str());
    if let Some(fired) =
        state
            .control
            .faults
            .check(crate::core::horizon::SURFACE, &method, principal)
    {
        req.extensions_mut()
            .insert(crate::control::middleware::InjectedFault(
                fired.rule_id.clone(),
            ));
        let refusal = injected(&fired);
        if let (Refusal::Fault(fault), Some(hook)) = (&refusal, operation.on_fault) {
            hook(&state.core, session.as_ref(), fault);
        }
        return Err(refusal);
    }
    let result = check_and_call(state, operation, op_el, session.clone()).await;
    if let (Err(fault), Some(hook)) = (&result, operation.on_fault) {
        hook(&state.core, session.as_ref(), fault);
    }
    Ok(result?)
}

async fn check_and_call(
    state: &web::Data<AppState>,
    operation: &Operation,
    op_el: Element,
    session: Option<Session>,
) -> Result<Reply, SoapFault> {
    let this = op_el.child("_this").ok_or_else(|| {
        faults::invalid_request(&format!(
            "{} needs its _this parameter (a ManagedObjectReference to {})",
            operation.method, operation.service
        ))
    })?;
    let mor_type = this.attr("type").unwrap_or(operation.service);
    if mor_type != operation.service {
        return Err(faults::invalid_type(
            "_this",
            operation.service,
            &format!(
                "{} must be called on a {} reference, not {mor_type}",
                operation.method, operation.service
            ),
        ));
    }
    let value = this.trimmed_text();
    if value != operation.service {
        return Err(faults::entity_not_found(
            value,
            &format!("No {} object with id [{value}] exists.", operation.service),
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

/// The text of a required string parameter.
pub fn required_text<'a>(op: &'a Element, name: &str) -> Result<&'a str, SoapFault> {
    op.child(name)
        .filter(|el| !el.is_nil())
        .map(|el| el.text.as_str())
        .ok_or_else(|| {
            faults::invalid_argument(name, &format!("The parameter {name} is required."))
        })
}

/// Deserialises a data-object parameter with yaserde, checking any `xsi:type` first.
pub fn data_object<T: yaserde::YaDeserialize>(
    el: &Element,
    parameter: &str,
    type_name: &str,
) -> Result<T, SoapFault> {
    if let Some(given) = el.xsi_type() {
        if given != type_name {
            return Err(faults::invalid_type(
                parameter,
                type_name,
                &format!("{parameter} must be a {type_name}, not {given}"),
            ));
        }
    }
    yaserde::de::from_str(&el.to_plain_xml(parameter)).map_err(|e| {
        faults::invalid_argument(
            parameter,
            &format!("{parameter} is not a valid {type_name}: {e}"),
        )
    })
}
