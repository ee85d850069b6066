//! The status map the log commits to in every `log_status` entry, and its
//! proofs (issue: status with proof).
//!
//! The map is keyed by SHA-256 of a status record's state key (`cert/` +
//! uuid, `actor/` + kid, `material/` + uuid) and holds SHA-256 of its
//! status leaf ([`passport_schema::status`]); the tree is the `status_map`
//! crate's. The ledger keeps it in memory, updates it once per batch from
//! the batch's view writes, and rebuilds it from the view records on open.

use passport_schema::status::{Status, StatusKey};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use status_map::{MapProof, StatusMap, key_hash, value_hash};

use crate::{Error, Result};

/// The map key of a status key.
pub fn map_key(key: &StatusKey) -> status_map::Hash {
    key_hash(&key.state_key())
}

/// The map changes a set of state writes (`(state key, record)`) makes:
/// one per status record written, the last write to a key winning.
///
/// # Errors
///
/// [`Error::State`] if a written status record does not decode.
pub fn changes<'a>(
    writes: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Vec<(status_map::Hash, Option<status_map::Hash>)>> {
    let mut out = std::collections::BTreeMap::new();
    for (key, record) in writes {
        let Some(sk) = StatusKey::of_state_key(key) else {
            continue;
        };
        let leaf = Status::of_record(&sk, record)
            .and_then(|s| s.to_cbor())
            .map_err(|e| Error::State(format!("view record for {sk} does not decode: {e}")))?;
        out.insert(key_hash(key), Some(value_hash(&leaf)));
    }
    Ok(out.into_iter().collect())
}

/// Builds the map from every status record in a state listing.
///
/// # Errors
///
/// [`Error::State`] if a status record does not decode.
pub fn build<'a>(records: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Result<StatusMap> {
    let leaves = changes(records)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)));
    Ok(StatusMap::from_leaves(leaves))
}

/// One status, proved against a `log_status` entry's root: the state key,
/// the leaf (absent: no such record exists) and the map proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusProof {
    /// The status record's state key (`cert/` + 16-byte uuid, `actor/` +
    /// 32-byte kid, `material/` + 16-byte uuid).
    pub key: ByteBuf,
    /// The status leaf's canonical CBOR, or none for a proof of absence.
    pub leaf: Option<ByteBuf>,
    /// The map proof (`status_map::MapProof` bytes).
    pub proof: ByteBuf,
}

impl StatusProof {
    /// Proves `key`'s current status in `map`, with `leaf` its current leaf.
    pub fn new(map: &StatusMap, key: &StatusKey, leaf: Option<Vec<u8>>) -> StatusProof {
        StatusProof {
            key: ByteBuf::from(key.state_key()),
            leaf: leaf.map(ByteBuf::from),
            proof: ByteBuf::from(map.prove(&map_key(key)).to_bytes()),
        }
    }

    /// Checks the proof against `root` and returns what it proves: the
    /// status key and its status (none: proved absent).
    ///
    /// # Errors
    ///
    /// A message saying what does not hold: an unknown key kind, a leaf
    /// that is not the key's canonical status, or a proof that fails.
    pub fn verify(
        &self,
        root: &status_map::Hash,
    ) -> std::result::Result<(StatusKey, Option<Status>), String> {
        let key = StatusKey::of_state_key(&self.key).ok_or_else(|| {
            format!(
                "status key {} is not a status record",
                hex::encode(&self.key)
            )
        })?;
        let status = self
            .leaf
            .as_ref()
            .map(|l| Status::from_cbor(&key, l))
            .transpose()
            .map_err(|e| format!("{key}: {e}"))?;
        let proof =
            MapProof::from_bytes(&self.proof).map_err(|e| format!("{key}: status proof: {e}"))?;
        let value = self.leaf.as_ref().map(|l| value_hash(l));
        proof
            .verify(root, &map_key(&key), value.as_ref())
            .map_err(|e| format!("{key}: status proof does not verify against the root: {e}"))?;
        Ok((key, status))
    }
}

/// A status with its proof, as the node serves it (`GET /v1/status/...`,
/// CBOR): the signed checkpoint, the `log_status` entry at its last index
/// with its inclusion proof, and the status proof against that entry's root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusAnswer {
    /// The signed checkpoint.
    pub checkpoint: String,
    /// The status commitment: the checkpoint's last entry.
    pub commitment: crate::bundle::BundleEntry,
    /// The status, proved against the commitment's root.
    pub status: StatusProof,
}

/// What a verified [`StatusAnswer`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvedStatus {
    /// About what.
    pub key: StatusKey,
    /// Its status; none: no such record exists (a proof of absence).
    pub status: Option<Status>,
    /// The tree size it holds at.
    pub tree_size: u64,
    /// The log time of the commitment (Unix ms).
    pub as_of_ms: i64,
}

impl StatusAnswer {
    /// Encodes the answer as CBOR.
    ///
    /// # Errors
    ///
    /// [`Error::State`] if encoding fails.
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        cbor4ii::serde::to_vec(Vec::new(), self)
            .map_err(|e| Error::State(format!("encoding status answer: {e}")))
    }

    /// Decodes and verifies an answer with the trusted log key: the
    /// checkpoint's signature, the commitment's inclusion at its last
    /// index, and the status proof against its root.
    ///
    /// # Errors
    ///
    /// A message naming what does not hold.
    pub fn verify(
        bytes: &[u8],
        log_key: &ledger::NoteVerifier,
    ) -> std::result::Result<ProvedStatus, String> {
        let a: StatusAnswer =
            cbor4ii::serde::from_slice(bytes).map_err(|e| format!("not a status answer: {e}"))?;
        let cp = ledger::Checkpoint::open(&a.checkpoint, log_key)
            .map_err(|e| format!("checkpoint: {e}"))?;
        if Some(a.commitment.index) != cp.size.checked_sub(1) {
            return Err(format!(
                "the status commitment is entry {}, not the checkpoint's last entry",
                a.commitment.index
            ));
        }
        let hashes = a
            .commitment
            .proof
            .iter()
            .map(|h| {
                ledger::hash::Hash::try_from(h.as_slice())
                    .map_err(|_| "a proof hash is not 32 bytes".to_string())
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        ledger::merkle::verify_inclusion(
            a.commitment.index,
            cp.size,
            &ledger::hash::leaf_hash(&a.commitment.entry),
            &hashes,
            &cp.root,
        )
        .map_err(|e| format!("status commitment: {e}"))?;
        let entry = ledger::Entry::from_bytes(&a.commitment.entry).map_err(|e| e.to_string())?;
        if *entry.kid() != ledger::keys::kid(log_key.key()) {
            return Err("the status commitment is not signed by the log key".into());
        }
        entry
            .verify(log_key.key())
            .map_err(|e| format!("status commitment: {e}"))?;
        let (root, as_of_ms) = crate::bundle::status_commitment(&a.commitment.entry)
            .ok_or("the checkpoint's last entry is not a log_status entry")?;
        let (key, status) = a.status.verify(&root)?;
        Ok(ProvedStatus {
            key,
            status,
            tree_size: cp.size,
            as_of_ms,
        })
    }
}

impl<S: ledger::Store> crate::PassportLedger<S> {
    /// The current status of `key` with its proof.
    ///
    /// # Errors
    ///
    /// Storage or state errors.
    pub fn status_answer(&self, key: &StatusKey) -> Result<StatusAnswer> {
        let map = self.status_map()?;
        let log = self.log();
        let checkpoint = log.checkpoint()?;
        let size = log.size()?;
        let index = size
            .checked_sub(1)
            .ok_or_else(|| Error::NotFound("the log is empty".into()))?;
        let leaf = Status::current(&self.state(), key)?
            .map(|s| s.to_cbor())
            .transpose()?;
        Ok(StatusAnswer {
            checkpoint,
            commitment: crate::bundle::BundleEntry::at(log, index, size)?,
            status: StatusProof::new(&map, key, leaf),
        })
    }
}

/// Parses a status key from its kind (`certificate`, `key` or `material`;
/// `cert` and `lot` are accepted too) and id (a UUID, or a key id in hex).
///
/// # Errors
///
/// A message for an unknown kind or a malformed id.
pub fn parse_status_key(kind: &str, id: &str) -> std::result::Result<StatusKey, String> {
    let uuid = || uuid::Uuid::parse_str(id).map_err(|e| format!("{id:?} is not a UUID: {e}"));
    match kind {
        "certificate" | "cert" => Ok(StatusKey::Certificate(uuid()?)),
        "material" | "lot" => Ok(StatusKey::Material(uuid()?)),
        "key" => {
            let bytes = hex::decode(id).map_err(|e| format!("{id:?} is not a hex key id: {e}"))?;
            let kid = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                format!("a key id is 32 bytes (64 hex digits), not {}", bytes.len())
            })?;
            Ok(StatusKey::Key(passport_schema::Bytes32(kid)))
        }
        other => Err(format!(
            "unknown status kind {other:?}: use certificate, key or material"
        )),
    }
}
