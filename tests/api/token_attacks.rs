//! Forged, expired and confused tokens, presented everywhere a token is accepted: VLSI
//! LoginByToken, FusionAuth /api/jwt/validate, vCenter token exchange (subject_token) and
//! vCenter `POST /api/session` with Bearer. Each is refused with the surface's own error.

use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// Claims every surface would accept if the signature were good: a Horizon subject from
/// the Horizon issuer (trusted by validate and by the vCenter exchange).
fn good_claims(now: i64) -> Value {
    json!({"iss": "cs1.vlsim.test", "sub": "VLSIM\\administrator", "iat": now, "exp": now + 600,
           "jti": "attack", "domain": "VLSIM", "username": "administrator"})
}

/// The one "attack" whose signature is genuine: refused where the issuer matters.
const WRONG_ISSUER: &str = "wrong issuer";

fn attacks(app: &TestApp) -> Vec<(&'static str, String)> {
    let now = app.clock().now_secs();
    let mint = |claims: Value| app.mint(RSA_KID, claims);
    let good = mint(good_claims(now));
    let with = |k: &str, v: Value| {
        let mut c = good_claims(now);
        c[k] = v;
        c
    };
    let parts: Vec<&str> = good.split('.').collect();
    let resign_header = |header: Value| format!("{}.{}.{}", b64_json(&header), parts[1], parts[2]);
    let mut flipped = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    flipped[10] ^= 0x01;
    let public_pem = app
        .core()
        .key_ring()
        .get(RSA_KID)
        .unwrap()
        .public_pem
        .clone()
        .unwrap();
    vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64_json(&json!({"alg": "none", "typ": "JWT"})),
                parts[1]
            ),
        ),
        (
            "alg none with kid",
            format!(
                "{}.{}.",
                b64_json(&json!({"alg": "none", "kid": RSA_KID})),
                parts[1]
            ),
        ),
        (
            "RS256->HS256 with the public key as secret",
            sign_hs256(
                public_pem.as_bytes(),
                &json!({"alg": "HS256", "typ": "JWT", "kid": RSA_KID}),
                &good_claims(now),
            ),
        ),
        (
            "unknown kid",
            resign_header(json!({"alg": "RS256", "typ": "JWT", "kid": "no-such-key"})),
        ),
        (
            "path-like kid",
            resign_header(json!({"alg": "RS256", "typ": "JWT", "kid": "../../../../etc/passwd"})),
        ),
        (
            "jku header is not followed",
            resign_header(
                json!({"alg": "RS256", "typ": "JWT", "kid": "evil", "jku": "http://127.0.0.1:1/jwks.json"}),
            ),
        ),
        (
            "x5u header is not followed",
            resign_header(
                json!({"alg": "RS256", "typ": "JWT", "kid": "evil", "x5u": "http://127.0.0.1:1/cert.pem"}),
            ),
        ),
        ("expired", mint(with("exp", json!(now - 1)))),
        ("nbf in the future", mint(with("nbf", json!(now + 3600)))),
        (
            WRONG_ISSUER,
            mint(with("iss", json!("https://evil.example"))),
        ),
        (
            "bit-flipped signature",
            format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                URL_SAFE_NO_PAD.encode(&flipped)
            ),
        ),
        ("truncated", good[..good.len() - 20].to_string()),
        ("two parts", format!("{}.{}", parts[0], parts[1])),
        ("garbage", "not.a.jwt".into()),
        (
            "claims swapped after signing",
            format!(
                "{}.{}.{}",
                parts[0],
                b64_json(&with("sub", json!("VLSIM\\auditor"))),
                parts[2]
            ),
        ),
    ]
}

#[actix_web::test]
async fn forged_tokens_are_refused_on_every_surface() {
    let app = TestApp::start().await;
    // Sanity: the good token is accepted everywhere, so each refusal below is meaningful.
    let good = app.mint(RSA_KID, good_claims(app.clock().now_secs()));
    let sid = app.vcenter_session().await;

    assert!(!app.login_by_token(&good).await.is_fault());
    assert_eq!(app.fusionauth_validate(&good).await.status, 200);
    let (status, body) = app
        .exchange(&sid, &exchange_form(&good, vc::ACCESS, &[]))
        .await;
    assert_eq!(status, 200, "{body}");
    let bearer = format!("Bearer {good}");
    assert_eq!(app.vcenter_login_with(Some(&bearer)).await.status, 201);

    let attacks = attacks(&app);
    for (name, token) in &attacks {
        let r = app.login_by_token(token).await;
        assert_eq!(
            r.fault_type(),
            "InvalidCredentials",
            "VLSI accepted: {name}"
        );
        // FusionAuth's validate checks the signature, expiry and `nbf`, not the issuer ("A
        // valid JWT indicates the signature is valid and the payload has not been tampered
        // with and the token is not expired"): a token genuinely signed by this instance's
        // key passes whatever its `iss`. The other entry points trust only their issuers.
        let validate_wants = if *name == WRONG_ISSUER { 200 } else { 401 };
        assert_eq!(
            app.fusionauth_validate(token).await.status,
            validate_wants,
            "FusionAuth validate: {name}"
        );
        let (status, body) = app
            .exchange(&sid, &exchange_form(token, vc::ACCESS, &[]))
            .await;
        assert_eq!(status, 400, "vCenter exchange: {name}: {body}");
        assert!(
            matches!(
                body["error"].as_str(),
                Some("invalid_grant" | "invalid_request")
            ),
            "{name}: {body}"
        );
        let bearer = format!("Bearer {token}");
        assert_eq!(
            app.vcenter_login_with(Some(&bearer)).await.status,
            401,
            "vCenter Bearer session accepted: {name}"
        );
    }
    eprintln!(
        "{} token attacks refused on 4 entry points each",
        attacks.len()
    );
}
