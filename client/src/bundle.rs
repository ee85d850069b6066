//! Evidence bundles (DESIGN §2.7): everything an auditor needs to check a
//! certificate or a passport offline, and the offline check itself.
//!
//! A bundle is canonical-enough CBOR (cbor4ii serde, fields in declaration
//! order) of [`EvidenceBundle`]: the log's verifier key, one signed
//! checkpoint, the subject id, and every entry in the subject's provenance
//! with its inclusion proof against that checkpoint. Verification trusts
//! only the key the auditor supplies.

use std::collections::BTreeSet;

use ledger::{Checkpoint, NoteVerifier, Store, hash::leaf_hash, merkle::verify_inclusion};
use passport_schema::status::{Status, StatusKey};
use passport_schema::{
    EventBody, MemoryState, StateStore, certificate_view, decode_canonical, lot_view, provenance,
};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use uuid::Uuid;

use crate::pipeline::PassportLedger;
use crate::status::StatusProof;
use crate::verify::{Part, Replayer, Signatures, Verdict};
use crate::{Error, Result};

/// The format tag written into every bundle.
pub const BUNDLE_FORMAT: &str = "cupass-evidence-bundle/2";

/// One logged entry and its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    /// Index in the log.
    pub index: u64,
    /// The exact COSE_Sign1 bytes.
    pub entry: ByteBuf,
    /// RFC 9162 inclusion proof against the bundle's checkpoint, leaf side first.
    pub proof: Vec<ByteBuf>,
}

/// Evidence for one subject (a certificate, lot or passport id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The log's verifier key string (informative: the auditor supplies the trusted one).
    pub log_key: String,
    /// A signed checkpoint every proof is against.
    pub checkpoint: String,
    /// What the bundle is evidence for.
    pub subject: Uuid,
    /// The provenance entries, in index order, ending with the log's
    /// status commitment (the `log_status` entry at index `size - 1`).
    pub entries: Vec<BundleEntry>,
    /// The current status of the subject and of every key that signed an
    /// entry, proved against that commitment's root.
    pub statuses: Vec<StatusProof>,
}

impl BundleEntry {
    /// Entry `index` of `log` with its inclusion proof in the tree of `size`.
    ///
    /// # Errors
    ///
    /// Storage or proof errors of the log.
    pub fn at<S: Store>(log: &ledger::Log<S>, index: u64, size: u64) -> Result<BundleEntry> {
        let proof = log.inclusion_proof(index, size)?;
        Ok(BundleEntry {
            index,
            entry: ByteBuf::from(log.entry(index)?),
            proof: proof
                .hashes
                .iter()
                .map(|h| ByteBuf::from(h.to_vec()))
                .collect(),
        })
    }
}

impl EvidenceBundle {
    /// The CBOR file form (`.cupass`).
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        cbor4ii::serde::to_vec(Vec::new(), self)
            .map_err(|e| Error::State(format!("encoding bundle: {e}")))
    }

    /// Parses the CBOR file form.
    ///
    /// Only the canonical encoding is a bundle: one that re-encodes to the
    /// same bytes. So a bundle's bytes cannot be varied (indefinite lengths,
    /// long-form integers) while it still verifies.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for bytes that do not decode, or decode but
    /// are not in the canonical encoding.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self> {
        let bundle: EvidenceBundle = cbor4ii::serde::from_slice(bytes)
            .map_err(|e| Error::BadRequest(format!("not an evidence bundle: {e}")))?;
        if bundle.to_cbor()? != bytes {
            return Err(Error::BadRequest(
                "not an evidence bundle: not in the canonical encoding (definite lengths, shortest integers)"
                    .into(),
            ));
        }
        Ok(bundle)
    }
}

impl<S: Store> PassportLedger<S> {
    /// Builds the evidence bundle for `subject` against the current checkpoint.
    pub fn bundle(&self, subject: &Uuid) -> Result<EvidenceBundle> {
        // Held throughout: the map, the state and the checkpoint are of one commit.
        let map = self.status_map()?;
        let state = self.state();
        let mut indices: BTreeSet<u64> = provenance(&state, subject)?;
        let log = self.log();
        let checkpoint = log.checkpoint()?;
        let size = Checkpoint::open(&checkpoint, log.verifier())?.size;
        if let Some(last) = size.checked_sub(1) {
            indices.insert(last);
        }
        let entries = indices
            .into_iter()
            .map(|index| BundleEntry::at(log, index, size))
            .collect::<Result<Vec<_>>>()?;
        let mut keys = signing_keys(&entries, log.verifier());
        if let Some(c) = passport_schema::state::certificate(&state, subject)? {
            keys.insert(StatusKey::Certificate(*subject));
            keys.insert(StatusKey::Material(c.subject));
        } else {
            keys.insert(StatusKey::Material(*subject));
        }
        let statuses = keys
            .iter()
            .map(|k| {
                let leaf = Status::current(&state, k)?
                    .map(|s| s.to_cbor())
                    .transpose()?;
                Ok(StatusProof::new(&map, k, leaf))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(EvidenceBundle {
            format: BUNDLE_FORMAT.into(),
            log_key: log.verifier().to_string(),
            checkpoint,
            subject: *subject,
            entries,
            statuses,
        })
    }
}

/// Verifies a bundle offline with the auditor's trusted log key: the
/// checkpoint, every inclusion proof, then the entries through the one
/// verifier ([`Replayer`]), then the subject's criteria.
pub fn verify_bundle(bytes: &[u8], log_key: &NoteVerifier) -> Verdict {
    let v = Verdict::default();
    match EvidenceBundle::from_cbor(bytes) {
        Ok(b) if b.format == BUNDLE_FORMAT => verify_parsed(&b, log_key, v),
        Ok(b) => v.fail(
            Part::Format,
            None,
            format!("unknown bundle format {:?}", b.format),
        ),
        Err(e) => v.fail(Part::Format, None, e.to_string()),
    }
}

fn verify_parsed(bundle: &EvidenceBundle, log_key: &NoteVerifier, mut v: Verdict) -> Verdict {
    v.subject = Some(bundle.subject);
    // The bundle's own key is only informative, but a bundle that names
    // another log than the trusted one is not evidence about this log.
    // Compared as text: the bundle must carry the canonical spelling (key id
    // in lower case), so that any changed byte of a bundle is caught.
    if bundle.log_key != log_key.to_string() {
        return v.fail(
            Part::Checkpoint,
            None,
            format!(
                "the bundle names the log key {:?}, not the trusted key {log_key}",
                bundle.log_key
            ),
        );
    }
    let cp = match Checkpoint::open(&bundle.checkpoint, log_key) {
        Ok(cp) => cp,
        Err(e) => return v.fail(Part::Checkpoint, None, format!("checkpoint: {e}")),
    };
    v.tree_size = Some(cp.size);
    v.pass(
        Part::Checkpoint,
        format!("signed by {} at tree size {}", log_key.name(), cp.size),
    );
    let mut last = None;
    for e in &bundle.entries {
        if last.is_some_and(|l| e.index <= l) {
            return v.fail(
                Part::Format,
                Some(e.index),
                format!("entry {} is out of order or repeated", e.index),
            );
        }
        last = Some(e.index);
        let hashes: Option<Vec<ledger::hash::Hash>> = e
            .proof
            .iter()
            .map(|h| h.as_slice().try_into().ok())
            .collect();
        let Some(hashes) = hashes else {
            return v.fail(
                Part::Proof,
                Some(e.index),
                format!("entry {}: a proof hash is not 32 bytes", e.index),
            );
        };
        if let Err(err) =
            verify_inclusion(e.index, cp.size, &leaf_hash(&e.entry), &hashes, &cp.root)
        {
            return v.fail(
                Part::Proof,
                Some(e.index),
                format!("entry {}: {err}", e.index),
            );
        }
    }
    v.pass(
        Part::Proof,
        format!(
            "{} inclusion proofs against the checkpoint",
            bundle.entries.len()
        ),
    );
    // Replay exactly these entries.
    let mut replay = Replayer::new(MemoryState::new(), Signatures::Batched);
    let replayed = bundle
        .entries
        .iter()
        .try_for_each(|e| replay.entry(e.index, &e.entry).map(drop))
        .and_then(|()| replay.finish());
    let state = match replayed {
        Ok(state) => state,
        Err(e) => {
            return v
                .rejected(e)
                .unwrap_or_else(|s| Verdict::default().fail(Part::Rule, None, s.to_string()));
        }
    };
    // The entries name their log (the genesis origin, which every entry's
    // header carries); it must be the log whose key signed the checkpoint.
    match passport_schema::state::genesis(&state) {
        Ok(Some(g)) if g.origin == cp.origin => {}
        Ok(Some(g)) => {
            return v.fail(
                Part::Entry,
                Some(0),
                format!(
                    "the entries are of the log {:?}, but the checkpoint is of {:?}",
                    g.origin, cp.origin
                ),
            );
        }
        Ok(None) => {
            return v.fail(
                Part::Entry,
                None,
                "the bundle carries no genesis entry".into(),
            );
        }
        Err(e) => return v.fail(Part::Rule, None, e.to_string()),
    }
    v.entries = bundle.entries.len() as u64;
    v.pass(
        Part::Signature,
        format!(
            "{} signatures by registered, unrevoked keys",
            bundle.entries.len()
        ),
    );
    v.pass(Part::Rule, "every entry passes the rules on replay".into());
    let v = match statuses(bundle, cp.size, log_key, &state, v) {
        Ok(v) => v,
        Err(v) => return v,
    };
    criteria(&state, bundle.subject, v)
}

/// The status keys of every key that signed one of `entries`, but the log's
/// own: the keys whose status a bundle must prove.
fn signing_keys(entries: &[BundleEntry], log_key: &NoteVerifier) -> BTreeSet<StatusKey> {
    let log_kid = ledger::keys::kid(log_key.key());
    entries
        .iter()
        .filter_map(|e| ledger::Entry::from_bytes(&e.entry).ok())
        .map(|e| *e.kid())
        .filter(|kid| *kid != log_kid)
        .map(|kid| StatusKey::Key(passport_schema::Bytes32(kid)))
        .collect()
}

/// The root and log time of the `log_status` entry at `index`, if the
/// bundle carries one there.
pub fn status_commitment(entry: &[u8]) -> Option<(status_map::Hash, i64)> {
    let e = ledger::Entry::from_bytes(entry).ok()?;
    let event = decode_canonical(e.payload()).ok()?;
    match event.body {
        EventBody::LogStatus(s) => Some((s.status_root.0, event.occurred_ms)),
        _ => None,
    }
}

/// Checks the bundle's status proofs against its status commitment and
/// compares what they prove with what the replayed entries derive: a left
/// out revocation (of the certificate or of a signing key) is caught here.
fn statuses(
    bundle: &EvidenceBundle,
    size: u64,
    log_key: &NoteVerifier,
    state: &MemoryState,
    mut v: Verdict,
) -> std::result::Result<Verdict, Verdict> {
    let last = size.checked_sub(1);
    let Some((root, as_of)) = bundle
        .entries
        .last()
        .filter(|e| Some(e.index) == last)
        .and_then(|e| status_commitment(&e.entry))
    else {
        return Err(v.fail(
            Part::Status,
            last,
            format!(
                "the bundle carries no status commitment: its last entry must be the log_status entry at index {}",
                last.unwrap_or(0)
            ),
        ));
    };
    v.as_of_ms = Some(as_of);
    let proved = match prove_all(&bundle.statuses, &root) {
        Ok(p) => p,
        Err(e) => return Err(v.fail(Part::Status, None, e)),
    };
    // What must be proved: the certificate, and every key that signed.
    let mut required = signing_keys(&bundle.entries, log_key);
    if passport_schema::state::certificate(state, &bundle.subject)
        .ok()
        .flatten()
        .is_some()
    {
        required.insert(StatusKey::Certificate(bundle.subject));
    }
    for k in &required {
        if !proved.iter().any(|(p, _)| p == k) {
            return Err(v.fail(
                Part::Status,
                None,
                format!("the bundle carries no status proof for {k}"),
            ));
        }
    }
    for (key, committed) in &proved {
        if matches!(key, StatusKey::Material(_)) {
            // A material changes with entries outside the subject's
            // provenance (transfers, later melts): proved, not compared.
            continue;
        }
        let derived = match Status::current(state, key) {
            Ok(d) => d,
            Err(e) => return Err(v.fail(Part::Status, None, format!("{key}: {e}"))),
        };
        if let Some(problem) = compare(key, committed.as_ref(), derived.as_ref()) {
            return Err(v.fail(Part::Status, problem.1, problem.0));
        }
    }
    v.pass(
        Part::Status,
        format!(
            "{} statuses proved against the status commitment at entry {} and equal to the replay",
            proved.len(),
            last.unwrap_or(0)
        ),
    );
    Ok(v)
}

fn prove_all(
    proofs: &[StatusProof],
    root: &status_map::Hash,
) -> std::result::Result<Vec<(StatusKey, Option<Status>)>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(proofs.len());
    for p in proofs {
        let (key, status) = p.verify(root)?;
        if !seen.insert(key) {
            return Err(format!("two status proofs for {key}"));
        }
        out.push((key, status));
    }
    Ok(out)
}

/// The entry that revoked a certificate or key, if one did.
fn revoked_at(s: &Status) -> Option<u64> {
    match s {
        Status::Certificate(c) => c.revoked_index,
        Status::Key(k) => k.revoked_index,
        Status::Material(_) => None,
    }
}

/// Why a committed status and the replay's disagree, and the entry the
/// bundle left out when it is known.
fn compare(
    key: &StatusKey,
    committed: Option<&Status>,
    derived: Option<&Status>,
) -> Option<(String, Option<u64>)> {
    match (committed, derived) {
        (a, b) if a == b => None,
        (None, Some(_)) => Some((
            format!(
                "{key} is proved absent from the log's status, yet the bundle's entries create it"
            ),
            None,
        )),
        (Some(c), Some(d)) if revoked_at(c).is_some() && revoked_at(d).is_none() => Some((
            format!(
                "REVOKED: {key} was revoked at entry {}; the bundle leaves that entry out",
                revoked_at(c).unwrap_or(0)
            ),
            revoked_at(c),
        )),
        _ => Some((
            format!(
                "{key}: the log's status differs from what the bundle's entries derive (entries are left out)"
            ),
            None,
        )),
    }
}

fn criteria(state: &impl StateStore, subject: Uuid, mut v: Verdict) -> Verdict {
    match certificate_view(state, &subject) {
        Ok(cert) => {
            v.recycled_share_ppm = Some(cert.derived_recycled_share_ppm);
            for c in &cert.criteria {
                let line = format!("{:?}: {}", c.criterion, c.detail);
                if !c.pass {
                    return v.fail(Part::Criterion, None, line);
                }
                v.pass(Part::Criterion, line);
            }
            if !cert.all_criteria_hold {
                return v.fail(Part::Criterion, None, "not every criterion holds".into());
            }
            if !matches!(cert.status, passport_schema::CertificateStatus::Active) {
                return v.fail(
                    Part::Criterion,
                    Some(cert.status_index),
                    format!(
                        "certificate status is {:?} (entry {})",
                        cert.status, cert.status_index
                    ),
                );
            }
            v
        }
        Err(passport_schema::Error::NotFound { .. }) => match lot_view(state, &subject) {
            Ok(lot) => {
                v.recycled_share_ppm = Some(lot.recycled.total_ppm);
                v.pass(
                    Part::Criterion,
                    format!("derived recycled share {} ppm", lot.recycled.total_ppm),
                );
                v
            }
            Err(e) => v.fail(Part::Criterion, None, format!("subject {subject}: {e}")),
        },
        Err(e) => v.fail(Part::Criterion, None, format!("subject {subject}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> EvidenceBundle {
        EvidenceBundle {
            format: BUNDLE_FORMAT.into(),
            log_key: "log".into(),
            checkpoint: "cp".into(),
            subject: Uuid::nil(),
            entries: vec![BundleEntry {
                index: 3,
                entry: ByteBuf::from(vec![1, 2, 3]),
                proof: vec![ByteBuf::from(vec![0; 32])],
            }],
            statuses: Vec::new(),
        }
    }

    #[test]
    fn only_the_canonical_encoding_is_a_bundle() {
        let b = bundle();
        let bytes = b.to_cbor().unwrap();
        assert_eq!(EvidenceBundle::from_cbor(&bytes).unwrap(), b);
        // The same map with an indefinite length: it decodes, but is refused.
        assert_eq!(bytes[0], 0xa6, "a definite map of six fields");
        let mut indefinite = vec![0xbf];
        indefinite.extend_from_slice(&bytes[1..]);
        indefinite.push(0xff);
        let e = EvidenceBundle::from_cbor(&indefinite).unwrap_err();
        assert!(e.to_string().contains("canonical"), "{e}");
        // And a verdict on it names the format.
        let key = ledger::NoteSigner::new(
            "test.example/log",
            ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        )
        .unwrap();
        let v = verify_bundle(&indefinite, key.verifier());
        assert_eq!(v.failure().map(|c| c.part), Some(Part::Format));
    }

    #[test]
    fn entries_of_another_log_name_than_the_checkpoint_fail() {
        use passport_schema::{Event, EventBody, Genesis, RegisterActor};
        // A log whose key is named "test.example/a" holding a genesis (and
        // entries) for "test.example/b": made by hand, past the ledger's
        // own refusal to create one.
        let log_key = ledger::NoteSigner::new(
            "test.example/a",
            ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        )
        .unwrap();
        let op =
            ledger::NoteSigner::new("op", ed25519_dalek::SigningKey::from_bytes(&[8; 32])).unwrap();
        let public =
            |s: &ledger::NoteSigner| passport_schema::Bytes32(*s.verifier().key().as_bytes());
        let genesis = Event::new(
            1_700_000_000_000,
            EventBody::Genesis(Genesis::new(
                "test.example/b",
                RegisterActor {
                    name: "Operator".into(),
                    country: "CN".into(),
                    public_key: public(&op),
                },
                public(&log_key),
            )),
        );
        let entry = crate::sign_event(&op, "test.example/b", &genesis).unwrap();
        let log = ledger::Log::create(ledger::MemoryStore::new(), log_key.clone()).unwrap();
        log.append_batch(&[&entry], Vec::new()).unwrap();
        let b = EvidenceBundle {
            format: BUNDLE_FORMAT.into(),
            log_key: log.verifier().to_string(),
            checkpoint: log.checkpoint().unwrap(),
            subject: Uuid::nil(),
            entries: vec![BundleEntry::at(&log, 0, 1).unwrap()],
            statuses: Vec::new(),
        };
        let v = verify_bundle(&b.to_cbor().unwrap(), log_key.verifier());
        let f = v.failure().unwrap();
        assert_eq!(f.part, Part::Entry, "{}", f.detail);
        assert!(
            f.detail.contains("but the checkpoint is of"),
            "{}",
            f.detail
        );
    }
}
