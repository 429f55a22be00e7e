//! Envelope parse + dispatch lookup + response serialisation, without crypto or HTTP:
//! the SOAP layer's own cost per call. `cargo bench --bench soap_codec`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use vlsim::soap;
use vlsim::vlsi::dispatch;
use vlsim::vlsi::types::JwtTokenInfo;
use vlsim::xml::Limits;

// The allocator the binary uses (src/main.rs), so figures match the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REQUEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header/><soapenv:Body><ns0:JwtToken_Generate xmlns:ns0="urn:vdi"><ns0:_this type="JwtToken">JwtToken</ns0:_this><ns0:spec xsi:type="ns0:JwtTokenGenerationSpec"><ns0:validityTime>60</ns0:validityTime></ns0:spec></ns0:JwtToken_Generate></soapenv:Body></soapenv:Envelope>"#;

fn codec(c: &mut Criterion) {
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6IjQwMDAwMDAwIn0.".to_string()
        + &"x".repeat(600);
    c.bench_function("parse_envelope", |b| {
        b.iter(|| soap::read_envelope(black_box(REQUEST.as_bytes()), Limits::default()))
    });
    c.bench_function("parse_dispatch_serialise", |b| {
        b.iter(|| {
            let envelope =
                soap::read_envelope(black_box(REQUEST.as_bytes()), Limits::default()).ok()?;
            let op = dispatch::find(&envelope.operation.name)?;
            let spec = envelope.operation.child("spec")?;
            let minutes: i64 = spec.child("validityTime")?.trimmed_text().parse().ok()?;
            let info = JwtTokenInfo {
                token: token.clone(),
                expiry_time: Some(vlsim::clock::rfc3339_secs(1_700_000_000 + minutes * 60)),
            };
            Some(dispatch::response_envelope(op.name, &info.fragment()))
        })
    });
}

/// The signing floor: a raw aws-lc-rs RSA-2048 signature, and a whole RS256 JWT minted
/// through jsonwebtoken with the cached-key provider (claims as JwtToken_Generate builds).
fn signing(c: &mut Criterion) {
    vlsim::core::install_crypto_provider();
    let (_, materials) = vlsim::fixtures::embedded().expect("fixtures");
    let rsa = materials
        .iter()
        .find(|m| m.algorithm == "RS256")
        .map(|m| vlsim::core::keys::SigningKey::from_material(m).expect("key"))
        .expect("rsa key");
    let der = vlsim::core::keys::pem_der(rsa.material.private_pem.as_deref().unwrap_or_default())
        .unwrap_or_default();
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).expect("pkcs8");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut sig = vec![0u8; pair.public_modulus_len()];
    c.bench_function("rsa2048_sign_aws_lc", |b| {
        b.iter(|| {
            pair.sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &rng,
                black_box(b"header.claims"),
                &mut sig,
            )
        })
    });
    let claims = serde_json::json!({"iss": "cs1.vlsim.test", "sub": "VLSIM\\administrator",
        "iat": 1_700_000_000, "exp": 1_700_001_800, "jti": "0c7ddffe-0d23-465c-9414-b8e7d03c428b",
        "domain": "VLSIM", "username": "administrator"});
    let claims = claims.as_object().cloned().unwrap_or_default();
    c.bench_function("jwt_mint_rs256", |b| {
        b.iter(|| vlsim::core::tokens::mint(&rsa, black_box(&claims)))
    });
    let token = vlsim::core::tokens::mint(&rsa, &claims).unwrap_or_default();
    let ring = vlsim::core::keys::KeyRing::new(vec![rsa]);
    let expect = vlsim::core::tokens::Expectations::default();
    c.bench_function("jwt_verify_rs256", |b| {
        b.iter(|| vlsim::core::tokens::verify(&ring, black_box(&token), 1_700_000_000, &expect))
    });
}

/// The whole core operation behind JwtToken_Generate (session check, privilege, mint,
/// event persisted), on a temporary sled store.
fn core_generate(c: &mut Criterion) {
    let (world, keys) = vlsim::fixtures::embedded().expect("fixtures");
    let source = vlsim::core::WorldSource {
        world,
        keys,
        origin: "bench".into(),
        generate_keys: false,
    };
    let store = vlsim::store::Store::temporary().expect("store");
    let (core, _) = vlsim::core::Core::open(
        store,
        vlsim::clock::Clock::new(),
        &source,
        vlsim::core::Damaged::Refuse,
    )
    .expect("core");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let session = rt
        .block_on(core.horizon().login("administrator", "vmware", "VLSIM"))
        .expect("login");
    c.bench_function("core_session_lookup", |b| {
        b.iter(|| core.horizon().session(black_box(&session.id)))
    });
    c.bench_function("core_generate_rs256", |b| {
        b.iter(|| core.horizon().generate_token(black_box(&session), None))
    });
    c.bench_function("core_record_event", |b| {
        b.iter(|| {
            core.events().record(vlsim::core::events::NewEvent {
                event_type: "BENCH",
                severity: "INFO",
                module: "Vlsi",
                surface: vlsim::surface::Surface::Vlsi,
                user: Some("VLSIM\\administrator".into()),
                message: "a bench event of typical length for a generated token".into(),
                details: serde_json::Map::new(),
            })
        })
    });
}

criterion_group!(benches, codec, signing, core_generate);
criterion_main!(benches);
