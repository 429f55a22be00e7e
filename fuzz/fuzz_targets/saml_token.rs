#![no_main]
//! A SAML subject token as clients send it (XML, base64, or base64 of gzip) through
//! decoding and signature verification against the fixture key.
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static PUBLIC_DER: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let pem = include_str!("../../fixtures/keys/rsa-2048.TEST-KEY.pem");
    let der = vlsim::core::keys::pem_der(pem).unwrap_or_default();
    aws_lc_rs::rsa::KeyPair::from_pkcs8(&der)
        .map(|k| vlsim::core::saml::public_key_der(&k))
        .unwrap_or_default()
});

fuzz_target!(|text: &str| {
    if let Ok(xml) = vlsim::core::vcenter::decode_saml_token(text) {
        let _ = vlsim::core::saml::verify_assertion(&xml, &PUBLIC_DER);
    }
    let _ = vlsim::core::saml::verify_assertion(text, &PUBLIC_DER);
});
