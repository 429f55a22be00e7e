//! `JwtToken`: Generate (needs an administrator session) and GetPublicKeys (open to
//! unauthenticated callers, as the API reference says).

use crate::core::horizon::PublicKeys;
use crate::core::keys::KeyRing;
use crate::core::Core;
use crate::soap::SoapFault;
use crate::vlsi::dispatch::response_envelope;
use crate::vlsi::faults::{self, fault_type};
use crate::vlsi::types::{to_fragment, JwtPublicKeyInfo, JwtTokenGenerationSpec, JwtTokenInfo};
use crate::vlsi::{data_object, Call, Operation, Reply};
use actix_web::web::Bytes;
use futures_util::FutureExt;
use std::cell::RefCell;
use std::sync::Arc;

const GET_PUBLIC_KEYS: &str = "JwtToken_GetPublicKeys";

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "JwtToken_Generate",
        needs_session: true,
        handler: |call| generate(call).boxed_local(),
        on_fault: Some(record_generation_failure),
    },
    Operation {
        name: GET_PUBLIC_KEYS,
        needs_session: false,
        handler: |call| get_public_keys(call).boxed_local(),
        on_fault: None,
    },
];

fn record_generation_failure(core: &Core, principal: Option<&str>, fault: &SoapFault) {
    core.horizon().generation_failed(
        principal.map(str::to_string),
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
        expiry_time: Some(generated.expiry_time),
    };
    Ok(Reply::with(info.fragment()))
}

async fn get_public_keys(call: Call) -> Result<Reply, SoapFault> {
    let keys = call.core().horizon().public_keys();
    Ok(Reply::enveloped(public_keys_envelope(keys)?))
}

/// What GetPublicKeys last rendered on this worker, and from what: rendering PEMs through
/// yaserde costs more than the rest of the call, and the answer changes only when the keys
/// are reloaded (a new ring) or the Connection Server is renamed. The whole envelope is
/// kept, so a call hands out a reference to it rather than copying a few KB of PEM.
struct RenderedKeys {
    ring: Arc<KeyRing>,
    connection_server_name: String,
    envelope: Bytes,
}

thread_local! {
    static RENDERED_KEYS: RefCell<Option<RenderedKeys>> = const { RefCell::new(None) };
}

fn public_keys_envelope(keys: PublicKeys) -> Result<Bytes, SoapFault> {
    let cached = RENDERED_KEYS.with_borrow(|cached| {
        cached
            .as_ref()
            .filter(|c| {
                Arc::ptr_eq(&c.ring, &keys.ring)
                    && c.connection_server_name == keys.connection_server_name
            })
            .map(|c| c.envelope.clone())
    });
    if let Some(envelope) = cached {
        return Ok(envelope);
    }
    let fragment = to_fragment(&JwtPublicKeyInfo {
        connection_server_name: keys.connection_server_name.clone(),
        keys: keys.keys_pem(),
    })?;
    let envelope = Bytes::from(response_envelope(GET_PUBLIC_KEYS, &fragment));
    RENDERED_KEYS.set(Some(RenderedKeys {
        ring: keys.ring,
        connection_server_name: keys.connection_server_name,
        envelope: envelope.clone(),
    }));
    Ok(envelope)
}
