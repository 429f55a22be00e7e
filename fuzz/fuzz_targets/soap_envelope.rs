#![no_main]
//! Any bytes through the SOAP envelope reader: a fault or an envelope, never a panic.
use libfuzzer_sys::fuzz_target;
use vlsim::soap::read_envelope;
use vlsim::xml::Limits;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = read_envelope(data, Limits::default()) {
        // Re-rendering the operation must not panic either.
        let _ = envelope.operation.to_plain_xml(&envelope.operation.name);
    }
});
