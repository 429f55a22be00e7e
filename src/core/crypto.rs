//! jsonwebtoken's aws-lc-rs provider, with parsed signing keys cached. The stock provider
//! re-parses the private key DER on every `encode` (for RSA that costs about as much as the
//! signature itself); here each key is parsed once and shared. Verification is unchanged.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{Error as SignatureError, Signer};
use jsonwebtoken::{Algorithm, EncodingKey};
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

pub static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: new_signer,
    ..jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.clone()
});
