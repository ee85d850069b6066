//! Shared helpers for the cupass integration tests.
// This crate exists only to serve the tests: a failed helper is a failed test.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use ledger::{NoteSigner, cose::Entry};

/// The vectors copied from independent implementations.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/vectors")
}

/// A deterministic signing key for tests, distinct per `n`.
pub fn test_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// A deterministic log key named `origin`.
pub fn log_signer(origin: &str) -> NoteSigner {
    match NoteSigner::new(origin, test_key(200)) {
        Ok(s) => s,
        Err(e) => panic!("test log key: {e}"),
    }
}

/// A signed entry whose payload is derived from `n`, about `size` bytes long.
pub fn signed_entry(key: &SigningKey, n: u64, size: usize) -> Vec<u8> {
    let mut payload = n.to_be_bytes().to_vec();
    payload.resize(size.max(8), 0xa5);
    match Entry::sign(key, &payload).and_then(|e| e.to_bytes()) {
        Ok(b) => b,
        Err(e) => panic!("signing test entry: {e}"),
    }
}

/// Asserts that a `Result` is an `Err` matching a pattern, printing it otherwise.
#[macro_export]
macro_rules! assert_err {
    ($result:expr, $pat:pat) => {
        match $result {
            Err(ref e @ $pat) => e.to_string(),
            Err(other) => panic!("expected {}, got error {other:?}", stringify!($pat)),
            Ok(_) => panic!("expected {}, got Ok", stringify!($pat)),
        }
    };
}
