//! Credentials: passwords stored only as salted PBKDF2-HMAC-SHA256 hashes and compared in
//! constant time, and the random strings that session ids and refresh tokens are made of.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::num::NonZeroU32;

/// Iterations are low on purpose: this is a test double whose login rate matters more than
/// resistance to offline cracking of its fixture passwords.
const PBKDF2_ITERATIONS: u32 = 1_000;

/// `bytes` random bytes from a CSPRNG, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // rand's thread-local generator is a CSPRNG (ChaCha12) reseeded from the OS; drawing
    // from it avoids a getrandom syscall per session id and refresh token.
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut buf);
    URL_SAFE_NO_PAD.encode(buf)
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

/// [`hash_password`] for a fixture user's password, made once per process and reused:
/// every start on a fresh data dir and every reset loads the fixtures again, and would
/// otherwise pay a PBKDF2 per fixture user. Still salted (per process). Bounded: the memo
/// is emptied when it holds [`FIXTURE_HASH_MEMO`] passwords.
pub fn hash_fixture_password(password: &str) -> String {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static MEMO: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Mutex::default);
    if let Some(hash) = memo
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(password)
    {
        return hash.clone();
    }
    let hash = hash_password(password);
    let mut memo = memo.lock().unwrap_or_else(PoisonError::into_inner);
    if memo.len() >= FIXTURE_HASH_MEMO {
        memo.clear();
    }
    memo.insert(password.to_owned(), hash.clone());
    hash
}

/// How many fixture passwords [`hash_fixture_password`] remembers.
const FIXTURE_HASH_MEMO: usize = 1024;

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
