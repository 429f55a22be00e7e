//! Asymmetric JWT signing and verification with keys parsed once, when the key ring is
//! built. jsonwebtoken's stock aws-lc-rs provider re-parses the private key DER on every
//! `encode` (for RSA about as costly as the signature itself) and rebuilds the public key on
//! every `decode`; and its `decode` parses the header and the claims twice. On the hot
//! paths (`JwtToken_Generate`, `/api/jwt/validate`) that was a tenth of the time or more,
//! so RS256 and ES256 tokens are put together and taken apart here, with aws-lc-rs doing
//! the signatures. jsonwebtoken still parses headers and handles HMAC keys.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, ParsedPublicKey, RsaKeyPair, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::crypto::CryptoProvider;
use std::sync::LazyLock;

/// The provider installed for what still goes through jsonwebtoken (HMAC keys).
pub static PROVIDER: LazyLock<CryptoProvider> =
    LazyLock::new(|| jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.clone());

enum Private {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// An RS256 or ES256 key, parsed: the private half signs, the public half verifies.
pub struct AsymmetricKey {
    private: Private,
    public: ParsedPublicKey,
    /// The encoded JWT header (`typ`, `alg`, `kid`): the same for every token of the key.
    header_b64: String,
}

/// Why a compact JWS did not verify; the caller words the error.
#[derive(Debug, PartialEq, Eq)]
pub enum JwsError {
    /// Not three base64url parts, or a payload that is not a JSON object.
    Malformed(&'static str),
    BadSignature,
}

impl AsymmetricKey {
    /// The encoded JWS header every token of this key starts with.
    pub fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// The parsed RSA key pair (for signatures other than a JWS: SAML), `None` for EC keys.
    pub fn rsa_pair(&self) -> Option<&RsaKeyPair> {
        match &self.private {
            Private::Rsa(pair) => Some(pair),
            Private::Ec(_) => None,
        }
    }

    /// An RSA key from its private DER (PKCS#8 or PKCS#1) and public PKCS#1 DER.
    pub fn rsa(kid: &str, private_der: &[u8], public_pkcs1_der: &[u8]) -> Result<Self, String> {
        let pair = RsaKeyPair::from_pkcs8(private_der)
            .or_else(|_| RsaKeyPair::from_der(private_der))
            .map_err(|e| e.to_string())?;
        let public = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_pkcs1_der)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            private: Private::Rsa(pair),
            public,
            header_b64: header_b64("RS256", kid),
        })
    }

    /// A P-256 key from its PKCS#8 DER and uncompressed public point.
    pub fn ec(kid: &str, pkcs8_der: &[u8], public_point: &[u8]) -> Result<Self, String> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8_der)
            .map_err(|e| e.to_string())?;
        let public = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_point)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            private: Private::Ec(pair),
            public,
            header_b64: header_b64("ES256", kid),
        })
    }

    /// A compact JWS of `payload_json` (which the caller serialised from a JSON object).
    pub fn sign_jws(&self, payload_json: &[u8]) -> Result<String, String> {
        let mut token =
            String::with_capacity(self.header_b64.len() + 2 + payload_json.len() * 4 / 3 + 4 + 344);
        token.push_str(&self.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload_json, &mut token);
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match &self.private {
            Private::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|e| e.to_string())?;
                Ok(signature)
            }
            Private::Ec(pair) => pair
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| e.to_string()),
        }
    }

    /// Checks the signature of the compact JWS `token` and returns its decoded payload.
    /// The header is not looked at: the caller has matched it to this key already.
    pub fn verify_jws(&self, token: &str) -> Result<Vec<u8>, JwsError> {
        let (message, signature_b64) = token
            .rsplit_once('.')
            .ok_or(JwsError::Malformed("the token does not have three parts"))?;
        let (_, payload_b64) = message
            .split_once('.')
            .filter(|(_, payload)| !payload.contains('.'))
            .ok_or(JwsError::Malformed("the token does not have three parts"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| JwsError::Malformed("the signature is not base64url"))?;
        self.public
            .verify_sig(message.as_bytes(), &signature)
            .map_err(|_| JwsError::BadSignature)?;
        URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| JwsError::Malformed("the payload is not base64url"))
    }
}

fn header_b64(alg: &str, kid: &str) -> String {
    let header = serde_json::json!({"typ": "JWT", "alg": alg, "kid": kid});
    URL_SAFE_NO_PAD.encode(header.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_rsa() -> AsymmetricKey {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
        let (_, materials) = crate::fixtures::embedded().unwrap();
        let pem = materials
            .iter()
            .find(|m| m.algorithm == "RS256")
            .and_then(|m| m.private_pem.clone())
            .unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        let public = private.to_public_key().to_pkcs1_der().unwrap();
        let der = private.to_pkcs8_der().unwrap();
        AsymmetricKey::rsa("k1", der.as_bytes(), public.as_bytes()).unwrap()
    }

    #[test]
    fn signed_tokens_verify_and_tampering_does_not() {
        let key = fixture_rsa();
        let token = key.sign_jws(br#"{"sub":"u"}"#).unwrap();
        assert_eq!(key.verify_jws(&token).unwrap(), br#"{"sub":"u"}"#);
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
        parts[1] = &other;
        assert_eq!(
            key.verify_jws(&parts.join(".")),
            Err(JwsError::BadSignature)
        );
        for broken in [
            "a.b",
            "nodots",
            &format!("{token}.extra"),
            &format!("{}.%%%", token.rsplit_once('.').unwrap().0),
        ] {
            assert!(key.verify_jws(broken).is_err(), "{broken}");
        }
    }
}
