//! The signed-head file: the last checkpoint a log signed, kept outside the
//! store, so that a restored older copy of the store (or one with a
//! different tree) is refused rather than served and extended.
//!
//! The file holds the signed checkpoint note itself. It is rewritten after
//! every commit (temporary file, fsync, rename, fsync of the directory), so
//! it is never ahead of the store: after a crash it may be one commit
//! behind, which [`HeadFile::check`] accepts because the store extends it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{
    Error, Result, checkpoint::Checkpoint, error::hex_hash, merkle, note::NoteVerifier,
    store::Store, tile_tree::TileTree,
};

/// Where a log keeps its last signed checkpoint outside its store.
#[derive(Clone, Debug)]
pub struct HeadFile {
    path: PathBuf,
}

impl HeadFile {
    /// The signed-head file at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        HeadFile { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint last recorded, verified with the log's key.
    ///
    /// # Errors
    ///
    /// [`Error::RolledBack`] if the file is missing; [`Error::Storage`] if
    /// it cannot be read; [`Error::StoreMismatch`] if it is not a
    /// checkpoint signed by `verifier`.
    pub fn read(&self, verifier: &NoteVerifier) -> Result<Checkpoint> {
        let note = match fs::read_to_string(&self.path) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::RolledBack(format!(
                    "the signed-head file {} is missing, so nothing shows this store is the latest \
                     one the log signed; restore the file from the machine that ran the log",
                    self.path.display()
                )));
            }
            Err(e) => {
                return Err(Error::Storage(format!(
                    "reading {}: {e}",
                    self.path.display()
                )));
            }
        };
        Checkpoint::open(&note, verifier).map_err(|e| {
            Error::StoreMismatch(format!("signed-head file {}: {e}", self.path.display()))
        })
    }

    /// Checks that `store` holds the tree the log last signed, or extends
    /// it: its size is at least the recorded size and its root at that
    /// size is the recorded root.
    ///
    /// # Errors
    ///
    /// [`Error::RolledBack`] if the store is behind the recorded head or
    /// holds a different tree at that size; the errors of [`HeadFile::read`].
    pub fn check<S: Store>(&self, store: &S, verifier: &NoteVerifier) -> Result<()> {
        let head = self.read(verifier)?;
        let size = store.tree_size()?;
        if size < head.size {
            return Err(Error::RolledBack(format!(
                "the store holds {size} entries but this log already signed a tree of {} \
                 (recorded in {}); it is an older copy, and serving it would drop acknowledged entries",
                head.size,
                self.path.display()
            )));
        }
        let root = merkle::root(&TileTree::new(store, size), head.size)?;
        if root != head.root {
            return Err(Error::RolledBack(format!(
                "at size {} the store's tree has root {} but the log signed root {} (recorded in {}); \
                 it is a different tree",
                head.size,
                hex_hash(&root),
                hex_hash(&head.root),
                self.path.display()
            )));
        }
        Ok(())
    }

    /// Records `note` durably (replacing the previous head).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if the file cannot be written and flushed.
    pub fn record(&self, note: &str) -> Result<()> {
        let io =
            |e: std::io::Error| Error::Storage(format!("writing {}: {e}", self.path.display()));
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = self.path.with_extension("tmp");
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(note.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(io)?;
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        Ok(())
    }
}
