//! Proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2).
//!
//! Roots and leaf hashes are taken as byte slices, as in the reference
//! implementation, so a hash of the wrong length is simply a mismatch.

use crate::{
    Error, Result,
    hash::{Hash, node_hash},
};

fn decomp_inclusion(index: u64, size: u64) -> (usize, usize) {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    (inner, border)
}

fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    seed
}

fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

fn check_match(computed: &Hash, expected: &[u8], what: &str) -> Result<()> {
    if computed.as_slice() == expected {
        Ok(())
    } else {
        Err(Error::BadProof(format!(
            "{what}: computed root does not match the expected root"
        )))
    }
}

/// Recomputes the root implied by an inclusion proof.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[Hash],
) -> Result<Hash> {
    if index >= size {
        return Err(Error::BadProof(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    let leaf: Hash = leaf_hash
        .try_into()
        .map_err(|_| Error::BadProof(format!("leaf hash is {} bytes, not 32", leaf_hash.len())))?;
    let (inner, border) = decomp_inclusion(index, size);
    if proof.len() != inner + border {
        return Err(Error::BadProof(format!(
            "inclusion proof has {} hashes; index {index} in size {size} needs {}",
            proof.len(),
            inner + border
        )));
    }
    let (inner_part, border_part) = proof.split_at(inner);
    let res = chain_inner(leaf, inner_part, index);
    Ok(chain_border_right(res, border_part))
}

/// Checks that `leaf_hash` is at `index` in the tree of `size` leaves with root `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[Hash],
    root: &[u8],
) -> Result<()> {
    let computed = root_from_inclusion_proof(index, size, leaf_hash, proof)?;
    check_match(&computed, root, "inclusion")
}

/// Checks that the tree of `size1` leaves with root `root1` is a prefix of the
/// tree of `size2` leaves with root `root2`.
///
/// `size1 == 0` is an error: the empty tree is a prefix of every tree, so such
/// a check proves nothing and callers must not rely on it.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &[u8],
    root2: &[u8],
) -> Result<()> {
    if size1 == 0 {
        return Err(Error::BadProof(
            "consistency with the empty tree proves nothing".into(),
        ));
    }
    if size2 < size1 {
        return Err(Error::BadProof(format!(
            "new size {size2} is smaller than old size {size1}"
        )));
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(Error::BadProof(
                "sizes are equal but the proof is not empty".into(),
            ));
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(Error::BadProof(
                "sizes are equal but the roots differ".into(),
            ))
        };
    }
    if proof.is_empty() {
        return Err(Error::BadProof("empty consistency proof".into()));
    }
    let (inner, border) = decomp_inclusion(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner.saturating_sub(shift);
    // The proof starts with the hash of the 2^shift subtree unless size1 is that subtree.
    let (seed, rest): (Hash, &[Hash]) = if size1 == 1u64 << shift {
        let r1: Hash = root1
            .try_into()
            .map_err(|_| Error::BadProof(format!("old root is {} bytes, not 32", root1.len())))?;
        (r1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(Error::BadProof("empty consistency proof".into())),
        }
    };
    if rest.len() != inner + border {
        return Err(Error::BadProof(format!(
            "consistency proof has the wrong length for sizes {size1} -> {size2}"
        )));
    }
    let (inner_part, border_part) = rest.split_at(inner);
    let mask = (size1 - 1) >> shift;
    let h1 = chain_border_right(chain_inner_right(seed, inner_part, mask), border_part);
    check_match(&h1, root1, "consistency (old root)")?;
    let h2 = chain_border_right(chain_inner(seed, inner_part, mask), border_part);
    check_match(&h2, root2, "consistency (new root)")
}
