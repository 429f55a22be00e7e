//! Generic SOAP 1.1: read an envelope into a bounded tree, write responses and faults.
//! Knows nothing of Horizon; `vlsi/` supplies the operations and the fault types.

mod recent;

use crate::xml::{self, Element, Limits, XmlError};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
pub use recent::read_envelope_recent;
use std::rc::Rc;

pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

const ENVELOPE_OPEN: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    "\n",
    r#"<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
    "\n<soapenv:Body>\n"
);
const ENVELOPE_CLOSE: &str = "\n</soapenv:Body>\n</soapenv:Envelope>\n";

/// Who is to blame, in SOAP 1.1 terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// The request itself is wrong (malformed XML, unknown operation, ...).
    Client,
    /// A fault raised by an operation (vim25/VLSI write `ServerFaultCode`).
    Server,
    /// Not a SOAP 1.1 envelope.
    VersionMismatch,
}

impl FaultCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Client => "soapenv:Client",
            Self::Server => "ServerFaultCode",
            Self::VersionMismatch => "soapenv:VersionMismatch",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    pub code: FaultCode,
    pub string: String,
    /// Rendered XML of the `detail` content.
    pub detail: Option<String>,
}

impl std::fmt::Display for SoapFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SOAP fault {}: {}", self.code.as_str(), self.string)
    }
}

/// Faults render themselves, so extractors and handlers can return them.
impl actix_web::ResponseError for SoapFault {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        fault_response(self)
    }
}

impl SoapFault {
    pub fn client(message: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Client,
            string: message.into(),
            detail: None,
        }
    }
}

/// A parsed SOAP request.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub header: Option<Element>,
    /// The single child of `Body`: the operation element (shared: a worker's recent parses
    /// hand it out again without copying the tree).
    pub operation: Rc<Element>,
}

impl From<XmlError> for SoapFault {
    fn from(e: XmlError) -> Self {
        SoapFault::client(e.to_string())
    }
}

/// Reads a SOAP 1.1 envelope from raw bytes.
pub fn read_envelope(body: &[u8], limits: Limits) -> Result<Envelope, SoapFault> {
    let text = std::str::from_utf8(body)
        .map_err(|e| SoapFault::client(format!("the request is not valid UTF-8: {e}")))?;
    let root = xml::parse(text, limits)?;
    if root.name != "Envelope" {
        return Err(SoapFault::client(format!(
            "the root element must be a SOAP Envelope, not {}",
            root.name
        )));
    }
    match root.ns.as_deref() {
        Some(SOAP11_NS) => {}
        Some(SOAP12_NS) => {
            return Err(SoapFault {
                code: FaultCode::VersionMismatch,
                string: "SOAP 1.2 is not supported; send a SOAP 1.1 envelope (namespace http://schemas.xmlsoap.org/soap/envelope/)".into(),
                detail: None,
            })
        }
        other => {
            return Err(SoapFault {
                code: FaultCode::VersionMismatch,
                string: format!(
                    "the Envelope namespace must be {SOAP11_NS}, not {}",
                    other.unwrap_or("(none)")
                ),
                detail: None,
            })
        }
    }
    let mut header = None;
    let mut body_el = None;
    for child in root.children {
        match (child.name.as_str(), child.ns.as_deref()) {
            ("Header", Some(SOAP11_NS)) if header.is_none() && body_el.is_none() => {
                header = Some(child)
            }
            ("Body", Some(SOAP11_NS)) if body_el.is_none() => body_el = Some(child),
            (name, _) => {
                return Err(SoapFault::client(format!(
                    "unexpected element {name} in the SOAP Envelope"
                )))
            }
        }
    }
    let body_el = body_el.ok_or_else(|| SoapFault::client("the SOAP Envelope has no Body"))?;
    let mut ops = body_el.children.into_iter();
    let operation = ops.next().ok_or_else(|| {
        SoapFault::client("the SOAP Body is empty: it must hold one operation element")
    })?;
    if ops.next().is_some() {
        return Err(SoapFault::client(
            "the SOAP Body must hold exactly one operation element",
        ));
    }
    Ok(Envelope {
        header,
        operation: Rc::new(operation),
    })
}

/// Wraps rendered body content in a SOAP 1.1 envelope.
pub fn envelope(body_content: &str) -> String {
    envelope_of(&[body_content])
}

/// A SOAP 1.1 envelope around the concatenation of `parts`.
pub fn envelope_of(parts: &[&str]) -> String {
    let len = parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = String::with_capacity(ENVELOPE_OPEN.len() + len + ENVELOPE_CLOSE.len());
    out.push_str(ENVELOPE_OPEN);
    for part in parts {
        out.push_str(part);
    }
    out.push_str(ENVELOPE_CLOSE);
    out
}

pub fn fault_xml(fault: &SoapFault) -> String {
    let mut body = String::from("<soapenv:Fault>\n<faultcode>");
    body.push_str(fault.code.as_str());
    body.push_str("</faultcode>\n<faultstring>");
    body.push_str(&quick_xml::escape::escape(fault.string.as_str()));
    body.push_str("</faultstring>\n");
    if let Some(detail) = &fault.detail {
        body.push_str("<detail>");
        body.push_str(detail);
        body.push_str("</detail>\n");
    }
    body.push_str("</soapenv:Fault>");
    envelope(&body)
}

/// SOAP 1.1 §6.2: every fault travels with HTTP 500.
pub fn fault_response(fault: &SoapFault) -> HttpResponse {
    HttpResponse::build(StatusCode::INTERNAL_SERVER_ERROR)
        .content_type(CONTENT_TYPE)
        .body(fault_xml(fault))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_soap11_and_refuses_soap12() {
        let ok = format!(
            r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Header/><s:Body><Op xmlns="urn:vdi"><a>1</a></Op></s:Body></s:Envelope>"#
        );
        let env = read_envelope(ok.as_bytes(), Limits::default()).unwrap();
        assert_eq!(env.operation.name, "Op");
        let v12 =
            format!(r#"<s:Envelope xmlns:s="{SOAP12_NS}"><s:Body><Op/></s:Body></s:Envelope>"#);
        let err = read_envelope(v12.as_bytes(), Limits::default()).unwrap_err();
        assert_eq!(err.code, FaultCode::VersionMismatch);
        let empty = format!(r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body/></s:Envelope>"#);
        assert_eq!(
            read_envelope(empty.as_bytes(), Limits::default())
                .unwrap_err()
                .code,
            FaultCode::Client
        );
        assert!(read_envelope(&[0xff, 0xfe], Limits::default()).is_err());
    }

    #[test]
    fn fault_is_escaped() {
        let xml = fault_xml(&SoapFault::client("a < b"));
        assert!(xml.contains("<faultstring>a &lt; b</faultstring>"));
        assert!(xml.contains("<faultcode>soapenv:Client</faultcode>"));
    }
}
