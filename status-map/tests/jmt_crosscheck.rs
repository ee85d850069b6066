//! Cross-check against an independent implementation: the `jmt` crate
//! (penumbra-zone/jmt) with SHA-256. Same key/value sets in both, equal roots,
//! and `jmt`'s proofs (leaf and every sibling) equal to ours.
// Test helpers may panic: a panic there is a failed test.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use jmt::mock::MockTreeStore;
use jmt::{KeyHash, RootHash, Sha256Jmt};
use proptest::prelude::*;
use serde_json::Value;
use status_map::{
    Hash, MapProof, PLACEHOLDER, StatusMap, internal_hash, key_hash, leaf_hash, value_hash,
};
use std::collections::BTreeMap;

/// A `jmt` tree in memory, one version per batch.
struct Jmt {
    store: MockTreeStore,
    version: Option<u64>,
}

impl Jmt {
    fn new() -> Self {
        Self {
            store: MockTreeStore::default(),
            version: None,
        }
    }

    /// Applies one batch: `Some(value bytes)` or `None` (delete).
    fn put(&mut self, changes: &[(Hash, Option<Vec<u8>>)]) -> Hash {
        let version = self.version.map_or(0, |v| v + 1);
        let tree = Sha256Jmt::new(&self.store);
        let (root, batch) = tree
            .put_value_set(
                changes.iter().map(|(k, v)| (KeyHash(*k), v.clone())),
                version,
            )
            .unwrap();
        self.store.write_tree_update_batch(batch).unwrap();
        self.version = Some(version);
        root.0
    }

    /// `jmt`'s proof for `key` as our type, and the value `jmt` found, after
    /// checking the proof with `jmt`'s own verifier against `root`.
    fn prove(&self, key: &Hash, root: Hash) -> (Option<Vec<u8>>, MapProof) {
        let tree = Sha256Jmt::new(&self.store);
        let (value, proof) = tree
            .get_with_proof(KeyHash(*key), self.version.unwrap())
            .unwrap();
        proof
            .verify(RootHash(root), KeyHash(*key), value.as_deref())
            .unwrap();
        (value, convert(&proof))
    }
}

fn bytes32(v: &Value) -> Hash {
    let a: Vec<u8> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| u8::try_from(x.as_u64().unwrap()).unwrap())
        .collect();
    a.try_into().unwrap()
}

/// Reads `jmt`'s proof through its serde form (its siblings are not public):
/// the leaf, and each sibling node hashed as `jmt` hashes it.
fn convert<H: jmt::SimpleHasher>(proof: &jmt::proof::SparseMerkleProof<H>) -> MapProof {
    let v = serde_json::to_value(proof).unwrap();
    let leaf = match &v["leaf"] {
        Value::Null => None,
        l => Some((bytes32(&l["key_hash"]), bytes32(&l["value_hash"]))),
    };
    let siblings = v["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            if s == "Null" {
                PLACEHOLDER
            } else if let Some(i) = s.get("Internal") {
                internal_hash(&bytes32(&i["left_child"]), &bytes32(&i["right_child"]))
            } else if let Some(l) = s.get("Leaf") {
                leaf_hash(&bytes32(&l["key_hash"]), &bytes32(&l["value_hash"]))
            } else {
                panic!("unknown jmt sibling {s}")
            }
        })
        .collect();
    MapProof::from_parts(leaf, siblings).unwrap()
}

/// Checks roots, and proofs for every key present and for `absent` keys.
fn check(
    map: &StatusMap,
    jmt: &Jmt,
    jmt_root: Hash,
    model: &BTreeMap<Hash, Vec<u8>>,
    absent: &[Hash],
) {
    assert_eq!(
        map.root(),
        jmt_root,
        "roots differ for {} keys",
        model.len()
    );
    assert_eq!(map.len(), model.len());
    for (k, v) in model {
        let (jv, jproof) = jmt.prove(k, jmt_root);
        assert_eq!(jv.as_deref(), Some(v.as_slice()));
        let ours = map.prove(k);
        assert_eq!(ours, jproof, "membership proof differs from jmt's");
        ours.verify(&jmt_root, k, Some(&value_hash(v))).unwrap();
    }
    for k in absent {
        if model.contains_key(k) {
            continue;
        }
        let (jv, jproof) = jmt.prove(k, jmt_root);
        assert_eq!(jv, None);
        let ours = map.prove(k);
        assert_eq!(ours, jproof, "absence proof differs from jmt's");
        ours.verify(&jmt_root, k, None).unwrap();
        // Our proof bytes, read back, are still jmt's proof.
        assert_eq!(MapProof::from_bytes(&ours.to_bytes()).unwrap(), jproof);
    }
}

fn value_of(i: u64, round: u64) -> Vec<u8> {
    format!("status {i} round {round}").into_bytes()
}

fn key_of(i: u64) -> Hash {
    key_hash(&i.to_be_bytes())
}

/// Builds the same set in both, in one batch (jmt) and with from_leaves (us).
fn both(model: &BTreeMap<Hash, Vec<u8>>) -> (StatusMap, Jmt, Hash) {
    let map = StatusMap::from_leaves(model.iter().map(|(k, v)| (*k, value_hash(v))));
    let mut jmt = Jmt::new();
    let changes: Vec<_> = model.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
    let root = jmt.put(&changes);
    (map, jmt, root)
}

#[test]
fn empty_map_matches_jmt() {
    let model = BTreeMap::new();
    let (map, jmt, root) = both(&model);
    assert_eq!(root, PLACEHOLDER);
    check(&map, &jmt, root, &model, &[key_of(1), [0; 32], [0xff; 32]]);
}

#[test]
fn fixed_sizes_match_jmt() {
    for n in [1u64, 2, 3, 17, 1000] {
        let model: BTreeMap<Hash, Vec<u8>> = (0..n).map(|i| (key_of(i), value_of(i, 0))).collect();
        let (map, jmt, root) = both(&model);
        let absent: Vec<Hash> = (n..n + 200).map(key_of).collect();
        check(&map, &jmt, root, &model, &absent);
    }
}

/// Keys that share long prefixes: deep chains of one-sided levels, and
/// leaves at depth 256 (keys differing in the last bit only).
fn clustered_keys() -> Vec<Hash> {
    let mut keys = vec![[0u8; 32], [0xff; 32]];
    let mut last_bit = [0u8; 32];
    last_bit[31] = 1;
    keys.push(last_bit);
    let mut k = [0u8; 32];
    k[0] = 0x80;
    keys.push(k);
    for i in 0..40u8 {
        let mut k = [0x5a; 32];
        k[31] = i;
        keys.push(k);
        let mut k = [0x5a; 32];
        k[16] = i;
        keys.push(k);
    }
    keys
}

#[test]
fn clustered_keys_match_jmt_through_batches() {
    let keys = clustered_keys();
    let mut model = BTreeMap::new();
    let mut map = StatusMap::new();
    let mut jmt = Jmt::new();
    let probes: Vec<Hash> = {
        let mut p = keys.clone();
        for k in &keys {
            let mut k = *k;
            k[31] ^= 0x02;
            p.push(k);
            k[10] ^= 0x40;
            p.push(k);
        }
        p
    };
    // Insert in three batches, then replace some, then delete most.
    for (round, chunk) in keys.chunks(30).enumerate() {
        let changes: Vec<(Hash, Option<Vec<u8>>)> = chunk
            .iter()
            .map(|k| (*k, Some(format!("{round}").into_bytes())))
            .collect();
        let root = jmt.put(&changes);
        map.update(
            changes
                .iter()
                .map(|(k, v)| (*k, v.as_deref().map(value_hash))),
        );
        for (k, v) in &changes {
            model.insert(*k, v.clone().unwrap());
        }
        check(&map, &jmt, root, &model, &probes);
    }
    let mut changes: Vec<(Hash, Option<Vec<u8>>)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match i % 4 {
            0 => changes.push((*k, Some(b"replaced".to_vec()))),
            1 | 2 => changes.push((*k, None)),
            _ => {}
        }
    }
    // Deleting absent keys is a no-op in both.
    changes.push(([0x33; 32], None));
    let root = jmt.put(&changes);
    map.update(
        changes
            .iter()
            .map(|(k, v)| (*k, v.as_deref().map(value_hash))),
    );
    for (k, v) in &changes {
        match v {
            Some(v) => model.insert(*k, v.clone()),
            None => model.remove(k),
        };
    }
    check(&map, &jmt, root, &model, &probes);
    // Down to one key, then none.
    let keep = *model.keys().next().unwrap();
    let changes: Vec<(Hash, Option<Vec<u8>>)> = model
        .keys()
        .filter(|k| **k != keep)
        .map(|k| (*k, None))
        .collect();
    let root = jmt.put(&changes);
    map.update(changes.iter().map(|(k, _)| (*k, None)));
    model.retain(|k, _| *k == keep);
    check(&map, &jmt, root, &model, &probes);
    assert_eq!(root, leaf_hash(&keep, &value_hash(&model[&keep])));
}

#[test]
fn thousand_keys_with_deletes_match_jmt() {
    let mut model: BTreeMap<Hash, Vec<u8>> =
        (0..1000u64).map(|i| (key_of(i), value_of(i, 0))).collect();
    let (mut map, mut jmt, _) = both(&model);
    for round in 1..4u64 {
        // Delete every 3rd (shifted), replace every 5th, add 100 new.
        let mut changes: Vec<(Hash, Option<Vec<u8>>)> = Vec::new();
        for i in 0..1000 + 100 * round {
            if (i + round) % 3 == 0 {
                changes.push((key_of(i), None));
            } else if i % 5 == 0 || i >= 1000 + 100 * (round - 1) {
                changes.push((key_of(i), Some(value_of(i, round))));
            }
        }
        let root = jmt.put(&changes);
        map.update(
            changes
                .iter()
                .map(|(k, v)| (*k, v.as_deref().map(value_hash))),
        );
        for (k, v) in &changes {
            match v {
                Some(v) => model.insert(*k, v.clone()),
                None => model.remove(k),
            };
        }
        let absent: Vec<Hash> = (0..1000 + 100 * round).step_by(7).map(key_of).collect();
        check(&map, &jmt, root, &model, &absent);
    }
}

/// Keys from a few random bases with random tails, so that prefixes are shared
/// at every depth.
fn arb_key() -> impl Strategy<Value = Hash> {
    (0u8..4, 0usize..256, any::<[u8; 32]>()).prop_map(|(base, from_bit, tail)| {
        let mut k = [base.wrapping_mul(0x47); 32];
        for i in from_bit..256 {
            let b = (tail[i / 8] >> (7 - i % 8)) & 1;
            let mask = 1u8 << (7 - i % 8);
            k[i / 8] = (k[i / 8] & !mask) | (b * mask);
        }
        k
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_batches_match_jmt(
        batches in prop::collection::vec(
            prop::collection::vec((arb_key(), prop::option::weighted(0.7, 0u8..4)), 0..24),
            1..5),
        probes in prop::collection::vec(arb_key(), 0..8),
    ) {
        let mut map = StatusMap::new();
        let mut jmt = Jmt::new();
        let mut model = BTreeMap::new();
        let mut all_keys = probes.clone();
        for batch in &batches {
            // jmt takes a set: one change per key (the last one).
            let dedup: BTreeMap<Hash, Option<Vec<u8>>> =
                batch.iter().map(|(k, v)| (*k, v.map(|v| vec![v]))).collect();
            let changes: Vec<_> = dedup.into_iter().collect();
            let root = jmt.put(&changes);
            // Ours gets the batch as it came, duplicates and all.
            map.update(batch.iter().map(|(k, v)| (*k, v.map(|v| value_hash(&[v])))));
            for (k, v) in &changes {
                all_keys.push(*k);
                match v {
                    Some(v) => model.insert(*k, v.clone()),
                    None => model.remove(k),
                };
            }
            check(&map, &jmt, root, &model, &all_keys);
        }
    }
}
