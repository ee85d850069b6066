//! The log: group commit, signed checkpoints, proofs and the open-time check.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use crate::{
    Error, Result,
    anchor::HeadFile,
    checkpoint::Checkpoint,
    cose::MAX_ENTRY_SIZE,
    error::hex_hash,
    hash::{Hash, leaf_hash},
    merkle::{self, NodeAddr, NodeReader},
    note::{NoteSigner, NoteVerifier},
    proof::{ConsistencyProof, InclusionProof},
    store::{Commit, Store},
    tile_tree::TileTree,
    tiles::{TileClient, TileId},
};

/// How much [`Log::open`] checks before it serves a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenCheck {
    /// Re-hash every entry, recompute every stored node and the dedup index,
    /// and compare the root with the signed checkpoint. O(n); catches a
    /// change to any stored byte.
    Full,
    /// Recompute the root from stored nodes only. O(log n); catches a store
    /// whose tree does not match its checkpoint, not a changed entry.
    Root,
}

/// Where one submitted entry ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its index in the log.
    pub index: u64,
    /// Its RFC 9162 leaf hash.
    pub leaf_hash: Hash,
    /// True if identical bytes were already in the log (the original index is returned).
    pub duplicate: bool,
}

/// The result of one durable group commit.
#[derive(Clone, Debug)]
pub struct AppendOutcome {
    /// One record per submitted entry, in submission order.
    pub appended: Vec<Appended>,
    /// Tree size after the commit.
    pub tree_size: u64,
    /// Root hash after the commit.
    pub root: Hash,
    /// The signed checkpoint covering every entry above.
    pub checkpoint: String,
}

#[derive(Clone, Debug)]
struct Head {
    size: u64,
    root: Hash,
    checkpoint: String,
}

/// A verifiable log over a [`Store`]. Appends are serialized; reads run in parallel.
pub struct Log<S> {
    store: S,
    signer: NoteSigner,
    head: RwLock<Head>,
    /// Leaf hash to index for every entry: dedup without a random-key
    /// store lookup per entry. Rebuilt from the level-0 tiles on open.
    leaves: RwLock<LeafIndex>,
    append_lock: Mutex<()>,
    /// Where every signed checkpoint is also recorded, outside the store.
    head_file: Option<HeadFile>,
}

/// Leaf hash → index, keyed by the first 8 bytes of the hash (about 17
/// bytes of memory per entry instead of 41). A prefix match is confirmed
/// against the full leaf hash in the level-0 tile; the rare entries whose
/// prefix is already taken by another hash go to `overflow`.
#[derive(Default)]
struct LeafIndex {
    by_prefix: HashMap<u64, u64>,
    overflow: HashMap<Hash, u64>,
}

fn prefix(h: &Hash) -> u64 {
    h.first_chunk::<8>().map_or(0, |p| u64::from_be_bytes(*p))
}

impl LeafIndex {
    /// The index of `leaf`, checking a prefix hit against the stored leaf hash.
    fn get<S: Store>(&self, leaf: &Hash, tree: &TileTree<'_, S>) -> Result<Option<u64>> {
        if let Some(i) = self.overflow.get(leaf) {
            return Ok(Some(*i));
        }
        match self.by_prefix.get(&prefix(leaf)) {
            Some(&i) if tree.leaf(i)? == *leaf => Ok(Some(i)),
            _ => Ok(None),
        }
    }

    /// Records a new leaf (known not to be present).
    fn insert(&mut self, leaf: Hash, index: u64) {
        match self.by_prefix.entry(prefix(&leaf)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.overflow.insert(leaf, index);
            }
        }
    }
}

/// Reads every leaf hash from the level-0 tiles.
fn leaf_index<S: Store>(store: &S, size: u64) -> Result<LeafIndex> {
    let mut map = LeafIndex {
        by_prefix: HashMap::with_capacity(usize::try_from(size).unwrap_or(0)),
        overflow: HashMap::new(),
    };
    for id in TileId::tiles_at(0, size) {
        let bytes = store.tile(0, id.index)?.unwrap_or_default();
        let hashes = crate::tile_tree::tile_hashes(&bytes, 0, id.index)?;
        if hashes.len() < usize::from(id.width) {
            return Err(Error::StoreMismatch(format!(
                "tile 0/{} holds {} hashes; the tree needs {}",
                id.index,
                hashes.len(),
                id.width
            )));
        }
        for (j, h) in hashes.into_iter().take(usize::from(id.width)).enumerate() {
            map.insert(h, id.start() + j as u64);
        }
    }
    Ok(map)
}

impl<S: Store> Log<S> {
    /// Starts a new log in an empty store and signs the checkpoint of the empty tree.
    pub fn create(store: S, signer: NoteSigner) -> Result<Self> {
        if store.tree_size()? != 0 || store.checkpoint()?.is_some() {
            return Err(Error::Storage("store is not empty; open it instead".into()));
        }
        let cp = Checkpoint {
            origin: signer.verifier().name().to_string(),
            size: 0,
            root: crate::hash::empty_root(),
        };
        let note = cp.sign(&signer)?;
        store.commit(Commit {
            first_index: 0,
            checkpoint: note.clone(),
            ..Commit::default()
        })?;
        Ok(Log {
            store,
            signer,
            head: RwLock::new(Head {
                size: 0,
                root: cp.root,
                checkpoint: note,
            }),
            leaves: RwLock::new(LeafIndex::default()),
            append_lock: Mutex::new(()),
            head_file: None,
        })
    }

    /// Opens an existing log, refusing a store that does not match its signed checkpoint.
    pub fn open(store: S, signer: NoteSigner, check: OpenCheck) -> Result<Self> {
        let note = store
            .checkpoint()?
            .ok_or_else(|| Error::StoreMismatch("no signed checkpoint in the store".into()))?;
        let cp = Checkpoint::open(&note, signer.verifier())
            .map_err(|e| Error::StoreMismatch(format!("stored checkpoint: {e}")))?;
        let size = store.tree_size()?;
        if cp.size != size {
            return Err(Error::StoreMismatch(format!(
                "store holds {size} entries but its checkpoint signs {}",
                cp.size
            )));
        }
        match check {
            OpenCheck::Full => full_check(&store, &cp)?,
            OpenCheck::Root => {
                let root = merkle::root(&TileTree::new(&store, size), size)?;
                if root != cp.root {
                    return Err(Error::StoreMismatch(format!(
                        "tree root {} differs from the checkpoint's {}",
                        hex_hash(&root),
                        hex_hash(&cp.root)
                    )));
                }
            }
        }
        let leaves = leaf_index(&store, size)?;
        Ok(Log {
            store,
            signer,
            head: RwLock::new(Head {
                size,
                root: cp.root,
                checkpoint: note,
            }),
            leaves: RwLock::new(leaves),
            append_lock: Mutex::new(()),
            head_file: None,
        })
    }

    /// Records the current checkpoint in `file` now and after every commit,
    /// without checking what the file held (for a log just created).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if the file cannot be written.
    pub fn record_heads_in(mut self, file: HeadFile) -> Result<Self> {
        file.record(&self.checkpoint()?)?;
        self.head_file = Some(file);
        Ok(self)
    }

    /// Refuses a store that is behind or differs from the checkpoint `file`
    /// records (see [`HeadFile::check`]), then records every new
    /// checkpoint there, as [`Log::record_heads_in`].
    ///
    /// # Errors
    ///
    /// [`Error::RolledBack`] for a rolled-back store or a missing file; the
    /// errors of [`HeadFile::check`] and [`HeadFile::record`].
    pub fn check_heads_in(self, file: HeadFile) -> Result<Self> {
        file.check(&self.store, self.verifier())?;
        self.record_heads_in(file)
    }

    fn head(&self) -> Result<Head> {
        self.head
            .read()
            .map(|h| h.clone())
            .map_err(|_| Error::Storage("log head lock poisoned".into()))
    }

    /// The store underneath.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back (to close or reopen it).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The key auditors use to check this log's checkpoints.
    pub fn verifier(&self) -> &NoteVerifier {
        self.signer.verifier()
    }

    /// Current tree size.
    pub fn size(&self) -> Result<u64> {
        Ok(self.head()?.size)
    }

    /// Current root hash.
    pub fn root(&self) -> Result<Hash> {
        Ok(self.head()?.root)
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Result<String> {
        Ok(self.head()?.checkpoint)
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>> {
        let size = self.size()?;
        if index >= size {
            return Err(Error::OutOfRange(format!(
                "entry {index} does not exist; the tree has {size} entries"
            )));
        }
        self.store
            .entry(index)?
            .ok_or_else(|| Error::StoreMismatch(format!("entry {index} is missing")))
    }

    /// The index of an entry with exactly these bytes, if logged.
    pub fn index_of(&self, entry: &[u8]) -> Result<Option<u64>> {
        let leaves = self
            .leaves
            .read()
            .map_err(|_| Error::Storage("leaf index lock poisoned".into()))?;
        let tree = TileTree::new(&self.store, self.size()?);
        leaves.get(&leaf_hash(entry), &tree)
    }

    /// Appends a batch in one atomic, durable commit and signs a new checkpoint.
    ///
    /// Identical bytes already in the log (or earlier in the batch) get their
    /// original index back and are not stored again. `aux` view writes land in
    /// the same commit. Nothing is written if any entry is too large.
    pub fn append_batch(
        &self,
        entries: &[&[u8]],
        aux: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<AppendOutcome> {
        for e in entries {
            if e.len() > MAX_ENTRY_SIZE {
                return Err(Error::EntryTooLarge {
                    size: e.len(),
                    limit: MAX_ENTRY_SIZE,
                });
            }
        }
        let _guard = self
            .append_lock
            .lock()
            .map_err(|_| Error::Storage("append lock poisoned".into()))?;
        let old = self.head()?;
        let mut tree = TileTree::new(&self.store, old.size);
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        let known = self
            .leaves
            .read()
            .map_err(|_| Error::Storage("leaf index lock poisoned".into()))?;
        let mut commit = Commit {
            first_index: old.size,
            aux,
            ..Commit::default()
        };
        let mut appended = Vec::with_capacity(entries.len());
        for e in entries {
            let leaf = leaf_hash(e);
            let existing = match in_batch.get(&leaf) {
                Some(i) => Some(*i),
                None => known.get(&leaf, &tree)?,
            };
            if let Some(index) = existing {
                appended.push(Appended {
                    index,
                    leaf_hash: leaf,
                    duplicate: true,
                });
                continue;
            }
            let index = tree.size();
            tree.push_leaf(leaf)?;
            commit.entries.push(e.to_vec());
            in_batch.insert(leaf, index);
            appended.push(Appended {
                index,
                leaf_hash: leaf,
                duplicate: false,
            });
        }
        drop(known);
        let new_size = commit.new_size();
        if new_size == old.size && commit.aux.is_empty() {
            return Ok(AppendOutcome {
                appended,
                tree_size: old.size,
                root: old.root,
                checkpoint: old.checkpoint,
            });
        }
        let new_root = merkle::root(&tree, new_size)?;
        // Never sign a checkpoint that does not extend the previous one.
        if old.size > 0 && new_size > old.size {
            let proof = merkle::consistency_proof(&tree, old.size, new_size)?;
            merkle::verify_consistency(old.size, new_size, &proof, &old.root, &new_root)
                .map_err(|e| Error::InconsistentCheckpoint(e.to_string()))?;
        }
        let cp = Checkpoint {
            origin: self.signer.verifier().name().to_string(),
            size: new_size,
            root: new_root,
        };
        let note = cp.sign(&self.signer)?;
        commit.checkpoint = note.clone();
        commit.tiles = tree.into_dirty();
        self.store.commit(commit)?;
        let mut leaves = self
            .leaves
            .write()
            .map_err(|_| Error::Storage("leaf index lock poisoned".into()))?;
        for (leaf, index) in in_batch {
            leaves.insert(leaf, index);
        }
        drop(leaves);
        let mut head = self
            .head
            .write()
            .map_err(|_| Error::Storage("log head lock poisoned".into()))?;
        *head = Head {
            size: new_size,
            root: new_root,
            checkpoint: note.clone(),
        };
        drop(head);
        // After the store commit: the file is never ahead of the store.
        if let Some(file) = &self.head_file {
            file.record(&note)?;
        }
        Ok(AppendOutcome {
            appended,
            tree_size: new_size,
            root: new_root,
            checkpoint: note,
        })
    }

    /// Inclusion proof for entry `index` in the tree of `tree_size`, against
    /// the current checkpoint if `tree_size` is the current size.
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof> {
        self.inclusion_proof_in(self.head()?, index, tree_size)
    }

    /// Inclusion proof for entry `index` in the tree of `tree_size`, or in
    /// the current tree (with its checkpoint) if `tree_size` is `None`. The
    /// current size and its checkpoint are read together, so a commit landing
    /// meanwhile cannot split them.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] if `tree_size` is beyond the log or `index` is
    /// not below it; a storage error if the store cannot be read or does not
    /// match the tree.
    pub fn inclusion_proof_at(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        let head = self.head()?;
        let tree_size = tree_size.unwrap_or(head.size);
        self.inclusion_proof_in(head, index, tree_size)
    }

    fn inclusion_proof_in(&self, head: Head, index: u64, tree_size: u64) -> Result<InclusionProof> {
        if tree_size > head.size {
            return Err(Error::OutOfRange(format!(
                "tree size {tree_size} is beyond the log's {}",
                head.size
            )));
        }
        let reader = TileTree::new(&self.store, head.size);
        let hashes = merkle::inclusion_proof(&reader, index, tree_size)?;
        let leaf = reader.leaf(index)?;
        let (root, checkpoint) = if tree_size == head.size {
            (head.root, Some(head.checkpoint))
        } else {
            (merkle::root(&reader, tree_size)?, None)
        };
        Ok(InclusionProof {
            index,
            tree_size,
            leaf_hash: leaf,
            hashes,
            root,
            checkpoint,
        })
    }

    /// Inclusion proofs for receipts: each entry in `indices` against the
    /// checkpoint of a commit, even if later commits have moved the log on.
    /// Proofs made together share the tile reads and inner nodes they have
    /// in common, which for one batch is most of them.
    pub fn receipt_proofs(
        &self,
        indices: &[u64],
        commit: &AppendOutcome,
    ) -> Result<Vec<InclusionProof>> {
        if commit.tree_size > self.size()? {
            return Err(Error::OutOfRange(format!(
                "the log is smaller than the commit's tree of {}",
                commit.tree_size
            )));
        }
        let reader = TileTree::new(&self.store, commit.tree_size);
        indices
            .iter()
            .map(|&index| {
                if index >= commit.tree_size {
                    return Err(Error::OutOfRange(format!(
                        "entry {index} is not in the tree of {}",
                        commit.tree_size
                    )));
                }
                Ok(InclusionProof {
                    index,
                    tree_size: commit.tree_size,
                    leaf_hash: reader.leaf(index)?,
                    hashes: merkle::inclusion_proof(&reader, index, commit.tree_size)?,
                    root: commit.root,
                    checkpoint: Some(commit.checkpoint.clone()),
                })
            })
            .collect()
    }

    /// Consistency proof between two tree sizes (both at most the current size).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<ConsistencyProof> {
        self.consistency_proof_in(self.size()?, old_size, new_size)
    }

    /// Consistency proof from `old_size` to `new_size`, or to the current
    /// size if `new_size` is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] if `new_size` is beyond the log or `old_size`
    /// is above it; a storage error if the store cannot be read or does not
    /// match the tree.
    pub fn consistency_proof_to(
        &self,
        old_size: u64,
        new_size: Option<u64>,
    ) -> Result<ConsistencyProof> {
        let size = self.size()?;
        self.consistency_proof_in(size, old_size, new_size.unwrap_or(size))
    }

    fn consistency_proof_in(
        &self,
        size: u64,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof> {
        if new_size > size || old_size > new_size {
            return Err(Error::OutOfRange(format!(
                "no consistency proof from {old_size} to {new_size} in a log of {size}"
            )));
        }
        let reader = TileTree::new(&self.store, size);
        let hashes = if old_size == 0 {
            Vec::new()
        } else {
            merkle::consistency_proof(&reader, old_size, new_size)?
        };
        Ok(ConsistencyProof {
            old_size,
            new_size,
            old_root: merkle::root(&reader, old_size)?,
            new_root: merkle::root(&reader, new_size)?,
            hashes,
        })
    }

    /// The hash of a complete subtree.
    pub fn node(&self, addr: NodeAddr) -> Result<Hash> {
        TileTree::new(&self.store, self.size()?).node_hash(addr)
    }

    /// The bytes of a hash tile as C2SP serves it, at the current tree size.
    /// A partial width below the current one is a prefix of the stored tile.
    pub fn tile(&self, tile: TileId) -> Result<Vec<u8>> {
        let size = self.size()?;
        let available = TileId::width_at(tile.level, tile.index, size).unwrap_or(0);
        if tile.width == 0 || tile.width > available {
            return Err(Error::OutOfRange(format!(
                "tile {}/{} of width {} does not exist at tree size {size}",
                tile.level, tile.index, tile.width
            )));
        }
        let stored = self.store.tile(tile.level, tile.index)?.unwrap_or_default();
        stored
            .get(..usize::from(tile.width) * crate::hash::HASH_SIZE)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| {
                Error::StoreMismatch(format!(
                    "tile {}/{} is shorter than the tree",
                    tile.level, tile.index
                ))
            })
    }

    /// The entry bundle for tile `tile`: entries [`TileId::start`] onwards.
    pub fn entry_bundle(&self, tile: TileId) -> Result<Vec<u8>> {
        let size = self.size()?;
        let available = TileId::width_at(0, tile.index, size).unwrap_or(0);
        if tile.width == 0 || tile.width > available {
            return Err(Error::OutOfRange(format!(
                "entry bundle {} of width {} does not exist at tree size {size}",
                tile.index, tile.width
            )));
        }
        let first = tile.start();
        let entries = self.store.entries(first, first + u64::from(tile.width))?;
        if entries.len() != usize::from(tile.width) {
            return Err(Error::StoreMismatch(format!(
                "entries {first}.. are missing from the store"
            )));
        }
        crate::tiles::entry_bundle(&entries)
    }

    /// Re-runs the full open-time check against the current checkpoint.
    pub fn verify_store(&self) -> Result<()> {
        let head = self.head()?;
        let cp = Checkpoint::open(&head.checkpoint, self.signer.verifier())?;
        full_check(&self.store, &cp)
    }
}

impl<S: Store> NodeReader for Log<S> {
    fn node_hash(&self, addr: NodeAddr) -> Result<Hash> {
        self.node(addr)
    }
}

/// Checks every stored tile against its parent and the checkpoint's root,
/// then every entry against its leaf hash and index.
fn full_check<S: Store>(store: &S, cp: &Checkpoint) -> Result<()> {
    let mut client = TileClient::new(cp.size, |id: TileId| {
        let bytes = store.tile(id.level, id.index)?.unwrap_or_default();
        if bytes.len() != usize::from(id.width) * crate::hash::HASH_SIZE {
            return Err(Error::StoreMismatch(format!(
                "tile {}/{} holds {} bytes; the tree needs {} hashes",
                id.level,
                id.index,
                bytes.len(),
                id.width
            )));
        }
        Ok(bytes)
    });
    client.verify_all(&cp.root).map_err(|e| match e {
        Error::BadTile(m) => {
            Error::StoreMismatch(format!("{m} (checkpoint root {})", hex_hash(&cp.root)))
        }
        other => other,
    })?;
    for id in TileId::tiles_at(0, cp.size) {
        let leaves = client.tile(0, id.index)?.to_vec();
        let first = id.start();
        let entries = store.entries(first, first + u64::from(id.width))?;
        for (j, leaf) in leaves.iter().enumerate() {
            let i = first + j as u64;
            match entries.get(j) {
                None => {
                    return Err(Error::StoreMismatch(format!("entry {i} is missing")));
                }
                Some(bytes) if leaf_hash(bytes) != *leaf => {
                    return Err(Error::StoreMismatch(format!(
                        "entry {i}: its bytes do not hash to its leaf hash"
                    )));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn log_of(n: u64) -> Log<MemoryStore> {
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let log = Log::create(MemoryStore::new(), NoteSigner::new("test", key).unwrap()).unwrap();
        let es: Vec<Vec<u8>> = (0..n).map(|i| i.to_be_bytes().to_vec()).collect();
        let refs: Vec<&[u8]> = es.iter().map(Vec::as_slice).collect();
        log.append_batch(&refs, Vec::new()).unwrap();
        log
    }

    #[test]
    fn inclusion_proof_at_defaults_to_the_current_tree() {
        let log = log_of(10);
        let now = log.inclusion_proof_at(3, None).unwrap();
        assert_eq!(now, log.inclusion_proof(3, 10).unwrap());
        assert_eq!(now.tree_size, 10);
        assert_eq!(now.checkpoint, Some(log.checkpoint().unwrap()));
        now.verify_entry(&3u64.to_be_bytes(), log.verifier())
            .unwrap();
        let old = log.inclusion_proof_at(3, Some(5)).unwrap();
        assert_eq!(old, log.inclusion_proof(3, 5).unwrap());
        assert_eq!(old.checkpoint, None);
        assert!(matches!(
            log.inclusion_proof_at(10, None),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            log.inclusion_proof_at(0, Some(11)),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            log_of(0).inclusion_proof_at(0, None),
            Err(Error::OutOfRange(_))
        ));
    }

    #[test]
    fn consistency_proof_to_defaults_to_the_current_size() {
        let log = log_of(10);
        let now = log.consistency_proof_to(4, None).unwrap();
        assert_eq!(now, log.consistency_proof(4, 10).unwrap());
        assert_eq!(now.new_root, log.root().unwrap());
        now.verify().unwrap();
        let old = log.consistency_proof_to(4, Some(7)).unwrap();
        assert_eq!(old, log.consistency_proof(4, 7).unwrap());
        assert_eq!(log.consistency_proof_to(10, None).unwrap().new_size, 10);
        assert!(matches!(
            log.consistency_proof_to(11, None),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            log.consistency_proof_to(0, Some(11)),
            Err(Error::OutOfRange(_))
        ));
    }
}
