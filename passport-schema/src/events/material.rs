//! Material: primary lots, transformations, passports, custody,
//! service history and end of life.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{Composition, MaterialKind, Process};
use crate::bytes::Bytes32;

/// Registers a primary cathode lot (all primary content, one origin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryLot {
    /// New material id.
    pub id: Uuid,
    /// Mass in grams.
    pub mass_g: u64,
    /// ISO 3166-1 alpha-2 country of mining/smelting origin.
    pub origin_country: String,
    /// Supplier name.
    pub supplier: String,
    /// Cathode brand or grade designation, if any.
    pub brand: Option<String>,
    /// Assay, if known.
    pub composition: Option<Composition>,
}

/// One consumed input of a transformation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputUse {
    /// Consumed material.
    pub material: Uuid,
    /// Grams consumed (at most the material's remaining mass).
    pub mass_g: u64,
}

/// One created output of a transformation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// New material id.
    pub id: Uuid,
    /// Kind of the new material (never `primary_cathode`).
    pub kind: MaterialKind,
    /// Mass in grams.
    pub mass_g: u64,
    /// Measured composition, if any.
    pub composition: Option<Composition>,
}

/// Consumes owned inputs and creates outputs. Recycled and origin shares of
/// the outputs are derived by the rules, never declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transformation {
    /// The process.
    pub process: Process,
    /// Consumed inputs (distinct materials).
    pub inputs: Vec<InputUse>,
    /// Created outputs (new, distinct ids).
    pub outputs: Vec<OutputSpec>,
    /// Recorded losses (dross, slag, off-gas) in grams.
    pub losses_g: u64,
    /// Allowed |inputs - outputs - losses| in grams (at most 0.5% of inputs).
    pub tolerance_g: u64,
}

/// Item-level or batch-level passport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// One passport per item.
    Item,
    /// One passport per production batch.
    Batch,
}

/// Declared alloy designation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alloy {
    /// UNS designation, e.g. `C11000`.
    Uns(String),
    /// GB/T designation, e.g. `T2` or `TU1`.
    Gb(String),
}

/// One step of the declared process summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessStep {
    /// The process.
    pub process: Process,
    /// Facility name.
    pub facility: String,
    /// ISO 3166-1 alpha-2 country of the facility.
    pub country: String,
}

/// The standard a carbon footprint was computed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FootprintMethod {
    /// ISO 14067 (carbon footprint of products).
    Iso14067,
    /// WBCSD PACT Pathfinder Framework.
    Pact,
}

/// The life-cycle stages a carbon footprint covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FootprintBoundary {
    /// Raw material extraction to the factory gate.
    CradleToGate,
    /// Raw material extraction to end of life.
    CradleToGrave,
}

/// A declared product carbon footprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarbonFootprint {
    /// g CO2e per kg of product (must be positive).
    pub g_co2e_per_kg: u32,
    /// The method it was computed under.
    pub method: FootprintMethod,
    /// The stages it covers.
    pub boundary: FootprintBoundary,
    /// Whether a third party verified it (declared by the signer).
    pub third_party_verified: bool,
}

impl CarbonFootprint {
    /// An unverified ISO 14067 cradle-to-gate footprint.
    pub fn cradle_to_gate(g_co2e_per_kg: u32) -> Self {
        Self {
            g_co2e_per_kg,
            method: FootprintMethod::Iso14067,
            boundary: FootprintBoundary::CradleToGate,
            third_party_verified: false,
        }
    }
}

/// Issues the passport of an existing product the signer owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassportIssue {
    /// The product.
    pub product: Uuid,
    /// Product name.
    pub name: String,
    /// Model or part number.
    pub model: String,
    /// Serial number (item) or batch number (batch).
    pub serial_or_batch: String,
    /// GS1 Digital Link URI (`https://<host>/01/<GTIN-14>...`), if any.
    pub gs1_digital_link: Option<String>,
    /// Item or batch.
    pub granularity: Granularity,
    /// Declared alloy.
    pub alloy: Alloy,
    /// Declared composition (becomes the product's latest composition).
    pub composition: Composition,
    /// Declared carbon footprint: value, method, boundary, verification.
    pub carbon_footprint: CarbonFootprint,
    /// Electrical conductivity in hundredths of %IACS (10_100 = 101.00 %),
    /// if declared.
    pub conductivity_centi_iacs: Option<u32>,
    /// Declared process steps.
    pub process_summary: Vec<ProcessStep>,
}

/// Transfers a whole material (lot or product) to a new owner. With `contract` set it is a
/// delivery under that contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The material.
    pub material: Uuid,
    /// New owner's key id.
    pub to: Bytes32,
    /// Contract this delivery is made under, if any.
    pub contract: Option<Uuid>,
}

/// Kind of service event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Installation.
    Install,
    /// Inspection.
    Inspect,
    /// Repair.
    Repair,
    /// Refurbishment.
    Refurbish,
    /// Decommissioning.
    Decommission,
}

/// A service history entry on a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEvent {
    /// The product.
    pub product: Uuid,
    /// What was done.
    pub kind: ServiceKind,
    /// Free text.
    pub note: String,
    /// SHA-256 of off-ledger evidence files.
    pub evidence: Vec<Bytes32>,
}

/// Declares a product end of life: it may now feed post-consumer scrap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndOfLife {
    /// The product.
    pub product: Uuid,
    /// Free text.
    pub reason: String,
    /// SHA-256 of off-ledger evidence files.
    pub evidence: Vec<Bytes32>,
}

/// Authorises a service actor to record service entries (install, inspect,
/// repair, refurbish, decommission) on a product, signed by its owner. The
/// latest authorisation of an actor by the current owner counts; a
/// transfer ends every earlier owner's authorisations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAuthorisation {
    /// The product.
    pub product: Uuid,
    /// The authorised service actor's key id.
    pub actor: Bytes32,
    /// End of the authorisation (exclusive), Unix ms UTC; `None` = until
    /// the product changes owner.
    pub until_ms: Option<i64>,
}
