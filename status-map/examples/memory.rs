//! Resident memory and timings of a map of 1,000,000 keys (or the count given
//! as the first argument), read from /proc/self/status.
//!
//! `cargo run --release -p status-map --example memory [-- 1000000]`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::indexing_slicing)]

use std::time::Instant;

use status_map::{Hash, StatusMap, key_hash, value_hash};

/// VmRSS and VmHWM (peak), in kB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn key(i: u64) -> Hash {
    key_hash(&i.to_be_bytes())
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let (base, _) = rss();
    let start = Instant::now();
    let map = StatusMap::from_leaves((0..n).map(|i| (key(i), value_hash(&i.to_le_bytes()))));
    let built = start.elapsed();
    let (after, peak) = rss();
    let per_leaf = (after - base) as f64 * 1024.0 / n as f64;
    println!(
        "from_leaves({n}): {built:.2?}; RSS {:.1} MB over a {:.1} MB baseline ({per_leaf:.0} bytes per key), peak {:.1} MB",
        (after - base) as f64 / 1024.0,
        base as f64 / 1024.0,
        peak as f64 / 1024.0
    );

    // 200 batches of 1,024 changes: 512 new keys, 512 replaced, then the same
    // number of deletes, so the map ends where it started in size.
    let mut map = map;
    let start = Instant::now();
    for round in 0..200u64 {
        let fresh = n + round * 512;
        let changes = (0..512)
            .map(|i| (key(fresh + i), Some(value_hash(b"new"))))
            .chain((0..512).map(|i| {
                (
                    key((round * 4099 + i * 3) % n),
                    Some(value_hash(&round.to_le_bytes())),
                )
            }));
        map.update(changes);
    }
    let grown = start.elapsed();
    let (after_updates, peak) = rss();
    println!(
        "200 batches of 1,024 (102,400 new keys): {:.2?} per batch, {:.2?} per key; map now {} keys, RSS {:.1} MB ({:.0} bytes per key), peak {:.1} MB",
        grown / 200,
        grown / (200 * 1024),
        map.len(),
        (after_updates - base) as f64 / 1024.0,
        (after_updates - base) as f64 * 1024.0 / map.len() as f64,
        peak as f64 / 1024.0
    );
    let start = Instant::now();
    for round in 0..200u64 {
        let fresh = n + round * 512;
        map.update((0..512).map(|i| (key(fresh + i), None)));
    }
    println!(
        "200 batches of 512 deletes: {:.2?} per batch; map now {} keys",
        start.elapsed() / 200,
        map.len()
    );
    println!("root {:02x?}", &map.root()[..8]);
}
