//! Properties: batch updates agree with a bulk build and with a naive
//! implementation written from the crate docs; every key proves; tampered
//! proofs fail; proof bytes are canonical and never panic the reader.
// Test helpers may panic: a panic there is a failed test.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use status_map::{
    Hash, MapError, MapProof, PLACEHOLDER, StatusMap, internal_hash, key_hash, leaf_hash,
    value_hash,
};
use std::collections::BTreeMap;

fn bit(k: &Hash, i: usize) -> bool {
    (k[i / 8] >> (7 - i % 8)) & 1 == 1
}

/// The root, straight from the spec in the crate docs: a recursive split by
/// bit, a lone key is its leaf, no key is the placeholder.
fn naive_root(leaves: &[(Hash, Hash)], depth: usize) -> Hash {
    match leaves {
        [] => PLACEHOLDER,
        [(k, v)] => leaf_hash(k, v),
        _ => {
            let (l, r): (Vec<_>, Vec<_>) = leaves.iter().partition(|(k, _)| !bit(k, depth));
            internal_hash(&naive_root(&l, depth + 1), &naive_root(&r, depth + 1))
        }
    }
}

/// Keys from a few bases with random tails, so prefixes are shared at every depth.
fn arb_key() -> impl Strategy<Value = Hash> {
    (0u8..3, 0usize..=256, any::<[u8; 32]>()).prop_map(|(base, from_bit, tail)| {
        let mut k = [base.wrapping_mul(0x93); 32];
        for i in from_bit..256 {
            let mask = 1u8 << (7 - i % 8);
            k[i / 8] = (k[i / 8] & !mask) | (tail[i / 8] & mask);
        }
        k
    })
}

fn arb_batches() -> impl Strategy<Value = Vec<Vec<(Hash, Option<Hash>)>>> {
    prop::collection::vec(
        prop::collection::vec(
            (
                arb_key(),
                prop::option::weighted(0.65, any::<u8>().prop_map(|b| [b; 32])),
            ),
            0..40,
        ),
        1..6,
    )
}

/// A map and its model after a run of batches.
fn run(batches: &[Vec<(Hash, Option<Hash>)>]) -> (StatusMap, BTreeMap<Hash, Hash>) {
    let mut map = StatusMap::new();
    let mut model = BTreeMap::new();
    for batch in batches {
        map.update(batch.iter().copied());
        for (k, v) in batch {
            match v {
                Some(v) => model.insert(*k, *v),
                None => model.remove(k),
            };
        }
    }
    (map, model)
}

fn flip(mut h: Hash, byte: usize, bit: u8) -> Hash {
    h[byte % 32] ^= 1 << (bit % 8);
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batches_agree_with_bulk_build_and_spec(batches in arb_batches()) {
        let (map, model) = run(&batches);
        let leaves: Vec<(Hash, Hash)> = model.iter().map(|(k, v)| (*k, *v)).collect();
        let bulk = StatusMap::from_leaves(leaves.iter().copied());
        prop_assert_eq!(map.root(), bulk.root());
        prop_assert_eq!(map.root(), naive_root(&leaves, 0));
        prop_assert_eq!(map.len(), model.len());
        prop_assert_eq!(map.is_empty(), model.is_empty());
        prop_assert_eq!(map.iter().collect::<Vec<_>>(), leaves.clone());
        for (k, v) in &model {
            prop_assert_eq!(map.get(k), Some(*v));
            // Proofs from the updated map and the bulk-built one are the same.
            let proof = map.prove(k);
            prop_assert_eq!(&proof, &bulk.prove(k));
            prop_assert!(proof.verify(&map.root(), k, Some(v)).is_ok());
        }
    }

    /// Batches that change nothing (the same values again, deletes of absent
    /// keys) leave the root as it was, and the map still updates right after.
    #[test]
    fn no_op_changes_change_nothing(batches in arb_batches(), probes in prop::collection::vec(arb_key(), 0..8), last in prop::collection::vec((arb_key(), prop::option::of(any::<[u8; 32]>())), 1..10)) {
        let (mut map, mut model) = run(&batches);
        let root = map.root();
        let mut noop: Vec<(Hash, Option<Hash>)> = model.iter().map(|(k, v)| (*k, Some(*v))).collect();
        noop.extend(probes.iter().filter(|k| !model.contains_key(*k)).map(|k| (*k, None)));
        map.update(noop.iter().rev().copied());
        prop_assert_eq!(map.root(), root);
        prop_assert_eq!(map.len(), model.len());
        map.update(last.iter().copied());
        for (k, v) in &last {
            match v {
                Some(v) => model.insert(*k, *v),
                None => model.remove(k),
            };
        }
        let bulk = StatusMap::from_leaves(model.iter().map(|(k, v)| (*k, *v)));
        prop_assert_eq!(map.root(), bulk.root());
        for k in model.keys().chain(&probes) {
            prop_assert_eq!(map.prove(k), bulk.prove(k));
        }
    }

    #[test]
    fn every_key_proves_and_others_do_not(batches in arb_batches(), probes in prop::collection::vec(arb_key(), 1..8)) {
        let (map, model) = run(&batches);
        let root = map.root();
        let present: Vec<Hash> = model.keys().copied().collect();
        for k in probes.iter().chain(&present) {
            let proof = map.prove(k);
            match model.get(k) {
                Some(v) => {
                    prop_assert_eq!(map.get(k), Some(*v));
                    prop_assert!(proof.verify(&root, k, Some(v)).is_ok());
                    // Another value, absence, another root.
                    prop_assert!(proof.verify(&root, k, Some(&flip(*v, 0, 0))).is_err());
                    prop_assert_eq!(proof.verify(&root, k, None), Err(MapError::KeyPresent));
                    prop_assert!(proof.verify(&flip(root, 5, 3), k, Some(v)).is_err());
                    // Another key: present keys and near misses.
                    for other in present.iter().chain(&probes) {
                        if other != k {
                            prop_assert!(proof.verify(&root, other, Some(v)).is_err());
                        }
                    }
                }
                None => {
                    prop_assert_eq!(map.get(k), None);
                    prop_assert!(proof.verify(&root, k, None).is_ok());
                    prop_assert!(proof.verify(&flip(root, 31, 7), k, None).is_err());
                    prop_assert!(proof.verify(&root, k, Some(&[7; 32])).is_err());
                    // An absence proof never shows a present key absent.
                    for other in &present {
                        prop_assert!(proof.verify(&root, other, None).is_err());
                    }
                }
            }
        }
    }

    #[test]
    fn tampered_proofs_fail(batches in arb_batches(), probe in arb_key(), which in any::<usize>(), byte in any::<usize>(), b in any::<u8>(), extra in any::<[u8; 32]>()) {
        let (map, model) = run(&batches);
        let root = map.root();
        // A present key (if any) and the probe.
        let keys: Vec<Hash> = model.keys().nth(which % model.len().max(1)).copied().into_iter().chain([probe]).collect();
        for k in &keys {
            let value = model.get(k);
            let proof = map.prove(k);
            prop_assert!(proof.verify(&root, k, value).is_ok());
            let sib = proof.siblings().to_vec();
            let leaf = proof.leaf();
            let mut tampered = Vec::new();
            if !sib.is_empty() {
                let i = which % sib.len();
                let mut s = sib.clone();
                s[i] = flip(s[i], byte, b);
                tampered.push(MapProof::from_parts(leaf, s).unwrap());
                tampered.push(MapProof::from_parts(leaf, sib[1..].to_vec()).unwrap());
                tampered.push(MapProof::from_parts(leaf, sib[..sib.len() - 1].to_vec()).unwrap());
            }
            if sib.len() < 256 {
                for add in [PLACEHOLDER, extra] {
                    let mut s = sib.clone();
                    s.insert(0, add);
                    tampered.push(MapProof::from_parts(leaf, s.clone()).unwrap());
                    let mut s = sib.clone();
                    s.push(add);
                    tampered.push(MapProof::from_parts(leaf, s).unwrap());
                }
            }
            match leaf {
                Some((lk, lv)) => {
                    tampered.push(MapProof::from_parts(Some((lk, flip(lv, byte, b))), sib.clone()).unwrap());
                    tampered.push(MapProof::from_parts(Some((flip(lk, byte, b), lv)), sib.clone()).unwrap());
                    // The leaf dropped: "the place is empty".
                    tampered.push(MapProof::from_parts(None, sib.clone()).unwrap());
                }
                None => {
                    // A made-up leaf in the key's place.
                    let mut other = *k;
                    other[31] ^= 1;
                    tampered.push(MapProof::from_parts(Some((other, extra)), sib.clone()).unwrap());
                    // A real leaf of the map in the key's place.
                    for (ok, ov) in model.iter().take(3) {
                        tampered.push(MapProof::from_parts(Some((*ok, *ov)), sib.clone()).unwrap());
                    }
                }
            }
            for t in &tampered {
                prop_assert!(t.verify(&root, k, value).is_err(), "tampered proof verified: {:?}", t);
                prop_assert!(t.verify(&root, k, None).is_err(), "tampered proof shows absence: {:?}", t);
            }
        }
    }

    #[test]
    fn from_bytes_never_panics_and_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(p) = MapProof::from_bytes(&bytes) {
            prop_assert_eq!(p.to_bytes(), bytes);
        }
    }

    /// Inputs shaped like proofs (a kind, maybe a leaf, a count, a body of
    /// about the right length), so that many of them parse.
    #[test]
    fn near_proof_bytes_parse_only_when_canonical(
        kind in 0u8..3,
        count in prop_oneof![0u16..12, any::<u16>()],
        leaf in any::<[u8; 32]>(),
        body in prop::collection::vec(any::<u8>(), 0..420),
    ) {
        let mut bytes = vec![kind];
        if kind == 1 {
            bytes.extend_from_slice(&leaf);
            bytes.extend_from_slice(&leaf);
        }
        bytes.extend_from_slice(&count.to_be_bytes());
        let want = 32 * usize::from(count);
        // Either the exact body, or whatever length came.
        let exact = body.len() % 3 == 0;
        let body: Vec<u8> = if exact { body.iter().copied().cycle().take(want).collect() } else { body };
        bytes.extend_from_slice(&body);
        match MapProof::from_bytes(&bytes) {
            Ok(p) => {
                prop_assert!(kind < 2 && count <= 256 && body.len() == want);
                prop_assert_eq!(p.siblings().len(), usize::from(count));
                prop_assert_eq!(p.leaf().is_some(), kind == 1);
                prop_assert_eq!(p.to_bytes(), bytes);
            }
            Err(_) => prop_assert!(kind >= 2 || count > 256 || body.len() != want),
        }
    }

    #[test]
    fn proof_bytes_round_trip_and_reject_edits(batches in arb_batches(), probe in arb_key(), cut in any::<usize>(), junk in any::<u8>()) {
        let (map, _) = run(&batches);
        let proof = map.prove(&probe);
        let bytes = proof.to_bytes();
        prop_assert_eq!(MapProof::from_bytes(&bytes), Ok(proof));
        let short = &bytes[..cut % bytes.len()];
        let is_truncated = matches!(MapProof::from_bytes(short), Err(MapError::Truncated { .. }));
        prop_assert!(is_truncated);
        let mut long = bytes.clone();
        long.push(junk);
        let is_trailing = matches!(MapProof::from_bytes(&long), Err(MapError::TrailingBytes { .. }));
        prop_assert!(is_trailing);
    }
}

#[test]
fn from_bytes_rejects_bad_kinds_and_counts() {
    assert_eq!(MapProof::from_bytes(&[2, 0, 0]), Err(MapError::BadKind(2)));
    assert_eq!(
        MapProof::from_bytes(&[0, 0, 0]).unwrap(),
        MapProof::from_parts(None, vec![]).unwrap()
    );
    assert_eq!(
        MapProof::from_bytes(&[0, 1, 1]),
        Err(MapError::TooManySiblings { count: 257 })
    );
    let mut max = vec![0, 1, 0];
    max.extend(std::iter::repeat_n(0xab, 256 * 32));
    assert_eq!(MapProof::from_bytes(&max).unwrap().siblings().len(), 256);
    assert_eq!(
        MapProof::from_bytes(&[]),
        Err(MapError::Truncated { needed: 1, got: 0 })
    );
    assert!(matches!(
        MapProof::from_bytes(&[1; 60]),
        Err(MapError::Truncated { .. })
    ));
    assert!(MapProof::from_parts(None, vec![[0; 32]; 257]).is_err());
}

#[test]
fn layout_is_as_documented() {
    let k = key_hash(b"k");
    let v = value_hash(b"v");
    let map = StatusMap::from_leaves([(k, v), ([0; 32], v)]);
    let bytes = map.prove(&k).to_bytes();
    assert_eq!(bytes[0], 1);
    assert_eq!(&bytes[1..33], &k);
    assert_eq!(&bytes[33..65], &v);
    let n = usize::from(u16::from_be_bytes([bytes[65], bytes[66]]));
    assert_eq!(bytes.len(), 67 + 32 * n);
    // key_hash("k") starts with a 1 bit and [0; 32] with a 0: they part at the root.
    assert_eq!(n, 1);
    assert_eq!(&bytes[67..], &leaf_hash(&[0; 32], &v));
    assert_eq!(
        map.root(),
        internal_hash(&leaf_hash(&[0; 32], &v), &leaf_hash(&k, &v))
    );
}

#[test]
fn empty_and_single() {
    let mut map = StatusMap::default();
    assert_eq!(map.root(), PLACEHOLDER);
    assert_eq!(map.root(), *b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
    let k = [9; 32];
    let p = map.prove(&k);
    assert!(p.siblings().is_empty() && p.leaf().is_none());
    p.verify(&map.root(), &k, None).unwrap();
    map.update([(k, Some([1; 32]))]);
    assert_eq!(map.root(), leaf_hash(&k, &[1; 32]));
    map.update([(k, None), (k, Some([2; 32])), ([3; 32], None)]);
    assert_eq!(map.get(&k), Some([2; 32]), "the last change for a key wins");
    map.update([(k, None)]);
    assert_eq!((map.root(), map.len()), (PLACEHOLDER, 0));
    // from_leaves: the last value for a key wins too.
    let m = StatusMap::from_leaves([(k, [1; 32]), ([0; 32], [0; 32]), (k, [5; 32])]);
    assert_eq!((m.get(&k), m.len()), (Some([5; 32]), 2));
}

/// The deepest case: two keys differing in the last bit sit at depth 256, and
/// a third key's proof of absence under them has 256 siblings.
#[test]
fn depth_256() {
    let a = [0u8; 32];
    let mut b = a;
    b[31] = 1;
    let map = StatusMap::from_leaves([(a, [1; 32]), (b, [2; 32])]);
    let p = map.prove(&b);
    assert_eq!(p.siblings().len(), 256);
    p.verify(&map.root(), &b, Some(&[2; 32])).unwrap();
    let p2 = MapProof::from_bytes(&p.to_bytes()).unwrap();
    p2.verify(&map.root(), &b, Some(&[2; 32])).unwrap();
    let mut c = a;
    c[0] = 0x01;
    let p = map.prove(&c);
    assert_eq!(p.siblings().len(), 8);
    p.verify(&map.root(), &c, None).unwrap();
}

/// An absence proof's leaf must hold the checked key's place.
#[test]
fn absence_leaf_must_be_on_the_path() {
    let a = [0u8; 32];
    let mut b = [0u8; 32];
    b[0] = 0x80;
    let map = StatusMap::from_leaves([(a, [1; 32]), (b, [2; 32])]);
    let root = map.root();
    // c goes left at the root, where a's leaf stands alone at depth 1.
    let mut c = [0u8; 32];
    c[0] = 0x40;
    let proof = map.prove(&c);
    assert_eq!(proof.leaf(), Some((a, [1; 32])));
    proof.verify(&root, &c, None).unwrap();
    // d goes right: a's leaf says nothing about it.
    let mut d = [0u8; 32];
    d[0] = 0xc0;
    assert_eq!(
        proof.verify(&root, &d, None),
        Err(MapError::LeafOffPath {
            common_bits: 0,
            depth: 1
        })
    );
    map.prove(&d).verify(&root, &d, None).unwrap();
    assert_eq!(map.prove(&d).leaf(), Some((b, [2; 32])));
}
