//! The ingest pipeline shared by the HTTP node and the CLI's local mode:
//! verify (through [`crate::verify`]), then commit batches in sequence order.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use base64::{Engine, engine::general_purpose::STANDARD};
use ledger::{
    InclusionProof, Log, NoteSigner, OpenCheck, Store,
    hash::{Hash, leaf_hash},
};
use passport_schema::{Bytes32, Context, Event, EventKind, LogStatus, LogTime, Overlay, apply};
use serde::{Deserialize, Serialize};
use status_map::StatusMap;

use crate::state::{STATE_PREFIX, StoreState, state_key};
use crate::verify::{ReplayError, Replayer, Signatures};
use crate::{Error, Result};

/// What a submitter gets back: where the entry is, and the proof of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The entry's index.
    pub index: u64,
    /// Its RFC 9162 leaf hash (base64).
    pub leaf_hash: String,
    /// Proof of inclusion against `checkpoint`.
    pub inclusion_proof: InclusionProof,
    /// The signed checkpoint the proof is against.
    pub checkpoint: String,
    /// True if identical bytes were already logged (the original index).
    pub duplicate: bool,
}

/// An entry that passed decoding, signature and a first rules check.
#[derive(Clone, Debug)]
pub struct Checked {
    bytes: Vec<u8>,
    event: Event,
    signer: Hash,
}

impl Checked {
    /// The decoded event.
    pub fn event(&self) -> &Event {
        &self.event
    }
}

/// The outcome of [`PassportLedger::check`].
#[derive(Clone, Debug)]
pub enum Submission {
    /// New: hand it to the sequencer.
    New(Box<Checked>),
    /// Identical bytes are already logged at this index.
    Duplicate(u64),
}

/// A ledger of copper passports: the log plus the state its rules keep.
pub struct PassportLedger<S> {
    log: Log<S>,
    /// The log key, which also signs the log's clock and status entries.
    log_key: NoteSigner,
    clock_skew_ms: i64,
    /// The status map as of the latest commit (its root is the one the
    /// last `log_status` entry states). Held across a commit, so a reader
    /// that holds it sees the map and the log head of the same commit.
    status: Mutex<StatusMap>,
}

/// How stale the log's clock may get before a batch is preceded by a
/// log-time entry: an entry's log time is at most this much before the
/// moment it was really integrated.
pub const LOG_TIME_EVERY_MS: i64 = 60_000;

/// The store writes of one accepted entry, staged in the batch's overlay
/// (so later entries of the batch see them) and in the commit's view writes.
fn stage<B: passport_schema::StateStore>(
    effects: passport_schema::Effects,
    overlay: &mut Overlay<'_, B>,
    aux: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
) {
    aux.extend(
        effects
            .writes
            .iter()
            .map(|(k, v)| (state_key(k), Some(v.clone()))),
    );
    overlay.commit(effects);
}

/// Milliseconds since the Unix epoch, by this machine's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Builds the status map from the replayed state (which the stored views
/// were just found equal to) and checks it against the last `log_status`
/// entry, so a log whose last commitment does not match its entries is
/// refused.
fn rebuild_status(replayed: &passport_schema::MemoryState, size: u64) -> Result<StatusMap> {
    let map = crate::status::build(
        replayed
            .entries()
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice())),
    )?;
    match passport_schema::state::status_head(replayed)? {
        Some(h) if h.index + 1 == size && h.status_root.0 == map.root() => Ok(map),
        Some(h) if h.index + 1 == size => Err(Error::StoreMismatch(format!(
            "the status records (certificates, keys, materials) give map root {} but the log's last status entry ({}) states {}",
            hex::encode(map.root()),
            h.index,
            hex::encode(h.status_root.0)
        ))),
        _ if size == 0 => Ok(map),
        _ => Err(Error::StoreMismatch(format!(
            "the log's last entry ({}) is not its status commitment",
            size - 1
        ))),
    }
}

impl<S: Store> PassportLedger<S> {
    /// Creates a new ledger in an empty store. `genesis` is the operator-signed
    /// genesis entry; it is checked like any other entry and logged at index 0.
    pub fn create(
        store: S,
        log_key: NoteSigner,
        genesis: &[u8],
        clock_skew_ms: i64,
    ) -> Result<Self> {
        let log_key_copy = log_key.clone();
        let log = Log::create(store, log_key)?;
        let ledger = PassportLedger {
            log,
            log_key: log_key_copy,
            clock_skew_ms,
            status: Mutex::new(StatusMap::default()),
        };
        let checked = match ledger.check(genesis, now_ms())? {
            Submission::New(c) => *c,
            Submission::Duplicate(_) => {
                return Err(Error::BadRequest("genesis already logged".into()));
            }
        };
        // The checkpoints name the log by its key; the genesis and every
        // entry's header must name it the same way.
        if let passport_schema::EventBody::Genesis(g) = &checked.event.body {
            let name = ledger.log_key.verifier().name();
            if g.origin != name {
                return Err(Error::Config(format!(
                    "the genesis names the log {:?}, but the log key (and so every checkpoint) names it {name:?}",
                    g.origin
                )));
            }
        }
        let mut results = ledger.commit_batch(vec![checked])?;
        match results.pop() {
            Some(Ok(_)) => Ok(ledger),
            Some(Err(e)) => Err(e),
            None => Err(Error::State("genesis produced no result".into())),
        }
    }

    /// Opens an existing ledger, refusing a store that does not match its
    /// checkpoint or whose derived state does not match its entries.
    ///
    /// Two checks run before anything is served: [`Log::open`] with `check`
    /// (with [`OpenCheck::Full`], every entry's bytes are authenticated
    /// against the signed checkpoint), then the replay of every entry into
    /// a fresh state with the rules, compared record by record with the
    /// stored views ([`crate::view_check`]). With [`OpenCheck::Root`] the
    /// entry bytes are not re-hashed, so the replay runs over entries that
    /// were not authenticated first.
    ///
    /// # Errors
    ///
    /// [`Error::StoreMismatch`] (entries, tiles, checkpoint),
    /// [`Error::ViewMismatch`] (a view record changed, missing or extra),
    /// [`Error::LogDoesNotReplay`] (an entry fails the rules on replay).
    pub fn open(
        store: S,
        log_key: NoteSigner,
        check: OpenCheck,
        clock_skew_ms: i64,
    ) -> Result<Self> {
        let log_key_copy = log_key.clone();
        let log = Log::open(store, log_key, check).map_err(|e| match e {
            ledger::Error::StoreMismatch(m) => Error::StoreMismatch(m),
            other => Error::from(other),
        })?;
        let size = log.size()?;
        let replayed = crate::view_check::replay(log.store(), size)?;
        let records = crate::view_check::compare(log.store(), &replayed)?;
        tracing::debug!(
            entries = size,
            records,
            "view records equal the replay of the log"
        );
        let status = rebuild_status(&replayed, size)?;
        Ok(PassportLedger {
            log,
            log_key: log_key_copy,
            clock_skew_ms,
            status: Mutex::new(status),
        })
    }

    /// Keeps the log's last signed checkpoint in `file`, outside the store:
    /// for a ledger just created (`check: false`) it is written now; for an
    /// opened one the store is first checked against it, so an older copy
    /// of the store, or a different tree, is refused (issue: no rollback).
    ///
    /// # Errors
    ///
    /// [`Error::RolledBack`] for a store behind or differing from the file,
    /// or a missing file; a storage error if it cannot be written.
    pub fn keep_head_in(self, file: ledger::anchor::HeadFile, check: bool) -> Result<Self> {
        let PassportLedger {
            log,
            log_key,
            clock_skew_ms,
            status,
        } = self;
        let log = if check {
            log.check_heads_in(file)
        } else {
            log.record_heads_in(file)
        }
        .map_err(|e| match e {
            ledger::Error::RolledBack(m) => Error::RolledBack(m),
            other => Error::from(other),
        })?;
        Ok(PassportLedger {
            log,
            log_key,
            clock_skew_ms,
            status,
        })
    }

    /// The verifiable log underneath.
    pub fn log(&self) -> &Log<S> {
        &self.log
    }

    /// This log's origin: the name its checkpoints carry, which its genesis
    /// also names and every entry's signed `cupass-log` header must equal.
    pub fn origin(&self) -> Result<String> {
        Ok(passport_schema::state::genesis(&self.state())?
            .map_or_else(|| self.log_key.verifier().name().to_string(), |g| g.origin))
    }

    /// The derived state, for the views.
    pub fn state(&self) -> StoreState<'_, S> {
        StoreState(self.log.store())
    }

    /// Decodes and authenticates an entry and checks it against the rules
    /// as the state stands now, through the one verifier
    /// ([`Replayer`]). Nothing is written.
    pub fn check(&self, bytes: &[u8], now_ms: i64) -> Result<Submission> {
        if let Some(index) = self.log.index_of(bytes)? {
            return Ok(Submission::Duplicate(index));
        }
        let state = self.state();
        let index = self.log.size()?;
        let mut replay = Replayer::new(Overlay::new(&state), Signatures::Each)
            .not_after(now_ms.saturating_add(self.clock_skew_ms));
        let verified = replay.entry(index, bytes).map_err(|e| match e {
            ReplayError::Rejected { fault, .. } => {
                Error::from_fault(fault, now_ms, self.clock_skew_ms)
            }
            ReplayError::State(s) => Error::from(s),
        })?;
        if matches!(
            verified.event.kind(),
            EventKind::LogTime | EventKind::LogStatus
        ) {
            return Err(Error::BadRequest(format!(
                "{} entries are written by the ledger's sequencer, not submitted",
                verified.event.kind()
            )));
        }
        Ok(Submission::New(Box::new(Checked {
            bytes: bytes.to_vec(),
            event: verified.event,
            signer: verified.signer,
        })))
    }

    /// Re-checks entries in order against the state plus the effects of the
    /// ones before them (so the later of two conflicting entries loses),
    /// then appends the survivors and their state changes in one durable
    /// commit. One result per entry, in order.
    pub fn commit_batch(&self, batch: Vec<Checked>) -> Result<Vec<Result<Receipt>>> {
        self.commit_batch_at(batch, now_ms())
    }

    /// [`PassportLedger::commit_batch`] with the sequencer's clock reading
    /// `now_ms`: when the log's clock is [`LOG_TIME_EVERY_MS`] or more
    /// behind it, the batch is preceded by a log-time entry signed by the
    /// log key, so every entry's integration time is in the log.
    pub fn commit_batch_at(
        &self,
        batch: Vec<Checked>,
        now_ms: i64,
    ) -> Result<Vec<Result<Receipt>>> {
        let base = self.state();
        let mut overlay = Overlay::new(&base);
        let mut first = self.log.size()?;
        let mut accepted: Vec<usize> = Vec::new();
        let mut aux = Vec::new();
        let clock_entry = match passport_schema::state::clock(&base)? {
            Some(head) if now_ms.saturating_sub(head.latest.ms) >= LOG_TIME_EVERY_MS => {
                let event = Event::new(now_ms, LogTime {});
                let bytes = crate::sign_event(&self.log_key, &self.origin()?, &event)?;
                let ctx = Context {
                    index: first,
                    signer: ledger::keys::kid(self.log_key.verifier().key()),
                    leaf_hash: leaf_hash(&bytes),
                };
                stage(apply(&overlay, &ctx, &event)?, &mut overlay, &mut aux);
                first += 1;
                Some(bytes)
            }
            _ => None,
        };
        let mut outcome: Vec<Option<Result<u64>>> = Vec::with_capacity(batch.len());
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        for (pos, c) in batch.iter().enumerate() {
            let leaf = leaf_hash(&c.bytes);
            if let Some(i) = in_batch.get(&leaf) {
                outcome.push(Some(Ok(*i)));
                continue;
            }
            if let Some(i) = self.log.index_of(&c.bytes)? {
                outcome.push(Some(Ok(i)));
                continue;
            }
            let index = first + accepted.len() as u64;
            let ctx = Context {
                index,
                signer: c.signer,
                leaf_hash: leaf,
            };
            match apply(&overlay, &ctx, &c.event) {
                Ok(effects) => {
                    stage(effects, &mut overlay, &mut aux);
                    in_batch.insert(leaf, index);
                    accepted.push(pos);
                    outcome.push(None);
                }
                Err(e) => outcome.push(Some(Err(Error::from(e)))),
            }
        }
        // The status commitment closes every batch that appends anything.
        let mut map = self.status_map()?;
        let mut undo = Vec::new();
        let status_entry = if clock_entry.is_some() || !accepted.is_empty() {
            let writes = aux
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(STATE_PREFIX)?, v.as_deref()?)));
            let changes = crate::status::changes(writes)?;
            undo = changes.iter().map(|(k, _)| (*k, map.get(k))).collect();
            map.update(changes);
            let index = first + accepted.len() as u64;
            let event = Event::new(
                now_ms,
                LogStatus {
                    covers: index,
                    status_root: Bytes32(map.root()),
                },
            );
            let bytes = crate::sign_event(&self.log_key, &self.origin()?, &event)?;
            let ctx = Context {
                index,
                signer: ledger::keys::kid(self.log_key.verifier().key()),
                leaf_hash: leaf_hash(&bytes),
            };
            stage(apply(&overlay, &ctx, &event)?, &mut overlay, &mut aux);
            Some(bytes)
        } else {
            None
        };
        drop(overlay);
        let entries: Vec<&[u8]> = clock_entry
            .as_deref()
            .into_iter()
            .chain(
                accepted
                    .iter()
                    .filter_map(|&p| batch.get(p).map(|c| c.bytes.as_slice())),
            )
            .chain(status_entry.as_deref())
            .collect();
        let commit = match self.log.append_batch(&entries, aux) {
            Ok(c) => c,
            Err(e) => {
                map.update(undo);
                return Err(e.into());
            }
        };
        drop(map);
        // The clock entry, if any, comes first and the status entry last;
        // neither answers a submitter.
        let skip = usize::from(clock_entry.is_some());
        let submitted = commit
            .appended
            .get(skip..skip + accepted.len())
            .unwrap_or_default();
        let fresh_indices: Vec<u64> = submitted.iter().map(|a| a.index).collect();
        let proofs = self.log.receipt_proofs(&fresh_indices, &commit)?;
        let mut fresh = submitted.iter().zip(proofs);
        outcome
            .into_iter()
            .map(|o| match o {
                None => {
                    let (a, proof) = fresh
                        .next()
                        .ok_or_else(|| Error::State("commit lost an entry".into()))?;
                    Ok(Ok(Receipt {
                        index: a.index,
                        leaf_hash: STANDARD.encode(a.leaf_hash),
                        inclusion_proof: proof,
                        checkpoint: commit.checkpoint.clone(),
                        duplicate: a.duplicate,
                    }))
                }
                Some(Ok(index)) => Ok(self.duplicate_receipt(index)),
                Some(Err(e)) => Ok(Err(e)),
            })
            .collect()
    }

    /// The status map, locked: while the guard lives no batch commits, so
    /// the map's root is the one the log's last `log_status` entry states.
    ///
    /// # Errors
    ///
    /// [`Error::State`] if a commit panicked while holding it.
    pub fn status_map(&self) -> Result<MutexGuard<'_, StatusMap>> {
        self.status
            .lock()
            .map_err(|_| Error::State("status map lock poisoned".into()))
    }

    /// The receipt for an entry that was already logged.
    pub fn duplicate_receipt(&self, index: u64) -> Result<Receipt> {
        let size = self.log.size()?;
        let proof = self.log.inclusion_proof(index, size)?;
        Ok(Receipt {
            index,
            leaf_hash: STANDARD.encode(proof.leaf_hash),
            checkpoint: proof.checkpoint.clone().unwrap_or_default(),
            inclusion_proof: proof,
            duplicate: true,
        })
    }

    /// Checks and commits one entry on its own (the CLI's local mode).
    pub fn submit(&self, bytes: &[u8]) -> Result<Receipt> {
        match self.check(bytes, now_ms())? {
            Submission::Duplicate(i) => self.duplicate_receipt(i),
            Submission::New(c) => self
                .commit_batch(vec![*c])?
                .pop()
                .unwrap_or_else(|| Err(Error::State("commit produced no result".into()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::MemoryStore;
    use passport_schema::{Bytes32, EventBody, Genesis, MemoryState, RegisterActor};

    use crate::verify::{Replayer, Signatures};

    fn signer(name: &str, seed: u8) -> NoteSigner {
        NoteSigner::new(name, ed25519_dalek::SigningKey::from_bytes(&[seed; 32])).unwrap()
    }

    fn public(s: &NoteSigner) -> Bytes32 {
        Bytes32(*s.verifier().key().as_bytes())
    }

    fn actor(seed: u8) -> RegisterActor {
        RegisterActor {
            name: format!("Org {seed}"),
            country: "CN".into(),
            public_key: public(&signer("org", seed)),
        }
    }

    /// A fresh in-memory ledger whose genesis is dated `t0`.
    fn ledger(t0: i64) -> (PassportLedger<MemoryStore>, NoteSigner) {
        let (log, op) = (signer("test.example/clock", 1), signer("op", 2));
        let genesis = Event::new(
            t0,
            EventBody::Genesis(Genesis::new("test.example/clock", actor(2), public(&log))),
        );
        let bytes = crate::sign_event(&op, "test.example/clock", &genesis).unwrap();
        let l = PassportLedger::create(MemoryStore::new(), log, &bytes, 600_000).unwrap();
        (l, op)
    }

    fn checked(l: &PassportLedger<MemoryStore>, op: &NoteSigner, t: i64, seed: u8) -> Checked {
        let bytes =
            crate::sign_event(op, "test.example/clock", &Event::new(t, actor(seed))).unwrap();
        match l.check(&bytes, t).unwrap() {
            Submission::New(c) => *c,
            Submission::Duplicate(_) => panic!("duplicate"),
        }
    }

    #[test]
    fn a_stale_clock_puts_a_log_time_entry_before_the_batch() {
        let t0 = now_ms();
        let (l, op) = ledger(t0);
        // Genesis and its status commitment are 0 and 1. Within a minute
        // of the genesis: no clock entry, the entry at 2, its status at 3.
        let c = checked(&l, &op, t0, 10);
        let r = l.commit_batch_at(vec![c], t0 + 1_000).unwrap();
        assert_eq!(r[0].as_ref().unwrap().index, 2);
        // Two minutes later: the clock entry takes index 4, the batch 5 and
        // 6, the status commitment 7.
        let batch = vec![checked(&l, &op, t0, 11), checked(&l, &op, t0, 12)];
        let r = l.commit_batch_at(batch, t0 + 120_000).unwrap();
        let got: Vec<u64> = r.iter().map(|x| x.as_ref().unwrap().index).collect();
        assert_eq!(got, [5, 6]);
        let (clock, _) = l.event(4).unwrap();
        assert_eq!(clock.kind(), EventKind::LogTime);
        assert_eq!(clock.occurred_ms, t0 + 120_000);
        let head = passport_schema::state::clock(&l.state()).unwrap().unwrap();
        assert_eq!((head.latest.ms, head.latest.index), (t0 + 120_000, 4));
        for i in [1, 3, 7] {
            assert_eq!(l.event(i).unwrap().0.kind(), EventKind::LogStatus, "{i}");
        }
        assert_eq!(l.log().size().unwrap(), 8);

        // The whole log replays through the one verifier, clock and status
        // entries included, and every status root is the derived one.
        let mut replay = Replayer::new(MemoryState::new(), Signatures::Batched).checking_status();
        for i in 0..l.log().size().unwrap() {
            replay.entry(i, &l.log().entry(i).unwrap()).unwrap();
        }
        replay.finish().unwrap();
    }

    #[test]
    fn a_status_commitment_that_lies_fails_a_full_replay() {
        let t0 = now_ms();
        let (l, op) = ledger(t0);
        let c = checked(&l, &op, t0, 10);
        l.commit_batch_at(vec![c], t0 + 1_000).unwrap();
        let log = l.log_key.clone();
        // Replay the log's entries, but put a lying commitment in place of the last.
        let size = l.log().size().unwrap();
        let lie = crate::sign_event(
            &log,
            &l.origin().unwrap(),
            &Event::new(
                t0 + 1_000,
                LogStatus {
                    covers: size - 1,
                    status_root: Bytes32([7; 32]),
                },
            ),
        )
        .unwrap();
        let mut replay = Replayer::new(MemoryState::new(), Signatures::Batched).checking_status();
        for i in 0..size - 1 {
            replay.entry(i, &l.log().entry(i).unwrap()).unwrap();
        }
        let e = replay.entry(size - 1, &lie).unwrap_err();
        assert!(e.to_string().contains("states status root"), "{e}");
    }

    #[test]
    fn a_submitted_status_entry_is_refused() {
        let t0 = now_ms();
        let (l, _) = ledger(t0);
        let log = l.log_key.clone();
        let size = l.log().size().unwrap();
        let event = Event::new(
            t0 + 1,
            LogStatus {
                covers: size,
                status_root: Bytes32(l.status_map().unwrap().root()),
            },
        );
        let bytes = crate::sign_event(&log, &l.origin().unwrap(), &event).unwrap();
        let e = l.check(&bytes, t0 + 1).unwrap_err();
        assert_eq!(e.code(), "bad_request", "{e}");
        assert!(e.to_string().contains("log_status"), "{e}");
    }

    #[test]
    fn a_submitted_log_time_entry_is_refused() {
        let t0 = now_ms();
        let (l, _) = ledger(t0);
        let log = signer("test.example/clock", 1);
        let bytes =
            crate::sign_event(&log, "test.example/clock", &Event::new(t0 + 1, LogTime {})).unwrap();
        let e = l.check(&bytes, t0 + 1).unwrap_err();
        assert_eq!(e.code(), "bad_request", "{e}");
    }

    #[test]
    fn an_entry_dated_before_the_window_fails_once_the_clock_moves_on() {
        let t0 = now_ms();
        let (l, op) = ledger(t0);
        let four_days = 4 * 86_400_000;
        // Checked against the genesis clock it passes; committed four days
        // later, the log's clock moves first and the entry is backdated.
        let c = checked(&l, &op, t0, 13);
        let r = l.commit_batch_at(vec![c], t0 + four_days).unwrap();
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(e.code(), "backdated", "{e}");
    }
}
