//! The RFC 9162 Merkle tree math.
//!
//! This module knows hashes and indices only: no storage engine, no signing,
//! no transport. Trees are addressed by their *complete subtrees*: the node at
//! `(level, index)` is the root of the perfect subtree over leaves
//! `[index << level, (index + 1) << level)`. Only complete nodes are ever
//! stored; every other hash (roots of arbitrary sizes, proof siblings on the
//! right edge) is folded from at most `log2(n)` of them, so proofs cost
//! O(log n) reads and never rebuild the tree.

mod prove;
mod range;
mod verify;

pub use prove::{consistency_proof, inclusion_proof};
pub use range::{range_hash, root, root_of_leaves, subtrees};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};

use crate::{Result, hash::Hash};

/// The address of a complete subtree: its level (0 = leaf) and index within that level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeAddr {
    /// Height above the leaves (0 for a leaf hash).
    pub level: u8,
    /// Position among the nodes of that level, from the left.
    pub index: u64,
}

impl NodeAddr {
    /// Creates an address.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeAddr { level, index }
    }

    /// First leaf covered by this node.
    pub fn first_leaf(&self) -> u64 {
        self.index << self.level
    }
}

/// Something that can hand out the hash of a complete subtree.
pub trait NodeReader {
    /// Returns the hash stored for `addr`, or an error if it is absent.
    fn node_hash(&self, addr: NodeAddr) -> Result<Hash>;
}

/// Root of a perfect tree over `hashes`, whose count must be a power of two.
pub(crate) fn perfect_root(hashes: &[Hash]) -> Result<Hash> {
    match hashes {
        [] => Err(crate::Error::OutOfRange("empty subtree".into())),
        [h] => Ok(*h),
        _ => {
            let (l, r) = hashes.split_at(hashes.len() / 2);
            Ok(crate::hash::node_hash(&perfect_root(l)?, &perfect_root(r)?))
        }
    }
}

/// Largest power of two strictly less than `n` (`n >= 2`).
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}
