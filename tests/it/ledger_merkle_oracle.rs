//! Roots and proofs agree with the independent `ct-merkle` implementation.

use ct_merkle::{ConsistencyProof, InclusionProof, mem_backed_tree::MemoryBackedTree};
use ledger::{Log, MemoryStore};
use proptest::prelude::*;
use sha2::Sha256;

use cupass_tests::log_signer;

type Oracle = MemoryBackedTree<Sha256, Vec<u8>>;

fn leaf(i: u64) -> Vec<u8> {
    format!("leaf-{i}").into_bytes()
}

fn flat(hs: &[ledger::hash::Hash]) -> Vec<u8> {
    hs.concat()
}

fn build(n: u64, batch: u64) -> (Log<MemoryStore>, Oracle) {
    let log = Log::create(MemoryStore::new(), log_signer("oracle")).unwrap();
    let mut oracle = Oracle::new();
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let leaves: Vec<Vec<u8>> = (i..end).map(leaf).collect();
        let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
        log.append_batch(&refs, Vec::new()).unwrap();
        for l in leaves {
            oracle.push(l);
        }
        i = end;
    }
    (log, oracle)
}

fn check_size(log: &Log<MemoryStore>, oracle: &Oracle, n: u64, indices: &[u64], olds: &[u64]) {
    let root = oracle.root();
    assert_eq!(
        log.root().unwrap().as_slice(),
        root.as_bytes().as_slice(),
        "root at size {n}"
    );
    for &i in indices {
        let ours = log.inclusion_proof(i, n).unwrap();
        let theirs = oracle.prove_inclusion(i as usize);
        assert_eq!(
            flat(&ours.hashes),
            theirs.as_bytes(),
            "inclusion {i} of {n}"
        );
        // Their verifier accepts our proof.
        let p = InclusionProof::<Sha256>::try_from_bytes(flat(&ours.hashes)).unwrap();
        root.verify_inclusion(oracle.get(i as usize).unwrap(), i, &p)
            .unwrap();
    }
    for &m in olds {
        let ours = log.consistency_proof(m, n).unwrap();
        let theirs = oracle.prove_consistency((n - m) as usize);
        assert_eq!(
            flat(&ours.hashes),
            theirs.as_bytes(),
            "consistency {m} -> {n}"
        );
        ours.verify().unwrap();
        let mut old = Oracle::new();
        for j in 0..m {
            old.push(leaf(j));
        }
        let p = ConsistencyProof::<Sha256>::try_from_bytes(flat(&ours.hashes)).unwrap();
        root.verify_consistency(&old.root(), &p).unwrap();
    }
}

#[test]
fn every_size_up_to_300() {
    let log = Log::create(MemoryStore::new(), log_signer("oracle")).unwrap();
    let mut oracle = Oracle::new();
    for n in 1..=300u64 {
        let l = leaf(n - 1);
        log.append_batch(&[&l], Vec::new()).unwrap();
        oracle.push(l);
        let all: Vec<u64> = (0..n).collect();
        // Every inclusion proof; consistency from every earlier size for the
        // first 100 sizes and a spread after that (the oracle re-derives the
        // old tree for each, which is quadratic).
        let olds: Vec<u64> = if n <= 100 {
            (1..n).collect()
        } else {
            (1..n).step_by(7).collect()
        };
        check_size(&log, &oracle, n, &all, &olds);
    }
    assert_eq!(log.size().unwrap(), 300);
}

#[test]
fn empty_tree_root_matches() {
    let (log, oracle) = build(0, 1);
    assert_eq!(
        log.root().unwrap().as_slice(),
        oracle.root().as_bytes().as_slice()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn random_sizes_up_to_100k(n in 301u64..=100_000, seed in any::<u64>()) {
        let (log, oracle) = build(n, 4096);
        let picks: Vec<u64> = (0..8).map(|k| seed.wrapping_mul(k * 2 + 1).wrapping_add(k) % n).collect();
        let olds: Vec<u64> = picks.iter().map(|p| (*p).max(1)).collect();
        check_size(&log, &oracle, n, &picks, &olds[..3]);
    }
}
