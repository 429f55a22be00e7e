//! Envelope parse + dispatch lookup + response serialisation, without crypto or HTTP:
//! the SOAP layer's own cost per call. `cargo bench --bench soap_codec`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use vlsim::soap::{self, xml::Limits};
use vlsim::vlsi::types::{to_fragment, JwtTokenInfo};
use vlsim::vlsi::{Dispatcher, Reply};

const REQUEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header/><soapenv:Body><ns0:JwtToken_Generate xmlns:ns0="urn:vdi"><ns0:_this type="JwtToken">JwtToken</ns0:_this><ns0:spec xsi:type="ns0:JwtTokenGenerationSpec"><ns0:validityTime>60</ns0:validityTime></ns0:spec></ns0:JwtToken_Generate></soapenv:Body></soapenv:Envelope>"#;

fn codec(c: &mut Criterion) {
    let dispatcher = Dispatcher::new();
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6IjQwMDAwMDAwIn0.".to_string()
        + &"x".repeat(600);
    c.bench_function("parse_envelope", |b| {
        b.iter(|| soap::read_envelope(black_box(REQUEST.as_bytes()), Limits::default()))
    });
    c.bench_function("parse_dispatch_serialise", |b| {
        b.iter(|| {
            let envelope =
                soap::read_envelope(black_box(REQUEST.as_bytes()), Limits::default()).ok()?;
            let op = dispatcher.find(&envelope.operation.name)?;
            let spec = envelope.operation.child("spec")?;
            let minutes: i64 = spec.child("validityTime")?.trimmed_text().parse().ok()?;
            let info = JwtTokenInfo {
                token: token.clone(),
                expiry_time: Some(vlsim::clock::rfc3339_secs(1_700_000_000 + minutes * 60)),
            };
            let reply = Reply::new(op.method, &to_fragment(&info).ok()?);
            Some(soap::envelope(&reply.body))
        })
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
