//! Users and their credentials. Passwords are stored only as salted PBKDF2-HMAC-SHA256
//! hashes and compared in constant time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// Iterations are low on purpose: this is a test double whose login rate matters more than
/// resistance to offline cracking of its fixture passwords.
const PBKDF2_ITERATIONS: u32 = 1_000;

/// A Horizon (VLSI) administrator account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HorizonUser {
    pub domain: String,
    pub name: String,
    pub password_hash: String,
    pub privileges: Vec<String>,
}

impl HorizonUser {
    /// `DOMAIN\name`, the form Horizon shows users in.
    pub fn principal(&self) -> String {
        format!("{}\\{}", self.domain, self.name)
    }

    /// The store key: case-insensitive `domain\name`.
    pub fn key(domain: &str, name: &str) -> String {
        format!("{}\\{}", domain.to_lowercase(), name.to_lowercase())
    }
}

pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    let mut out = [0u8; 32];
    let iterations = NonZeroU32::new(PBKDF2_ITERATIONS).unwrap_or(NonZeroU32::MIN);
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    format!(
        "pbkdf2-sha256${}${}${}",
        PBKDF2_ITERATIONS,
        STANDARD.encode(salt),
        STANDARD.encode(out)
    )
}

/// Constant-time check of `password` against a hash made by [`hash_password`].
pub fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Some(iterations), Ok(salt), Ok(hash)) = (
        iter.parse::<u32>().ok().and_then(NonZeroU32::new),
        STANDARD.decode(salt),
        STANDARD.decode(hash),
    ) else {
        return false;
    };
    aws_lc_rs::pbkdf2::verify(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        password.as_bytes(),
        &hash,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_roundtrip() {
        let h = hash_password("vmware");
        assert!(verify_password("vmware", &h));
        assert!(!verify_password("vmwarE", &h));
        assert!(!verify_password("vmware", "garbage"));
        assert_ne!(h, hash_password("vmware"), "salted");
    }
}
