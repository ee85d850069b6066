//! The start-up check of the derived state: before a ledger serves, every
//! entry is replayed from index 0 into a fresh in-memory state with the
//! rules, and the stored view records must be exactly what the replay
//! derives, record by record, in both directions.
//!
//! What it rests on, and what it re-checks:
//!
//! * The entry bytes are authenticated first, by [`ledger::Log::open`] with
//!   [`ledger::OpenCheck::Full`]: every hash tile is verified against the
//!   root the signed checkpoint commits to, and every stored entry must hash
//!   to its leaf in those tiles. So the replay runs over exactly the entries
//!   the log key signed for.
//! * Signatures are **not** re-verified: each entry's signature was checked
//!   at ingest, before the checkpoint covering it was signed, and the bytes
//!   are unchanged since (above). Someone holding the log key can sign a
//!   checkpoint over anything; that is for auditors (`cupass log verify`,
//!   consistency proofs against checkpoints they saw) to catch, not this
//!   check.
//! * The rules **are** re-applied to every entry (decoding, registered and
//!   unrevoked signers, roles, every domain rule), into a
//!   [`MemoryState`] that never reads the store's views.
//! * Every record under the state prefix `s/` is compared: a stored record
//!   that differs ([`ViewMismatchKind::Changed`]), one the replay derives but the
//!   store lacks ([`ViewMismatchKind::Missing`]), and one in the store that no entry
//!   derives ([`ViewMismatchKind::Extra`]). Auxiliary keys outside `s/` are not
//!   views, and nothing the rules or the views read lives there.
//!
//! Decoding runs on a second thread, ahead of the rules; the store's views
//! are read in pages, so only the replayed state is held in memory.

use std::sync::mpsc;

use ledger::{Entry, Store, hash::Hash};
use passport_schema::{ApplyError, Context, Event, MemoryState, apply, decode_canonical};
use uuid::Uuid;

use crate::state::STATE_PREFIX;
use crate::{Error, Result};

/// How a stored view record differs from what the log's entries derive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewMismatchKind {
    /// The store holds the record with other bytes than the replay derives.
    Changed,
    /// The replay derives the record; the store does not hold it.
    Missing,
    /// The store holds a record that no entry derives.
    Extra,
}

impl ViewMismatchKind {
    /// A stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            ViewMismatchKind::Changed => "changed",
            ViewMismatchKind::Missing => "missing",
            ViewMismatchKind::Extra => "extra",
        }
    }

    /// What happened to the record, in words, for the error message.
    pub fn describe(self) -> &'static str {
        match self {
            ViewMismatchKind::Changed => "differs from what the log's entries derive",
            ViewMismatchKind::Missing => {
                "is derived by the log's entries but missing from the store"
            }
            ViewMismatchKind::Extra => "is in the store but no entry of the log derives it",
        }
    }
}

impl std::fmt::Display for ViewMismatchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a passing check covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Entries replayed.
    pub entries: u64,
    /// View records compared (each one in the store and in the replay).
    pub records: u64,
}

/// Entries read and decoded per message to the rules thread.
const CHUNK: u64 = 1024;
/// Stored view records read per page.
const PAGE: usize = 4096;

/// One entry, decoded ahead of the rules.
struct Decoded {
    index: u64,
    signer: Hash,
    leaf_hash: Hash,
    /// The log the entry was signed for (its `cupass-log` header).
    log: String,
    event: Event,
}

/// Replays the `size` entries of `store` and compares the stored views
/// with the replay. Call it only after the entries were authenticated
/// against the signed checkpoint (see the module docs).
///
/// # Errors
///
/// [`Error::ViewMismatch`] names the first view record (in key order) that
/// is changed, missing or extra; [`Error::LogDoesNotReplay`] an entry that
/// does not decode or pass the rules on replay; [`Error::StoreMismatch`]
/// an entry missing from the store; storage errors otherwise.
pub fn check<S: Store>(store: &S, size: u64) -> Result<Checked> {
    let state = replay(store, size)?;
    let records = compare(store, &state)?;
    Ok(Checked {
        entries: size,
        records,
    })
}

/// Replays every entry into a fresh state: decoding on a second thread,
/// the rules on this one, in log order.
pub fn replay<S: Store>(store: &S, size: u64) -> Result<MemoryState> {
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<Decoded>>>(4);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut i = 0;
            while i < size {
                let end = size.min(i.saturating_add(CHUNK));
                let batch = decode_range(store, i, end);
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    return;
                }
                i = end;
            }
        });
        let mut state = MemoryState::new();
        let mut next = 0u64;
        let mut origin: Option<String> = None;
        for batch in rx {
            for d in batch? {
                // Entries signed for another log do not belong here.
                match (&origin, &d.event.body) {
                    (None, passport_schema::EventBody::Genesis(g)) => {
                        origin = Some(g.origin.clone())
                    }
                    (Some(o), _) if *o != d.log => {
                        return Err(Error::LogDoesNotReplay {
                            index: d.index,
                            reason: format!("signed for the log {}, not this log {o}", d.log),
                        });
                    }
                    _ => {}
                }
                let ctx = Context {
                    index: d.index,
                    signer: d.signer,
                    leaf_hash: d.leaf_hash,
                };
                match apply(&state, &ctx, &d.event) {
                    Ok(effects) => state.commit(effects),
                    Err(ApplyError::Rule(v)) => {
                        return Err(Error::LogDoesNotReplay {
                            index: d.index,
                            reason: v.to_string(),
                        });
                    }
                    Err(e) => return Err(Error::State(e.to_string())),
                }
                next = d.index + 1;
            }
        }
        if next != size {
            return Err(Error::State(format!(
                "the replay stopped at entry {next} of {size}"
            )));
        }
        Ok(state)
    })
}

fn decode_range<S: Store>(store: &S, start: u64, end: u64) -> Result<Vec<Decoded>> {
    let entries = store.entries(start, end)?;
    if (entries.len() as u64) < end - start {
        let missing = start + entries.len() as u64;
        return Err(Error::StoreMismatch(format!("entry {missing} is missing")));
    }
    (start..)
        .zip(entries)
        .map(|(index, bytes)| {
            let bad = |reason: String| Error::LogDoesNotReplay { index, reason };
            let entry = Entry::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?;
            let event = decode_canonical(entry.payload()).map_err(|e| bad(e.to_string()))?;
            Ok(Decoded {
                index,
                signer: *entry.kid(),
                leaf_hash: ledger::hash::leaf_hash(&bytes),
                log: entry.log().to_string(),
                event,
            })
        })
        .collect()
}

/// Compares the stored view records, read in pages, with the replayed
/// state, in key order; returns how many records matched.
///
/// # Errors
///
/// [`Error::ViewMismatch`] for the first record that differs; storage errors.
pub fn compare<S: Store>(store: &S, state: &MemoryState) -> Result<u64> {
    let mut after: Option<Vec<u8>> = None;
    let mut page = Vec::new().into_iter();
    let mut done = false;
    // Stored records (keys without the state prefix), a page at a time.
    let stored = std::iter::from_fn(|| {
        loop {
            if let Some((k, v)) = page.next() {
                let k: Vec<u8> = k;
                return Some(Ok((
                    k.get(STATE_PREFIX.len()..).unwrap_or_default().to_vec(),
                    v,
                )));
            }
            if done {
                return None;
            }
            match store.aux_scan_page(STATE_PREFIX, after.as_deref(), PAGE) {
                Ok(p) => {
                    done = p.len() < PAGE;
                    after = p.last().map(|(k, _)| k.clone());
                    if p.is_empty() {
                        return None;
                    }
                    page = p.into_iter();
                }
                Err(e) => {
                    done = true;
                    return Some(Err(Error::from(e)));
                }
            }
        }
    });
    match first_difference(stored, state)? {
        Ok(matched) => Ok(matched),
        Err((key, kind)) => Err(Error::ViewMismatch {
            key: describe_key(&key),
            kind,
        }),
    }
}

/// Walks stored view records (in key order, keys without the state
/// prefix) beside the replayed state: the number that matched, or the
/// first record that is changed, missing or extra.
///
/// # Errors
///
/// The first error the stored records' iterator yields.
pub(crate) fn first_difference<E>(
    stored: impl Iterator<Item = std::result::Result<(Vec<u8>, Vec<u8>), E>>,
    state: &MemoryState,
) -> std::result::Result<std::result::Result<u64, (Vec<u8>, ViewMismatchKind)>, E> {
    let mut derived = state.entries().iter().peekable();
    let mut matched = 0u64;
    for record in stored {
        let (key, value) = record?;
        // Every derived record that sorts before this stored one is missing.
        if let Some((dk, _)) = derived.peek()
            && **dk < key
        {
            return Ok(Err(((*dk).clone(), ViewMismatchKind::Missing)));
        }
        match derived.next_if(|(dk, _)| **dk == key) {
            None => return Ok(Err((key, ViewMismatchKind::Extra))),
            Some((_, v)) if *v != value => return Ok(Err((key, ViewMismatchKind::Changed))),
            Some(_) => matched += 1,
        }
    }
    Ok(match derived.next() {
        Some((dk, _)) => Err((dk.clone(), ViewMismatchKind::Missing)),
        None => Ok(matched),
    })
}

/// A state key for people: the kind's prefix, then its id (a uuid, a key
/// id or hash in hex, a version or reading number in decimal).
pub fn describe_key(key: &[u8]) -> String {
    let (kind, id) = match key.iter().position(|b| *b == b'/') {
        Some(p) => key.split_at(p + 1),
        None => (key, &[][..]),
    };
    let kind_text = String::from_utf8_lossy(kind);
    let uuid_then = |id: &[u8]| -> Option<(Uuid, Vec<u8>)> {
        let (u, rest) = id.split_at_checked(16)?;
        Some((Uuid::from_slice(u).ok()?, rest.to_vec()))
    };
    let id_text = match (kind, id.len()) {
        (_, 0) => String::new(),
        (b"actor/" | b"brand/", 32) => hex::encode(id),
        (b"clock/", 8) => {
            let mut n = [0u8; 8];
            n.copy_from_slice(id);
            u64::from_be_bytes(n).to_string()
        }
        (b"ruleset/" | b"scheme/", 20) => match uuid_then(id) {
            Some((u, v)) => {
                let mut n = [0u8; 4];
                n.copy_from_slice(&v);
                format!("{u}/v{}", u32::from_be_bytes(n))
            }
            None => hex::encode(id),
        },
        (
            b"material/" | b"ruleset-latest/" | b"scheme-latest/" | b"cert/" | b"contract/"
            | b"dispatch/" | b"lot-grading/" | b"id/",
            16,
        ) => uuid_then(id).map_or_else(|| hex::encode(id), |(u, _)| u.to_string()),
        _ => hex::encode(id),
    };
    format!("{kind_text}{id_text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use passport_schema::state::keys;

    #[test]
    fn keys_are_named_by_kind_and_id() {
        let u = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        assert_eq!(
            describe_key(&keys::actor(&[0x1f; 32])),
            format!("actor/{}", "1f".repeat(32))
        );
        assert_eq!(describe_key(&keys::material(&u)), format!("material/{u}"));
        assert_eq!(
            describe_key(&keys::rule_set(&u, 3)),
            format!("ruleset/{u}/v3")
        );
        assert_eq!(describe_key(&keys::clock_reading(7)), "clock/7");
        assert_eq!(describe_key(keys::GENESIS), "genesis");
        assert_eq!(describe_key(keys::CLOCK), "clock");
        assert_eq!(describe_key(b"bogus/\x01\x02"), "bogus/0102");
        assert_eq!(describe_key(b"material/\x01"), "material/01");
    }
}
