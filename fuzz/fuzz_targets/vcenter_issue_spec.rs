#![no_main]
//! The token-exchange IssueSpec, form-urlencoded and JSON.
use libfuzzer_sys::fuzz_target;
use vlsim::core::vcenter::IssueSpec;
use vlsim::vcenter::bodies::IssueSpecBody;

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = serde_urlencoded::from_bytes::<IssueSpecBody>(data) {
        let _ = IssueSpec::from(spec);
    }
    if let Ok(spec) = serde_json::from_slice::<IssueSpecBody>(data) {
        let _ = IssueSpec::from(spec);
    }
});
