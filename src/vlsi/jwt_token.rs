//! `JwtToken`: Generate (needs an administrator session) and GetPublicKeys (open to
//! unauthenticated callers, as the API reference says).

use crate::core::sessions::Session;
use crate::core::Core;
use crate::soap::SoapFault;
use crate::vlsi::faults::{self, fault_type};
use crate::vlsi::types::{to_fragment, JwtPublicKeyInfo, JwtTokenGenerationSpec, JwtTokenInfo};
use crate::vlsi::{data_object, Call, Operation, Reply};
use futures_util::FutureExt;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "JwtToken_Generate",
        needs_session: true,
        handler: |call| generate(call).boxed_local(),
        on_fault: Some(record_generation_failure),
    },
    Operation {
        name: "JwtToken_GetPublicKeys",
        needs_session: false,
        handler: |call| get_public_keys(call).boxed_local(),
        on_fault: None,
    },
];

fn record_generation_failure(core: &Core, session: Option<&Session>, fault: &SoapFault) {
    core.horizon().generation_failed(
        session.map(|s| s.principal.clone()),
        &fault.string,
        fault_type(fault),
    );
}

/// The optional spec's validity in minutes. `validityTime` is checked here first so that a
/// bad value is reported against the field, then the spec goes through yaserde.
fn validity_minutes(call: &Call) -> Result<Option<i64>, SoapFault> {
    let Some(el) = call.op.child("spec").filter(|el| !el.is_nil()) else {
        return Ok(None);
    };
    if let Some(v) = el.child("validityTime") {
        if v.trimmed_text().parse::<i32>().is_err() {
            return Err(faults::invalid_argument(
                "spec.validityTime",
                &format!(
                    "validityTime must be an xsd:int number of minutes, got [{}]",
                    v.trimmed_text()
                ),
            ));
        }
    }
    let spec: JwtTokenGenerationSpec = data_object(el, "spec", "JwtTokenGenerationSpec")?;
    Ok(spec.validity_time.map(i64::from))
}

async fn generate(call: Call) -> Result<Reply, SoapFault> {
    let minutes = validity_minutes(&call)?;
    let generated = call
        .core()
        .horizon()
        .generate_token(call.session()?, minutes)?;
    let info = JwtTokenInfo {
        token: generated.token,
        expiry_time: Some(crate::clock::rfc3339_secs(generated.expires_at)),
    };
    Ok(Reply::with(to_fragment(&info)?))
}

async fn get_public_keys(call: Call) -> Result<Reply, SoapFault> {
    let keys = call.core().horizon().public_keys();
    let info = JwtPublicKeyInfo {
        connection_server_name: keys.connection_server_name,
        keys: keys.keys_pem,
    };
    Ok(Reply::with(to_fragment(&info)?))
}
