//! argon2id password hashes (PHC strings), computed in working memory that is reused.
//!
//! One hash needs 19 MiB of working memory. Allocated per hash, on whichever blocking thread runs it, the
//! allocator keeps freed blocks in per-thread arenas: 2,000 sign-ups took the process from 14 MiB to 681 MiB
//! and it stayed there. Here each hash borrows a buffer from a small free list and gives it back, so the
//! process holds one buffer per hash ever run *at once* (the [`HashPool`](crate::HashPool)'s threads), and
//! the buffers are allocated once.

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::crypto::{ct_eq, random_bytes};

/// Buffers kept for reuse beyond those in use; more are freed when given back.
const KEEP: usize = 16;

static FREE: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Run `f` with a working memory of `blocks` blocks (zeroing is not needed: argon2 writes every block before
/// it reads it).
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let reused = FREE.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut memory = reused.unwrap_or_default();
    memory.resize(blocks, Block::default());
    let out = f(&mut memory);
    let mut free = FREE.lock().unwrap_or_else(PoisonError::into_inner);
    if free.len() < KEEP {
        free.push(memory);
    }
    out
}

/// An argon2id PHC hash of `password` with a fresh salt and the default parameters (19 MiB, 2 passes).
pub(crate) fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt_bytes = random_bytes::<16>();
    let salt = SaltString::encode_b64(&salt_bytes)?;
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, memory)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC hash `phc` (any argon2 variant, version and parameters it names).
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let parsed = (|| {
        let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
        let version = Version::try_from(hash.version.unwrap_or(0x13)).ok()?;
        let params = Params::try_from(&hash).ok()?;
        Some((algorithm, version, params))
    })();
    let Some((algorithm, version, params)) = parsed else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = with_memory(params.block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    });
    computed.is_ok() && ct_eq(&out, expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[test]
    fn hashes_are_standard_phc_and_verify_both_ways() {
        let phc = hash("correct horse 1").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse 1", &phc));
        assert!(!verify("correct horse 2", &phc));
        // The argon2 crate's own verifier accepts ours, and ours accepts its hashes (those already stored).
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse 1", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"older one 9", &salt)
            .unwrap()
            .to_string();
        assert!(verify("older one 9", &theirs));
        assert!(!verify("older one 8", &theirs));
        // Other parameters, as an older deployment may have stored.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(b"small 1", &salt)
        .unwrap()
        .to_string();
        assert!(verify("small 1", &small));
        assert!(!verify("small 1", "not a hash"));
        assert!(!verify(
            "small 1",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"
        ));
    }

    #[test]
    fn buffers_are_reused() {
        with_memory(8, |m| assert_eq!(m.len(), 8));
        let kept = FREE.lock().unwrap().len();
        assert!(kept >= 1);
        with_memory(8, |m| assert_eq!(m.len(), 8));
        assert!(FREE.lock().unwrap().len() <= KEEP);
    }
}
