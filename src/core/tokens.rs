//! Minting and verifying JWTs. Verification never trusts the token's header for anything but
//! choosing a key: the key fixes the algorithm (no `alg: none`, no RS/HS confusion), `jku`
//! and `x5u` are ignored, and time claims are checked against the server's clock.

use crate::core::crypto::JwsError;
use crate::core::error::{CoreError, CoreResult};
use crate::core::keys::{KeyOps, KeyRing, SigningKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;

pub type Claims = Map<String, Value>;

/// Signs `claims` (a JSON object: a [`Claims`] map or a struct) with `key`; the header
/// carries the key's algorithm and id.
pub fn mint(key: &SigningKey, claims: &impl serde::Serialize) -> CoreResult<String> {
    let payload = serde_json::to_vec(claims)
        .map_err(|e| CoreError::Internal(format!("encoding claims: {e}")))?;
    mint_json(key, payload)
}

/// Signs claims already written as a JSON object (by a hot path that writes its own), as
/// [`mint`] signs them.
pub fn mint_json(key: &SigningKey, payload: Vec<u8>) -> CoreResult<String> {
    let signing_error = |e: &dyn std::fmt::Display| {
        CoreError::Internal(format!("signing with key {}: {e}", key.id))
    };
    match &key.ops {
        KeyOps::Asymmetric(asymmetric) => {
            asymmetric.sign_jws(&payload).map_err(|e| signing_error(&e))
        }
        KeyOps::Hmac { encoding, .. } => {
            let mut header = Header::new(key.algorithm);
            header.kid = Some(key.id.clone());
            header.typ = Some("JWT".into());
            // What `jsonwebtoken::encode` writes, with the claims as they were given.
            let header = serde_json::to_vec(&header).map_err(|e| signing_error(&e))?;
            let mut token = URL_SAFE_NO_PAD.encode(header);
            token.push('.');
            URL_SAFE_NO_PAD.encode_string(payload, &mut token);
            let signature = jsonwebtoken::crypto::sign(token.as_bytes(), encoding, key.algorithm)
                .map_err(|e| signing_error(&e))?;
            token.push('.');
            token.push_str(&signature);
            Ok(token)
        }
    }
}

/// What a verified token must also satisfy.
#[derive(Debug, Default, Clone)]
pub struct Expectations<'a> {
    /// Accepted `iss` values; `None` accepts any issuer.
    pub issuers: Option<&'a [String]>,
    /// Required `aud` (string or array containing it); `None` skips the check.
    pub audience: Option<&'a str>,
    /// Seconds of tolerance on `exp` and `nbf`.
    pub leeway_secs: i64,
    /// Whether a token without `exp` is acceptable.
    pub allow_missing_exp: bool,
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub key: Arc<SigningKey>,
    pub claims: Claims,
}

impl Verified {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidToken(message.into())
}

/// Verifies `token` against the ring at time `now_secs`.
pub fn verify(
    ring: &KeyRing,
    token: &str,
    now_secs: i64,
    expect: &Expectations<'_>,
) -> CoreResult<Verified> {
    let verified = verify_signature(ring, token)?;
    check_claims(&verified.claims, now_secs, expect)?;
    Ok(verified)
}

/// Which key of the ring signed `token`, and its claims; no claim (time, issuer,
/// audience) is checked. The error says why no key verifies it.
pub fn verify_signature(ring: &KeyRing, token: &str) -> CoreResult<Verified> {
    if token.len() > 16 * 1024 {
        return Err(invalid("the token is too long"));
    }
    // Tokens vlsim signed carry their key's header byte for byte: that names the key
    // without decoding the header.
    let header_part = token.split('.').next().unwrap_or_default();
    let (alg, candidates): (_, Vec<Arc<SigningKey>>) = match ring.signing_with_header(header_part) {
        Some(key) => (key.algorithm, vec![key]),
        None => {
            let header = jsonwebtoken::decode_header(token)
                .map_err(|e| invalid(format!("the token is malformed: {e}")))?;
            let candidates = match header.kid.as_deref() {
                Some(kid) => {
                    let key = ring.get(kid).ok_or_else(|| {
                        invalid(format!("the token was signed by an unknown key [{kid}]"))
                    })?;
                    vec![key]
                }
                None => ring
                    .all()
                    .iter()
                    .filter(|k| k.algorithm == header.alg)
                    .cloned()
                    .collect(),
            };
            (header.alg, candidates)
        }
    };
    if candidates.is_empty() {
        return Err(invalid("no key can verify this token"));
    }
    let mut last_error = invalid("the token signature is invalid");
    for key in candidates {
        if key.algorithm != alg {
            last_error = invalid(format!(
                "the token's algorithm {:?} does not match its key's {:?}",
                alg, key.algorithm
            ));
            continue;
        }
        let decoding = match &key.ops {
            KeyOps::Hmac { decoding, .. } => decoding,
            KeyOps::Asymmetric(asymmetric) => match asymmetric.verify_jws(token) {
                Ok(payload) => {
                    let claims = serde_json::from_slice::<Claims>(&payload)
                        .map_err(|_| invalid("the token's claims are not a JSON object"))?;
                    return Ok(Verified { key, claims });
                }
                Err(JwsError::Malformed(why)) => {
                    return Err(invalid(format!("the token is malformed: {why}")))
                }
                Err(JwsError::BadSignature) => {
                    last_error = invalid("the token signature is invalid");
                    continue;
                }
            },
        };
        let mut validation = Validation::new(key.algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        match jsonwebtoken::decode::<Claims>(token, decoding, &validation) {
            Ok(data) => {
                return Ok(Verified {
                    key,
                    claims: data.claims,
                })
            }
            Err(e) => last_error = invalid(format!("the token signature is invalid: {e}")),
        }
    }
    Err(last_error)
}

fn numeric(claims: &Claims, name: &str) -> CoreResult<Option<i64>> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid(format!("the {name} claim is not a number"))),
    }
}

fn check_claims(claims: &Claims, now: i64, expect: &Expectations<'_>) -> CoreResult<()> {
    match numeric(claims, "exp")? {
        Some(exp) if now >= exp.saturating_add(expect.leeway_secs) => {
            return Err(invalid("the token has expired"))
        }
        None if !expect.allow_missing_exp => return Err(invalid("the token has no exp claim")),
        _ => {}
    }
    if let Some(nbf) = numeric(claims, "nbf")? {
        if now.saturating_add(expect.leeway_secs) < nbf {
            return Err(invalid("the token is not valid yet (nbf is in the future)"));
        }
    }
    if let Some(issuers) = expect.issuers {
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if !issuers.iter().any(|i| i == iss) {
            return Err(invalid(format!(
                "the token's issuer [{iss}] is not trusted"
            )));
        }
    }
    if let Some(aud) = expect.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(s)) => s == aud,
            Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(aud)),
            _ => false,
        };
        if !ok {
            return Err(invalid(format!("the token's audience is not [{aud}]")));
        }
    }
    Ok(())
}

/// The algorithms vlsim signs with.
pub fn supported_algorithm(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::RS256 | Algorithm::ES256 | Algorithm::HS256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::KeyRing;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    fn ring() -> KeyRing {
        crate::core::install_crypto_provider();
        let (_, materials) = crate::fixtures::embedded().unwrap();
        KeyRing::new(
            materials
                .iter()
                .map(|m| SigningKey::from_material(m).unwrap())
                .collect(),
        )
    }

    fn claims(exp: i64) -> Claims {
        json!({"iss": "a", "sub": "u", "exp": exp, "iat": exp - 60})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn roundtrip_every_algorithm_and_expiry() {
        let ring = ring();
        for key in ring.all() {
            let token = mint(key, &claims(1000)).unwrap();
            let ok = verify(&ring, &token, 999, &Expectations::default()).unwrap();
            assert_eq!(ok.key.id, key.id);
            let err = verify(&ring, &token, 1000, &Expectations::default()).unwrap_err();
            assert!(err.to_string().contains("expired"), "{err}");
        }
    }

    #[test]
    fn hmac_tokens_are_what_jsonwebtoken_encodes() {
        let ring = ring();
        let mut hmac_keys = 0;
        for key in ring.all() {
            let KeyOps::Hmac { encoding, .. } = &key.ops else {
                continue;
            };
            hmac_keys += 1;
            let mut header = Header::new(key.algorithm);
            header.kid = Some(key.id.clone());
            header.typ = Some("JWT".into());
            let expected = jsonwebtoken::encode(&header, &claims(1000), encoding).unwrap();
            assert_eq!(mint(key, &claims(1000)).unwrap(), expected);
        }
        assert!(hmac_keys > 0, "the fixtures hold an HMAC key");
    }

    #[test]
    fn alg_none_and_confusion_rejected() {
        let ring = ring();
        let rsa = ring.get("40000000-0000-4000-8000-000000000001").unwrap();
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(2000)).unwrap());
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let none = format!("{none_header}.{body}.");
        assert!(verify(&ring, &none, 1, &Expectations::default()).is_err());
        // HS256 signed with the RSA public key PEM as the secret, claiming the RSA kid.
        let secret = rsa.public_pem.clone().unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(rsa.id.clone());
        let forged = jsonwebtoken::encode(
            &header,
            &claims(2000),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert!(verify(&ring, &forged, 1, &Expectations::default()).is_err());
    }

    #[test]
    fn issuer_audience_nbf() {
        let ring = ring();
        let key = ring.get("40000000-0000-4000-8000-000000000002").unwrap();
        let mut c = claims(5000);
        c.insert("aud".into(), json!(["x", "y"]));
        c.insert("nbf".into(), json!(100));
        let token = mint(&key, &c).unwrap();
        let issuers = vec!["a".to_string()];
        let expect = Expectations {
            issuers: Some(&issuers),
            audience: Some("y"),
            ..Default::default()
        };
        assert!(verify(&ring, &token, 100, &expect).is_ok());
        assert!(verify(&ring, &token, 99, &expect).is_err());
        let other = vec!["b".to_string()];
        let wrong_iss = Expectations {
            issuers: Some(&other),
            ..Default::default()
        };
        assert!(verify(&ring, &token, 100, &wrong_iss).is_err());
    }
}
