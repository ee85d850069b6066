//! Circular performance contracts.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{MaterialKind, RuleSetRef};
use crate::bytes::Bytes32;

/// What may be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialSpec {
    /// Free text.
    pub description: String,
    /// Material kinds that may be delivered.
    pub kinds: Vec<MaterialKind>,
    /// Minimum Cu ppm of every delivery's latest composition.
    pub min_cu_ppm: u32,
}

/// An eligible take-back grade and its price differential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeTerm {
    /// The rule set and version the grade must be earned under.
    pub rule_set: RuleSetRef,
    /// Grade code, e.g. `ISRI:Berry/Candy`.
    pub code: String,
    /// Price differential per tonne (1,000,000 g), minor units of the
    /// contract currency; negative is a discount.
    pub differential_per_tonne_minor: i64,
}

/// The take-back commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeBackTerms {
    /// Minimum eligible taken-back mass as a share of delivered mass, ppm.
    pub min_share_ppm: u32,
    /// Eligible grades (distinct codes).
    pub grades: Vec<GradeTerm>,
    /// ISO 4217 currency code of the differentials.
    pub currency: String,
}

/// Proposed by the producer, who signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractProposal {
    /// New contract id.
    pub id: Uuid,
    /// The customer's key id (must be registered).
    pub customer: Bytes32,
    /// Material specification of deliveries.
    pub spec: MaterialSpec,
    /// Period start (Unix ms, inclusive).
    pub start_ms: i64,
    /// Period end (Unix ms, exclusive).
    pub end_ms: i64,
    /// Take-back commitment.
    pub take_back: TakeBackTerms,
    /// Guaranteed minimum recycled share of every delivery, ppm.
    pub min_recycled_share_ppm: u32,
}

/// Accepted by the customer, who signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractAcceptance {
    /// The contract.
    pub contract: Uuid,
    /// The RFC 9162 leaf hash of the proposal entry accepted,
    /// SHA-256(0x00 || entry bytes): the customer accepts exactly those
    /// signed terms on this log, not whatever else carries the contract id.
    pub proposal: Bytes32,
}
