//! One suite, run against both `Store` backends.

use std::sync::Arc;

use cupass_tests::{assert_err, log_signer, signed_entry, test_key};
use ledger::{Error, Log, MemoryStore, OpenCheck, SledConfig, SledStore, Store};

/// A backend under test: makes a fresh store, and reopens "the same" store.
trait Backend {
    type S: Store;
    fn fresh(&mut self) -> Self::S;
    fn reopen(&mut self, old: Self::S) -> Self::S;
}

struct Mem;
impl Backend for Mem {
    type S = Arc<MemoryStore>;
    fn fresh(&mut self) -> Self::S {
        Arc::new(MemoryStore::new())
    }
    fn reopen(&mut self, old: Self::S) -> Self::S {
        old
    }
}

struct Sled(tempfile::TempDir);
impl Backend for Sled {
    type S = SledStore;
    fn fresh(&mut self) -> Self::S {
        SledStore::open(
            self.0.path(),
            &SledConfig {
                cache_capacity: 8 << 20,
            },
        )
        .unwrap()
    }
    fn reopen(&mut self, old: Self::S) -> Self::S {
        old.close().unwrap();
        self.fresh()
    }
}

fn sled() -> Sled {
    Sled(tempfile::tempdir().unwrap())
}

macro_rules! store_suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::$name(&mut super::Mem); } )*
        }
        mod sled {
            $( #[test] fn $name() { super::$name(&mut super::sled()); } )*
        }
    };
}

store_suite!(
    append_read_and_prove,
    duplicates_return_the_original_index,
    reopen_keeps_everything,
    aux_writes_land_with_entries,
    oversized_entry_appends_nothing,
    create_refuses_a_non_empty_store,
    open_with_another_key_is_refused,
    consistency_between_all_sizes,
);

fn entries(key: u8, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    let k = test_key(key);
    range.map(|i| signed_entry(&k, i, 120)).collect()
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

fn append_read_and_prove<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
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
    ledger::merkle::verify_inclusion(3, 20, &old.leaf_hash, &old.hashes, &old.root).unwrap();
}

fn duplicates_return_the_original_index<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
    let es = entries(2, 0..5);
    log.append_batch(&refs(&es), Vec::new()).unwrap();
    let cp = log.checkpoint().unwrap();
    // Resubmitting the same bytes returns the original index and writes nothing.
    let again = log.append_batch(&[&es[3]], Vec::new()).unwrap();
    assert_eq!(again.appended[0].index, 3);
    assert!(again.appended[0].duplicate);
    assert_eq!(log.size().unwrap(), 5);
    assert_eq!(log.checkpoint().unwrap(), cp);
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
}

fn reopen_keeps_everything<B: Backend>(b: &mut B) {
    let signer = log_signer("suite");
    let log = Log::create(b.fresh(), signer.clone()).unwrap();
    let es = entries(3, 0..300);
    log.append_batch(&refs(&es[..150]), Vec::new()).unwrap();
    log.append_batch(&refs(&es[150..]), Vec::new()).unwrap();
    let (root, cp) = (log.root().unwrap(), log.checkpoint().unwrap());
    let store = b.reopen(log.into_store());
    let log = Log::open(store, signer.clone(), OpenCheck::Full).unwrap();
    assert_eq!(log.root().unwrap(), root);
    assert_eq!(log.checkpoint().unwrap(), cp);
    assert_eq!(log.entry(299).unwrap(), es[299]);
    // And it keeps appending consistently.
    let more = entries(3, 300..310);
    let out = log.append_batch(&refs(&more), Vec::new()).unwrap();
    assert_eq!(out.appended[0].index, 300);
    log.consistency_proof(300, 310).unwrap().verify().unwrap();
    let log = Log::open(b.reopen(log.into_store()), signer, OpenCheck::Root).unwrap();
    assert_eq!(log.size().unwrap(), 310);
}

fn aux_writes_land_with_entries<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
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
    assert_eq!(
        s.aux_scan_prefix(b"view/").unwrap(),
        vec![(b"view/b".to_vec(), b"2".to_vec())]
    );
}

fn oversized_entry_appends_nothing<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
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
}

fn create_refuses_a_non_empty_store<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
    log.append_batch(&refs(&entries(6, 0..3)), Vec::new())
        .unwrap();
    let store = b.reopen(log.into_store());
    assert_err!(Log::create(store, log_signer("suite")), Error::Storage(_));
}

fn open_with_another_key_is_refused<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
    log.append_batch(&refs(&entries(7, 0..3)), Vec::new())
        .unwrap();
    let store = b.reopen(log.into_store());
    let wrong = ledger::NoteSigner::new("suite", test_key(99)).unwrap();
    let msg = assert_err!(
        Log::open(store, wrong, OpenCheck::Full),
        Error::StoreMismatch(_)
    );
    assert!(msg.contains("checkpoint"), "{msg}");
}

fn consistency_between_all_sizes<B: Backend>(b: &mut B) {
    let log = Log::create(b.fresh(), log_signer("suite")).unwrap();
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

/// Counts the reads a proof makes, to show they are O(log n), not O(n).
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    reads: std::sync::atomic::AtomicU64,
}

impl Store for Counting {
    fn tree_size(&self) -> ledger::Result<u64> {
        self.inner.tree_size()
    }
    fn entry(&self, index: u64) -> ledger::Result<Option<Vec<u8>>> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.entry(index)
    }
    fn tile(&self, level: u8, index: u64) -> ledger::Result<Option<Vec<u8>>> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.tile(level, index)
    }
    fn checkpoint(&self) -> ledger::Result<Option<String>> {
        self.inner.checkpoint()
    }
    fn aux(&self, key: &[u8]) -> ledger::Result<Option<Vec<u8>>> {
        self.inner.aux(key)
    }
    fn aux_scan_prefix(&self, prefix: &[u8]) -> ledger::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.aux_scan_prefix(prefix)
    }
    fn commit(&self, commit: ledger::store::Commit) -> ledger::Result<()> {
        self.inner.commit(commit)
    }
}

#[test]
fn proofs_read_o_log_n_stored_records() {
    let log = Log::create(Counting::default(), log_signer("count")).unwrap();
    let mut size = 0u64;
    for target in [1_000u64, 100_000] {
        let es: Vec<Vec<u8>> = (size..target).map(|i| i.to_be_bytes().to_vec()).collect();
        for chunk in es.chunks(8192) {
            log.append_batch(&refs(chunk), Vec::new()).unwrap();
        }
        size = target;
        let log2 = u64::from(64 - (size - 1).leading_zeros());
        for index in [0, size / 3, size - 1] {
            log.store()
                .reads
                .store(0, std::sync::atomic::Ordering::Relaxed);
            log.inclusion_proof(index, size).unwrap();
            let reads = log.store().reads.load(std::sync::atomic::Ordering::Relaxed);
            assert!(
                reads <= 2 * log2 + 2,
                "inclusion {index}/{size}: {reads} reads"
            );
        }
        for old in [1, size / 2 + 1, size - 1] {
            log.store()
                .reads
                .store(0, std::sync::atomic::Ordering::Relaxed);
            log.consistency_proof(old, size).unwrap();
            let reads = log.store().reads.load(std::sync::atomic::Ordering::Relaxed);
            assert!(
                reads <= 4 * log2 + 4,
                "consistency {old}->{size}: {reads} reads"
            );
        }
    }
}
