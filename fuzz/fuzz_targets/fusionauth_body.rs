#![no_main]
//! FusionAuth request bodies (JSON or form) and every typed accessor: errors, never panics.
use libfuzzer_sys::fuzz_target;
use vlsim::fusionauth::Body;

fuzz_target!(|data: &[u8]| {
    for is_form in [false, true] {
        if let Ok(body) = Body::from_bytes(data, is_form) {
            for field in ["loginId", "password", "applicationId", "refreshToken", "token", "claims", "timeToLiveInSeconds", "noJWT", "userId"] {
                let _ = body.string(field);
                let _ = body.uuid(field);
                let _ = body.bool(field);
                let _ = body.integer(field);
                let _ = body.object(field);
            }
        }
    }
});
