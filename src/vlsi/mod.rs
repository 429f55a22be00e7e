//! The Horizon View API (VLSI) SOAP surface at `/view-vlsi/sdk`: one file per managed
//! object (`authentication.rs`, `jwt_token.rs`, `query_service.rs`), each with a table of
//! its operations; `dispatch.rs` finds the operation, checks `_this` and the session, and
//! frames the reply; `faults.rs` holds the one mapping from domain errors to SOAP faults.

pub mod authentication;
pub mod dispatch;
pub mod faults;
pub mod jwt_token;
pub mod query_definition;
pub mod query_service;
pub mod types;
pub mod wsdl;

use crate::control::routes::{SurfaceDef, TypedFault};
use crate::core::sessions::Session;
use crate::core::{Core, CoreError};
use crate::route;
use crate::soap::SoapFault;
use crate::state::AppState;
use crate::surface::Surface;
use crate::xml::Element;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use std::rc::Rc;

pub const VDI_NS: &str = "urn:vdi";
pub const SESSION_COOKIE: &str = "JSESSIONID";
pub const COOKIE_PATH: &str = "/view-vlsi";
pub const SDK_PATH: &str = "/view-vlsi/sdk";

pub static SURFACE: SurfaceDef = SurfaceDef {
    surface: Surface::Vlsi,
    prefixes: &["/view-vlsi"],
    routes: &[
        route!(POST "/view-vlsi/sdk" => dispatch::sdk_post, "SOAP 1.1 calls (the operation is the Body's element)"),
        route!(GET "/view-vlsi/sdk" => wsdl::sdk_get, "The WSDL (?wsdl) or the XSD (?xsd)"),
        route!(ANY "/view-vlsi/sdk" => method_not_allowed, "Other methods: 405"),
        route!(GET "/view-vlsi/sdk/vdiService.wsdl" => wsdl::wsdl, "The WSDL"),
        route!(GET "/view-vlsi/sdk/vdiService.xsd" => wsdl::xsd, "The XSD"),
    ],
    operations: dispatch::operation_names,
    // SOAP calls are named by their Body's element: rules are checked once it is parsed.
    typed_fault: None,
    fault_names: faults::NAMES,
};

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("Allow", "GET, POST"))
        .content_type("text/plain; charset=utf-8")
        .body("POST SOAP 1.1 envelopes to /view-vlsi/sdk; GET /view-vlsi/sdk?wsdl for the WSDL.\n")
}

/// What an operation handler gets.
pub struct Call {
    pub state: web::Data<AppState>,
    pub op: Rc<Element>,
    pub session: Option<Session>,
}

impl Call {
    pub fn core(&self) -> &Core {
        &self.state.core
    }

    /// The caller's session (the dispatcher has already refused calls that need one and
    /// came without).
    pub fn session(&self) -> Result<&Session, SoapFault> {
        self.session.as_ref().ok_or_else(faults::security_error)
    }
}

/// What an operation handler returns: the content of its `<Method>Response` element (or,
/// for an answer that is the same call after call, the whole envelope) and what happens to
/// the session cookie.
pub struct Reply {
    pub content: Content,
    pub cookie: CookieChange,
}

pub enum Content {
    /// Rendered XML inside `<Method>Response` (e.g. a `returnval`); empty for none.
    Fragment(String),
    /// The whole response envelope, already written.
    Envelope(actix_web::web::Bytes),
}

pub enum CookieChange {
    Keep,
    Set(String),
    Clear,
}

impl Reply {
    /// A response with no return value.
    pub fn empty() -> Self {
        Self::with(String::new())
    }

    /// A response with `content` (rendered XML, e.g. a `returnval`).
    pub fn with(content: String) -> Self {
        Self {
            content: Content::Fragment(content),
            cookie: CookieChange::Keep,
        }
    }

    /// A response whose whole envelope is `envelope` (see [`dispatch::response_envelope`]).
    pub fn enveloped(envelope: actix_web::web::Bytes) -> Self {
        Self {
            content: Content::Envelope(envelope),
            cookie: CookieChange::Keep,
        }
    }

    pub fn with_cookie(mut self, cookie: CookieChange) -> Self {
        self.cookie = cookie;
        self
    }
}

pub type Handler = fn(Call) -> LocalBoxFuture<'static, Result<Reply, SoapFault>>;
/// Called when the operation fails, whatever refused it (e.g. to record an event), with
/// the caller's principal when the call had a session.
pub type FaultHook = fn(&Core, Option<&str>, &SoapFault);

/// One operation of a managed object.
pub struct Operation {
    /// The wire name of the method element, `<ManagedObjectType>_<Method>`.
    pub name: &'static str,
    pub needs_session: bool,
    pub handler: Handler,
    pub on_fault: Option<FaultHook>,
}

impl Operation {
    /// The managed object type (`JwtToken` of `JwtToken_Generate`).
    pub fn service(&self) -> &'static str {
        self.name.split_once('_').map_or(self.name, |(s, _)| s)
    }
}

/// The live VLSI session named by any request cookie (clients replay whatever cookie name
/// they were given, so `JSESSIONID` is tried first, then every other cookie), or, when no
/// cookie names one and a lookup failed for another reason than "no such session" (the
/// store could not be read), that failure: a call needing a session then answers with it
/// (`UnexpectedFault`), not with `SecurityError`.
pub struct VlsiSession(pub Result<Option<Session>, CoreError>);

impl FromRequest for VlsiSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Ok(Self(Ok(None))));
        };
        let cookies = || crate::http::request_cookies(req).filter(|(_, v)| v.len() <= 128);
        let session_cookies = cookies().filter(|(name, _)| *name == SESSION_COOKIE);
        let other_cookies = cookies().filter(|(name, _)| *name != SESSION_COOKIE);
        let mut failure = None;
        for (_, value) in session_cookies.chain(other_cookies) {
            match state.core.horizon().session(&value) {
                Ok(session) => return ready(Ok(Self(Ok(Some(session))))),
                Err(CoreError::NotAuthenticated(_)) => {}
                Err(e) => failure = Some(e),
            }
        }
        ready(Ok(Self(failure.map_or(Ok(None), Err))))
    }
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

/// The SOAP fault a typed fault rule asks for (VLSI checks rules in the dispatcher).
pub fn injected_fault(typed: &TypedFault<'_>) -> SoapFault {
    faults::by_name(typed.fault.unwrap_or("UnexpectedFault"), &typed.message)
}
