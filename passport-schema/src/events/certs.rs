//! "Tongling Recycled" schemes and certificates.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{RuleSetRef, SchemeRef};

/// A composition bound for one element (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositionLimit {
    /// Element symbol.
    pub element: String,
    /// Minimum ppm, if bounded below.
    pub min_ppm: Option<u32>,
    /// Maximum ppm, if bounded above.
    pub max_ppm: Option<u32>,
}

/// A certification scheme published by a certifier. Besides these
/// criteria the producer must hold `refiner` and the chain of custody must
/// be complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// Scheme id (stable across versions).
    pub id: Uuid,
    /// Version: strictly increasing per id.
    pub version: u32,
    /// Name, e.g. "Tongling Recycled".
    pub name: String,
    /// Minimum derived recycled share (pre + post consumer), ppm.
    pub min_recycled_share_ppm: u32,
    /// Composition limits on the subject's latest composition.
    pub composition_limits: Vec<CompositionLimit>,
    /// Rule sets under which scrap inputs must be graded.
    pub accepted_rule_sets: Vec<RuleSetRef>,
    /// Whether the subject's composition must be measured (a grading or
    /// an assay) rather than declared by whoever made it.
    #[serde(default)]
    pub require_measured_composition: bool,
    /// Transition window, days: once this version has been published this
    /// long (log time), certificates may no longer cite an older version.
    pub transition_days: u32,
}

/// Issues a certificate on a lot or passport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateIssue {
    /// New certificate id.
    pub id: Uuid,
    /// Scheme and version.
    pub scheme: SchemeRef,
    /// Certified material (lot or product).
    pub subject: Uuid,
    /// Claimed recycled share, ppm (must not exceed the derived share).
    pub claimed_recycled_share_ppm: u32,
    /// Claimed mass in grams: at most the subject's remaining mass not yet
    /// claimed by another certificate.
    pub claimed_mass_g: u64,
}

/// Revokes a certificate. Its status is its latest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRevocation {
    /// The certificate.
    pub certificate: Uuid,
    /// Why.
    pub reason: String,
}
