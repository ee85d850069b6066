//! The ledger's one error type. Its [`Error::code`] is the wire code that
//! the node's JSON error bodies carry; the node maps kinds to HTTP statuses.

use passport_schema::RuleViolation;

use crate::verify::Fault;
use crate::view_check::ViewMismatchKind;

/// Everything the ledger can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request body is larger than the configured limit.
    #[error("body of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The entry is not a well-formed, canonical COSE_Sign1 envelope.
    #[error("bad entry encoding: {0}")]
    BadEntry(ledger::Error),
    /// The payload is not a canonical event.
    #[error("bad payload: {0}")]
    BadPayload(passport_schema::Error),
    /// The entry was signed for another log (its signed `cupass-log`
    /// header names another origin): a verdict on the entry, never retried.
    #[error("wrong log: the entry was signed for the log {entry_log:?}, not this log {this_log:?}")]
    WrongLog {
        /// The origin the entry's header names.
        entry_log: String,
        /// This log's origin.
        this_log: String,
    },
    /// The signature does not verify against the signer's registered key.
    #[error("bad signature: {0}")]
    BadSignature(ledger::Error),
    /// The signer's kid is not a registered actor.
    #[error("unknown signer {0}: register the key with the operator first")]
    UnknownSigner(String),
    /// The signer is known but may not sign this (revoked key, missing role).
    #[error("forbidden: {0}")]
    Forbidden(RuleViolation),
    /// The event breaks a ledger rule.
    #[error("rule violation: {0}")]
    Rule(RuleViolation),
    /// The event is dated too far in the future.
    #[error(
        "event time {occurred_ms} ms is more than {skew_ms} ms ahead of the node clock {now_ms} ms"
    )]
    FromTheFuture {
        /// The event's time.
        occurred_ms: i64,
        /// The node's clock.
        now_ms: i64,
        /// The allowed skew.
        skew_ms: i64,
    },
    /// A requested entry, view or proof does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A request parameter is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The ledger failed underneath (storage, proof generation).
    #[error("ledger: {0}")]
    Ledger(ledger::Error),
    /// The derived state failed underneath.
    #[error("state: {0}")]
    State(String),
    /// The store does not match its signed checkpoint: it was edited or
    /// damaged, and nothing is served from it.
    #[error("the store does not match its signed checkpoint ({0}); refusing to serve it")]
    StoreMismatch(String),
    /// The store is behind, or differs from, the last tree the log signed:
    /// an older copy was restored. Nothing is served from it.
    #[error("{0}")]
    RolledBack(String),
    /// A stored view record is not what the log's entries derive: the
    /// store was edited or damaged (found by the start-up replay,
    /// [`crate::view_check`]), and nothing is served from it.
    #[error(
        "view record {key} {} (edited or damaged store); refusing to open",
        kind.describe()
    )]
    ViewMismatch {
        /// The record: its kind's prefix and its id (uuid, hex or number).
        key: String,
        /// Changed, missing or extra.
        kind: ViewMismatchKind,
    },
    /// An authenticated entry of the log does not decode or pass the rules
    /// when the log is replayed at start-up: the log itself is inconsistent.
    #[error(
        "entry {index} of the log does not pass the rules on replay ({reason}); refusing to open"
    )]
    LogDoesNotReplay {
        /// The entry's index.
        index: u64,
        /// Why it fails.
        reason: String,
    },
    /// A configuration or key file problem.
    #[error("configuration: {0}")]
    Config(String),
    /// An I/O failure outside the store (key files, listening socket).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The node is shutting down and takes no new entries.
    #[error("the node is shutting down")]
    ShuttingDown,
}

impl Error {
    /// A short, stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::BadEntry(_) => "bad_entry",
            Error::BadPayload(_) => "bad_payload",
            Error::WrongLog { .. } => "wrong_log",
            Error::BadSignature(_) => "bad_signature",
            Error::UnknownSigner(_) => "unknown_signer",
            Error::Forbidden(v) | Error::Rule(v) => v.code(),
            Error::FromTheFuture { .. } => "from_the_future",
            Error::NotFound(_) => "not_found",
            Error::BadRequest(_) => "bad_request",
            Error::Ledger(_) | Error::State(_) | Error::Io(_) => "internal",
            Error::Config(_) => "config",
            Error::StoreMismatch(_) => "store_mismatch",
            Error::RolledBack(_) => "rolled_back",
            Error::ViewMismatch { .. } => "view_mismatch",
            Error::LogDoesNotReplay { .. } => "log_does_not_replay",
            Error::ShuttingDown => "shutting_down",
        }
    }

    /// Sorts a rule violation into "not allowed to sign this" and "breaks a rule".
    pub fn from_violation(v: RuleViolation) -> Error {
        match v {
            RuleViolation::UnknownSigner { kid } => Error::UnknownSigner(kid.to_string()),
            RuleViolation::SignerRevoked { .. }
            | RuleViolation::RoleNotPermitted { .. }
            | RuleViolation::GenesisSignerMismatch { .. } => Error::Forbidden(v),
            other => Error::Rule(other),
        }
    }
}

impl Error {
    /// The ingest error for an entry the verifier refused.
    pub fn from_fault(fault: Fault, now_ms: i64, skew_ms: i64) -> Error {
        match fault {
            Fault::Envelope(ledger::Error::EntryTooLarge { size, limit }) => {
                Error::TooLarge { size, limit }
            }
            Fault::Envelope(e) => Error::BadEntry(e),
            Fault::Payload(e) => Error::BadPayload(e),
            Fault::FromTheFuture { occurred_ms, .. } => Error::FromTheFuture {
                occurred_ms,
                now_ms,
                skew_ms,
            },
            Fault::WrongLog {
                entry_log,
                this_log,
            } => Error::WrongLog {
                entry_log,
                this_log,
            },
            Fault::UnknownSigner(kid) => Error::UnknownSigner(kid),
            Fault::Signature(e) => Error::BadSignature(e),
            Fault::Rule(v) => Error::from_violation(v),
            // Ingest never tracks the map (submitters cannot write status entries).
            f @ Fault::StatusRoot { .. } => Error::BadRequest(f.to_string()),
        }
    }
}

impl From<passport_schema::ApplyError> for Error {
    fn from(e: passport_schema::ApplyError) -> Self {
        match e {
            passport_schema::ApplyError::Rule(v) => Error::from_violation(v),
            passport_schema::ApplyError::State(s) => Error::from(s),
            other => Error::State(other.to_string()),
        }
    }
}

impl From<ledger::Error> for Error {
    fn from(e: ledger::Error) -> Self {
        match e {
            ledger::Error::OutOfRange(m) => Error::NotFound(m),
            other => Error::Ledger(other),
        }
    }
}

impl From<passport_schema::StateError> for Error {
    fn from(e: passport_schema::StateError) -> Self {
        Error::State(e.to_string())
    }
}

impl From<passport_schema::Error> for Error {
    fn from(e: passport_schema::Error) -> Self {
        match e {
            passport_schema::Error::NotFound { .. } => Error::NotFound(e.to_string()),
            passport_schema::Error::Rule(v) => Error::from_violation(v),
            other => Error::State(other.to_string()),
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
