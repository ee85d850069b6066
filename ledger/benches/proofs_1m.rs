//! Proof latency percentiles and bytes on disk for a 1,000,000-entry sled store.
//!
//! `cargo bench -p ledger --bench proofs_1m` (set CUPASS_BENCH_ENTRIES to change the size).
//! Criterion reports means; the targets are p99, so this bench times every call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ledger::{Entry, Log, NoteSigner, OpenCheck, SledConfig, SledStore, Store};

const PAYLOAD: usize = 400;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<24} n={:<6} p50={:>8.1?} p99={:>8.1?} max={:>8.1?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
}

/// A small deterministic PRNG (xorshift), so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

fn main() {
    // `cargo bench` passes --bench; anything else (e.g. `cargo test --benches`) just checks it runs.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("CUPASS_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2_000 } else { 1_000_000 });
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::new("bench", SigningKey::from_bytes(&[99; 32])).unwrap();
    let author = SigningKey::from_bytes(&[7; 32]);
    let log = Log::create(
        SledStore::open(dir.path(), &SledConfig::default()).unwrap(),
        signer.clone(),
    )
    .unwrap();

    let t = Instant::now();
    let mut entry_bytes = 0u64;
    let mut i = 0u64;
    while i < n {
        let end = (i + 4096).min(n);
        let batch: Vec<Vec<u8>> = (i..end)
            .map(|j| {
                let mut payload = j.to_be_bytes().to_vec();
                payload.resize(PAYLOAD, 0x5a);
                Entry::sign(&author, "bench.example/log", &payload)
                    .unwrap()
                    .to_bytes()
                    .unwrap()
            })
            .collect();
        entry_bytes += batch.iter().map(|e| e.len() as u64).sum::<u64>();
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        log.append_batch(&refs, Vec::new()).unwrap();
        i = end;
    }
    println!(
        "built {n} entries in {:.1?} (signing included)",
        t.elapsed()
    );

    // Reopen so the measurements start from what is on disk, as after a restart.
    let store = log.into_store();
    store.close().unwrap();
    let t = Instant::now();
    let log = Log::open(
        SledStore::open(dir.path(), &SledConfig::default()).unwrap(),
        signer.clone(),
        OpenCheck::Full,
    )
    .unwrap();
    println!("open with full check: {:.1?}", t.elapsed());
    let t = Instant::now();
    let log = Log::open(log.into_store(), signer, OpenCheck::Root).unwrap();
    println!("open with root check: {:.1?}", t.elapsed());

    let size = log.size().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let runs = if quick { 200 } else { 20_000 };
    let mut incl = Vec::with_capacity(runs);
    for _ in 0..runs {
        let idx = rng.below(size);
        let t = Instant::now();
        let p = log.inclusion_proof(idx, size).unwrap();
        incl.push(t.elapsed());
        if incl.len() % 100 == 1 {
            // Outside the timed region: the proofs are real.
            p.verify_entry(&log.entry(idx).unwrap(), log.verifier())
                .unwrap();
        }
    }
    report("inclusion proof", incl);
    let mut cons = Vec::with_capacity(runs);
    for _ in 0..runs {
        let old = 1 + rng.below(size - 1);
        let t = Instant::now();
        let p = log.consistency_proof(old, size).unwrap();
        cons.push(t.elapsed());
        if cons.len() % 100 == 1 {
            p.verify().unwrap();
        }
    }
    report("consistency proof", cons);

    let sled_bytes = log.store().disk_size().unwrap();
    let files = dir_size(dir.path());
    let avg = entry_bytes as f64 / n as f64;
    println!("average entry size: {avg:.0} bytes; raw entry bytes: {entry_bytes}");
    println!(
        "sled size_on_disk: {sled_bytes} bytes = {:.2}x entry bytes; directory: {files} bytes = {:.2}x",
        sled_bytes as f64 / entry_bytes as f64,
        files as f64 / entry_bytes as f64
    );
}
