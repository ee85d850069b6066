//! A sled store whose bytes were changed is refused on open, naming what differs.

use cupass_tests::{assert_err, log_signer, signed_entry, test_key};
use ledger::{
    Error, Log, OpenCheck, SledConfig, SledStore,
    store::{ENTRY_CHUNK, chunk_key, tile_key},
};

const N: u64 = 600;

fn build(dir: &std::path::Path) {
    let store = SledStore::open(dir, &SledConfig::default()).unwrap();
    let log = Log::create(store, log_signer("tamper")).unwrap();
    let k = test_key(3);
    let es: Vec<Vec<u8>> = (0..N).map(|i| signed_entry(&k, i, 90)).collect();
    for chunk in es.chunks(64) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        log.append_batch(&refs, Vec::new()).unwrap();
    }
    log.into_store().close().unwrap();
}

/// Flips one bit of the value at `key` directly in sled.
fn flip(dir: &std::path::Path, key: &[u8], byte: usize) {
    cupass_tests::tamper_sled(dir, key, byte, 0x40);
}

fn open(dir: &std::path::Path, check: OpenCheck) -> ledger::Result<Log<SledStore>> {
    let store = SledStore::open(dir, &SledConfig::default()).unwrap();
    Log::open(store, log_signer("tamper"), check)
}

fn tampered(key: Vec<u8>, byte: usize, check: OpenCheck) -> String {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    open(dir.path(), check).expect("untouched store opens");
    flip(dir.path(), &key, byte);
    let msg = assert_err!(open(dir.path(), check), Error::StoreMismatch(_));
    msg
}

#[test]
fn changed_entry_bytes_are_named() {
    // A chunk holds 16 entries, each behind a 2-byte length; flip a byte
    // inside the first entry of the chunk.
    for (i, byte) in [(0u64, 2usize), (48, 40), (592, 150)] {
        let msg = tampered(chunk_key(i / ENTRY_CHUNK), byte, OpenCheck::Full);
        assert!(msg.contains(&format!("entry {i}: its bytes")), "{msg}");
    }
    // A changed length prefix breaks the chunk's framing.
    let msg = tampered(chunk_key(3), 0, OpenCheck::Full);
    assert!(msg.contains("entry chunk 3"), "{msg}");
}

#[test]
fn changed_tiles_are_named() {
    // 600 entries: level-0 tiles 0 and 1 are full, tile 2 is partial; level 1 is partial.
    for (level, index, byte) in [(0u8, 0u64, 0usize), (0, 1, 32 * 200 + 5), (0, 2, 31)] {
        let msg = tampered(tile_key(level, index), byte, OpenCheck::Full);
        let named = msg.contains(&format!("tile {level}/{index}")) || msg.contains("root");
        assert!(named, "{msg}");
    }
    // The cheap check sees a changed tile on the root's path.
    let msg = tampered(tile_key(1, 0), 3, OpenCheck::Root);
    assert!(msg.contains("root"), "{msg}");
}

#[test]
fn changed_checkpoint_or_size_is_refused() {
    for key in [b"m:checkpoint".to_vec(), b"m:size".to_vec()] {
        for byte in [0usize, 5, 30, 90] {
            let msg = tampered(key.clone(), byte, OpenCheck::Root);
            assert!(msg.contains("checkpoint"), "{msg}");
        }
    }
}
