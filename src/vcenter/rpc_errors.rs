//! The vAPI JSON-RPC encoding of vCenter errors: a std error or the OAuth2 error the SDK
//! declares for the operation, as a `result.error` value (see `errors.rs` for the mapping).

use super::errors::{classify, oauth_description, public_message, Family, StdError, Wire};
use crate::core::CoreError;
use serde_json::{json, Value};

fn rpc_message(id: &str, text: &str) -> Value {
    json!({"STRUCTURE": {"com.vmware.vapi.std.localizable_message": {
        "id": id, "default_message": text, "args": [],
        "params": {"OPTIONAL": null}, "localized": {"OPTIONAL": null},
    }}})
}

/// A vAPI std error as a JSON-RPC error value.
pub fn rpc_std(std: StdError, text: &str) -> Value {
    let mut fields = json!({
        "messages": [rpc_message(std.message_id(), text)],
        "data": {"OPTIONAL": null},
        "error_type": {"OPTIONAL": std.name().to_uppercase()},
    });
    if std == StdError::Unauthenticated {
        if let Some(obj) = fields.as_object_mut() {
            obj.insert("challenge".into(), json!({"OPTIONAL": null}));
        }
    }
    json!({"ERROR": {format!("com.vmware.vapi.std.errors.{}", std.name()): fields}})
}

/// The JSON-RPC `result.error` value for a failed operation of `family`.
pub fn rpc_error(err: &CoreError, family: Family) -> Value {
    let text = public_message(err);
    match (classify(err, family), family) {
        (Wire::Std(std), _) => rpc_std(std, &text),
        (Wire::OAuth(code), Family::TokenService) => {
            let code = code.declared();
            json!({"ERROR": {
                format!("com.vmware.vcenter.tokenservice.{}", code.code()): {
                    "messages": [rpc_message(&format!("com.vmware.vcenter.tokenservice.{}", code.code()), &text)],
                    "data": {"OPTIONAL": null},
                }
            }})
        }
        (Wire::OAuth(code), _) => {
            let code = code.declared();
            json!({"ERROR": {
                format!("com.vmware.oauth2.errors.{}", code.code()): {
                    "error": code.code(),
                    "error_description": {"OPTIONAL": oauth_description(&text)},
                    "error_uri": {"OPTIONAL": null},
                }
            }})
        }
    }
}
