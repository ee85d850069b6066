//! Batch updates, bulk builds and proofs in a map of 1,000,000 keys.
//!
//! `cargo bench -p status-map --bench update` (set CUPASS_BENCH_LEAVES to
//! change the size). Keys are SHA-256 of counters, so they are spread as real
//! key hashes are.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use status_map::{Hash, StatusMap, key_hash, value_hash};

const BATCH: u64 = 1024;

fn leaves() -> u64 {
    std::env::var("CUPASS_BENCH_LEAVES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn key(i: u64) -> Hash {
    key_hash(&i.to_be_bytes())
}

fn value(i: u64, round: u64) -> Hash {
    value_hash(&[i.to_be_bytes(), round.to_be_bytes()].concat())
}

fn set(n: u64) -> Vec<(Hash, Hash)> {
    (0..n).map(|i| (key(i), value(i, 0))).collect()
}

fn bench(c: &mut Criterion) {
    let n = leaves();
    let initial = set(n);
    let mut map = StatusMap::from_leaves(initial.iter().copied());

    let mut g = c.benchmark_group(format!("status_map_{n}"));
    g.sample_size(20);

    // (a) One batch of 1,024 keys: 512 new, 512 replaced. Only the batch is
    // timed; an untimed undo batch after it keeps the map at n keys.
    g.throughput(Throughput::Elements(BATCH));
    let mut round = 0u64;
    g.bench_function("update_1024_half_new", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let fresh = n + (round % 1000) * BATCH;
                let old = (round * 7919) % n.saturating_sub(BATCH).max(1);
                let changes: Vec<(Hash, Option<Hash>)> = (0..BATCH / 2)
                    .map(|i| (key(fresh + i), Some(value(fresh + i, round))))
                    .chain(
                        (0..BATCH / 2).map(|i| (key(old + 2 * i), Some(value(old + 2 * i, round)))),
                    )
                    .collect();
                let undo: Vec<(Hash, Option<Hash>)> = changes
                    .iter()
                    .take((BATCH / 2) as usize)
                    .map(|(k, _)| (*k, None))
                    .collect();
                let start = Instant::now();
                map.update(changes);
                black_box(map.root());
                total += start.elapsed();
                map.update(undo);
            }
            total
        });
    });
    assert_eq!(map.len() as u64, n);

    // (c) Proofs: prove and verify a present key, and an absent one.
    g.throughput(Throughput::Elements(1));
    let root = map.root();
    let mut i = 0u64;
    g.bench_function("prove_verify_present", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            let k = key(i);
            let p = map.prove(&k);
            p.verify(&root, &k, map.get(&k).as_ref()).unwrap();
            p.siblings().len()
        });
    });
    g.bench_function("prove_verify_absent", |b| {
        b.iter(|| {
            i += 1;
            let k = key(n + 10_000_000 + i);
            let p = map.prove(&k);
            p.verify(&root, &k, None).unwrap();
            p.siblings().len()
        });
    });
    let p = map.prove(&key(1));
    println!(
        "proof of a present key: {} siblings, {} bytes",
        p.siblings().len(),
        p.to_bytes().len()
    );
    drop(map);

    // (b) A bulk build of n keys.
    g.sample_size(10);
    g.throughput(Throughput::Elements(n));
    g.bench_function("from_leaves", |b| {
        b.iter_batched(
            || initial.clone(),
            |leaves| StatusMap::from_leaves(leaves).root(),
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
