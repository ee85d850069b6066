//! The one verifier: every entry that is accepted on ingest, checked in an
//! evidence bundle or audited in a whole log passes through [`Replayer`].
//!
//! For each entry, in log order, it decodes the COSE_Sign1 envelope and the
//! canonical payload, checks that the entry was signed for this log (its
//! `cupass-log` header equals the origin of the replayed genesis; the
//! genesis's header equals its own `origin`), finds the signer's key in the
//! state replayed so far (the genesis carries its own), checks the
//! signature (at once, or in Ed25519 batches) and applies the rules. The first entry that fails is
//! named with its index and a typed [`Fault`]; a failing state backend is a
//! [`ReplayError::State`], never a verdict on the entry.
//!
//! [`Verdict`] is the one result type of bundle and log verification: it
//! lists every check with the [`Part`] it is about.

use ed25519_dalek::VerifyingKey;
use ledger::{Entry, hash::Hash, keys::checked_verifying_key};
use passport_schema::{
    ApplyError, Context, Effects, Event, EventBody, MemoryState, Overlay, RuleViolation,
    StateError, StateStore, apply, decode_canonical,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which part of the evidence a check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// The file's structure (an evidence bundle that does not parse).
    Format,
    /// The stored log itself (a missing entry or tile in a local store).
    Store,
    /// The signed checkpoint.
    Checkpoint,
    /// The Merkle tree: hash tiles, entry bundles, leaf hashes, the root.
    Tree,
    /// An inclusion proof.
    Proof,
    /// An entry's envelope or payload does not decode canonically.
    Entry,
    /// An entry's signature or signer.
    Signature,
    /// A ledger rule on replay.
    Rule,
    /// A certificate criterion or the subject's derived figures.
    Criterion,
    /// A stored view record differs from the replay.
    Views,
    /// A status proof, or what it proves (revoked, left out, stale).
    Status,
    /// Freshness: the bundle against a node's current tree, or its age.
    Freshness,
    /// Witness cosignatures against a trust policy.
    Witness,
}

impl Part {
    /// The snake_case name used in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Part::Format => "format",
            Part::Store => "store",
            Part::Checkpoint => "checkpoint",
            Part::Tree => "tree",
            Part::Proof => "proof",
            Part::Entry => "entry",
            Part::Signature => "signature",
            Part::Rule => "rule",
            Part::Criterion => "criterion",
            Part::Views => "views",
            Part::Status => "status",
            Part::Freshness => "freshness",
            Part::Witness => "witness",
        }
    }
}

/// Why one entry was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// The bytes are not a well-formed COSE_Sign1 entry (or are too large).
    #[error("{0}")]
    Envelope(ledger::Error),
    /// The payload is not a canonical event.
    #[error("{0}")]
    Payload(passport_schema::Error),
    /// The event is dated after the latest time the caller allows.
    #[error(
        "event time {occurred_ms} ms is later than {latest_ms} ms, the latest this ledger accepts now"
    )]
    FromTheFuture {
        /// The event's time.
        occurred_ms: i64,
        /// The latest acceptable time.
        latest_ms: i64,
    },
    /// The entry was signed for another log: its signed `cupass-log`
    /// header names another origin than this log's genesis.
    #[error(
        "the entry was signed for the log {entry_log:?}, not this log {this_log:?}: an entry accepted by one log cannot be replayed into another"
    )]
    WrongLog {
        /// The origin the entry's `cupass-log` header names.
        entry_log: String,
        /// This log's origin (its genesis `origin`).
        this_log: String,
    },
    /// The signer's key id is not a registered actor.
    #[error("signer {0} is not a registered key")]
    UnknownSigner(String),
    /// The signature does not verify against the signer's key.
    #[error("bad signature: {0}")]
    Signature(ledger::Error),
    /// The event breaks a ledger rule.
    #[error("{0}")]
    Rule(RuleViolation),
    /// A `log_status` entry states a status map root that is not the one
    /// the entries before it derive.
    #[error(
        "the log_status entry states status root {stated}, but the entries before it derive {derived}"
    )]
    StatusRoot {
        /// The root it states (hex).
        stated: String,
        /// The root the replay derives (hex).
        derived: String,
    },
}

impl Fault {
    /// The part of the evidence this fault is about.
    pub fn part(&self) -> Part {
        match self {
            Fault::Envelope(_)
            | Fault::Payload(_)
            | Fault::FromTheFuture { .. }
            | Fault::WrongLog { .. } => Part::Entry,
            Fault::UnknownSigner(_) | Fault::Signature(_) => Part::Signature,
            Fault::Rule(_) | Fault::StatusRoot { .. } => Part::Rule,
        }
    }
}

/// A replay that stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The entry at `index` was refused: a verdict.
    #[error("entry {index}: {fault}")]
    Rejected {
        /// The entry's index in the log.
        index: u64,
        /// Why.
        fault: Fault,
    },
    /// The state underneath failed: not a verdict on any entry.
    #[error("state: {0}")]
    State(StateError),
}

/// State a replay can read and extend.
pub trait ReplayState: StateStore {
    /// Applies the writes of one accepted entry.
    fn commit(&mut self, effects: Effects);
}

impl ReplayState for MemoryState {
    fn commit(&mut self, effects: Effects) {
        MemoryState::commit(self, effects);
    }
}

impl<B: StateStore> ReplayState for Overlay<'_, B> {
    fn commit(&mut self, effects: Effects) {
        Overlay::commit(self, effects);
    }
}

/// When signatures are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signatures {
    /// Each entry's signature before its rules (ingest: one entry at a time).
    Each,
    /// In Ed25519 batches, on every core (replays of many entries). The
    /// first failing entry is still named exactly.
    Batched,
}

/// An entry that passed.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The decoded event.
    pub event: Event,
    /// The signer's key id.
    pub signer: Hash,
}

/// Entries whose signatures wait for a batch.
struct Pending {
    index: u64,
    entry: Entry,
    key: VerifyingKey,
}

/// How many signatures are verified together (per thread).
const BATCH: usize = 256;
/// How many signatures wait before a batch run.
const PENDING_MAX: usize = 16 * BATCH;

/// Replays entries in log order over a state: the one verification path.
pub struct Replayer<S> {
    state: S,
    signatures: Signatures,
    latest_ms: Option<i64>,
    pending: Vec<Pending>,
    /// When set, the status map the entries derive, checked against every
    /// `log_status` entry (a whole-log audit; a bundle holds too few
    /// entries to derive it).
    status: Option<status_map::StatusMap>,
    /// This log's origin, once the genesis has been replayed or read.
    log: Option<String>,
}

impl<S: ReplayState> Replayer<S> {
    /// A replay over `state`.
    pub fn new(state: S, signatures: Signatures) -> Self {
        Replayer {
            state,
            signatures,
            latest_ms: None,
            pending: Vec::new(),
            status: None,
            log: None,
        }
    }

    /// Also derives the status map and checks every `log_status` entry's
    /// root against it (for a replay from the log's first entry).
    pub fn checking_status(mut self) -> Self {
        self.status = Some(status_map::StatusMap::default());
        self
    }

    /// Refuses events dated after `latest_ms` (ingest's clock bound).
    pub fn not_after(mut self, latest_ms: i64) -> Self {
        self.latest_ms = Some(latest_ms);
        self
    }

    /// The state as replayed so far (signatures in a pending batch are not
    /// yet checked: call [`Replayer::finish`] first for a verdict).
    pub fn state(&self) -> &S {
        &self.state
    }

    /// Verifies the entry at `index` and applies its effects.
    ///
    /// # Errors
    ///
    /// [`ReplayError::Rejected`] names the first failing entry: when a
    /// batch of signatures is pending, an earlier bad signature wins over a
    /// later fault. [`ReplayError::State`] when the state cannot be read.
    pub fn entry(&mut self, index: u64, bytes: &[u8]) -> Result<Verified, ReplayError> {
        match self.check(index, bytes) {
            Ok(v) => Ok(v),
            Err(ReplayError::Rejected { index, fault }) => {
                self.flush()?;
                Err(ReplayError::Rejected { index, fault })
            }
            Err(e) => Err(e),
        }
    }

    fn check(&mut self, index: u64, bytes: &[u8]) -> Result<Verified, ReplayError> {
        let reject = |fault| ReplayError::Rejected { index, fault };
        let entry = Entry::from_bytes(bytes).map_err(|e| reject(Fault::Envelope(e)))?;
        let event = decode_canonical(entry.payload()).map_err(|e| reject(Fault::Payload(e)))?;
        if let Some(latest_ms) = self.latest_ms
            && event.occurred_ms > latest_ms
        {
            return Err(reject(Fault::FromTheFuture {
                occurred_ms: event.occurred_ms,
                latest_ms,
            }));
        }
        self.check_log(index, &entry, &event).map_err(|e| match e {
            KeyError::Fault(f) => reject(f),
            KeyError::State(s) => ReplayError::State(s),
        })?;
        let signer = *entry.kid();
        let key = signer_key(&self.state, &entry, &event).map_err(|e| match e {
            KeyError::Fault(f) => reject(f),
            KeyError::State(s) => ReplayError::State(s),
        })?;
        let ctx = Context {
            index,
            signer,
            leaf_hash: ledger::hash::leaf_hash(bytes),
        };
        // Ingest checks the signature before any rule reads the state.
        match self.signatures {
            Signatures::Each => entry
                .verify(&key)
                .map_err(|e| reject(Fault::Signature(e)))?,
            Signatures::Batched => {
                self.pending.push(Pending { index, entry, key });
                if self.pending.len() >= PENDING_MAX {
                    self.flush()?;
                }
            }
        }
        match apply(&self.state, &ctx, &event) {
            Ok(effects) => {
                if let Some(map) = &mut self.status {
                    if let EventBody::LogStatus(st) = &event.body
                        && st.status_root.0 != map.root()
                    {
                        return Err(reject(Fault::StatusRoot {
                            stated: hex::encode(st.status_root.0),
                            derived: hex::encode(map.root()),
                        }));
                    }
                    let changes = crate::status::changes(
                        effects
                            .writes
                            .iter()
                            .map(|(k, v)| (k.as_slice(), v.as_slice())),
                    )
                    .map_err(|e| ReplayError::State(StateError::Backend(e.to_string())))?;
                    map.update(changes);
                }
                self.state.commit(effects);
                if let EventBody::Genesis(g) = &event.body {
                    self.log = Some(g.origin.clone());
                }
            }
            Err(ApplyError::State(e)) => return Err(ReplayError::State(e)),
            Err(ApplyError::Rule(v)) => return Err(reject(Fault::Rule(v))),
            Err(other) => return Err(ReplayError::State(StateError::Backend(other.to_string()))),
        }
        Ok(Verified { event, signer })
    }

    /// Refuses an entry signed for another log. Every entry after the
    /// genesis must name the replayed genesis's `origin`; the genesis at
    /// index 0 names the log itself, so its header must equal its own
    /// `origin`. Without a genesis there is no log to compare with, and the
    /// rules refuse the entry anyway.
    fn check_log(&mut self, index: u64, entry: &Entry, event: &Event) -> Result<(), KeyError> {
        if index > 0 && self.log.is_none() {
            self.log = passport_schema::state::genesis(&self.state)
                .map_err(KeyError::State)?
                .map(|g| g.origin);
        }
        let this_log = match (&self.log, &event.body) {
            (Some(origin), _) if index > 0 => origin.as_str(),
            (_, EventBody::Genesis(g)) => g.origin.as_str(),
            _ => return Ok(()),
        };
        if entry.log() != this_log {
            return Err(KeyError::Fault(Fault::WrongLog {
                entry_log: entry.log().to_string(),
                this_log: this_log.to_string(),
            }));
        }
        Ok(())
    }

    /// Checks every pending signature.
    fn flush(&mut self) -> Result<(), ReplayError> {
        let pending = std::mem::take(&mut self.pending);
        match first_bad_signature(&pending) {
            Some((index, e)) => Err(ReplayError::Rejected {
                index,
                fault: Fault::Signature(e),
            }),
            None => Ok(()),
        }
    }

    /// Checks the signatures still pending and hands back the state.
    ///
    /// # Errors
    ///
    /// [`ReplayError::Rejected`] for the first entry whose signature fails.
    pub fn finish(mut self) -> Result<S, ReplayError> {
        self.flush()?;
        Ok(self.state)
    }
}

enum KeyError {
    Fault(Fault),
    State(StateError),
}

/// The key an entry must verify under: the registered actor's, or for the
/// genesis the operator key the genesis itself registers.
fn signer_key(
    state: &impl StateStore,
    entry: &Entry,
    event: &Event,
) -> Result<VerifyingKey, KeyError> {
    let key = match &event.body {
        EventBody::Genesis(g) => g.operator.public_key.0,
        // The log's clock and status are signed by the log key the genesis names.
        EventBody::LogTime(_) | EventBody::LogStatus(_) => {
            passport_schema::state::genesis(state)
                .map_err(KeyError::State)?
                .ok_or_else(|| KeyError::Fault(Fault::UnknownSigner(hex::encode(entry.kid()))))?
                .log_key
                .0
        }
        _ => {
            passport_schema::state::actor(state, entry.kid())
                .map_err(KeyError::State)?
                .ok_or_else(|| KeyError::Fault(Fault::UnknownSigner(hex::encode(entry.kid()))))?
                .public_key
                .0
        }
    };
    checked_verifying_key(&key).map_err(|e| KeyError::Fault(Fault::Signature(e)))
}

/// The first entry of `pending` whose signature fails, batch-verified on
/// every available core.
fn first_bad_signature(pending: &[Pending]) -> Option<(u64, ledger::Error)> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 8);
    let per_thread = pending.len().div_ceil(threads).max(BATCH);
    let parts: Vec<&[Pending]> = pending.chunks(per_thread).collect();
    let found: Vec<Option<(u64, ledger::Error)>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|part| s.spawn(move || verify_part(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Some((
                        u64::MAX,
                        ledger::Error::BadSignature("verifier thread failed".into()),
                    ))
                })
            })
            .collect()
    });
    found.into_iter().flatten().min_by_key(|(i, _)| *i)
}

fn verify_part(part: &[Pending]) -> Option<(u64, ledger::Error)> {
    for chunk in part.chunks(BATCH) {
        let entries: Vec<&Entry> = chunk.iter().map(|p| &p.entry).collect();
        let keys: Vec<VerifyingKey> = chunk.iter().map(|p| p.key).collect();
        if ledger::cose::verify_batch(&entries, &keys).is_err() {
            // Name the entry: the batch says only that one failed.
            for p in chunk {
                if let Err(e) = p.entry.verify(&p.key) {
                    return Some((p.index, e));
                }
            }
        }
    }
    None
}

/// One line of a verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked.
    pub part: Part,
    /// Whether it held.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// The entry it is about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
}

/// The outcome of verifying a bundle or a whole log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when every check held.
    pub valid: bool,
    /// The subject checked (bundles).
    pub subject: Option<Uuid>,
    /// The tree size of the checkpoint.
    pub tree_size: Option<u64>,
    /// How many entries were replayed.
    pub entries: u64,
    /// The first entry that failed, if the failure is about one.
    pub first_failing_entry: Option<u64>,
    /// Derived recycled share of the subject (certificate subject or lot), ppm.
    pub recycled_share_ppm: Option<u32>,
    /// The log time (Unix ms) of the status commitment the verdict rests
    /// on: "valid as of tree size `tree_size`, integrated at this time".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ms: Option<i64>,
    /// Every check, in the order made; the first failure ends the verification.
    pub checks: Vec<Check>,
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict {
            valid: true,
            subject: None,
            tree_size: None,
            entries: 0,
            first_failing_entry: None,
            recycled_share_ppm: None,
            as_of_ms: None,
            checks: Vec::new(),
        }
    }
}

impl Verdict {
    /// Records a failed check and closes the verdict.
    pub fn fail(mut self, part: Part, entry: Option<u64>, detail: String) -> Verdict {
        self.valid = false;
        self.first_failing_entry = entry;
        self.checks.push(Check {
            part,
            ok: false,
            detail,
            entry,
        });
        self
    }

    /// Records a check that held.
    pub fn pass(&mut self, part: Part, detail: String) {
        self.checks.push(Check {
            part,
            ok: true,
            detail,
            entry: None,
        });
    }

    /// The verdict for a replay that stopped at a refused entry. A state
    /// failure is returned as the error: it is no verdict.
    ///
    /// # Errors
    ///
    /// The [`StateError`] of a replay that could not read its state.
    pub fn rejected(self, e: ReplayError) -> Result<Verdict, StateError> {
        match e {
            ReplayError::Rejected { index, fault } => {
                Ok(self.fail(fault.part(), Some(index), format!("entry {index}: {fault}")))
            }
            ReplayError::State(s) => Err(s),
        }
    }

    /// The first failed check, if any.
    pub fn failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::NoteSigner;
    use passport_schema::{Bytes32, Genesis, GrantRole, PrimaryLot, RegisterActor, Role, kid_of};

    fn signer(seed: u8) -> NoteSigner {
        NoteSigner::new(
            &format!("org{seed}"),
            ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
        )
        .unwrap()
    }

    fn public(s: &NoteSigner) -> Bytes32 {
        Bytes32(*s.verifier().key().as_bytes())
    }

    const ORIGIN: &str = "test.example/verify";

    fn sign(s: &NoteSigner, body: EventBody) -> Vec<u8> {
        sign_for(s, ORIGIN, body)
    }

    fn sign_for(s: &NoteSigner, origin: &str, body: EventBody) -> Vec<u8> {
        crate::sign_event(s, origin, &Event::new(1_700_000_000_000, body)).unwrap()
    }

    /// Genesis, a refiner registered and granted its role, then `lots`
    /// primary lots signed by the refiner.
    fn log(lots: usize) -> Vec<Vec<u8>> {
        let (op, refiner) = (signer(1), signer(2));
        let mut out = vec![
            sign(
                &op,
                EventBody::Genesis(Genesis::new(
                    ORIGIN,
                    RegisterActor {
                        name: "Operator".into(),
                        country: "CN".into(),
                        public_key: public(&op),
                    },
                    public(&op),
                )),
            ),
            sign(
                &op,
                EventBody::RegisterActor(RegisterActor {
                    name: "Refiner".into(),
                    country: "CN".into(),
                    public_key: public(&refiner),
                }),
            ),
            sign(
                &op,
                EventBody::GrantRole(GrantRole {
                    actor: Bytes32(kid_of(&public(&refiner).0)),
                    role: Role::Refiner,
                }),
            ),
        ];
        for _ in 0..lots {
            let lot = PrimaryLot::new(1_000_000, "CL", "Codelco");
            out.push(sign(&refiner, EventBody::RegisterPrimaryLot(lot)));
        }
        out
    }

    fn replay(entries: &[Vec<u8>], mode: Signatures) -> Result<MemoryState, ReplayError> {
        let mut r = Replayer::new(MemoryState::new(), mode);
        for (i, e) in (0u64..).zip(entries) {
            r.entry(i, e)?;
        }
        r.finish()
    }

    fn flip_signature(entry: &mut [u8]) {
        let last = entry.len() - 1;
        entry[last] ^= 0x01;
    }

    fn rejected(r: Result<MemoryState, ReplayError>) -> (u64, Part) {
        match r {
            Err(ReplayError::Rejected { index, fault }) => (index, fault.part()),
            Err(e) => panic!("not a verdict: {e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn each_and_batched_replays_agree_on_a_good_log() {
        let entries = log(600);
        let a = replay(&entries, Signatures::Each).unwrap();
        let b = replay(&entries, Signatures::Batched).unwrap();
        assert_eq!(a.entries(), b.entries());
    }

    #[test]
    fn a_batched_replay_names_the_exact_entry_with_a_bad_signature() {
        for bad in [3, 255, 256, 300, 602] {
            let mut entries = log(600);
            flip_signature(&mut entries[bad]);
            assert_eq!(
                rejected(replay(&entries, Signatures::Batched)),
                (bad as u64, Part::Signature)
            );
            assert_eq!(
                rejected(replay(&entries, Signatures::Each)),
                (bad as u64, Part::Signature)
            );
        }
    }

    #[test]
    fn an_earlier_bad_signature_wins_over_a_later_rule_failure() {
        let mut entries = log(10);
        flip_signature(&mut entries[5]);
        // Entry 12 repeats entry 4's lot: the rules refuse the duplicate id.
        let again = entries[4].clone();
        entries.truncate(12);
        entries.push(again);
        assert_eq!(
            rejected(replay(&entries, Signatures::Batched)),
            (5, Part::Signature)
        );
        entries[5] = log(10)[5].clone();
        assert_eq!(
            rejected(replay(&entries, Signatures::Batched)),
            (12, Part::Rule)
        );
    }

    #[test]
    fn an_unregistered_signer_is_a_signature_fault_not_a_rule() {
        let mut entries = log(1);
        let stranger = signer(9);
        let lot = PrimaryLot::new(1_000_000, "CL", "Codelco");
        entries.push(sign(&stranger, EventBody::RegisterPrimaryLot(lot)));
        let r = replay(&entries, Signatures::Batched);
        assert!(
            matches!(
                r,
                Err(ReplayError::Rejected {
                    index: 4,
                    fault: Fault::UnknownSigner(_)
                })
            ),
            "{r:?}"
        );
    }

    #[test]
    fn garbage_is_an_entry_fault() {
        let mut entries = log(1);
        entries.push(vec![0xff; 40]);
        assert_eq!(
            rejected(replay(&entries, Signatures::Each)),
            (4, Part::Entry)
        );
    }

    #[test]
    fn the_clock_bound_refuses_events_from_the_future() {
        let entries = log(0);
        let mut r = Replayer::new(MemoryState::new(), Signatures::Each).not_after(1_000);
        let e = r.entry(0, &entries[0]).unwrap_err();
        assert!(
            matches!(
                e,
                ReplayError::Rejected {
                    fault: Fault::FromTheFuture { .. },
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn an_entry_signed_for_another_log_is_refused_naming_both_logs() {
        let mut entries = log(1);
        let refiner = signer(2);
        let lot = PrimaryLot::new(1_000_000, "CL", "Codelco");
        entries.push(sign_for(
            &refiner,
            "other.example/log",
            EventBody::RegisterPrimaryLot(lot),
        ));
        for mode in [Signatures::Each, Signatures::Batched] {
            let Err(ReplayError::Rejected { index: 4, fault }) = replay(&entries, mode) else {
                panic!("not refused at entry 4");
            };
            let Fault::WrongLog {
                entry_log,
                this_log,
            } = &fault
            else {
                panic!("{fault:?}");
            };
            assert_eq!(
                (entry_log.as_str(), this_log.as_str()),
                ("other.example/log", ORIGIN)
            );
            assert_eq!(fault.part(), Part::Entry);
            let text = fault.to_string();
            assert!(
                text.contains("other.example/log") && text.contains(ORIGIN),
                "{text}"
            );
        }
    }

    #[test]
    fn a_genesis_signed_for_another_log_than_it_names_is_refused() {
        let op = signer(1);
        let genesis = sign_for(
            &op,
            "other.example/log",
            EventBody::Genesis(Genesis::new(
                ORIGIN,
                RegisterActor {
                    name: "Operator".into(),
                    country: "CN".into(),
                    public_key: public(&op),
                },
                public(&op),
            )),
        );
        let r = replay(&[genesis], Signatures::Each);
        assert!(
            matches!(
                &r,
                Err(ReplayError::Rejected {
                    index: 0,
                    fault: Fault::WrongLog { entry_log, this_log },
                }) if entry_log == "other.example/log" && this_log == ORIGIN
            ),
            "{r:?}"
        );
    }

    #[test]
    fn a_replay_over_a_state_with_a_genesis_knows_its_log() {
        // Ingest replays one entry over the stored state: the log's origin
        // comes from the genesis record, not from a replayed entry 0.
        let entries = log(0);
        let state = replay(&entries, Signatures::Each).unwrap();
        let lot = PrimaryLot::new(1_000_000, "CL", "Codelco");
        let bad = sign_for(
            &signer(2),
            "other.example/log",
            EventBody::RegisterPrimaryLot(lot),
        );
        let mut r = Replayer::new(state, Signatures::Each);
        let e = r.entry(3, &bad).unwrap_err();
        assert!(
            matches!(
                e,
                ReplayError::Rejected {
                    index: 3,
                    fault: Fault::WrongLog { .. }
                }
            ),
            "{e:?}"
        );
    }
}
