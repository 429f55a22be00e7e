//! jsonwebtoken's aws-lc-rs provider, with parsed keys cached. The stock provider re-parses
//! the private key DER on every `encode` (for RSA that costs about as much as the signature
//! itself) and rebuilds the public key on every `decode` (about twice an RSA verification);
//! here each key is parsed once and shared.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::Verifier;
use jsonwebtoken::signature::{Error as SignatureError, Signer};
use jsonwebtoken::{Algorithm, EncodingKey};
use jsonwebtoken::{DecodingKey, DecodingKeyKind};
use rsa::pkcs1::EncodeRsaPublicKey;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// More distinct keys than this and the cache starts over (keys come from fixtures, so
/// this only matters under repeated re-seeding with fresh keys).
const MAX_CACHED_KEYS: usize = 256;

enum ParsedKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// Parsed key pairs by (algorithm, private key DER).
type KeyCache = HashMap<(Algorithm, Vec<u8>), Arc<ParsedKey>>;

static PARSED: LazyLock<RwLock<KeyCache>> = LazyLock::new(|| RwLock::new(HashMap::new()));

fn parsed(alg: Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Arc<ParsedKey>> {
    let der = key.as_bytes();
    if let Some(hit) = PARSED
        .read()
        .ok()
        .and_then(|cache| cache.get(&(alg, der.to_vec())).cloned())
    {
        return Ok(hit);
    }
    let fresh = Arc::new(match alg {
        Algorithm::RS256 => ParsedKey::Rsa(
            RsaKeyPair::from_der(der)
                .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?,
        ),
        _ => ParsedKey::Ec(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?,
        ),
    });
    if let Ok(mut cache) = PARSED.write() {
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert((alg, der.to_vec()), fresh.clone());
    }
    Ok(fresh)
}

struct CachedSigner {
    algorithm: Algorithm,
    key: Arc<ParsedKey>,
}

impl Signer<Vec<u8>> for CachedSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let rng = SystemRandom::new();
        match self.key.as_ref() {
            ParsedKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut signature)
                    .map_err(SignatureError::from_source)?;
                Ok(signature)
            }
            ParsedKey::Ec(pair) => pair
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(SignatureError::from_source),
        }
    }
}

impl JwtSigner for CachedSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn new_signer(
    alg: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    match alg {
        Algorithm::RS256 | Algorithm::ES256 => Ok(Box::new(CachedSigner {
            algorithm: *alg,
            key: parsed(*alg, key)?,
        })),
        other => (jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.signer_factory)(other, key),
    }
}

/// Parsed public keys by (algorithm, key bytes: RSA `n‖e` or the EC point).
type PublicCache = HashMap<(Algorithm, Vec<u8>), Arc<ParsedPublicKey>>;

static PUBLIC: LazyLock<RwLock<PublicCache>> = LazyLock::new(|| RwLock::new(HashMap::new()));

fn parsed_public(alg: Algorithm, key: &DecodingKey) -> Option<Arc<ParsedPublicKey>> {
    // The key must be of the algorithm's family (never an HMAC secret read as a point).
    let family_ok = match alg {
        Algorithm::RS256 => key.family() == jsonwebtoken::AlgorithmFamily::Rsa,
        Algorithm::ES256 => key.family() == jsonwebtoken::AlgorithmFamily::Ec,
        _ => false,
    };
    if !family_ok {
        return None;
    }
    let (cache_key, der) = match (alg, key.kind()) {
        (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            let public = rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(n),
                rsa::BigUint::from_bytes_be(e),
            )
            .ok()?;
            let der = public.to_pkcs1_der().ok()?.as_bytes().to_vec();
            ([n.as_slice(), e.as_slice()].concat(), der)
        }
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => (point.clone(), point.clone()),
        _ => return None,
    };
    if let Some(hit) = PUBLIC
        .read()
        .ok()
        .and_then(|c| c.get(&(alg, cache_key.clone())).cloned())
    {
        return Some(hit);
    }
    let verification: &'static dyn aws_lc_rs::signature::VerificationAlgorithm = match alg {
        Algorithm::RS256 => &RSA_PKCS1_2048_8192_SHA256,
        _ => &ECDSA_P256_SHA256_FIXED,
    };
    let parsed = Arc::new(ParsedPublicKey::new(verification, der).ok()?);
    if let Ok(mut cache) = PUBLIC.write() {
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert((alg, cache_key), parsed.clone());
    }
    Some(parsed)
}

struct CachedVerifier {
    algorithm: Algorithm,
    key: Arc<ParsedPublicKey>,
}

impl Verifier<Vec<u8>> for CachedVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), SignatureError> {
        self.key
            .verify_sig(msg, signature)
            .map_err(SignatureError::from_source)
    }
}

impl JwtVerifier for CachedVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn new_verifier(
    alg: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    if matches!(alg, Algorithm::RS256 | Algorithm::ES256) {
        if let Some(parsed) = parsed_public(*alg, key) {
            return Ok(Box::new(CachedVerifier {
                algorithm: *alg,
                key: parsed,
            }));
        }
    }
    (jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.verifier_factory)(alg, key)
}

pub static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    ..jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.clone()
});
