//! VLSI fault types and the one mapping from [`CoreError`] to a SOAP fault.
//! Framing follows vim25 (which VLSI is built on): faultcode `ServerFaultCode`, a detail
//! element `<TypeFault xmlns="urn:vdi" xsi:type="Type">` with base-class fields first.

use crate::core::CoreError;
use crate::soap::{FaultCode, SoapFault};
use crate::vlsi::VDI_NS;
use quick_xml::escape::escape;

pub const NOT_AUTHENTICATED: &str = "The session is not authenticated.";

/// Builds the detail element of a VLSI fault; `fields` are rendered XML in order.
fn detail(type_name: &str, fields: &str) -> String {
    if fields.is_empty() {
        format!(r#"<{type_name}Fault xmlns="{VDI_NS}" xsi:type="{type_name}"/>"#)
    } else {
        format!(
            r#"<{type_name}Fault xmlns="{VDI_NS}" xsi:type="{type_name}">{fields}</{type_name}Fault>"#
        )
    }
}

fn field(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

fn fault(type_name: &str, faultstring: &str, fields: &str) -> SoapFault {
    SoapFault {
        code: FaultCode::Server,
        string: faultstring.to_string(),
        detail: Some(detail(type_name, fields)),
    }
}

/// A `ViewRuntimeFault` subtype: `errorMessage` first, then `extra`.
fn view_runtime_fault(type_name: &str, message: &str, extra: &str) -> SoapFault {
    fault(
        type_name,
        message,
        &format!("{}{extra}", field("errorMessage", message)),
    )
}

pub fn security_error() -> SoapFault {
    fault("SecurityError", NOT_AUTHENTICATED, "")
}

pub fn invalid_argument(parameter: &str, message: &str) -> SoapFault {
    view_runtime_fault(
        "InvalidArgument",
        message,
        &field("parameterName", parameter),
    )
}

pub fn invalid_type(parameter: &str, expected: &str, message: &str) -> SoapFault {
    view_runtime_fault(
        "InvalidType",
        message,
        &format!(
            "{}{}",
            field("parameterName", parameter),
            field("expectedType", expected)
        ),
    )
}

pub fn entity_not_found(id: &str, message: &str) -> SoapFault {
    view_runtime_fault(
        "EntityNotFound",
        message,
        &format!(r#"<id xsi:type="EntityId">{}</id>"#, field("id", id)),
    )
}

pub fn unexpected(message: &str, cause: &str) -> SoapFault {
    view_runtime_fault("UnexpectedFault", message, &field("causeString", cause))
}

/// A client-side mistake the operation layer detects (unknown operation, missing `_this`):
/// SOAP `Client` fault carrying an `InvalidRequest` detail.
pub fn invalid_request(message: &str) -> SoapFault {
    SoapFault {
        code: FaultCode::Client,
        string: message.to_string(),
        detail: Some(detail("InvalidRequest", &field("errorMessage", message))),
    }
}

/// A fault of the named VLSI type (for fault injection); unknown names give UnexpectedFault.
/// The fault types [`by_name`] makes (the first is the default of a typed fault rule).
pub const NAMES: &[&str] = &[
    "UnexpectedFault",
    "SecurityError",
    "InsufficientPermission",
    "InvalidArgument",
    "InvalidType",
    "EntityNotFound",
    "InvalidCredentials",
    "InvalidRequest",
    "InvalidState",
    "EntityAlreadyExists",
    "EntityInUse",
];

pub fn by_name(type_name: &str, message: &str) -> SoapFault {
    match type_name {
        "SecurityError" => security_error(),
        "InsufficientPermission" => fault(
            "InsufficientPermission",
            message,
            &field("privileges", "ADMINISTRATOR"),
        ),
        "InvalidArgument" => invalid_argument("spec", message),
        "InvalidType" => invalid_type("_this", "JwtToken", message),
        "EntityNotFound" => entity_not_found("", message),
        "InvalidCredentials"
        | "InvalidRequest"
        | "InvalidState"
        | "EntityAlreadyExists"
        | "EntityInUse" => view_runtime_fault(type_name, message, ""),
        _ => unexpected(message, "injected by a vlsim fault rule"),
    }
}

/// The one mapping from domain errors to VLSI faults (handlers use `?`).
impl From<CoreError> for SoapFault {
    fn from(err: CoreError) -> Self {
        fault_of(&err)
    }
}

fn fault_of(err: &CoreError) -> SoapFault {
    match err {
        CoreError::NotAuthenticated(_) => security_error(),
        CoreError::InvalidCredentials(message) => {
            view_runtime_fault("InvalidCredentials", message, "")
        }
        CoreError::PermissionDenied {
            message,
            privileges,
        } => {
            let fields: String = privileges.iter().map(|p| field("privileges", p)).collect();
            fault("InsufficientPermission", message, &fields)
        }
        CoreError::InvalidArgument {
            field: name,
            message,
        } => invalid_argument(name, message),
        CoreError::NotFound { id, message, .. } => entity_not_found(id, message),
        CoreError::InvalidToken(message) => invalid_argument("token", message),
        // The one conflict VLSI has: too many open query cursors (QueryService_Create).
        CoreError::Conflict(message) => view_runtime_fault("InvalidState", message, ""),
        CoreError::Store(e) => unexpected(
            "An unexpected error occurred while storing data.",
            &e.to_string(),
        ),
        CoreError::Internal(cause) => unexpected("An unexpected error occurred.", cause),
    }
}

/// The fault's type name, for events and logs.
pub fn fault_type(fault: &SoapFault) -> &str {
    fault
        .detail
        .as_deref()
        .and_then(|d| d.split("xsi:type=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or(match fault.code {
            FaultCode::Client => "Client",
            FaultCode::Server => "Server",
            FaultCode::VersionMismatch => "VersionMismatch",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insufficient_permission_lists_privileges() {
        let f = SoapFault::from(CoreError::PermissionDenied {
            message: "no".into(),
            privileges: vec!["ADMINISTRATOR".into()],
        });
        assert_eq!(
            f.detail.as_deref(),
            Some(
                r#"<InsufficientPermissionFault xmlns="urn:vdi" xsi:type="InsufficientPermission"><privileges>ADMINISTRATOR</privileges></InsufficientPermissionFault>"#
            )
        );
        assert_eq!(fault_type(&f), "InsufficientPermission");
    }
}
