//! RFC 9162 hashing: leaves, interior nodes and the empty tree.

use sha2::{Digest, Sha256};

/// A SHA-256 output.
pub type Hash = [u8; 32];

/// Size of a [`Hash`](tyalias@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// The leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Plain SHA-256 of some bytes (key ids, evidence references).
pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}
