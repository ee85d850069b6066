//! Durable append throughput of signed entries, against the raw Ed25519
//! batch-verification rate measured in the same run.
//!
//! `cargo bench -p ledger --bench append`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ledger::{Entry, Log, NoteSigner, SledConfig, SledStore, cose, hash::Hash, keys};

/// Typical event payload size (a passport or grading event in canonical CBOR).
const PAYLOAD: usize = 400;
const POOL: usize = 40_000;
const SIGNERS: u8 = 16;

struct Fixture {
    entries: Vec<Vec<u8>>,
    keys: HashMap<Hash, VerifyingKey>,
}

fn fixture() -> Fixture {
    let signers: Vec<SigningKey> = (0..SIGNERS)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    let keys = signers
        .iter()
        .map(|k| (keys::kid(&k.verifying_key()), k.verifying_key()))
        .collect();
    let entries = (0..POOL)
        .map(|i| {
            let mut payload = (i as u64).to_be_bytes().to_vec();
            payload.resize(PAYLOAD, 0x5a);
            Entry::sign(&signers[i % signers.len()], "bench.example/log", &payload)
                .unwrap()
                .to_bytes()
                .unwrap()
        })
        .collect();
    Fixture { entries, keys }
}

/// What the node does per batch: parse, look up keys, batch-verify, append durably.
fn ingest(log: &Log<SledStore>, fx: &Fixture, batch: &[Vec<u8>]) {
    let parsed: Vec<Entry> = batch
        .iter()
        .map(|b| Entry::from_bytes(b).unwrap())
        .collect();
    let keys: Vec<VerifyingKey> = parsed.iter().map(|e| fx.keys[e.kid()]).collect();
    let refs: Vec<&Entry> = parsed.iter().collect();
    cose::verify_batch(&refs, &keys).unwrap();
    let bytes: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
    let out = log.append_batch(&bytes, Vec::new()).unwrap();
    assert!(!out.appended[0].duplicate);
}

fn fresh_log() -> (tempfile::TempDir, Log<SledStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), &SledConfig::default()).unwrap();
    let log = Log::create(
        store,
        NoteSigner::new("bench", SigningKey::from_bytes(&[99; 32])).unwrap(),
    )
    .unwrap();
    (dir, log)
}

fn bench(c: &mut Criterion) {
    let fx = fixture();

    // The bound: Ed25519 batch verification of the same entries, nothing else.
    let mut g = c.benchmark_group("ed25519_bound");
    let parsed: Vec<Entry> = fx.entries[..1024]
        .iter()
        .map(|b| Entry::from_bytes(b).unwrap())
        .collect();
    let tbs: Vec<Vec<u8>> = parsed.iter().map(|e| e.to_be_signed().unwrap()).collect();
    let msgs: Vec<&[u8]> = tbs.iter().map(Vec::as_slice).collect();
    let sigs: Vec<Signature> = parsed
        .iter()
        .map(|e| Signature::from_bytes(e.signature()))
        .collect();
    let vks: Vec<VerifyingKey> = parsed.iter().map(|e| fx.keys[e.kid()]).collect();
    g.throughput(Throughput::Elements(1024));
    g.bench_function("verify_batch_1024", |b| {
        b.iter(|| ed25519_dalek::verify_batch(&msgs, &sigs, &vks).unwrap())
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_strict_1", |b| {
        b.iter(|| vks[0].verify_strict(msgs[0], &sigs[0]).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("durable_append");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for batch in [1usize, 64, 1024] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, &batch| {
            let (mut dir, mut log) = fresh_log();
            let mut next = 0usize;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if next + batch > fx.entries.len() {
                        // Out of unused entries: start a new store (untimed).
                        (dir, log) = fresh_log();
                        next = 0;
                    }
                    let slice = &fx.entries[next..next + batch];
                    next += batch;
                    let t = Instant::now();
                    ingest(&log, &fx, slice);
                    total += t.elapsed();
                }
                total
            });
            drop(log);
            drop(dir);
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
