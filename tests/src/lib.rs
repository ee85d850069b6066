//! Shared helpers for the cupass integration tests: test keys, the shared
//! test vectors, workspace binaries, sled tampering, and the fuzz target
//! bodies (so `cargo test` replays the committed fuzz corpus on stable).
//! It is the top of the workspace: it may use every crate, and no crate
//! depends on it.
// This crate exists only to serve the tests: a failed helper is a failed test.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub mod fuzz;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use ed25519_dalek::SigningKey;
use ledger::{NoteSigner, cose::Entry};

/// The test vectors from independent implementations: the project's
/// shared `vectors/`, beside the checkout (`../shared/vectors` from the
/// workspace root), read in place rather than copied.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors")
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

/// The log origin the opaque test entries of [`signed_entry`] are signed for.
pub const TEST_LOG: &str = "test.cupass.example/log";

/// A signed entry (for [`TEST_LOG`]) whose payload is derived from `n`,
/// about `size` bytes long.
pub fn signed_entry(key: &SigningKey, n: u64, size: usize) -> Vec<u8> {
    let mut payload = n.to_be_bytes().to_vec();
    payload.resize(size.max(8), 0xa5);
    match Entry::sign(key, TEST_LOG, &payload).and_then(|e| e.to_bytes()) {
        Ok(b) => b,
        Err(e) => panic!("signing test entry: {e}"),
    }
}

/// A signed-note key string with its hex key id re-cased by `case`: the
/// id is the second `+` field of a verifier key and the fourth of a
/// `PRIVATE+KEY+` signer key.
pub fn respell_key_id(key: &str, case: fn(&str) -> String) -> String {
    let field = if key.starts_with("PRIVATE+KEY+") {
        3
    } else {
        1
    };
    let parts: Vec<String> = key
        .splitn(field + 2, '+')
        .enumerate()
        .map(|(i, p)| if i == field { case(p) } else { p.to_string() })
        .collect();
    parts.join("+")
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

/// A binary of this workspace, `target/<profile>/<bin>`, next to the running
/// test executable's directory. `cargo test` does not build other packages'
/// binaries, so it is (re)built once per process with cargo (a no-op when up
/// to date), in the same profile as the tests.
pub fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let path = profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    let mut built = BUILT.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap();
    if !built.iter().any(|b| b == bin) {
        let mut cmd = std::process::Command::new(env!("CARGO"));
        cmd.args(["build", "-p", package, "--bin", bin, "--target-dir"])
            .arg(profile_dir.parent().unwrap());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let st = cmd.arg("--quiet").status().unwrap();
        assert!(st.success(), "building the {bin} binary failed");
        built.push(bin.to_string());
    }
    path
}

/// Changes one byte (`byte % len`, XOR `mask`) of the value at `key` in a
/// closed sled store, as an attacker with the disk would.
pub fn tamper_sled(dir: &std::path::Path, key: &[u8], byte: usize, mask: u8) {
    // sled drops its lock from background threads; wait for it like SledStore::open does.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let db = loop {
        match sled::open(dir) {
            Ok(db) => break db,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.to_string().contains("could not acquire lock"), "{e}");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let mut v = db.get(key).unwrap().expect("key present").to_vec();
    let i = byte % v.len();
    v[i] ^= mask;
    db.insert(key, v).unwrap();
    db.flush().unwrap();
}
