//! The tree as it is stored: C2SP hash tiles, with uncommitted tiles on top.
//!
//! Only the bottom row of each tile is kept (exactly the bytes served at
//! `/tile/<L>/<N>`), so the stored tree costs 32 bytes per entry plus 1/255
//! of that for the upper levels. Any complete node is folded from at most
//! 128 hashes of one tile.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::{
    Error, Result,
    hash::{HASH_SIZE, Hash},
    merkle::{NodeAddr, NodeReader, perfect_root},
    store::Store,
    tiles::{TILE_HEIGHT, TILE_WIDTH},
};

/// Parses stored tile bytes into hashes.
pub(crate) fn tile_hashes(bytes: &[u8], level: u8, index: u64) -> Result<Vec<Hash>> {
    if !bytes.len().is_multiple_of(HASH_SIZE) || bytes.len() > TILE_WIDTH as usize * HASH_SIZE {
        return Err(Error::StoreMismatch(format!(
            "tile {level}/{index} is {} bytes, not a whole number of hashes",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(HASH_SIZE)
        .filter_map(|c| Hash::try_from(c).ok())
        .collect())
}

/// Tiles by (level, index), shared between the lookups of one proof.
type TileCache = RefCell<BTreeMap<(u8, u64), Rc<Vec<Hash>>>>;

/// Stored tiles plus the tiles a batch is changing.
pub(crate) struct TileTree<'a, S> {
    store: &'a S,
    size: u64,
    dirty: BTreeMap<(u8, u64), Vec<Hash>>,
    /// Stored tiles read so far: a proof touches a handful of tiles many times.
    cache: TileCache,
    /// Inner nodes folded so far, shared by every proof made through this tree.
    memo: RefCell<std::collections::HashMap<NodeAddr, Hash>>,
}

impl<'a, S: Store> TileTree<'a, S> {
    /// The stored tree of `size` leaves.
    pub(crate) fn new(store: &'a S, size: u64) -> Self {
        TileTree {
            store,
            size,
            dirty: BTreeMap::new(),
            cache: RefCell::new(BTreeMap::new()),
            memo: RefCell::new(std::collections::HashMap::new()),
        }
    }

    /// Number of leaves, including uncommitted ones.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    fn stored(&self, level: u8, index: u64) -> Result<Rc<Vec<Hash>>> {
        if let Some(t) = self.cache.borrow().get(&(level, index)) {
            return Ok(Rc::clone(t));
        }
        let hashes = match self.store.tile(level, index)? {
            Some(bytes) => tile_hashes(&bytes, level, index)?,
            None => Vec::new(),
        };
        let hashes = Rc::new(hashes);
        self.cache
            .borrow_mut()
            .insert((level, index), Rc::clone(&hashes));
        Ok(hashes)
    }

    fn load(&self, level: u8, index: u64) -> Result<Vec<Hash>> {
        match self.dirty.get(&(level, index)) {
            Some(t) => Ok(t.clone()),
            None => Ok(self.stored(level, index)?.as_ref().clone()),
        }
    }

    /// One hash of tree level `8 * level`, at `pos`.
    fn push(&mut self, level: u8, pos: u64, hash: Hash) -> Result<()> {
        let index = pos / TILE_WIDTH;
        let mut tile = match self.dirty.remove(&(level, index)) {
            Some(t) => t,
            None => self.load(level, index)?,
        };
        if tile.len() as u64 != pos % TILE_WIDTH {
            return Err(Error::StoreMismatch(format!(
                "tile {level}/{index} holds {} hashes; expected {}",
                tile.len(),
                pos % TILE_WIDTH
            )));
        }
        tile.push(hash);
        let full = tile.len() as u64 == TILE_WIDTH;
        let root = if full {
            Some(perfect_root(&tile)?)
        } else {
            None
        };
        self.dirty.insert((level, index), tile);
        if let Some(root) = root {
            self.push(level + 1, index, root)?;
        }
        Ok(())
    }

    /// Appends a leaf hash.
    pub(crate) fn push_leaf(&mut self, leaf: Hash) -> Result<()> {
        self.push(0, self.size, leaf)?;
        self.size += 1;
        Ok(())
    }

    /// The changed tiles, as bytes to store.
    pub(crate) fn into_dirty(self) -> Vec<((u8, u64), Vec<u8>)> {
        self.dirty
            .into_iter()
            .map(|(k, hashes)| (k, hashes.concat()))
            .collect()
    }

    /// The leaf hash at `index`.
    pub(crate) fn leaf(&self, index: u64) -> Result<Hash> {
        self.node_hash(NodeAddr::new(0, index))
    }
}

impl<S: Store> NodeReader for TileTree<'_, S> {
    fn node_hash(&self, addr: NodeAddr) -> Result<Hash> {
        let level = addr.level / TILE_HEIGHT;
        let rel = addr.level % TILE_HEIGHT;
        if rel == 0 {
            let key = (level, addr.index / TILE_WIDTH);
            let at = (addr.index % TILE_WIDTH) as usize;
            let hash = match self.dirty.get(&key) {
                Some(t) => t.get(at).copied(),
                None => self.stored(key.0, key.1)?.get(at).copied(),
            };
            return hash.ok_or_else(|| {
                Error::StoreMismatch(format!(
                    "node {}/{} is missing from tile {level}/{}",
                    addr.level, addr.index, key.1
                ))
            });
        }
        // Uncommitted tiles change as a batch grows: memoise stored nodes only.
        if self.dirty.is_empty()
            && let Some(h) = self.memo.borrow().get(&addr)
        {
            return Ok(*h);
        }
        let child = addr.level - 1;
        let left = self.node_hash(NodeAddr::new(child, addr.index * 2))?;
        let right = self.node_hash(NodeAddr::new(child, addr.index * 2 + 1))?;
        let h = crate::hash::node_hash(&left, &right);
        if self.dirty.is_empty() {
            self.memo.borrow_mut().insert(addr, h);
        }
        Ok(h)
    }
}
