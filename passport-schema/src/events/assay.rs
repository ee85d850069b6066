//! Measured assays: a composition measured by someone other than the
//! material's owner or producer, with the instrument that measured it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::Composition;
use super::scrap::Instrument;
use crate::bytes::Bytes32;

/// A measured composition of one material. It replaces the material's
/// latest composition and marks it as measured, so scheme criteria can
/// require measured values rather than declared ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assay {
    /// The material assayed.
    pub material: Uuid,
    /// Instrument type.
    pub instrument: Instrument,
    /// Instrument serial number.
    pub instrument_serial: String,
    /// Last calibration, Unix ms.
    pub calibrated_ms: i64,
    /// Spots (or samples) measured.
    pub spots: u16,
    /// The measured composition, ppm by mass.
    pub composition: Composition,
    /// SHA-256 of the lab report and spectra (stored off-ledger).
    pub evidence: Vec<Bytes32>,
}
