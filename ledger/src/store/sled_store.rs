//! The sled [`Store`]: one sled tree, one batch and one flush per commit.
//!
//! Key layout (integers big-endian, so keys sort in log order):
//! - `c` ‖ u64 chunk → up to [`ENTRY_CHUNK`] consecutive entries, each
//!   prefixed by its length as a big-endian u16 (the C2SP bundle encoding)
//! - `t` ‖ u8 level ‖ u64 index → hash tile bytes (its bottom row, as served)
//! - `m:size` → u64 tree size; `m:checkpoint` → signed checkpoint note
//! - `a` ‖ key → view record
//!
//! Everything sits in sled's default tree so that a commit is a single
//! `apply_batch`, which sled applies atomically, followed by `flush`.
//! sled's cost is per insert, not per byte, so entries are packed in chunks
//! of 16 (the partial chunk at the end is rewritten as it fills).

use std::path::Path;

use super::{Commit, Store};
use crate::{Error, Result, tiles::parse_entry_bundle};

const SIZE_KEY: &[u8] = b"m:size";
const CHECKPOINT_KEY: &[u8] = b"m:checkpoint";
/// Entries per stored chunk.
pub const ENTRY_CHUNK: u64 = 16;

/// Settings for opening a [`SledStore`].
#[derive(Clone, Debug)]
pub struct SledConfig {
    /// sled's page cache size in bytes (sled's default is 1 GiB; we set it explicitly).
    pub cache_capacity: u64,
}

impl Default for SledConfig {
    fn default() -> Self {
        SledConfig {
            cache_capacity: 64 * 1024 * 1024,
        }
    }
}

/// A log stored in a sled database directory.
pub struct SledStore {
    db: sled::Db,
}

/// Key of the chunk holding entries `ENTRY_CHUNK * chunk ..`.
pub fn chunk_key(chunk: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(b'c');
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// Key of a hash tile.
pub fn tile_key(level: u8, index: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(10);
    k.push(b't');
    k.push(level);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

fn aux_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(b'a');
    k.extend_from_slice(key);
    k
}

impl SledStore {
    /// Opens (or creates) the store in `path`.
    ///
    /// sled releases its directory lock from background threads a moment
    /// after the last handle is dropped, so a reopen in the same process may
    /// briefly find the lock held; that case is retried for up to 5 s.
    pub fn open(path: impl AsRef<Path>, config: &SledConfig) -> Result<Self> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let opened = sled::Config::new()
                .path(path.as_ref())
                .cache_capacity(config.cache_capacity)
                // Every commit flushes before it returns; a periodic
                // background flush would add nothing.
                .flush_every_ms(None)
                .open();
            match opened {
                Ok(db) => return Ok(SledStore { db }),
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Flushes and closes, so that another process may open the directory.
    pub fn close(self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn chunk(&self, chunk: u64) -> Result<Vec<Vec<u8>>> {
        match self.db.get(chunk_key(chunk))? {
            Some(v) => parse_entry_bundle(&v).map_err(|e| {
                Error::StoreMismatch(format!("entry chunk {chunk} is malformed: {e}"))
            }),
            None => Ok(Vec::new()),
        }
    }
}

impl Store for SledStore {
    fn tree_size(&self) -> Result<u64> {
        match self.db.get(SIZE_KEY)? {
            Some(v) => {
                let arr: [u8; 8] = v.as_ref().try_into().map_err(|_| {
                    Error::StoreMismatch(format!("stored tree size is {} bytes, not 8", v.len()))
                })?;
                Ok(u64::from_be_bytes(arr))
            }
            None => Ok(0),
        }
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let mut chunk = self.chunk(index / ENTRY_CHUNK)?;
        let at = (index % ENTRY_CHUNK) as usize;
        Ok((at < chunk.len()).then(|| chunk.swap_remove(at)))
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        // Stop at the stored size: a range far past it must not walk
        // (or overflow) through chunks that cannot exist.
        let end = end.min(self.tree_size()?);
        let mut out = Vec::new();
        let mut chunk_no = start / ENTRY_CHUNK;
        while let Some(first) = chunk_no.checked_mul(ENTRY_CHUNK).filter(|f| *f < end) {
            for (i, e) in self.chunk(chunk_no)?.into_iter().enumerate() {
                let index = first + i as u64;
                if index >= start && index < end {
                    out.push(e);
                }
            }
            chunk_no += 1;
        }
        Ok(out)
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(tile_key(level, index))?.map(|v| v.to_vec()))
    }

    fn checkpoint(&self) -> Result<Option<String>> {
        match self.db.get(CHECKPOINT_KEY)? {
            Some(v) => String::from_utf8(v.to_vec())
                .map(Some)
                .map_err(|_| Error::StoreMismatch("stored checkpoint is not UTF-8".into())),
            None => Ok(None),
        }
    }

    fn aux(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(aux_key(key))?.map(|v| v.to_vec()))
    }

    fn aux_scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.db
            .scan_prefix(aux_key(prefix))
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k.get(1..).unwrap_or_default().to_vec(), v.to_vec()))
            })
            .collect()
    }

    fn aux_scan_page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        use std::ops::Bound;
        let full = aux_key(prefix);
        let start = match after {
            Some(a) => Bound::Excluded(aux_key(a)),
            None => Bound::Included(full.clone()),
        };
        self.db
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .take_while(|kv| kv.as_ref().map_or(true, |(k, _)| k.starts_with(&full)))
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k.get(1..).unwrap_or_default().to_vec(), v.to_vec()))
            })
            .collect()
    }

    fn commit(&self, commit: Commit) -> Result<()> {
        let stored = self.tree_size()?;
        if stored != commit.first_index {
            return Err(Error::Storage(format!(
                "commit starts at {} but the store holds {stored} entries",
                commit.first_index
            )));
        }
        let new_size = commit.new_size();
        let mut batch = sled::Batch::default();
        // Extend the partial chunk at the end, then write whole chunks.
        let mut chunk_no = commit.first_index / ENTRY_CHUNK;
        let mut chunk = if commit.first_index.is_multiple_of(ENTRY_CHUNK) {
            Vec::new()
        } else {
            self.chunk(chunk_no)?
        };
        for e in commit.entries {
            chunk.push(e);
            if chunk.len() as u64 == ENTRY_CHUNK {
                batch.insert(chunk_key(chunk_no), crate::tiles::entry_bundle(&chunk)?);
                chunk.clear();
                chunk_no += 1;
            }
        }
        if !chunk.is_empty() {
            batch.insert(chunk_key(chunk_no), crate::tiles::entry_bundle(&chunk)?);
        }
        for ((level, index), bytes) in commit.tiles {
            batch.insert(tile_key(level, index), bytes);
        }
        for (k, v) in commit.aux {
            match v {
                Some(v) => batch.insert(aux_key(&k), v),
                None => batch.remove(aux_key(&k)),
            }
        }
        batch.insert(SIZE_KEY, &new_size.to_be_bytes());
        batch.insert(CHECKPOINT_KEY, commit.checkpoint.as_bytes());
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    fn disk_size(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}
