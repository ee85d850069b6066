//! How the demo writes to its ledger: actors with key files, and a recorder that signs, checks and commits batches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use client::PassportLedger;
use client::pipeline::Submission;
use ledger::{NoteSigner, SledStore};
use passport_schema::{Bytes32, Event, EventBody};

use crate::error::{CliError, Result};

/// One day in milliseconds: the recorder's clock moves on by a day after every batch.
pub(super) const DAY: i64 = 86_400_000;

/// A party in the scenario: its registered name, signing key, key id and key file.
pub(super) struct Actor {
    pub(super) name: &'static str,
    pub(super) signer: NoteSigner,
    pub(super) kid: Bytes32,
    pub(super) key_file: PathBuf,
}

impl Actor {
    /// A fresh key for `name`, written to `keys/FILE.key` (and `.key.pub`).
    pub(super) fn new(keys: &Path, name: &'static str, file: &str) -> Result<Self> {
        let key_name = name.replace(char::is_whitespace, "_");
        let signer = NoteSigner::new(&key_name, ledger::keys::generate_signing_key()?)?;
        let key_file = keys.join(format!("{file}.key"));
        client::keyfile::write_key_file(&key_file, &signer)?;
        std::fs::write(
            keys.join(format!("{file}.key.pub")),
            format!("{}\n", signer.verifier()),
        )?;
        let kid = crate::keys::signer_kid(&signer);
        Ok(Actor {
            name,
            signer,
            kid,
            key_file,
        })
    }

    /// The ledger operator, whose key `client::init` wrote into the ledger directory.
    pub(super) fn operator(ledger_dir: &Path, name: &'static str) -> Result<Self> {
        let key_file = client::DataDir(ledger_dir.to_path_buf()).operator_key();
        let signer =
            client::keyfile::read_key_file(&key_file, client::keyfile::Permissions::Strict)?;
        Ok(Actor {
            name,
            kid: crate::keys::signer_kid(&signer),
            signer,
            key_file,
        })
    }
}

/// Signs entries on the scenario's clock and commits them in batches,
/// counting what was appended.
pub(super) struct Recorder<'a> {
    ledger: &'a PassportLedger<SledStore>,
    /// The event time of the next entry (Unix ms).
    pub(super) clock: i64,
    /// Entries appended, by event kind.
    pub(super) counts: BTreeMap<&'static str, u64>,
    /// Batches committed.
    pub(super) batches: u64,
}

impl<'a> Recorder<'a> {
    /// A recorder for a ledger that holds only its genesis entry (one entry,
    /// one batch), with the clock at `start_ms`.
    pub(super) fn new(ledger: &'a PassportLedger<SledStore>, start_ms: i64) -> Self {
        Recorder {
            ledger,
            clock: start_ms,
            counts: BTreeMap::from([("genesis", 1)]),
            batches: 1,
        }
    }

    /// Signs `body` as `who` at the current clock.
    /// The most copper a material can hold, ppm (its composition's Cu,
    /// else the bound it inherited, else 100 %).
    pub(super) fn cu_at_most(&self, id: &uuid::Uuid) -> Result<u32> {
        let v = self.ledger.lot(id)?;
        Ok(v.composition
            .and_then(|c| c.ppm("Cu"))
            .or(v.cu_max_ppm)
            .unwrap_or(1_000_000))
    }

    pub(super) fn sign(&self, who: &Actor, body: EventBody) -> Result<Vec<u8>> {
        Ok(client::sign_event(
            &who.signer,
            &self.ledger.origin()?,
            &Event::new(self.clock, body),
        )?)
    }

    /// The RFC 9162 leaf hash of the entry at `index` (what a contract
    /// acceptance names its proposal by).
    pub(super) fn leaf_hash(&self, index: u64) -> Result<passport_schema::Bytes32> {
        let bytes = self.ledger.log().entry(index)?;
        Ok(passport_schema::Bytes32(ledger::hash::leaf_hash(&bytes)))
    }

    /// Checks every entry against the state before the batch, then commits
    /// them in one durable batch (re-checked in order). Returns the indices.
    pub(super) fn batch(&mut self, items: Vec<(&Actor, EventBody)>) -> Result<Vec<u64>> {
        let mut checked = Vec::with_capacity(items.len());
        let mut kinds = Vec::with_capacity(items.len());
        for (who, body) in items {
            let kind = body.kind().name();
            let bytes = self.sign(who, body)?;
            self.clock += 1_000;
            match self.ledger.check(&bytes, client::now_ms())? {
                Submission::New(c) => checked.push(*c),
                Submission::Duplicate(i) => {
                    return Err(CliError::failed(format!(
                        "demo: {kind} duplicates entry {i}"
                    )));
                }
            }
            kinds.push(kind);
        }
        let results = self.ledger.commit_batch(checked)?;
        let mut out = Vec::with_capacity(results.len());
        for (r, kind) in results.into_iter().zip(kinds) {
            let r = r.map_err(|e| CliError::failed(format!("demo: {kind} refused: {e}")))?;
            *self.counts.entry(kind).or_default() += 1;
            out.push(r.index);
        }
        self.batches += 1;
        self.clock += DAY;
        Ok(out)
    }

    /// A batch of entries all signed by `who`.
    pub(super) fn batch_by(
        &mut self,
        who: &Actor,
        bodies: impl IntoIterator<Item = EventBody>,
    ) -> Result<Vec<u64>> {
        self.batch(bodies.into_iter().map(|b| (who, b)).collect())
    }

    /// A batch of one entry; returns its index.
    pub(super) fn one(&mut self, who: &Actor, body: EventBody) -> Result<u64> {
        let v = self.batch(vec![(who, body)])?;
        v.first()
            .copied()
            .ok_or_else(|| CliError::failed("demo: empty batch"))
    }

    /// Checks `bytes` against the current state without appending anything.
    pub(super) fn check(&self, bytes: &[u8]) -> Result<Submission> {
        Ok(self.ledger.check(bytes, client::now_ms())?)
    }
}
