//! The key ring: every signing key vlsim holds, parsed once at start (and on reset), with
//! the public forms clients ask for (PEM SPKI, JWK). Keys are looked up by id (`kid`).

use crate::core::crypto::AsymmetricKey;
use crate::core::error::{CoreError, CoreResult};
use crate::spec::KeyMaterial;
use crate::store::{Store, StoreResult, Table};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use std::sync::{Arc, RwLock};

/// DER prefix of a P-256 SubjectPublicKeyInfo; the 65-byte uncompressed point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub struct SigningKey {
    pub id: String,
    pub name: String,
    pub algorithm: Algorithm,
    /// What signs and verifies with this key.
    pub ops: KeyOps,
    /// PEM SPKI public key; `None` for HMAC keys, whose secret is never published.
    pub public_pem: Option<String>,
    /// Public JWK; `None` for HMAC keys.
    pub jwk: Option<Jwk>,
    pub material: KeyMaterial,
}

/// How a key signs and verifies: RS256/ES256 keys parsed once and used through aws-lc-rs
/// directly (see [`crate::core::crypto`]), HMAC keys through jsonwebtoken.
pub enum KeyOps {
    Asymmetric(AsymmetricKey),
    Hmac {
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

pub fn parse_algorithm(name: &str) -> CoreResult<Algorithm> {
    match name {
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        "HS256" => Ok(Algorithm::HS256),
        other => Err(CoreError::invalid_argument(
            "algorithm",
            format!("unsupported key algorithm {other}; use RS256, ES256 or HS256"),
        )),
    }
}

pub fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::HS256 => "HS256",
        _ => "unsupported",
    }
}

fn key_error(id: &str, what: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("key {id}: {what}"))
}

/// Extracts the DER body of a PEM block.
pub fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD.decode(body.trim()).ok()
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl SigningKey {
    /// The parsed RSA key pair, for signatures other than a JWS (SAML); `None` unless RSA.
    pub fn rsa_pair(&self) -> Option<&aws_lc_rs::rsa::KeyPair> {
        match &self.ops {
            KeyOps::Asymmetric(k) => k.rsa_pair(),
            KeyOps::Hmac { .. } => None,
        }
    }

    pub fn from_material(m: &KeyMaterial) -> CoreResult<Self> {
        let algorithm = parse_algorithm(&m.algorithm)?;
        let id = m.id.as_str();
        let (ops, public_pem, jwk) = match algorithm {
            Algorithm::RS256 => {
                let pem = m
                    .private_pem
                    .as_deref()
                    .ok_or_else(|| key_error(id, "RS256 needs a private key PEM"))?;
                let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
                    .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
                    .map_err(|e| key_error(id, e))?;
                let public = private.to_public_key();
                let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
                let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
                let public_pem = public
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| key_error(id, e))?;
                let private_der = pem_der(pem).ok_or_else(|| key_error(id, "unreadable PEM"))?;
                let public_der = public.to_pkcs1_der().map_err(|e| key_error(id, e))?;
                let asymmetric = AsymmetricKey::rsa(id, &private_der, public_der.as_bytes())
                    .map_err(|e| key_error(id, e))?;
                let jwk = Jwk::new(id, "RS256", JwkParams::Rsa { n, e });
                (KeyOps::Asymmetric(asymmetric), Some(public_pem), Some(jwk))
            }
            Algorithm::ES256 => {
                let pem = m
                    .private_pem
                    .as_deref()
                    .ok_or_else(|| key_error(id, "ES256 needs a private key PEM"))?;
                let der = pem_der(pem).ok_or_else(|| key_error(id, "unreadable PEM"))?;
                let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &der,
                )
                .map_err(|e| key_error(id, format!("not a PKCS#8 P-256 key: {e}")))?;
                let point = aws_lc_rs::signature::KeyPair::public_key(&pair).as_ref();
                let (x, y) = match point {
                    [4, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                    _ => return Err(key_error(id, "unexpected EC point encoding")),
                };
                let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
                let asymmetric =
                    AsymmetricKey::ec(id, &der, point).map_err(|e| key_error(id, e))?;
                let mut spki = P256_SPKI_PREFIX.to_vec();
                spki.extend_from_slice(point);
                let jwk = Jwk::new(id, "ES256", JwkParams::Ec { crv: "P-256", x, y });
                (
                    KeyOps::Asymmetric(asymmetric),
                    Some(pem_wrap("PUBLIC KEY", &spki)),
                    Some(jwk),
                )
            }
            _ => {
                let secret = m
                    .secret_base64
                    .as_deref()
                    .and_then(|s| STANDARD.decode(s.trim()).ok())
                    .ok_or_else(|| key_error(id, "HS256 needs secret_base64"))?;
                if secret.len() < 32 {
                    return Err(key_error(id, "HS256 secrets must be at least 32 bytes"));
                }
                let ops = KeyOps::Hmac {
                    encoding: EncodingKey::from_secret(&secret),
                    decoding: DecodingKey::from_secret(&secret),
                };
                (ops, None, None)
            }
        };
        Ok(Self {
            id: m.id.clone(),
            name: m.name.clone(),
            algorithm,
            ops,
            public_pem,
            jwk,
            material: m.clone(),
        })
    }
}

/// Fresh random key material with the same id, name and algorithm (`--generate-keys`).
pub fn generate_like(m: &KeyMaterial) -> CoreResult<KeyMaterial> {
    let algorithm = parse_algorithm(&m.algorithm)?;
    let mut fresh = m.clone();
    match algorithm {
        Algorithm::RS256 => {
            let mut rng = rand::rngs::OsRng;
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| key_error(&m.id, e))?;
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| key_error(&m.id, e))?;
            fresh.private_pem = Some(pem.to_string());
            fresh.secret_base64 = None;
        }
        Algorithm::ES256 => {
            let doc = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &aws_lc_rs::rand::SystemRandom::new(),
            )
            .map_err(|e| key_error(&m.id, e))?;
            fresh.private_pem = Some(pem_wrap("PRIVATE KEY", doc.as_ref()));
            fresh.secret_base64 = None;
        }
        _ => {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            fresh.secret_base64 = Some(STANDARD.encode(secret));
            fresh.private_pem = None;
        }
    }
    fresh.name = format!("{} (generated)", m.name.replace(" TEST KEY", ""));
    Ok(fresh)
}

#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    pub fn new(keys: Vec<SigningKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<SigningKey>> {
        self.keys.iter().find(|k| k.id == id).cloned()
    }

    pub fn all(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }

    /// The asymmetric key whose JWS header (base64url, as it signs) is `header_b64`.
    pub fn signing_with_header(&self, header_b64: &str) -> Option<Arc<SigningKey>> {
        self.keys
            .iter()
            .find(|k| matches!(&k.ops, KeyOps::Asymmetric(a) if a.header_b64() == header_b64))
            .cloned()
    }

    /// Keys whose public half may be published (RSA and EC).
    pub fn public(&self) -> impl Iterator<Item = &Arc<SigningKey>> {
        self.keys.iter().filter(|k| k.public_pem.is_some())
    }

    /// The public keys as a JWK Set.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.public().filter_map(|k| k.jwk.clone()).collect(),
        }
    }
}

/// A public key as RFC 7517 writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    #[serde(flatten)]
    pub params: JwkParams,
    /// The certificate chain (base64 DER), where the key has a certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// SHA-1 thumbprint of the certificate (base64url).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum JwkParams {
    Rsa {
        n: String,
        e: String,
    },
    Ec {
        crv: &'static str,
        x: String,
        y: String,
    },
}

impl Jwk {
    fn new(kid: &str, alg: &'static str, params: JwkParams) -> Self {
        Self {
            kty: match params {
                JwkParams::Rsa { .. } => "RSA",
                JwkParams::Ec { .. } => "EC",
            },
            kid: kid.to_string(),
            use_: "sig",
            alg,
            params,
            x5c: None,
            x5t: None,
            x5t_s256: None,
        }
    }
}

/// A JWK Set (`{"keys": [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The key ring in use, rebuilt from the stored key material on start and on reset; and
/// that material.
pub struct Keys {
    ring: RwLock<Arc<KeyRing>>,
    materials: Table<KeyMaterial>,
    /// Keys [`Keys::store_all`] parsed to check them, for the next [`Keys::reload`] to use
    /// (a first start would otherwise parse every key twice); emptied by that reload.
    checked: std::sync::Mutex<Vec<Arc<SigningKey>>>,
}

impl Keys {
    pub fn open(store: &Store) -> StoreResult<Self> {
        Ok(Self {
            ring: RwLock::new(Arc::new(KeyRing::default())),
            materials: store.table(crate::store::trees::KEYS)?,
            checked: std::sync::Mutex::default(),
        })
    }

    /// The ring as it is now (cheap: a shared pointer).
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().map(|g| Arc::clone(&g)).unwrap_or_default()
    }

    /// The key `id`, or an internal error naming it (a key the world refers to is missing).
    pub fn get(&self, id: &str) -> CoreResult<Arc<SigningKey>> {
        self.ring()
            .get(id)
            .ok_or_else(|| CoreError::Internal(format!("signing key {id} is missing")))
    }

    /// Stores `materials` after checking that each parses (all before writing any, so a
    /// broken key never leaves a half-written set). Material the ring holds parsed already
    /// needs no check (a reset to the same fixtures would parse every key again); the keys
    /// parsed for the check are kept for the next [`Keys::reload`] (a first start would
    /// parse them twice), replacing those of an earlier call.
    pub fn store_all(&self, materials: &[KeyMaterial]) -> CoreResult<()> {
        let ring = self.ring();
        let mut checked = Vec::new();
        for material in materials {
            if !ring.keys.iter().any(|k| &k.material == material) {
                checked.push(Arc::new(SigningKey::from_material(material)?));
            }
        }
        for material in materials {
            self.materials.put(&material.id, material)?;
        }
        *self
            .checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = checked;
        Ok(())
    }

    /// The stored material of every key.
    pub fn materials(&self) -> CoreResult<Vec<KeyMaterial>> {
        Ok(self.materials.all()?.into_iter().map(|(_, m)| m).collect())
    }

    /// How many keys are stored.
    pub fn count(&self) -> usize {
        self.materials.len()
    }

    /// The stored material of key `id`.
    pub fn material(&self, id: &str) -> CoreResult<Option<KeyMaterial>> {
        Ok(self.materials.get(id)?)
    }

    /// Re-parses the stored material into the ring. A key whose material is unchanged
    /// keeps its parsed form: parsing and checking an RSA key costs about a millisecond,
    /// and a reset to the same fixtures would pay it for every key.
    pub fn reload(&self) -> CoreResult<()> {
        let current = self.ring();
        let checked = std::mem::take(
            &mut *self
                .checked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut keys = Vec::new();
        for material in self.materials()? {
            match current
                .keys
                .iter()
                .chain(&checked)
                .find(|k| k.material == material)
            {
                Some(parsed) => keys.push(parsed.clone()),
                None => keys.push(Arc::new(SigningKey::from_material(&material)?)),
            }
        }
        let ring = Arc::new(KeyRing { keys });
        if let Ok(mut guard) = self.ring.write() {
            *guard = ring;
        }
        Ok(())
    }
}

/// Re-encodes an RSA private key PEM as PKCS#8 (used when importing PKCS#1 keys).
pub fn rsa_pkcs8_pem(pem: &str) -> Option<String> {
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem).ok()?;
    key.to_pkcs8_pem(LineEnding::LF).ok().map(|p| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_keys_parse_with_public_forms() {
        let (_, materials) = crate::fixtures::embedded().unwrap();
        let ring = KeyRing::new(
            materials
                .iter()
                .map(|m| SigningKey::from_material(m).unwrap())
                .collect(),
        );
        assert_eq!(ring.all().len(), 3);
        assert_eq!(ring.public().count(), 2);
        let rsa = ring.get("40000000-0000-4000-8000-000000000001").unwrap();
        assert!(rsa
            .public_pem
            .as_deref()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let jwks = serde_json::to_value(ring.jwks()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert!(jwks["keys"][0]["n"].is_string());
        assert_eq!(jwks["keys"][1]["crv"], "P-256");
        assert!(jwks["keys"][1].get("x5c").is_none());
    }

    #[test]
    fn generated_keys_differ_and_parse() {
        let (_, materials) = crate::fixtures::embedded().unwrap();
        for m in &materials {
            if m.algorithm == "RS256" {
                continue; // RSA keygen is slow in debug builds; covered by the wire test
            }
            let fresh = generate_like(m).unwrap();
            assert_ne!(fresh, *m);
            SigningKey::from_material(&fresh).unwrap();
        }
    }
}
