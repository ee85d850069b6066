//! The crate's one error type.

use crate::hash::Hash;

/// Everything that can go wrong in the ledger crate.
///
/// Each variant names one kind of failure so that callers (the node, the CLI,
/// an auditor) can map it to a status code or a verdict without parsing text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An entry is larger than the 65,535-byte C2SP tiles limit.
    #[error("entry is {size} bytes; the limit is {limit}")]
    EntryTooLarge {
        /// Size of the rejected entry.
        size: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The bytes are not a well-formed COSE_Sign1 entry (truncated, garbage, wrong shape).
    #[error("malformed COSE_Sign1 entry: {0}")]
    MalformedEntry(String),
    /// The entry's CBOR is valid but not in the one canonical form we accept.
    #[error("non-canonical COSE_Sign1 encoding: {0}")]
    NonCanonicalEntry(&'static str),
    /// The CBOR tag is not 18 (COSE_Sign1).
    #[error("wrong CBOR tag {0}; COSE_Sign1 is tag 18")]
    WrongTag(u64),
    /// The protected header names an algorithm other than EdDSA (-8).
    #[error("unsupported COSE algorithm {0}; only EdDSA (-8) is accepted")]
    UnsupportedAlgorithm(i64),
    /// The protected header is missing a field or carries one we do not accept.
    #[error("unsupported COSE protected header: {0}")]
    UnsupportedHeader(String),
    /// The entry's kid does not match the key it is being verified with.
    #[error("entry kid {found} does not match the verifying key's kid {expected}")]
    KidMismatch {
        /// Hex kid from the entry.
        found: String,
        /// Hex kid of the key offered.
        expected: String,
    },
    /// An Ed25519 signature did not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A public key is not a valid Ed25519 point, or is a weak (small-order) key.
    #[error("invalid or weak Ed25519 public key: {0}")]
    WeakKey(String),
    /// An inclusion or consistency proof did not verify.
    #[error("proof verification failed: {0}")]
    BadProof(String),
    /// A proof or tile was requested for indices or sizes that do not exist.
    #[error("out of range: {0}")]
    OutOfRange(String),
    /// A checkpoint body is malformed.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// A signed note is malformed.
    #[error("malformed signed note: {0}")]
    MalformedNote(String),
    /// A signed note carries no signature by the expected key, or a bad one.
    #[error("note signature does not verify: {0}")]
    NoteSignature(String),
    /// A verifier or signer key string is malformed or its key id does not match.
    #[error("malformed key string: {0}")]
    MalformedKey(String),
    /// A new checkpoint would not be consistent with the previous one.
    #[error("refusing to sign an inconsistent checkpoint: {0}")]
    InconsistentCheckpoint(String),
    /// The store's contents do not match what the signed checkpoint commits to.
    #[error("store does not match its signed checkpoint: {0}")]
    StoreMismatch(String),
    /// The store is behind, or differs from, the last tree the log signed
    /// (an older copy was restored, or the signed-head file is missing).
    #[error("refusing a rolled-back store: {0}")]
    RolledBack(String),
    /// A tile or entry bundle is malformed or does not hash to the expected values.
    #[error("bad tile: {0}")]
    BadTile(String),
    /// The storage backend failed (I/O, corruption reported by sled).
    #[error("storage error: {0}")]
    Storage(String),
    /// A cosignature line is malformed, carries a timestamp above 2^63 - 1,
    /// or does not verify.
    #[error("bad cosignature: {0}")]
    BadCosignature(String),
    /// A note carries no cosignature line by the expected cosigner key.
    #[error("no cosignature by {0}")]
    NoCosignature(String),
    /// A C2SP tlog-policy file is malformed or ambiguous.
    #[error("policy line {line}: {reason}")]
    MalformedPolicy {
        /// 1-based line number (for a missing quorum line: the line count).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A C2SP tlog-witness `add-checkpoint` request or response body is malformed.
    #[error("malformed witness message: {0}")]
    MalformedWitnessMessage(String),
    /// A C2SP tlog-proof text is malformed (or truncated), or carries no
    /// extra data where its entry was expected.
    #[error("malformed tlog-proof: {0}")]
    MalformedTlogProof(String),
    /// A checkpoint's witness cosignatures do not meet a policy's quorum.
    #[error("witness quorum not met: {0}")]
    QuorumNotMet(String),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Hex form of a hash, for error messages.
pub(crate) fn hex_hash(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
