//! Proof generation (RFC 9162 §2.1.3.1 and §2.1.4.1) from stored complete nodes.

use super::{NodeReader, range_hash, split_point};
use crate::{Error, Result, hash::Hash};

/// The audit path for leaf `index` in the tree of `size` leaves, leaf-side first.
pub fn inclusion_proof(reader: &impl NodeReader, index: u64, size: u64) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(Error::OutOfRange(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    // Walk down from the root; each step records the sibling range.
    let (mut lo, mut hi) = (0u64, size);
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
        }
    }
    siblings
        .into_iter()
        .rev()
        .map(|(s, e)| range_hash(reader, s, e))
        .collect()
}

/// The consistency proof between the trees of `old` and `new` leaves.
///
/// `old == new` gives an empty proof; `old == 0` is refused, because nothing
/// can be proved about the empty tree (the vectors treat it as an error too).
pub fn consistency_proof(reader: &impl NodeReader, old: u64, new: u64) -> Result<Vec<Hash>> {
    if old == 0 || old > new {
        return Err(Error::OutOfRange(format!(
            "no consistency proof from size {old} to size {new}"
        )));
    }
    if old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled.
    let (mut lo, mut hi, mut m, mut whole) = (0u64, new, old, true);
    let mut siblings = Vec::new();
    let mut seed = None;
    loop {
        let size = hi - lo;
        if m == size {
            if !whole {
                seed = Some((lo, hi));
            }
            break;
        }
        let k = split_point(size);
        if m <= k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
            m -= k;
            whole = false;
        }
    }
    seed.into_iter()
        .chain(siblings.into_iter().rev())
        .map(|(s, e)| range_hash(reader, s, e))
        .collect()
}
