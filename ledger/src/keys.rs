//! Ed25519 keys: generation, key ids, and the weak-key check done at registration.

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::{Error, Result, hash::Hash, hash::sha256};

/// The COSE `kid` of a key: SHA-256 of its 32-byte Ed25519 public key.
pub fn kid(key: &VerifyingKey) -> Hash {
    sha256(key.as_bytes())
}

/// Generates a fresh signing key from the operating system's RNG.
pub fn generate_signing_key() -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Parses a public key, refusing invalid points and weak (small-order) keys.
///
/// Registering keys only through this function is what makes batch
/// verification safe on ingest and replay.
pub fn checked_verifying_key(bytes: &[u8]) -> Result<VerifyingKey> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::WeakKey(format!("public key is {} bytes, not 32", bytes.len())))?;
    let key =
        VerifyingKey::from_bytes(&arr).map_err(|e| Error::WeakKey(format!("not a point: {e}")))?;
    if key.is_weak() {
        return Err(Error::WeakKey("small-order (weak) key".into()));
    }
    Ok(key)
}
