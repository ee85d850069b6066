//! Whole-log audits: read every entry of a log, from a data directory or
//! from a node's tiles, and verify it all against the trusted log key: the
//! signed checkpoint, the tree, every entry through the one verifier
//! ([`Replayer`]), and (for a directory) every stored view record against
//! the replay.

use std::cell::RefCell;
use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD};
use ledger::{
    Checkpoint, NoteVerifier, SledConfig, SledStore, Store,
    hash::{Hash, leaf_hash},
    merkle::root_of_leaves,
    tiles::{TILE_WIDTH, TileClient, TileId, TileKind},
};
use passport_schema::{MemoryState, StateError};

use crate::http::{HttpError, NodeClient};
use crate::state::STATE_PREFIX;
use crate::verify::{Part, Replayer, Signatures, Verdict};
use crate::{DataDir, Error};

/// Where the log comes from.
pub enum Source<'a> {
    /// A data directory's sled store, read raw (no open-time check, so
    /// that tampering is named rather than refused).
    Dir(&'a Path),
    /// A node, through its checkpoint, hash tiles and entry bundles.
    Node(&'a NodeClient),
}

/// Reports progress through a long audit (the CLI draws bars).
pub trait Progress {
    /// A phase begins, with `len` steps.
    fn start(&self, phase: &'static str, len: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The phase ended.
    fn finish(&self);
}

/// No progress reports.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &'static str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// An audit that could not reach a verdict: the store or the node could
/// not be read. Never a statement about the log's contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The data directory or its store could not be read.
    #[error("{0}")]
    Store(Error),
    /// The node could not be reached.
    #[error("{0}")]
    Node(HttpError),
    /// The replayed state failed underneath.
    #[error("state: {0}")]
    State(StateError),
}

impl From<ledger::Error> for AuditError {
    fn from(e: ledger::Error) -> Self {
        AuditError::Store(Error::from(e))
    }
}

/// What was read: the checkpoint note, the entries, and for a directory
/// the stored leaf hashes and view records.
struct Read {
    note: String,
    entries: Vec<Vec<u8>>,
    stored_leaves: Option<Vec<Hash>>,
    views: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

/// Audits the whole log at `source` against the trusted `key`.
///
/// # Errors
///
/// [`AuditError`] when the source cannot be read at all. Everything the
/// source holds that does not verify is a failed check in the [`Verdict`].
pub fn verify_log(
    source: &Source<'_>,
    key: &NoteVerifier,
    progress: &dyn Progress,
) -> Result<Verdict, AuditError> {
    let v = Verdict::default();
    let read = match source {
        Source::Dir(dir) => read_dir(dir, key, progress)?,
        Source::Node(node) => read_node(node, key, progress)?,
    };
    let read = match read {
        Ok(r) => r,
        Err((part, entry, detail)) => return Ok(v.fail(part, entry, detail)),
    };
    check(v, key, read, progress)
}

type Found = Result<Read, (Part, Option<u64>, String)>;

fn read_dir(dir: &Path, key: &NoteVerifier, progress: &dyn Progress) -> Result<Found, AuditError> {
    let data = DataDir(dir.to_path_buf());
    if !data.holds_ledger() {
        return Err(AuditError::Store(Error::Config(format!(
            "{} holds no ledger",
            dir.display()
        ))));
    }
    let store = SledStore::open(data.store(), &SledConfig::default())?;
    // A store older than the last tree the log signed is a rollback.
    match ledger::anchor::HeadFile::new(data.signed_head()).check(&store, key) {
        Ok(()) => {}
        Err(e @ (ledger::Error::RolledBack(_) | ledger::Error::StoreMismatch(_))) => {
            return Ok(Err((Part::Store, None, e.to_string())));
        }
        Err(e) => return Err(e.into()),
    }
    let Some(note) = store.checkpoint()? else {
        return Ok(Err((
            Part::Store,
            None,
            "the store holds no signed checkpoint".into(),
        )));
    };
    let size = store.tree_size()?;
    progress.start("reading", size);
    let mut entries = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut i = 0;
    while i < size {
        let end = (i + 16 * TILE_WIDTH).min(size);
        let chunk = store.entries(i, end)?;
        let got = chunk.len() as u64;
        entries.extend(chunk);
        progress.advance(got);
        if got < end - i {
            progress.finish();
            let missing = i + got;
            return Ok(Err((
                Part::Store,
                Some(missing),
                format!("entry {missing} is missing from the store"),
            )));
        }
        i = end;
    }
    progress.finish();
    let mut leaves = Vec::with_capacity(entries.len());
    for id in TileId::tiles_at(0, size) {
        let (n, w) = (id.index, id.width);
        let tile = store.tile(0, n)?.unwrap_or_default();
        let hashes: Vec<Hash> = tile
            .chunks_exact(32)
            .filter_map(|c| Hash::try_from(c).ok())
            .collect();
        if hashes.len() != usize::from(w) {
            return Ok(Err((
                Part::Store,
                Some(id.start()),
                format!(
                    "hash tile 0/{n} holds {} hashes, the tree needs {w}",
                    hashes.len()
                ),
            )));
        }
        leaves.extend(hashes);
    }
    let views = store
        .aux_scan_prefix(STATE_PREFIX)?
        .into_iter()
        .map(|(k, v)| (k.get(STATE_PREFIX.len()..).unwrap_or_default().to_vec(), v))
        .collect();
    Ok(Ok(Read {
        note,
        entries,
        stored_leaves: Some(leaves),
        views: Some(views),
    }))
}

/// Fetches and checks the tiles and entry bundles of the checkpoint's tree.
fn read_node(
    node: &NodeClient,
    key: &NoteVerifier,
    progress: &dyn Progress,
) -> Result<Found, AuditError> {
    let note = node.checkpoint().map_err(AuditError::Node)?;
    let cp = match Checkpoint::open(&note, key) {
        Ok(cp) => cp,
        Err(e) => return Ok(Err((Part::Checkpoint, None, format!("checkpoint: {e}")))),
    };
    // A node that cannot be reached is no verdict; one that refuses or
    // garbles a tile its own checkpoint commits to is.
    let fetch = |path: String| match node.tile(&path) {
        Ok(b) => Ok(Ok(b)),
        Err(e @ HttpError::Unreachable { .. }) => Err(AuditError::Node(e)),
        Err(e) => Ok(Err(e.to_string())),
    };
    let unreachable = RefCell::new(None);
    let mut client = TileClient::new(cp.size, |id: TileId| {
        match fetch(id.path(TileKind::Hashes)) {
            Ok(Ok(b)) => Ok(b),
            Ok(Err(m)) => Err(ledger::Error::BadTile(m)),
            Err(e) => {
                *unreachable.borrow_mut() = Some(e);
                Err(ledger::Error::BadTile(
                    "the node could not be reached".into(),
                ))
            }
        }
    });
    let infra = || unreachable.borrow_mut().take();
    if let Err(e) = client.verify_all(&cp.root) {
        return match infra() {
            Some(u) => Err(u),
            None => Ok(Err((Part::Tree, None, format!("hash tiles: {e}")))),
        };
    }
    progress.start("fetching", cp.size);
    let mut entries = Vec::new();
    for id in TileId::tiles_at(0, cp.size) {
        let (n, first) = (id.index, id.start());
        let bundle = match fetch(id.path(TileKind::Entries))? {
            Ok(b) => b,
            Err(m) => {
                progress.finish();
                return Ok(Err((Part::Tree, Some(first), m)));
            }
        };
        match client.verify_entries(n, &bundle) {
            Ok(got) => {
                progress.advance(got.len() as u64);
                entries.extend(got);
            }
            Err(e) => {
                progress.finish();
                if let Some(u) = infra() {
                    return Err(u);
                }
                return Ok(Err((
                    Part::Tree,
                    Some(first),
                    format!("entry bundle {n}: {e}"),
                )));
            }
        }
    }
    progress.finish();
    Ok(Ok(Read {
        note,
        entries,
        stored_leaves: None,
        views: None,
    }))
}

fn check(
    mut v: Verdict,
    key: &NoteVerifier,
    read: Read,
    progress: &dyn Progress,
) -> Result<Verdict, AuditError> {
    let n = read.entries.len() as u64;
    v.entries = n;
    let cp = match Checkpoint::open(&read.note, key) {
        Ok(cp) => cp,
        Err(e) => return Ok(v.fail(Part::Checkpoint, None, format!("checkpoint: {e}"))),
    };
    v.tree_size = Some(cp.size);
    v.pass(
        Part::Checkpoint,
        format!("signed by {} at tree size {}", key.name(), cp.size),
    );
    // The tree: every entry hashes to its stored leaf, and the leaves to the signed root.
    let leaves: Vec<Hash> = read.entries.iter().map(|e| leaf_hash(e)).collect();
    if let Some(stored) = &read.stored_leaves
        && let Some(i) = leaves.iter().zip(stored).position(|(l, s)| l != s)
    {
        return Ok(v.fail(
            Part::Tree,
            Some(i as u64),
            format!("entry {i}: its bytes do not hash to the stored leaf hash"),
        ));
    }
    if n != cp.size {
        return Ok(v.fail(
            Part::Tree,
            None,
            format!(
                "the store holds {n} entries but the checkpoint signs {}",
                cp.size
            ),
        ));
    }
    let root = root_of_leaves(&leaves);
    if root != cp.root {
        return Ok(v.fail(
            Part::Tree,
            None,
            format!(
                "rebuilt root {} differs from the checkpoint's {}",
                STANDARD.encode(root),
                STANDARD.encode(cp.root)
            ),
        ));
    }
    v.pass(
        Part::Tree,
        format!(
            "rebuilt root {} equals the signed checkpoint",
            STANDARD.encode(root)
        ),
    );
    // Every entry through the one verifier.
    progress.start("replaying", n);
    let mut replay = Replayer::new(MemoryState::new(), Signatures::Batched).checking_status();
    let mut outcome = Ok(());
    for (i, bytes) in (0u64..).zip(&read.entries) {
        if let Err(e) = replay.entry(i, bytes) {
            outcome = Err(e);
            break;
        }
        progress.advance(1);
    }
    progress.finish();
    let state = match outcome.and_then(|()| replay.finish()) {
        Ok(state) => state,
        Err(e) => return v.rejected(e).map_err(AuditError::State),
    };
    v.pass(
        Part::Signature,
        format!("{n} signatures by registered keys (batch verification)"),
    );
    v.pass(Part::Rule, format!("{n} entries pass every rule on replay"));
    // The stored views (a directory) must be exactly what the replay derived.
    if let Some(views) = read.views {
        let stored = views.into_iter().map(Ok::<_, std::convert::Infallible>);
        match crate::view_check::first_difference(stored, &state) {
            Ok(Ok(matched)) => v.pass(
                Part::Views,
                format!("{matched} view records equal the replay"),
            ),
            Ok(Err((key, _))) => {
                return Ok(v.fail(
                    Part::Views,
                    None,
                    format!(
                        "view record {} differs from the replay of the log",
                        crate::view_check::describe_key(&key)
                    ),
                ));
            }
            Err(never) => match never {},
        }
    }
    Ok(v)
}
