//! C2SP tlog-tiles: tile coordinates and paths, hash tiles, entry bundles,
//! and a tile-only client that recomputes and checks a checkpoint's root.
//!
//! A tile at level `L`, index `N` holds the hashes of tree level `8L`,
//! positions `256N .. 256N + W`. Full tiles (`W = 256`) never change;
//! partial tiles are served as `.p/<W>`.

use std::collections::HashMap;

use crate::{
    Error, Result,
    hash::{HASH_SIZE, Hash, leaf_hash, node_hash},
    merkle::{NodeAddr, perfect_root, subtrees},
};

/// Tile height: each tile spans 8 tree levels.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;

/// Which tile: level, index and width (1..=256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Tile level (tree level `8 * level`).
    pub level: u8,
    /// Tile index within its level.
    pub index: u64,
    /// Number of hashes or entries it holds (256 for a full tile).
    pub width: u16,
}

/// What a tile path names: a hash tile or an entry bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hashes,
    /// `tile/entries/<N>[.p/<W>]`.
    Entries,
}

/// Encodes a tile index as `x001/x234/067`.
pub fn index_path(n: u64) -> String {
    let mut groups = Vec::new();
    let mut n = n;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i == last {
                format!("{g:03}")
            } else {
                format!("x{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl TileId {
    /// The tile's path below the log's prefix, e.g. `tile/0/x001/234.p/5`.
    pub fn path(&self, kind: TileKind) -> String {
        let level = match kind {
            TileKind::Hashes => self.level.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut p = format!("tile/{level}/{}", index_path(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a path of the form [`TileId::path`] writes. Rejects anything else,
    /// including non-canonical numbers and `..` tricks.
    pub fn parse_path(path: &str) -> Result<(TileKind, TileId)> {
        let bad = |m: &str| Error::BadTile(format!("{m}: {path:?}"));
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("not a tile path"))?;
        let (level_part, rest) = rest.split_once('/').ok_or_else(|| bad("missing level"))?;
        let (kind, level) = if level_part == "entries" {
            (TileKind::Entries, 0)
        } else {
            let ok = !level_part.is_empty()
                && level_part.len() <= 2
                && level_part.bytes().all(|b| b.is_ascii_digit())
                && (level_part == "0" || !level_part.starts_with('0'));
            let level: u8 = level_part
                .parse()
                .ok()
                // Levels whose tree level (8 × level) fits a u64 tree size.
                .filter(|l| ok && u32::from(*l) * u32::from(TILE_HEIGHT) < u64::BITS)
                .ok_or_else(|| bad("bad tile level"))?;
            (TileKind::Hashes, level)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let ok =
                    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && !w.starts_with('0');
                let width: u16 = w
                    .parse()
                    .ok()
                    .filter(|w| ok && u64::from(*w) < TILE_WIDTH)
                    .ok_or_else(|| bad("bad partial width"))?;
                (i, width)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let mut index: u64 = 0;
        let last = groups.len() - 1;
        for (i, g) in groups.iter().enumerate() {
            let digits = if i == last {
                *g
            } else {
                g.strip_prefix('x')
                    .ok_or_else(|| bad("index group lacks its x"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index group is not three digits"));
            }
            if i == 0 && last > 0 && digits == "000" {
                return Err(bad("non-canonical index"));
            }
            let d: u64 = digits.parse().map_err(|_| bad("bad index"))?;
            index = index
                .checked_mul(1000)
                .and_then(|x| x.checked_add(d))
                .ok_or_else(|| bad("index overflows"))?;
        }
        Ok((
            kind,
            TileId {
                level,
                index,
                width,
            },
        ))
    }

    /// The width this tile has in a tree of `tree_size` entries, or `None`
    /// if the tile does not exist yet.
    pub fn width_at(level: u8, index: u64, tree_size: u64) -> Option<u16> {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let count = tree_size.checked_shr(shift).unwrap_or(0);
        let start = index.checked_mul(TILE_WIDTH)?;
        if count <= start {
            return None;
        }
        Some((count - start).min(TILE_WIDTH) as u16)
    }

    /// The tiles of `level` in a tree of `tree_size` entries, in index
    /// order, each with its width at that size (the last may be partial).
    pub fn tiles_at(level: u8, tree_size: u64) -> impl Iterator<Item = TileId> {
        (0u64..).map_while(move |index| {
            TileId::width_at(level, index, tree_size).map(|width| TileId {
                level,
                index,
                width,
            })
        })
    }

    /// The entry bundle (level-0 tile) holding entry `index`, with its width
    /// in a tree of `tree_size` entries, or `None` if the entry is not in
    /// that tree.
    ///
    /// ```
    /// use ledger::tiles::TileId;
    ///
    /// let id = TileId::for_entry(300, 1000).unwrap();
    /// assert_eq!((id.level, id.index, id.width), (0, 1, 256));
    /// assert_eq!(id.start(), 256);
    /// assert_eq!(TileId::for_entry(999, 1000).unwrap().width, 1000 - 768);
    /// assert_eq!(TileId::for_entry(1000, 1000), None);
    /// ```
    pub fn for_entry(index: u64, tree_size: u64) -> Option<TileId> {
        if index >= tree_size {
            return None;
        }
        let tile = index / TILE_WIDTH;
        TileId::width_at(0, tile, tree_size).map(|width| TileId {
            level: 0,
            index: tile,
            width,
        })
    }

    /// Position of the tile's first hash in tree level `8 * level`: for an
    /// entry bundle or level-0 tile, the index of its first entry
    /// (`TILE_WIDTH * index`). Saturates for an index beyond any tree.
    pub fn start(&self) -> u64 {
        self.index.saturating_mul(TILE_WIDTH)
    }
}

/// An entry bundle: each entry prefixed by its length as a big-endian u16.
pub fn entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| Error::EntryTooLarge {
            size: e.len(),
            limit: usize::from(u16::MAX),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries.
pub fn parse_entry_bundle(bundle: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| Error::BadTile("truncated entry length".into()))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(Error::BadTile("truncated entry in bundle".into()));
        }
        let (entry, tail) = tail.split_at(len);
        out.push(entry.to_vec());
        rest = tail;
    }
    Ok(out)
}

fn split_hashes(tile: &[u8], width: u16) -> Result<Vec<Hash>> {
    if tile.len() != usize::from(width) * HASH_SIZE {
        return Err(Error::BadTile(format!(
            "tile is {} bytes; width {width} needs {}",
            tile.len(),
            usize::from(width) * HASH_SIZE
        )));
    }
    Ok(tile
        .chunks_exact(HASH_SIZE)
        .filter_map(|c| Hash::try_from(c).ok())
        .collect())
}

/// A client that knows only a tree size and a way to fetch tiles.
pub struct TileClient<F> {
    tree_size: u64,
    fetch: F,
    cache: HashMap<(u8, u64), Vec<Hash>>,
}

impl<F: FnMut(TileId) -> Result<Vec<u8>>> TileClient<F> {
    /// A client for the tree of `tree_size` entries.
    pub fn new(tree_size: u64, fetch: F) -> Self {
        TileClient {
            tree_size,
            fetch,
            cache: HashMap::new(),
        }
    }

    /// The hashes of tile (`level`, `index`) at the client's tree size.
    pub fn tile(&mut self, level: u8, index: u64) -> Result<&[Hash]> {
        let width = TileId::width_at(level, index, self.tree_size)
            .ok_or_else(|| Error::OutOfRange(format!("tile {level}/{index} is beyond the tree")))?;
        if !self.cache.contains_key(&(level, index)) {
            let bytes = (self.fetch)(TileId {
                level,
                index,
                width,
            })?;
            let hashes = split_hashes(&bytes, width)?;
            self.cache.insert((level, index), hashes);
        }
        self.cache
            .get(&(level, index))
            .map(Vec::as_slice)
            .ok_or_else(|| Error::BadTile("tile cache".into()))
    }

    /// The hash of a complete subtree, computed from the one tile that holds it.
    pub fn node(&mut self, addr: NodeAddr) -> Result<Hash> {
        let tile_level = addr.level / TILE_HEIGHT;
        let rel = u32::from(addr.level % TILE_HEIGHT);
        let first = addr.index << rel;
        let span = 1usize << rel;
        let hashes = self.tile(tile_level, first / TILE_WIDTH)?;
        let offset = (first % TILE_WIDTH) as usize;
        let slice = hashes.get(offset..offset + span).ok_or_else(|| {
            Error::BadTile(format!(
                "tile too narrow for node {}/{}",
                addr.level, addr.index
            ))
        })?;
        perfect_root(slice)
    }

    /// Recomputes the tree root from tiles alone.
    pub fn root(&mut self) -> Result<Hash> {
        if self.tree_size == 0 {
            return Ok(crate::hash::empty_root());
        }
        let parts = subtrees(0, self.tree_size);
        let mut acc: Option<Hash> = None;
        for addr in parts.into_iter().rev() {
            let h = self.node(addr)?;
            acc = Some(match acc {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        acc.ok_or_else(|| Error::BadTile("no subtrees".into()))
    }

    /// Fetches every tile of the tree and checks that each full tile hashes
    /// to its parent's entry and that the tiles give `root`. This is what a
    /// mirror does before serving a copy.
    pub fn verify_all(&mut self, root: &Hash) -> Result<()> {
        if self.root()? != *root {
            return Err(Error::BadTile(
                "tiles do not hash to the checkpoint's root".into(),
            ));
        }
        let mut level = 0u8;
        while TileId::width_at(level, 0, self.tree_size).is_some() {
            for id in TileId::tiles_at(level, self.tree_size) {
                let hashes = self.tile(level, id.index)?.to_vec();
                if u64::from(id.width) == TILE_WIDTH {
                    let parent = self.tile(level + 1, id.index / TILE_WIDTH)?;
                    let want = parent
                        .get((id.index % TILE_WIDTH) as usize)
                        .copied()
                        .ok_or_else(|| Error::BadTile("parent tile too narrow".into()))?;
                    if perfect_root(&hashes)? != want {
                        return Err(Error::BadTile(format!(
                            "tile {level}/{} does not hash to its parent",
                            id.index
                        )));
                    }
                }
            }
            level += 1;
        }
        Ok(())
    }

    /// Checks an entry bundle against the level-0 tile and returns its entries.
    pub fn verify_entries(&mut self, index: u64, bundle: &[u8]) -> Result<Vec<Vec<u8>>> {
        let entries = parse_entry_bundle(bundle)?;
        let hashes = self.tile(0, index)?;
        if entries.len() != hashes.len() {
            return Err(Error::BadTile(format!(
                "bundle has {} entries; the tile has {}",
                entries.len(),
                hashes.len()
            )));
        }
        for (i, (e, h)) in entries.iter().zip(hashes).enumerate() {
            if leaf_hash(e) != *h {
                return Err(Error::BadTile(format!(
                    "entry {} does not match its leaf hash",
                    index * TILE_WIDTH + i as u64
                )));
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_at_lists_every_tile_of_a_level_with_its_width() {
        let widths = |level, size| -> Vec<(u64, u16)> {
            TileId::tiles_at(level, size)
                .map(|t| {
                    assert_eq!(t.level, level);
                    (t.index, t.width)
                })
                .collect()
        };
        assert_eq!(widths(0, 0), vec![]);
        assert_eq!(widths(0, 1), vec![(0, 1)]);
        assert_eq!(widths(0, 256), vec![(0, 256)]);
        assert_eq!(widths(0, 513), vec![(0, 256), (1, 256), (2, 1)]);
        assert_eq!(widths(1, 255), vec![]);
        assert_eq!(widths(1, 513), vec![(0, 2)]);
        assert_eq!(widths(1, 65_536), vec![(0, 256)]);
        assert_eq!(TileId::tiles_at(7, u64::MAX).count(), 1);
        for size in [0u64, 1, 255, 256, 257, 70_001] {
            for level in 0..3 {
                let all: Vec<TileId> = TileId::tiles_at(level, size).collect();
                assert_eq!(
                    all.len() as u64,
                    (size >> (8 * u32::from(level))).div_ceil(TILE_WIDTH)
                );
                for t in all {
                    assert_eq!(TileId::width_at(level, t.index, size), Some(t.width));
                }
            }
        }
    }

    #[test]
    fn for_entry_and_start_agree() {
        for size in [1u64, 255, 256, 257, 1000] {
            for index in 0..size {
                let t = TileId::for_entry(index, size).unwrap();
                assert_eq!(t.level, 0);
                assert!(t.start() <= index && index < t.start() + u64::from(t.width));
                assert_eq!(TileId::width_at(0, t.index, size), Some(t.width));
            }
            assert_eq!(TileId::for_entry(size, size), None);
        }
        assert_eq!(TileId::for_entry(0, 0), None);
        let far = TileId {
            level: 0,
            index: u64::MAX,
            width: 1,
        };
        assert_eq!(far.start(), u64::MAX);
    }
}
