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

/// The first entry (index 0): names the log and registers the operator,
/// whose key signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The log origin (the checkpoint origin line).
    pub origin: String,
    /// The operator organisation and key.
    pub operator: RegisterActor,
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
