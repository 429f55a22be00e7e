#![no_main]
//! The token-exchange IssueSpec, form-urlencoded and JSON.
use libfuzzer_sys::fuzz_target;
use vlsim::core::vcenter::IssueSpec;

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = serde_urlencoded::from_bytes::<IssueSpec>(data) {
        let _ = spec.normalised();
    }
    if let Ok(spec) = serde_json::from_slice::<IssueSpec>(data) {
        let _ = spec.normalised();
    }
});
