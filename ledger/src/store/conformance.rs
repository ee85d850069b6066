//! The [`Store`] conformance suite: the checks every backend must pass, as
//! public functions, so that a backend in another crate (a PostgreSQL store,
//! say) proves the same contract as [`MemoryStore`](super::MemoryStore) and
//! [`SledStore`](super::SledStore).
//!
//! It is built with the cargo feature `conformance` (and always for this
//! crate's own tests). A backend crate enables it for its tests only:
//!
//! ```toml
//! [dev-dependencies]
//! ledger = { workspace = true, features = ["conformance"] }
//! ```
//!
//! and runs it from its test code:
//!
//! ```no_run
//! use ledger::{MemoryStore, SledConfig, SledStore, store::conformance};
//!
//! // Every property, each on a store `fresh` makes (it must be empty).
//! conformance::run_all(MemoryStore::new);
//!
//! // A durable backend also proves that a reopened store keeps everything:
//! // one location per property, opened again after the old handle is dropped.
//! conformance::run_reopen(
//!     || tempfile::tempdir().unwrap(),
//!     |dir| SledStore::open(dir.path(), &SledConfig::default()).unwrap(),
//! );
//! ```
//!
//! Each property is also a function of its own (one `#[test]` each, if a
//! backend prefers): those taking a `store` want a new, empty one; those
//! taking `open` want a closure that opens the same location every time it
//! is called (empty the first time), and the suite drops the previous handle
//! before it calls `open` again.
//!
//! The suite checks [`Store`] directly (commit, read back, refuse, race) and
//! through [`Log`] (append, prove, dedup, reopen), since a backend is only
//! useful if the log runs correctly on top of it.
//!
//! # Panics
//!
//! This is test support: a check that fails panics, like `assert!` in a
//! test, and so does a store call that returns an error the contract does
//! not allow. [`run_all`] and [`run_reopen`] name the property that failed.
// A failed check is a panic by design; the helpers unwrap and index like tests do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test support: a failed conformance check is a panic, as in a #[test]"
)]

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ed25519_dalek::SigningKey;

use super::{Commit, Store};
use crate::{Error, Log, NoteSigner, OpenCheck, cose::Entry};

/// Asserts that a `Result` is an `Err` matching a pattern; returns its message.
macro_rules! assert_err {
    ($result:expr, $pat:pat) => {
        match $result {
            Err(ref e @ $pat) => e.to_string(),
            Err(other) => panic!("expected {}, got error {other:?}", stringify!($pat)),
            Ok(_) => panic!("expected {}, got Ok", stringify!($pat)),
        }
    };
}

/// Runs every property, each on a store from `fresh`, which must return a
/// new, empty store on every call.
///
/// The properties that reopen a store are run on one live handle here (each
/// "reopen" hands out the same store again): that checks [`Log::open`] over
/// the backend, not durability. A durable backend also calls [`run_reopen`].
///
/// # Panics
///
/// If the store breaks its contract; the message names the property.
pub fn run_all<S: Store>(mut fresh: impl FnMut() -> S) {
    check("fresh_store_is_empty", || fresh_store_is_empty(fresh()));
    check("commit_round_trips", || commit_round_trips(fresh()));
    check("entry_ranges", || entry_ranges(fresh()));
    check("aux_key_space", || aux_key_space(fresh()));
    check("misplaced_commit_is_refused", || {
        misplaced_commit_is_refused(fresh());
    });
    check("commit_is_all_or_nothing_to_readers", || {
        commit_is_all_or_nothing_to_readers(fresh());
    });
    check("append_read_and_prove", || append_read_and_prove(fresh()));
    check("duplicates_return_the_original_index", || {
        duplicates_return_the_original_index(fresh());
    });
    check("aux_writes_land_with_entries", || {
        aux_writes_land_with_entries(fresh());
    });
    check("oversized_entry_appends_nothing", || {
        oversized_entry_appends_nothing(fresh());
    });
    check("consistency_between_all_sizes", || {
        consistency_between_all_sizes(fresh());
    });
    check("proofs_read_o_log_n_stored_records", || {
        proofs_read_o_log_n_stored_records(fresh());
    });
    for (name, property) in reopen_properties::<Arc<S>>() {
        let store = Arc::new(fresh());
        check(name, || property(&mut || Arc::clone(&store)));
    }
}

/// Runs the properties that reopen a store, against real reopens: for each
/// one, `location` makes a new place to keep a store (a directory, a
/// database schema) and `open` opens the store kept there. `open` is called
/// again, after the previous handle is dropped, wherever the suite reopens.
/// The location is dropped when its property is done.
///
/// # Panics
///
/// If the store breaks its contract; the message names the property.
pub fn run_reopen<L, S: Store>(mut location: impl FnMut() -> L, mut open: impl FnMut(&L) -> S) {
    for (name, property) in reopen_properties::<S>() {
        let at = location();
        check(name, || property(&mut || open(&at)));
        drop(at);
    }
}

type ReopenProperty<S> = fn(&mut dyn FnMut() -> S);

fn reopen_properties<S: Store>() -> [(&'static str, ReopenProperty<S>); 4] {
    [
        ("reopen_keeps_every_commit", |open| {
            reopen_keeps_every_commit(open);
        }),
        ("reopen_keeps_everything", |open| {
            reopen_keeps_everything(open)
        }),
        ("create_refuses_a_non_empty_store", |open| {
            create_refuses_a_non_empty_store(open);
        }),
        ("open_with_another_key_is_refused", |open| {
            open_with_another_key_is_refused(open);
        }),
    ]
}

/// Runs one property; a failure is re-raised with the property's name.
fn check(name: &str, property: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(property)) {
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        match msg {
            Some(msg) => panic!("store conformance: property `{name}` failed: {msg}"),
            None => resume_unwind(payload),
        }
    }
}

// ---------------------------------------------------------------------------
// Test data.

fn test_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn log_signer() -> NoteSigner {
    NoteSigner::new("suite", test_key(200)).expect("suite log key")
}

/// A signed COSE entry whose payload is derived from `n`, about `size` bytes.
fn signed_entry(key: &SigningKey, n: u64, size: usize) -> Vec<u8> {
    let mut payload = n.to_be_bytes().to_vec();
    payload.resize(size.max(8), 0xa5);
    Entry::sign(key, "suite", &payload)
        .and_then(|e| e.to_bytes())
        .expect("signing a suite entry")
}

fn entries(key: u8, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    let k = test_key(key);
    range.map(|i| signed_entry(&k, i, 120)).collect()
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

/// Opaque entry bytes for store-level checks: distinct, of varied length
/// (0 bytes and the 65,535-byte maximum included).
fn raw_entry(i: u64) -> Vec<u8> {
    let len = match i {
        0 => 0,
        1 => 65_535,
        _ => usize::try_from(i % 300).unwrap_or(0) + 1,
    };
    let mut e = i.to_be_bytes().repeat(len / 8 + 1);
    e.truncate(len);
    e
}

/// Opaque tile bytes (the store knows no Merkle math): `hashes` × 32 bytes.
fn raw_tile(seed: u8, hashes: usize) -> Vec<u8> {
    (0..hashes * 32).map(|i| seed ^ (i as u8)).collect()
}

fn raw_commit(first_index: u64, count: u64, checkpoint: &str) -> Commit {
    Commit {
        first_index,
        entries: (first_index..first_index + count).map(raw_entry).collect(),
        checkpoint: checkpoint.to_string(),
        ..Commit::default()
    }
}

/// A tile's coordinates and its stored bytes, if any.
type StoredTile = ((u8, u64), Option<Vec<u8>>);

/// Everything a store holds that a check can name, read back at once.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    size: u64,
    entries: Vec<Vec<u8>>,
    tiles: Vec<StoredTile>,
    checkpoint: Option<String>,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
}

fn snapshot<S: Store>(store: &S, tiles: &[(u8, u64)]) -> Snapshot {
    let size = store.tree_size().unwrap();
    Snapshot {
        size,
        entries: store.entries(0, size + 1).unwrap(),
        tiles: tiles
            .iter()
            .map(|&(l, i)| ((l, i), store.tile(l, i).unwrap()))
            .collect(),
        checkpoint: store.checkpoint().unwrap(),
        aux: store.aux_scan_prefix(b"").unwrap(),
    }
}

// ---------------------------------------------------------------------------
// Store-level properties.

/// A new store holds nothing: size 0, no entry, tile, checkpoint or view.
///
/// # Panics
///
/// If `store` is not empty or a read fails.
pub fn fresh_store_is_empty<S: Store>(store: S) {
    assert_eq!(store.tree_size().unwrap(), 0);
    assert_eq!(store.entry(0).unwrap(), None);
    assert_eq!(store.entries(0, 10).unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(store.tile(0, 0).unwrap(), None);
    assert_eq!(store.checkpoint().unwrap(), None);
    assert_eq!(store.aux(b"").unwrap(), None);
    assert_eq!(store.aux_scan_prefix(b"").unwrap(), vec![]);
}

/// Read-your-writes for every part of a commit: entries (empty and
/// maximum-size ones too), tiles (rewritten ones replace, unnamed ones are
/// kept), the checkpoint (replaced by each commit), and views (written,
/// overwritten, deleted, empty values; later writes to a key win within a
/// commit). A commit with no entries still lands its checkpoint and views.
///
/// # Panics
///
/// If a read does not return what was committed, or a call fails.
pub fn commit_round_trips<S: Store>(store: S) {
    let t00 = raw_tile(1, 3);
    let t10 = raw_tile(2, 1);
    let mut first = raw_commit(0, 3, "cp 1\n");
    first.tiles = vec![((0, 0), t00.clone()), ((1, 0), t10.clone())];
    first.aux = vec![
        (b"a".to_vec(), Some(b"1".to_vec())),
        (b"b".to_vec(), Some(b"2".to_vec())),
        (b"d".to_vec(), Some(b"first".to_vec())),
        (b"d".to_vec(), Some(b"second".to_vec())),
    ];
    assert_eq!(first.new_size(), 3);
    store.commit(first).unwrap();
    assert_eq!(store.tree_size().unwrap(), 3);
    for i in 0..3 {
        assert_eq!(store.entry(i).unwrap(), Some(raw_entry(i)), "entry {i}");
    }
    assert_eq!(store.entry(3).unwrap(), None);
    assert_eq!(
        store.entries(0, 3).unwrap(),
        (0..3).map(raw_entry).collect::<Vec<_>>()
    );
    assert_eq!(store.tile(0, 0).unwrap(), Some(t00));
    assert_eq!(store.tile(1, 0).unwrap(), Some(t10.clone()));
    assert_eq!(store.tile(0, 1).unwrap(), None);
    assert_eq!(store.tile(2, 0).unwrap(), None);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("cp 1\n"));
    assert_eq!(store.aux(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.aux(b"b").unwrap(), Some(b"2".to_vec()));
    assert_eq!(
        store.aux(b"d").unwrap(),
        Some(b"second".to_vec()),
        "a later write to the same key in one commit wins"
    );
    assert_eq!(store.aux(b"c").unwrap(), None);

    // A second commit crosses entry-chunk boundaries, rewrites a tile and a view.
    let t00 = raw_tile(3, 23);
    let t01 = raw_tile(4, 2);
    let mut second = raw_commit(3, 20, "cp 2\n");
    second.tiles = vec![((0, 0), t00.clone()), ((0, 1), t01.clone())];
    second.aux = vec![
        (b"a".to_vec(), None),
        (b"c".to_vec(), Some(Vec::new())),
        (b"d".to_vec(), None),
        (b"d".to_vec(), Some(b"third".to_vec())),
        (b"never".to_vec(), None),
    ];
    store.commit(second).unwrap();
    assert_eq!(store.tree_size().unwrap(), 23);
    for i in 0..23 {
        assert_eq!(store.entry(i).unwrap(), Some(raw_entry(i)), "entry {i}");
    }
    assert_eq!(
        store.entries(0, 23).unwrap(),
        (0..23).map(raw_entry).collect::<Vec<_>>()
    );
    assert_eq!(
        store.tile(0, 0).unwrap(),
        Some(t00.clone()),
        "rewritten tile"
    );
    assert_eq!(store.tile(0, 1).unwrap(), Some(t01.clone()));
    assert_eq!(store.tile(1, 0).unwrap(), Some(t10.clone()), "kept tile");
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("cp 2\n"));
    assert_eq!(store.aux(b"a").unwrap(), None, "deleted view");
    assert_eq!(store.aux(b"b").unwrap(), Some(b"2".to_vec()), "kept view");
    assert_eq!(store.aux(b"c").unwrap(), Some(Vec::new()), "empty value");
    assert_eq!(store.aux(b"d").unwrap(), Some(b"third".to_vec()));
    assert_eq!(store.aux(b"never").unwrap(), None);

    // No entries: the checkpoint and views still land, nothing else moves.
    let mut third = raw_commit(23, 0, "cp 3\n");
    third.aux = vec![(b"b".to_vec(), Some(b"22".to_vec()))];
    assert_eq!(third.new_size(), 23);
    store.commit(third).unwrap();
    assert_eq!(store.tree_size().unwrap(), 23);
    assert_eq!(store.entry(23).unwrap(), None);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("cp 3\n"));
    assert_eq!(store.aux(b"b").unwrap(), Some(b"22".to_vec()));
    assert_eq!(store.tile(0, 0).unwrap(), Some(t00));
    assert_eq!(store.tile(0, 1).unwrap(), Some(t01));
    assert_eq!(store.tile(1, 0).unwrap(), Some(t10));
    assert_eq!(
        store.aux_scan_prefix(b"").unwrap(),
        vec![
            (b"b".to_vec(), b"22".to_vec()),
            (b"c".to_vec(), Vec::new()),
            (b"d".to_vec(), b"third".to_vec()),
        ]
    );
}

/// `entry` and `entries` over every range of a store built from uneven
/// commits, and far past its end (up to `u64::MAX`): what is stored, in
/// order, and nothing (not an error) beyond it.
///
/// # Panics
///
/// If a read returns the wrong entries, or fails.
pub fn entry_ranges<S: Store>(store: S) {
    let mut size = 0;
    for count in [1u64, 6, 9, 16, 17, 0, 3] {
        store
            .commit(raw_commit(size, count, &format!("cp {size}\n")))
            .unwrap();
        size += count;
    }
    assert_eq!(size, 52);
    assert_eq!(store.tree_size().unwrap(), size);
    let all: Vec<Vec<u8>> = (0..size).map(raw_entry).collect();
    for i in 0..size + 3 {
        assert_eq!(
            store.entry(i).unwrap(),
            all.get(i as usize).cloned(),
            "entry {i}"
        );
    }
    for start in 0..=size + 2 {
        for end in 0..=size + 3 {
            let want = if start < end {
                all[start.min(size) as usize..end.min(size) as usize].to_vec()
            } else {
                Vec::new()
            };
            assert_eq!(
                store.entries(start, end).unwrap(),
                want,
                "entries({start}, {end})"
            );
        }
    }
    assert_eq!(store.entry(u64::MAX).unwrap(), None);
    assert!(store.entries(u64::MAX - 1, u64::MAX).unwrap().is_empty());
    assert!(store.entries(u64::MAX, 0).unwrap().is_empty());
    assert_eq!(store.entries(50, u64::MAX).unwrap(), all[50..].to_vec());
    assert_eq!(store.entries(0, u64::MAX).unwrap(), all);
    assert_eq!(store.tile(u8::MAX, u64::MAX).unwrap(), None);
}

/// Views are a key space of their own, scanned by prefix in byte order:
/// view keys that spell other records' keys (as a backend might lay them
/// out) change no entry, tile, size or checkpoint.
///
/// # Panics
///
/// If a scan returns the wrong records or order, a view write disturbs
/// another record, or a call fails.
pub fn aux_key_space<S: Store>(store: S) {
    let keys: Vec<&[u8]> = vec![
        &b""[..],
        b"v",
        b"v/",
        b"v/a",
        b"v/a/1",
        b"v/b",
        b"v0",
        b"v\xff",
        b"v\xff\x00",
        b"w",
        b"\x00",
        b"\xff",
        // Keys other records might have in a backend's own layout.
        b"m:size",
        b"m:checkpoint",
        b"c\x00\x00\x00\x00\x00\x00\x00\x00",
        b"t\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        b"size",
        b"checkpoint",
        b"0",
    ];
    let tile = raw_tile(9, 2);
    let mut commit = raw_commit(0, 2, "cp\n");
    commit.tiles = vec![((0, 0), tile.clone())];
    commit.aux = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_vec(), Some(vec![i as u8; i])))
        .collect();
    store.commit(commit).unwrap();
    assert_eq!(store.tree_size().unwrap(), 2);
    assert_eq!(
        store.entries(0, 3).unwrap(),
        vec![raw_entry(0), raw_entry(1)]
    );
    assert_eq!(store.tile(0, 0).unwrap(), Some(tile));
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("cp\n"));
    let mut sorted: Vec<(Vec<u8>, Vec<u8>)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_vec(), vec![i as u8; i]))
        .collect();
    sorted.sort();
    for (k, v) in &sorted {
        assert_eq!(store.aux(k).unwrap().as_ref(), Some(v), "view {k:?}");
    }
    let scan = |prefix: &[u8]| -> Vec<Vec<u8>> {
        let got = store.aux_scan_prefix(prefix).unwrap();
        let want: Vec<_> = sorted
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .cloned()
            .collect();
        assert_eq!(got, want, "scan of prefix {prefix:?}");
        got.into_iter().map(|(k, _)| k).collect()
    };
    assert_eq!(scan(b"").len(), keys.len());
    assert_eq!(
        scan(b"v"),
        [
            &b"v"[..],
            b"v/",
            b"v/a",
            b"v/a/1",
            b"v/b",
            b"v0",
            b"v\xff",
            b"v\xff\x00"
        ]
    );
    assert_eq!(scan(b"v/"), [&b"v/"[..], b"v/a", b"v/a/1", b"v/b"]);
    assert_eq!(scan(b"v/a"), [&b"v/a"[..], b"v/a/1"]);
    assert_eq!(scan(b"v\xff"), [&b"v\xff"[..], b"v\xff\x00"]);
    assert!(scan(b"v\xff\xff").is_empty());
    assert!(scan(b"x").is_empty());
    assert_eq!(scan(b"\xff"), [&b"\xff"[..]]);
    assert_eq!(scan(b"m:"), [&b"m:checkpoint"[..], b"m:size"]);
    // Paged scans walk the same records, in the same order, page by page.
    for prefix in [&b""[..], b"v", b"v/", b"v\xff", b"m:", b"x"] {
        for limit in [1usize, 2, 3, 100] {
            let mut got = Vec::new();
            let mut after: Option<Vec<u8>> = None;
            loop {
                let page = store
                    .aux_scan_page(prefix, after.as_deref(), limit)
                    .unwrap();
                assert!(
                    page.len() <= limit,
                    "page of prefix {prefix:?} over {limit}"
                );
                let Some((last, _)) = page.last() else { break };
                after = Some(last.clone());
                got.extend(page);
            }
            assert_eq!(
                got,
                store.aux_scan_prefix(prefix).unwrap(),
                "paged scan of prefix {prefix:?}, {limit} a page"
            );
        }
    }
    // A page starts strictly after `after`, even when `after` is not a stored key.
    assert_eq!(
        store.aux_scan_page(b"v", Some(b"v/a/0"), 2).unwrap(),
        vec![
            (b"v/a/1".to_vec(), vec![4; 4]),
            (b"v/b".to_vec(), vec![5; 5])
        ]
    );
    // Deleting every view leaves the log records alone.
    let mut clear = raw_commit(2, 0, "cp 2\n");
    clear.aux = keys.iter().map(|k| (k.to_vec(), None)).collect();
    store.commit(clear).unwrap();
    assert_eq!(store.aux_scan_prefix(b"").unwrap(), vec![]);
    assert_eq!(store.tree_size().unwrap(), 2);
    assert_eq!(
        store.entries(0, 3).unwrap(),
        vec![raw_entry(0), raw_entry(1)]
    );
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("cp 2\n"));
}

/// A commit that does not start at the stored tree size (a gap, an overlap,
/// a replay of the first commit) is refused and writes nothing of itself;
/// the next well-placed commit still lands.
///
/// # Panics
///
/// If a misplaced commit is accepted or leaves any trace, or another call fails.
pub fn misplaced_commit_is_refused<S: Store>(store: S) {
    let tiles = [(0, 0), (0, 1), (1, 0)];
    let mut first = raw_commit(0, 3, "cp 3\n");
    first.tiles = vec![((0, 0), raw_tile(5, 3))];
    first.aux = vec![(b"k".to_vec(), Some(b"1".to_vec()))];
    store.commit(first).unwrap();
    let before = snapshot(&store, &tiles);
    for at in [0u64, 1, 2, 4, 100, u64::MAX - 1] {
        let mut bad = raw_commit(at, 1, "bad\n");
        bad.tiles = vec![((0, 0), raw_tile(6, 4)), ((0, 1), raw_tile(6, 1))];
        bad.aux = vec![
            (b"k".to_vec(), None),
            (b"bad".to_vec(), Some(b"x".to_vec())),
        ];
        assert!(
            store.commit(bad).is_err(),
            "a commit at index {at} into a store of 3 was accepted"
        );
        assert_eq!(snapshot(&store, &tiles), before, "after the commit at {at}");
    }
    let mut next = raw_commit(3, 1, "cp 4\n");
    next.tiles = vec![((0, 0), raw_tile(7, 4))];
    store.commit(next).unwrap();
    assert_eq!(store.tree_size().unwrap(), 4);
    assert_eq!(store.entry(3).unwrap(), Some(raw_entry(3)));
    assert_eq!(store.tile(0, 0).unwrap(), Some(raw_tile(7, 4)));
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("cp 4\n"));
    assert_eq!(store.aux(b"k").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.aux(b"bad").unwrap(), None);
}

/// A reader racing the commits never sees part of one: every commit adds
/// three entries and moves the size, a view, a tile and the checkpoint
/// together, and whichever order the reader reads them in, a value read
/// later is never from an older commit than one read before it.
///
/// # Panics
///
/// If a reader sees a partial commit, or a call fails.
pub fn commit_is_all_or_nothing_to_readers<S: Store>(store: S) {
    const COMMITS: u64 = 30;
    const PER_COMMIT: u64 = 3;
    let done = AtomicBool::new(false);
    let parse = |s: Option<String>| -> u64 {
        s.map_or(0, |s| s.trim_end().parse().expect("suite checkpoint"))
    };
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for k in 1..=COMMITS {
                let size = k * PER_COMMIT;
                let mut c = raw_commit(size - PER_COMMIT, PER_COMMIT, &format!("{size}\n"));
                c.tiles = vec![((0, 0), raw_tile(0, size as usize))];
                c.aux = vec![(b"size".to_vec(), Some(size.to_be_bytes().to_vec()))];
                store.commit(c).unwrap();
            }
            done.store(true, Ordering::SeqCst);
        });
        let reads: [&dyn Fn() -> u64; 5] = [
            &|| store.tree_size().unwrap(),
            &|| parse(store.checkpoint().unwrap()),
            &|| {
                store.aux(b"size").unwrap().map_or(0, |v| {
                    u64::from_be_bytes(v.as_slice().try_into().expect("8 bytes"))
                })
            },
            &|| store.tile(0, 0).unwrap().map_or(0, |t| t.len() as u64 / 32),
            &|| {
                let n = store.entries(0, u64::MAX).unwrap().len() as u64;
                assert_eq!(n % PER_COMMIT, 0, "{n} entries visible: part of a commit");
                n
            },
        ];
        let mut rounds = 0u64;
        loop {
            let finished = done.load(Ordering::SeqCst);
            for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]] {
                let mut last = 0;
                for i in order {
                    let v = reads[i]();
                    assert!(
                        v >= last,
                        "read {i} saw the commit of size {v} after another read saw {last}"
                    );
                    assert_eq!(v % PER_COMMIT, 0, "read {i} saw size {v}: part of a commit");
                    last = v;
                }
                let n = store.tree_size().unwrap();
                if n > 0 {
                    assert_eq!(store.entry(n - 1).unwrap(), Some(raw_entry(n - 1)));
                }
            }
            rounds += 1;
            if finished {
                break;
            }
        }
        writer.join().unwrap();
        assert!(rounds > 0);
    });
    assert_eq!(store.tree_size().unwrap(), COMMITS * PER_COMMIT);
}

// ---------------------------------------------------------------------------
// The log over the store.

/// Appends in batches; every receipt's proof verifies against the checkpoint
/// it came with; entries, the dedup index and proofs at older sizes read back.
///
/// # Panics
///
/// If the log misbehaves over this store.
pub fn append_read_and_prove<S: Store>(store: S) {
    let log = Log::create(store, log_signer()).unwrap();
    let es = entries(1, 0..77);
    for chunk in es.chunks(10) {
        let out = log.append_batch(&refs(chunk), Vec::new()).unwrap();
        assert!(out.appended.iter().all(|a| !a.duplicate));
        // Every receipt's proof verifies against the checkpoint it came with.
        for (a, e) in out.appended.iter().zip(chunk) {
            let p = log.inclusion_proof(a.index, out.tree_size).unwrap();
            assert_eq!(p.checkpoint.as_deref(), Some(out.checkpoint.as_str()));
            p.verify_entry(e, log.verifier()).unwrap();
        }
    }
    assert_eq!(log.size().unwrap(), 77);
    for (i, e) in es.iter().enumerate() {
        assert_eq!(&log.entry(i as u64).unwrap(), e);
        assert_eq!(log.index_of(e).unwrap(), Some(i as u64));
    }
    assert_err!(log.entry(77), Error::OutOfRange(_));
    assert_err!(log.inclusion_proof(77, 77), Error::OutOfRange(_));
    assert_err!(log.inclusion_proof(0, 78), Error::OutOfRange(_));
    // A proof for an older size verifies against that size's root.
    let old = log.inclusion_proof(3, 20).unwrap();
    assert!(old.checkpoint.is_none());
    crate::merkle::verify_inclusion(3, 20, &old.leaf_hash, &old.hashes, &old.root).unwrap();
}

/// Resubmitted bytes get their original index and write nothing, also
/// within one batch.
///
/// # Panics
///
/// If the log misbehaves over this store.
pub fn duplicates_return_the_original_index<S: Store>(store: S) {
    let log = Log::create(store, log_signer()).unwrap();
    let es = entries(2, 0..5);
    log.append_batch(&refs(&es), Vec::new()).unwrap();
    let cp = log.checkpoint().unwrap();
    // Resubmitting the same bytes returns the original index and writes nothing.
    let again = log.append_batch(&[&es[3]], Vec::new()).unwrap();
    assert_eq!(again.appended[0].index, 3);
    assert!(again.appended[0].duplicate);
    assert_eq!(log.size().unwrap(), 5);
    assert_eq!(log.checkpoint().unwrap(), cp);
    assert_eq!(log.store().checkpoint().unwrap().as_ref(), Some(&cp));
    assert_eq!(log.store().tree_size().unwrap(), 5);
    // Within one batch: the second copy gets the first copy's index.
    let new = entries(2, 5..6).remove(0);
    let out = log.append_batch(&[&new, &es[0], &new], Vec::new()).unwrap();
    let got: Vec<(u64, bool)> = out
        .appended
        .iter()
        .map(|a| (a.index, a.duplicate))
        .collect();
    assert_eq!(got, vec![(5, false), (0, true), (5, true)]);
    assert_eq!(log.size().unwrap(), 6);
    assert_eq!(log.store().tree_size().unwrap(), 6);
}

/// View writes land with the entries of their batch, and alone in a batch
/// without entries; deletes remove them.
///
/// # Panics
///
/// If the log misbehaves over this store.
pub fn aux_writes_land_with_entries<S: Store>(store: S) {
    let log = Log::create(store, log_signer()).unwrap();
    let es = entries(4, 0..2);
    log.append_batch(
        &refs(&es),
        vec![
            (b"view/a".to_vec(), Some(b"1".to_vec())),
            (b"view/b".to_vec(), Some(b"2".to_vec())),
        ],
    )
    .unwrap();
    log.append_batch(
        &[],
        vec![
            (b"view/a".to_vec(), None),
            (b"other".to_vec(), Some(vec![])),
        ],
    )
    .unwrap();
    let s = log.store();
    assert_eq!(s.aux(b"view/a").unwrap(), None);
    assert_eq!(s.aux(b"view/b").unwrap(), Some(b"2".to_vec()));
    assert_eq!(s.aux(b"other").unwrap(), Some(vec![]));
    assert_eq!(
        s.aux_scan_prefix(b"view/").unwrap(),
        vec![(b"view/b".to_vec(), b"2".to_vec())]
    );
    assert_eq!(s.tree_size().unwrap(), 2);
}

/// A batch with one entry over 65,535 bytes writes nothing; exactly 65,535
/// bytes is stored.
///
/// # Panics
///
/// If the log misbehaves over this store.
pub fn oversized_entry_appends_nothing<S: Store>(store: S) {
    let log = Log::create(store, log_signer()).unwrap();
    let ok = entries(5, 0..1).remove(0);
    let big = vec![0u8; 65_536];
    assert_err!(
        log.append_batch(&[&ok, &big], Vec::new()),
        Error::EntryTooLarge { size: 65_536, .. }
    );
    assert_eq!(log.size().unwrap(), 0);
    assert_eq!(log.store().tree_size().unwrap(), 0);
    // Exactly at the limit is fine for the log (it stores opaque bytes).
    let max = vec![1u8; 65_535];
    assert_eq!(log.append_batch(&[&max], Vec::new()).unwrap().tree_size, 1);
    assert_eq!(log.entry(0).unwrap(), max);
}

/// Consistency proofs between every pair of sizes up to 40 verify; a forged
/// root fails.
///
/// # Panics
///
/// If the log misbehaves over this store.
pub fn consistency_between_all_sizes<S: Store>(store: S) {
    let log = Log::create(store, log_signer()).unwrap();
    let es = entries(8, 0..40);
    for e in &es {
        log.append_batch(&[e], Vec::new()).unwrap();
    }
    for new in 1..=40 {
        for old in 0..=new {
            let p = log.consistency_proof(old, new).unwrap();
            p.verify().unwrap_or_else(|e| panic!("{old}->{new}: {e}"));
        }
    }
    // A forged root fails.
    let mut p = log.consistency_proof(13, 29).unwrap();
    p.old_root[0] ^= 1;
    assert_err!(p.verify(), Error::BadProof(_));
}

/// Counts the entry and tile reads a proof makes.
struct Counting<S> {
    inner: S,
    reads: AtomicU64,
}

impl<S: Store> Store for Counting<S> {
    fn tree_size(&self) -> crate::Result<u64> {
        self.inner.tree_size()
    }
    // `entries` is left to the trait's default, which reads (and counts) by `entry`.
    fn entry(&self, index: u64) -> crate::Result<Option<Vec<u8>>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.entry(index)
    }
    fn tile(&self, level: u8, index: u64) -> crate::Result<Option<Vec<u8>>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.tile(level, index)
    }
    fn checkpoint(&self) -> crate::Result<Option<String>> {
        self.inner.checkpoint()
    }
    fn aux(&self, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
        self.inner.aux(key)
    }
    fn aux_scan_prefix(&self, prefix: &[u8]) -> crate::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.aux_scan_prefix(prefix)
    }
    fn commit(&self, commit: Commit) -> crate::Result<()> {
        self.inner.commit(commit)
    }
}

/// Proofs read O(log n) stored records, not O(n), at 1,000 and 100,000 entries.
///
/// # Panics
///
/// If a proof reads more than its bound, or the log misbehaves.
pub fn proofs_read_o_log_n_stored_records<S: Store>(store: S) {
    let counting = Counting {
        inner: store,
        reads: AtomicU64::new(0),
    };
    let log = Log::create(counting, log_signer()).unwrap();
    let mut size = 0u64;
    for target in [1_000u64, 100_000] {
        let es: Vec<Vec<u8>> = (size..target).map(|i| i.to_be_bytes().to_vec()).collect();
        for chunk in es.chunks(8192) {
            log.append_batch(&refs(chunk), Vec::new()).unwrap();
        }
        size = target;
        let log2 = u64::from(64 - (size - 1).leading_zeros());
        for index in [0, size / 3, size - 1] {
            log.store().reads.store(0, Ordering::Relaxed);
            log.inclusion_proof(index, size).unwrap();
            let reads = log.store().reads.load(Ordering::Relaxed);
            assert!(
                reads <= 2 * log2 + 2,
                "inclusion {index}/{size}: {reads} reads"
            );
        }
        for old in [1, size / 2 + 1, size - 1] {
            log.store().reads.store(0, Ordering::Relaxed);
            log.consistency_proof(old, size).unwrap();
            let reads = log.store().reads.load(Ordering::Relaxed);
            assert!(
                reads <= 4 * log2 + 4,
                "consistency {old}->{size}: {reads} reads"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Reopening.

/// Store-level durability: every commit (entries, tiles, checkpoint, views,
/// deletes) reads back the same after a reopen, a refused commit leaves no
/// trace after one, and commits continue at the right index.
///
/// `open` opens the same store each time (empty the first time).
///
/// # Panics
///
/// If a reopened store differs from what was committed, or a call fails.
pub fn reopen_keeps_every_commit<S: Store>(mut open: impl FnMut() -> S) {
    let tiles = [(0, 0), (0, 1), (1, 0), (2, 0)];
    let store = open();
    let mut first = raw_commit(0, 21, "cp 21\n");
    first.tiles = vec![((0, 0), raw_tile(1, 21)), ((1, 0), raw_tile(2, 1))];
    first.aux = vec![
        (b"gone".to_vec(), Some(b"soon".to_vec())),
        (b"kept".to_vec(), Some(b"1".to_vec())),
    ];
    store.commit(first).unwrap();
    let mut second = raw_commit(21, 2, "cp 23\n");
    second.tiles = vec![((0, 0), raw_tile(3, 23))];
    second.aux = vec![
        (b"gone".to_vec(), None),
        (b"new".to_vec(), Some(Vec::new())),
    ];
    store.commit(second).unwrap();
    assert!(store.commit(raw_commit(30, 1, "bad\n")).is_err());
    let before = snapshot(&store, &tiles);
    assert_eq!(before.size, 23);
    drop(store);

    let store = open();
    assert_eq!(snapshot(&store, &tiles), before, "after a reopen");
    for i in 0..23 {
        assert_eq!(store.entry(i).unwrap(), Some(raw_entry(i)), "entry {i}");
    }
    assert_eq!(store.aux(b"gone").unwrap(), None);
    assert_eq!(store.aux(b"kept").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.aux(b"new").unwrap(), Some(Vec::new()));
    let mut third = raw_commit(23, 10, "cp 33\n");
    third.tiles = vec![((0, 0), raw_tile(4, 33))];
    store.commit(third).unwrap();
    let after = snapshot(&store, &tiles);
    drop(store);

    let store = open();
    assert_eq!(snapshot(&store, &tiles), after, "after a second reopen");
    assert_eq!(store.tree_size().unwrap(), 33);
    assert_eq!(
        store.entries(0, 33).unwrap(),
        (0..33).map(raw_entry).collect::<Vec<_>>()
    );
}

/// A reopened log has the same root, checkpoint, entries and dedup index,
/// opens under both checks, and keeps appending consistently.
///
/// `open` opens the same store each time (empty the first time).
///
/// # Panics
///
/// If the reopened log differs, or the log misbehaves.
pub fn reopen_keeps_everything<S: Store>(mut open: impl FnMut() -> S) {
    let signer = log_signer();
    let log = Log::create(open(), signer.clone()).unwrap();
    let es = entries(3, 0..300);
    log.append_batch(&refs(&es[..150]), Vec::new()).unwrap();
    log.append_batch(&refs(&es[150..]), Vec::new()).unwrap();
    let (root, cp) = (log.root().unwrap(), log.checkpoint().unwrap());
    drop(log.into_store());
    let log = Log::open(open(), signer.clone(), OpenCheck::Full).unwrap();
    assert_eq!(log.root().unwrap(), root);
    assert_eq!(log.checkpoint().unwrap(), cp);
    assert_eq!(log.entry(299).unwrap(), es[299]);
    // The dedup index is rebuilt from the stored tiles.
    for (i, e) in es.iter().enumerate() {
        assert_eq!(
            log.index_of(e).unwrap(),
            Some(i as u64),
            "index of entry {i}"
        );
    }
    let again = log.append_batch(&[&es[150]], Vec::new()).unwrap();
    assert_eq!(
        (again.appended[0].index, again.appended[0].duplicate),
        (150, true)
    );
    assert_eq!(log.size().unwrap(), 300);
    // And it keeps appending consistently.
    let more = entries(3, 300..310);
    let out = log.append_batch(&refs(&more), Vec::new()).unwrap();
    assert_eq!(out.appended[0].index, 300);
    log.consistency_proof(300, 310).unwrap().verify().unwrap();
    drop(log.into_store());
    let log = Log::open(open(), signer, OpenCheck::Root).unwrap();
    assert_eq!(log.size().unwrap(), 310);
    assert_eq!(log.checkpoint().unwrap(), out.checkpoint);
    assert_eq!(log.index_of(&more[9]).unwrap(), Some(309));
    log.verify_store().unwrap();
}

/// [`Log::create`] refuses a store that already holds a log.
///
/// `open` opens the same store each time (empty the first time).
///
/// # Panics
///
/// If the non-empty store is accepted, or the log misbehaves.
pub fn create_refuses_a_non_empty_store<S: Store>(mut open: impl FnMut() -> S) {
    let log = Log::create(open(), log_signer()).unwrap();
    log.append_batch(&refs(&entries(6, 0..3)), Vec::new())
        .unwrap();
    drop(log.into_store());
    assert_err!(Log::create(open(), log_signer()), Error::Storage(_));
}

/// [`Log::open`] with another key under the same name refuses the store and
/// names the checkpoint.
///
/// `open` opens the same store each time (empty the first time).
///
/// # Panics
///
/// If the store is accepted, or the log misbehaves.
pub fn open_with_another_key_is_refused<S: Store>(mut open: impl FnMut() -> S) {
    let log = Log::create(open(), log_signer()).unwrap();
    log.append_batch(&refs(&entries(7, 0..3)), Vec::new())
        .unwrap();
    drop(log.into_store());
    let wrong = NoteSigner::new("suite", test_key(99)).unwrap();
    let msg = assert_err!(
        Log::open(open(), wrong, OpenCheck::Full),
        Error::StoreMismatch(_)
    );
    assert!(msg.contains("checkpoint"), "{msg}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryStore, SledConfig, SledStore};

    fn sled_at(dir: &std::path::Path) -> SledStore {
        SledStore::open(
            dir,
            &SledConfig {
                cache_capacity: 8 << 20,
            },
        )
        .unwrap()
    }

    #[test]
    fn memory_store_passes_the_suite() {
        run_all(MemoryStore::new);
    }

    #[test]
    fn sled_store_passes_the_suite() {
        let mut dirs = Vec::new();
        run_all(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = sled_at(dir.path());
            dirs.push(dir);
            store
        });
    }

    #[test]
    fn sled_store_passes_the_reopen_suite() {
        run_reopen(|| tempfile::tempdir().unwrap(), |dir| sled_at(dir.path()));
    }

    /// A store that drops its last entry on read: the suite must catch it,
    /// and say which property failed.
    struct Lossy(MemoryStore);

    impl Store for Lossy {
        fn tree_size(&self) -> crate::Result<u64> {
            self.0.tree_size()
        }
        fn entry(&self, index: u64) -> crate::Result<Option<Vec<u8>>> {
            let size = self.0.tree_size()?;
            if size > 0 && index == size - 1 {
                return Ok(None);
            }
            self.0.entry(index)
        }
        fn tile(&self, level: u8, index: u64) -> crate::Result<Option<Vec<u8>>> {
            self.0.tile(level, index)
        }
        fn checkpoint(&self) -> crate::Result<Option<String>> {
            self.0.checkpoint()
        }
        fn aux(&self, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
            self.0.aux(key)
        }
        fn aux_scan_prefix(&self, prefix: &[u8]) -> crate::Result<Vec<(Vec<u8>, Vec<u8>)>> {
            self.0.aux_scan_prefix(prefix)
        }
        fn commit(&self, commit: Commit) -> crate::Result<()> {
            self.0.commit(commit)
        }
    }

    #[test]
    fn a_broken_store_fails_and_the_property_is_named() {
        let err = catch_unwind(|| run_all(|| Lossy(MemoryStore::new()))).unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.starts_with("store conformance: property `commit_round_trips` failed:"),
            "{msg}"
        );
    }
}
