//! Storage: the [`Store`] trait and its two backends.
//!
//! A store keeps entries by index, the tree as C2SP hash tiles, the latest
//! signed checkpoint, and an auxiliary key space for views that must be
//! written in the same atomic batch as the entries they come from. It knows
//! no Merkle math: [`crate::Log`] decides what to write.
//!
//! Every backend must pass the same `conformance` suite (cargo feature
//! `conformance`); a backend in another crate runs it from its own tests.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod memory;
mod sled_store;

pub use memory::MemoryStore;
pub use sled_store::{ENTRY_CHUNK, SledConfig, SledStore, chunk_key, tile_key};

use crate::Result;

/// One atomic, durable write: the entries of a batch and everything derived from them.
#[derive(Debug, Default, Clone)]
pub struct Commit {
    /// Index of the first new entry (the tree size before the commit).
    pub first_index: u64,
    /// New entries in index order.
    pub entries: Vec<Vec<u8>>,
    /// Hash tiles (level, index) created or extended by the new entries.
    pub tiles: Vec<((u8, u64), Vec<u8>)>,
    /// The signed checkpoint for the new tree size.
    pub checkpoint: String,
    /// View writes (`None` deletes) that must land together with the entries,
    /// applied in order: a later write to the same key wins.
    pub aux: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Commit {
    /// The tree size after this commit.
    pub fn new_size(&self) -> u64 {
        self.first_index + self.entries.len() as u64
    }
}

/// A place to keep a log. Implementations must make [`Store::commit`] atomic
/// (all of it or none of it is visible, also after a crash) and durable
/// (flushed before it returns).
///
/// In full, the contract that the `conformance` suite checks:
///
/// * A new store is empty: size 0, no entries, tiles, checkpoint or views.
/// * A commit whose `first_index` is not the stored tree size is refused
///   with an error and changes nothing.
/// * Once `commit` returns, every read sees all of it (on any thread, and
///   after a reopen for a durable store); while it runs, a concurrent reader
///   sees none of it or all of it. A tile, view or checkpoint written again
///   replaces the old value; tiles and views a commit does not name are kept.
/// * View keys are a key space of their own: no view key, whatever its bytes,
///   can change an entry, a tile, the size or the checkpoint.
/// * Reads take any arguments: an index or range beyond the stored entries
///   reads nothing (it is not an error).
pub trait Store: Send + Sync {
    /// Number of entries stored.
    fn tree_size(&self) -> Result<u64>;
    /// The entry at `index`.
    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>>;
    /// Entries `start..end` that are stored, in order (fewer if the range runs past the end).
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for i in start..end {
            match self.entry(i)? {
                Some(e) => out.push(e),
                None => break,
            }
        }
        Ok(out)
    }
    /// The stored bytes of hash tile (`level`, `index`): its bottom row.
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>>;
    /// The latest signed checkpoint note.
    fn checkpoint(&self) -> Result<Option<String>>;
    /// A view record.
    fn aux(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// All view records whose key starts with `prefix`, in key order.
    fn aux_scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// One page of [`Store::aux_scan_prefix`]: at most `limit` view records
    /// whose key starts with `prefix` and sorts after `after` (from the
    /// first one when `None`), in key order. A caller walks a large key
    /// space page by page without holding all of it; an empty page is the
    /// end. The default reads the whole prefix and keeps one page; backends
    /// with ordered keys override it with a range read.
    fn aux_scan_page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .aux_scan_prefix(prefix)?
            .into_iter()
            .filter(|(k, _)| after.is_none_or(|a| k.as_slice() > a))
            .take(limit)
            .collect())
    }
    /// Applies `commit` atomically and returns only once it is durable.
    fn commit(&self, commit: Commit) -> Result<()>;
    /// Bytes the store occupies on disk (0 for memory).
    fn disk_size(&self) -> Result<u64> {
        Ok(0)
    }
}

impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn tree_size(&self) -> Result<u64> {
        (**self).tree_size()
    }
    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        (**self).entry(index)
    }
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        (**self).entries(start, end)
    }
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        (**self).tile(level, index)
    }
    fn checkpoint(&self) -> Result<Option<String>> {
        (**self).checkpoint()
    }
    fn aux(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).aux(key)
    }
    fn aux_scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        (**self).aux_scan_prefix(prefix)
    }
    fn aux_scan_page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        (**self).aux_scan_page(prefix, after, limit)
    }
    fn commit(&self, commit: Commit) -> Result<()> {
        (**self).commit(commit)
    }
    fn disk_size(&self) -> Result<u64> {
        (**self).disk_size()
    }
}
