//! Hostile bodies on the REST surfaces (the SOAP ones are in vlsi.rs and hardening.rs):
//! each gets a 4xx in the surface's own error format, never a 5xx, and the server lives on
//! without its memory growing.

use crate::helpers::*;
use reqwest::Method;
use serde_json::Value;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("deep json", ("[".repeat(10_000) + &"]".repeat(10_000)).into_bytes()),
        ("deep object", ("{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000)).into_bytes()),
        ("invalid utf-8", vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
        ("huge number", format!("{{\"loginId\": {}, \"refreshToken\": 1e999999}}", "9".repeat(5000)).into_bytes()),
        // FusionAuth ignores unknown fields, so every field here is a real one, mistyped.
        ("wrong types", br#"{"loginId": ["a"], "password": {"x": 1}, "applicationId": 7, "refreshToken": false, "claims": "x", "timeToLiveInSeconds": "abc", "keyId": 5, "encodedJWT": 1, "identityProviderId": [], "global": "yes"}"#.to_vec()),
        ("not an object", b"\"just a string\"".to_vec()),
        ("truncated", br#"{"loginId": "admin@vlsim.test", "pass"#.to_vec()),
        ("nul bytes", b"{\"loginId\": \"a\0b\"}".to_vec()),
        ("2 MiB", format!("{{\"loginId\": \"{}\"}}", "a".repeat(2 * 1024 * 1024)).into_bytes()),
    ]
}

#[actix_web::test]
async fn fusionauth_and_vcenter_refuse_hostile_bodies_with_typed_errors() {
    let app = TestApp::start().await;
    let post = |path: &str, authorization: Option<&str>, content_type: &str, body: &[u8]| {
        app.send(
            app.request(Method::POST, path, authorization)
                .header("Content-Type", content_type)
                .body(body.to_vec()),
        )
    };
    let fa_paths = [
        "/api/login",
        "/api/jwt/refresh",
        "/api/jwt/vend",
        "/api/jwt/reconcile",
        "/api/logout",
    ];
    let warm = rss_kib();
    let mut tried = 0;
    for _round in 0..3 {
        for (name, body) in hostile_bodies() {
            for path in fa_paths {
                let r = post(path, Some(fa::API_KEY), "application/json", &body).await;
                assert!(
                    (400..500).contains(&r.status),
                    "{path} {name}: {}",
                    r.status
                );
                if r.status == 400 && !r.text.is_empty() {
                    let json: Value = serde_json::from_str(&r.text)
                        .unwrap_or_else(|_| panic!("{path} {name}: {}", r.text));
                    assert!(
                        json.get("fieldErrors").is_some() || json.get("generalErrors").is_some(),
                        "{path} {name}: {}",
                        r.text
                    );
                }
                tried += 1;
            }
            // vCenter form endpoint and JSON-RPC
            let form = "application/x-www-form-urlencoded";
            let r = post(vc::TOKEN_PATH, None, form, &body).await;
            assert!(
                (400..500).contains(&r.status),
                "token exchange {name}: {}",
                r.status
            );
            let r = post("/api", None, "application/json", &body).await;
            assert!(
                r.status == 200 || (400..500).contains(&r.status),
                "json-rpc {name}: {}",
                r.status
            );
            if r.status == 200 {
                let json: Value = serde_json::from_str(&r.text).unwrap();
                assert!(
                    json["error"]["code"].is_i64(),
                    "json-rpc {name}: {}",
                    r.text
                );
            }
            tried += 2;
        }
    }
    let after = rss_kib();
    eprintln!("{tried} hostile requests; RSS {warm} KiB -> {after} KiB");
    assert!(
        after < warm + 64 * 1024,
        "memory grew by more than 64 MiB: {warm} -> {after} KiB"
    );
    // still serving
    assert_eq!(app.get("/.well-known/jwks.json", None).await.status, 200);
}
