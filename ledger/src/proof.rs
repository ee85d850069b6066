//! Self-contained proofs, as handed to submitters and auditors (DESIGN §2.6).
//!
//! The JSON form uses standard base64 for hashes, as the test vectors do.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    checkpoint::Checkpoint,
    hash::Hash,
    merkle::{verify_consistency, verify_inclusion},
    note::NoteVerifier,
};

/// Proof that an entry is in the tree a signed checkpoint commits to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Entry index.
    pub index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// RFC 9162 leaf hash of the entry.
    #[serde(with = "b64")]
    pub leaf_hash: Hash,
    /// Audit path, leaf side first.
    #[serde(with = "b64_list")]
    pub hashes: Vec<Hash>,
    /// Root of the tree of `tree_size` entries.
    #[serde(with = "b64")]
    pub root: Hash,
    /// The log's signed checkpoint for `tree_size`. Present when the proof is
    /// for the log's size at the time it was made; a proof for an older size
    /// is checked against a checkpoint the verifier already holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl InclusionProof {
    /// Checks the checkpoint's signature, that it matches `tree_size` and
    /// `root`, and the audit path.
    pub fn verify(&self, log: &NoteVerifier) -> Result<Checkpoint> {
        let note = self.checkpoint.as_deref().ok_or_else(|| {
            Error::BadProof("proof carries no checkpoint to verify against".into())
        })?;
        let cp = Checkpoint::open(note, log)?;
        if cp.size != self.tree_size || cp.root != self.root {
            return Err(Error::BadProof(
                "proof's tree size or root differs from its signed checkpoint".into(),
            ));
        }
        verify_inclusion(
            self.index,
            self.tree_size,
            &self.leaf_hash,
            &self.hashes,
            &self.root,
        )?;
        Ok(cp)
    }

    /// Checks that this proof is for exactly `entry`, then [`Self::verify`].
    pub fn verify_entry(&self, entry: &[u8], log: &NoteVerifier) -> Result<Checkpoint> {
        if crate::hash::leaf_hash(entry) != self.leaf_hash {
            return Err(Error::BadProof(
                "entry does not hash to the proof's leaf hash".into(),
            ));
        }
        self.verify(log)
    }
}

/// Proof that one tree is a prefix of a later one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// Size of the earlier tree.
    pub old_size: u64,
    /// Size of the later tree.
    pub new_size: u64,
    /// Root of the earlier tree.
    #[serde(with = "b64")]
    pub old_root: Hash,
    /// Root of the later tree.
    #[serde(with = "b64")]
    pub new_root: Hash,
    /// The proof hashes.
    #[serde(with = "b64_list")]
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// Verifies the proof. An old size of 0 is trivially consistent.
    pub fn verify(&self) -> Result<()> {
        if self.old_size == 0 {
            return if self.hashes.is_empty() && self.new_size >= self.old_size {
                Ok(())
            } else {
                Err(Error::BadProof(
                    "proof from the empty tree must be empty".into(),
                ))
            };
        }
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.hashes,
            &self.old_root,
            &self.new_root,
        )
    }
}

pub(crate) mod b64 {
    //! Serde for one hash as standard base64.
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::hash::Hash;

    pub(crate) fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(h))
    }

    pub(crate) fn decode(s: &str) -> Result<Hash, String> {
        let raw = STANDARD
            .decode(s)
            .map_err(|e| format!("bad base64 hash: {e}"))?;
        raw.as_slice()
            .try_into()
            .map_err(|_| format!("hash is {} bytes, not 32", raw.len()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        decode(&s).map_err(D::Error::custom)
    }
}

pub(crate) mod b64_list {
    //! Serde for a list of hashes as standard base64 strings.
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};

    use crate::hash::Hash;

    pub(crate) fn serialize<S: Serializer>(hs: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hs.len()))?;
        for h in hs {
            seq.serialize_element(&STANDARD.encode(h))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| super::b64::decode(s).map_err(D::Error::custom))
            .collect()
    }
}
