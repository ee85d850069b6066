//! An in-memory [`Store`]: for tests, offline audits and replays.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::{Commit, Store};
use crate::{Error, Result};

#[derive(Default)]
struct Inner {
    entries: Vec<Vec<u8>>,
    tiles: HashMap<(u8, u64), Vec<u8>>,
    checkpoint: Option<String>,
    aux: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// A store that lives in memory and is gone when dropped.
#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Inner>> {
        self.inner
            .read()
            .map_err(|_| Error::Storage("memory store lock poisoned".into()))
    }
}

impl Store for MemoryStore {
    fn tree_size(&self) -> Result<u64> {
        Ok(self.read()?.entries.len() as u64)
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        // An index beyond `usize` cannot be stored, so it reads nothing.
        let Ok(i) = usize::try_from(index) else {
            return Ok(None);
        };
        Ok(self.read()?.entries.get(i).cloned())
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.tiles.get(&(level, index)).cloned())
    }

    fn checkpoint(&self) -> Result<Option<String>> {
        Ok(self.read()?.checkpoint.clone())
    }

    fn aux(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.aux.get(key).cloned())
    }

    fn aux_scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .read()?
            .aux
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn aux_scan_page(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        use std::ops::Bound;
        let start = match after {
            Some(a) => Bound::Excluded(a.to_vec()),
            None => Bound::Included(prefix.to_vec()),
        };
        Ok(self
            .read()?
            .aux
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn commit(&self, commit: Commit) -> Result<()> {
        let mut inner = self
            .inner
            .write()
            .map_err(|_| Error::Storage("memory store lock poisoned".into()))?;
        if inner.entries.len() as u64 != commit.first_index {
            return Err(Error::Storage(format!(
                "commit starts at {} but the store holds {} entries",
                commit.first_index,
                inner.entries.len()
            )));
        }
        inner.entries.extend(commit.entries);
        inner.tiles.extend(commit.tiles);
        inner.checkpoint = Some(commit.checkpoint);
        for (k, v) in commit.aux {
            match v {
                Some(v) => inner.aux.insert(k, v),
                None => inner.aux.remove(&k),
            };
        }
        Ok(())
    }
}
