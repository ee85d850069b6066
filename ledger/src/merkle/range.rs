//! Hashes of arbitrary leaf ranges, folded from complete subtrees.

use super::{NodeAddr, NodeReader};
use crate::{
    Error, Result,
    hash::{Hash, empty_root, node_hash},
};

/// The complete subtrees that make up `[start, end)`, left to right.
///
/// `start` must be aligned the way RFC 9162 ranges are: a multiple of the
/// largest power of two not exceeding `end - start` (every range the RFC's
/// recursion produces is).
pub fn subtrees(start: u64, end: u64) -> Vec<NodeAddr> {
    let mut out = Vec::new();
    let mut lo = start;
    while lo < end {
        let size = end - lo;
        let level = 63 - size.leading_zeros();
        // Alignment limits how large a node can start at `lo`.
        let align = if lo == 0 { 63 } else { lo.trailing_zeros() };
        let level = level.min(align) as u8;
        out.push(NodeAddr::new(level, lo >> level));
        lo += 1u64 << level;
    }
    out
}

/// The RFC 9162 hash of leaves `[start, end)`: complete subtrees folded from the right.
pub fn range_hash(reader: &impl NodeReader, start: u64, end: u64) -> Result<Hash> {
    if start >= end {
        return Err(Error::OutOfRange(format!("empty range [{start}, {end})")));
    }
    let mut parts = subtrees(start, end).into_iter().rev();
    let Some(last) = parts.next() else {
        return Err(Error::OutOfRange(format!("empty range [{start}, {end})")));
    };
    let mut acc = reader.node_hash(last)?;
    for addr in parts {
        acc = node_hash(&reader.node_hash(addr)?, &acc);
    }
    Ok(acc)
}

/// The Merkle tree hash of the first `size` leaves.
pub fn root(reader: &impl NodeReader, size: u64) -> Result<Hash> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(reader, 0, size)
}

/// The Merkle tree hash of a list of leaf hashes held in memory (RFC 9162
/// `MTH`), folded from its complete subtrees like [`root`].
///
/// ```
/// use ledger::hash::{empty_root, leaf_hash, node_hash};
/// use ledger::merkle::root_of_leaves;
///
/// let (a, b, c) = (leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c"));
/// assert_eq!(root_of_leaves(&[]), empty_root());
/// assert_eq!(root_of_leaves(&[a]), a);
/// assert_eq!(root_of_leaves(&[a, b, c]), node_hash(&node_hash(&a, &b), &c));
/// ```
pub fn root_of_leaves(leaves: &[Hash]) -> Hash {
    struct Leaves<'a>(&'a [Hash]);
    impl NodeReader for Leaves<'_> {
        fn node_hash(&self, addr: NodeAddr) -> Result<Hash> {
            let first = usize::try_from(addr.first_leaf())
                .map_err(|_| Error::OutOfRange(format!("node {addr:?}")))?;
            let width = 1usize << addr.level;
            let span = self
                .0
                .get(first..first.saturating_add(width))
                .filter(|s| s.len() == width)
                .ok_or_else(|| Error::OutOfRange(format!("node {addr:?}")))?;
            super::perfect_root(span)
        }
    }
    // Every subtree of [0, n) lies inside the slice, so the fold cannot fail.
    root(&Leaves(leaves), leaves.len() as u64).unwrap_or_else(|_| empty_root())
}
