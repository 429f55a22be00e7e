//! Forged, expired and confused tokens, presented everywhere a token is accepted: VLSI
//! LoginByToken, FusionAuth /api/jwt/validate, vCenter token exchange (subject_token) and
//! vCenter `POST /api/session` with Bearer. Each is refused with the surface's own error.

use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use vlsim::testkit::Vlsim;

const RSA_KID: &str = "40000000-0000-4000-8000-000000000001";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Claims every surface would accept if the signature were good: a Horizon subject from
/// the Horizon issuer (trusted by validate and by the vCenter exchange).
fn good_claims(now: i64) -> Value {
    json!({"iss": "cs1.vlsim.test", "sub": "VLSIM\\administrator", "iat": now, "exp": now + 600,
           "jti": "attack", "domain": "VLSIM", "username": "administrator"})
}

fn sign_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn attacks(server: &Vlsim) -> Vec<(&'static str, String)> {
    let now = server.clock().now_secs();
    let ring = server.core().key_ring();
    let rsa = ring.get(RSA_KID).unwrap();
    let mint =
        |claims: Value| vlsim::core::tokens::mint(&rsa, claims.as_object().unwrap()).unwrap();
    let good = mint(good_claims(now));
    let with = |k: &str, v: Value| {
        let mut c = good_claims(now);
        c[k] = v;
        c
    };
    let parts: Vec<&str> = good.split('.').collect();
    let resign_header = |header: Value| format!("{}.{}.{}", b64(&header), parts[1], parts[2]);
    let mut flipped = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    flipped[10] ^= 0x01;
    let public_pem = rsa.public_pem.clone().unwrap();
    vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                parts[1]
            ),
        ),
        (
            "alg none with kid",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": RSA_KID})),
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
            "wrong issuer",
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
                b64(&with("sub", json!("VLSIM\\auditor"))),
                parts[2]
            ),
        ),
    ]
}

#[actix_web::test]
async fn forged_tokens_are_refused_on_every_surface() {
    let server = Vlsim::start().await;
    let url = server.url();
    // Sanity: the good token is accepted everywhere, so each refusal below is meaningful.
    let now = server.clock().now_secs();
    let good = vlsim::core::tokens::mint(
        &server.core().key_ring().get(RSA_KID).unwrap(),
        good_claims(now).as_object().unwrap(),
    )
    .unwrap();
    let sid = vc_session(url).await;

    let soap =
        |token: String| async move { call(&client(), url, &login_by_token_xml(&token)).await };
    let validate = |token: String| async move {
        http()
            .get(format!("{url}/api/jwt/validate"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let exchange = |token: String| {
        let sid = sid.clone();
        async move {
            let res = http()
                .post(format!("{url}/api/vcenter/authentication/token"))
                .header("vmware-api-session-id", sid)
                .form(&[
                    ("grant_type", GRANT),
                    ("subject_token", token.as_str()),
                    ("subject_token_type", ACCESS),
                ])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let bearer_session = |token: String| async move {
        http()
            .post(format!("{url}/api/session"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };

    assert!(!soap(good.clone()).await.is_fault());
    assert_eq!(validate(good.clone()).await, 200);
    assert_eq!(exchange(good.clone()).await.0, 200);

    let attacks = attacks(&server);
    for (name, token) in &attacks {
        let r = soap(token.clone()).await;
        assert_eq!(
            r.fault_type(),
            "InvalidCredentials",
            "VLSI accepted: {name}"
        );
        assert_eq!(
            validate(token.clone()).await,
            401,
            "FusionAuth validate accepted: {name}"
        );
        let (status, body) = exchange(token.clone()).await;
        assert_eq!(status, 400, "vCenter exchange: {name}: {body}");
        assert!(
            matches!(
                body["error"].as_str(),
                Some("invalid_grant" | "invalid_request")
            ),
            "{name}: {body}"
        );
        assert_eq!(
            bearer_session(token.clone()).await,
            401,
            "vCenter Bearer session accepted: {name}"
        );
    }
    eprintln!(
        "{} token attacks refused on 4 entry points each",
        attacks.len()
    );
}
