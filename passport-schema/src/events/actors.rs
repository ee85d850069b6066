//! Genesis, actor registration, role grants, key revocation.

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes32;
use crate::roles::Role;

/// Registers an organisation and its Ed25519 key. Signed by an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterActor {
    /// Organisation name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// 32-byte Ed25519 public key (weak keys are rejected).
    pub public_key: Bytes32,
}

/// The first entry (index 0): names the log, registers the operator,
/// whose key signs it, and states the log's own time rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The log origin (the checkpoint origin line).
    pub origin: String,
    /// The operator organisation and key.
    pub operator: RegisterActor,
    /// The log's own Ed25519 public key (the checkpoint key): it alone
    /// signs [`LogTime`] entries.
    pub log_key: Bytes32,
    /// How far an event's declared time may lie before the log's time
    /// when it is integrated, in ms ([`DEFAULT_MAX_BACKDATING_MS`] unless
    /// the log says otherwise).
    pub max_backdating_ms: i64,
}

impl Genesis {
    /// A genesis with the default backdating window.
    pub fn new(origin: &str, operator: RegisterActor, log_key: Bytes32) -> Self {
        Genesis {
            origin: origin.to_owned(),
            operator,
            log_key,
            max_backdating_ms: DEFAULT_MAX_BACKDATING_MS,
        }
    }
}

/// The longest backdating window a genesis may state: about two years.
pub const MAX_BACKDATING_LIMIT_MS: i64 = 2 * 366 * 86_400_000;

/// The default backdating window: 72 hours.
pub const DEFAULT_MAX_BACKDATING_MS: i64 = 72 * 60 * 60 * 1000;

/// The log's clock, signed by the log key and written by the sequencer
/// ahead of a batch: every later entry, up to the next one, was integrated
/// at or after this entry's `occurred_ms`. It carries no other data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogTime {}

/// The log's status commitment, signed by the log key and written by the
/// sequencer as the last entry of every batch: `status_root` is the root of
/// the status map (see [`crate::status`]) over the state after every entry
/// before this one. Verifiers check a status proof against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogStatus {
    /// The entries it covers: its own index (so no two are alike).
    pub covers: u64,
    /// Root of the status map (JMT hashing over SHA-256).
    pub status_root: Bytes32,
}

/// Grants a role to a registered actor. Signed by an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRole {
    /// The actor's key id.
    pub actor: Bytes32,
    /// The role granted.
    pub role: Role,
}

/// Revokes an actor's key: later entries it signs are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeKey {
    /// The actor's key id.
    pub actor: Bytes32,
    /// Why (free text).
    pub reason: String,
}
