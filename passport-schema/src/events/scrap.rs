//! Scrap intake, grading rule sets and grading.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::RuleSetRef;
use crate::bytes::Bytes32;

/// Declared origin class of scrap without passports (ISO 14021 sense).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScrapOrigin {
    /// Post-consumer (end-of-life products). Counts as recycled.
    PostConsumer,
    /// Pre-consumer (another company's process scrap). Counts as recycled.
    PreConsumer,
    /// Home scrap (own process scrap). Does not count as recycled.
    Home,
}

/// Who delivered the scrap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// Supplier name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Key id, if the supplier is a registered actor (required for take-backs).
    pub kid: Option<Bytes32>,
}

/// Receives a scrap lot. With `contract` set it is a take-back under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapReceipt {
    /// New scrap lot id.
    pub id: Uuid,
    /// Gross weight in grams.
    pub gross_g: u64,
    /// Tare in grams.
    pub tare_g: u64,
    /// Net = gross - tare, in grams.
    pub net_g: u64,
    /// Supplier.
    pub supplier: Supplier,
    /// End-of-life passports the recycler owns that this scrap comes from.
    pub source_passports: Vec<Uuid>,
    /// Origin class (must be `post_consumer` when passports are given).
    pub origin_class: ScrapOrigin,
    /// Contract this take-back is made under, if any.
    pub contract: Option<Uuid>,
    /// The supplier's [`DispatchScrap`] this receipt takes in. Required
    /// when the supplier is a registered actor (`supplier.kid`) and for
    /// every take-back.
    pub dispatch: Option<Uuid>,
    /// SHA-256 of off-ledger evidence (weighbridge ticket, invoice).
    /// Required when the supplier is not registered (a *declared* receipt).
    pub evidence: Vec<Bytes32>,
}

/// Dispatches scrap to a named receiver; signed by the supplier. The
/// receiver's [`ScrapReceipt`] names it, so custody changes only with both
/// signatures. With `contract` set it is the customer's take-back dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchScrap {
    /// New dispatch id.
    pub id: Uuid,
    /// The receiver's key id.
    pub to: Bytes32,
    /// Dispatched net mass, grams.
    pub mass_g: u64,
    /// What is dispatched (free text).
    pub description: String,
    /// SHA-256 of off-ledger evidence (delivery note, weighbridge ticket).
    pub evidence: Vec<Bytes32>,
    /// The contract this take-back dispatch is made under, if any.
    pub contract: Option<Uuid>,
}

/// Names the one actor besides the owner who may grade a scrap lot; signed
/// by the lot's owner. A later naming replaces the earlier one; a transfer
/// of the lot ends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameGrader {
    /// The scrap lot.
    pub lot: Uuid,
    /// The grader's key id.
    pub grader: Bytes32,
}

/// Settles a disputed grading: the publisher of the rule set of the lot's
/// first grading picks which of the lot's gradings applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettleGrade {
    /// The scrap lot.
    pub lot: Uuid,
    /// The entry index of the grading that applies.
    pub grading: u64,
    /// Why (free text).
    pub reason: String,
}

/// Visually assessed contaminant classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisualContaminant {
    /// Insulation, plastic, rubber.
    Insulation,
    /// Solder.
    Solder,
    /// Oil, grease.
    Oil,
    /// Enamel or varnish coating.
    Enamel,
    /// Burnt material.
    Burnt,
    /// Paint.
    Paint,
    /// Non-copper attachments (steel, brass fittings).
    Attachments,
}

/// One grade of a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeSpec {
    /// Grade code, e.g. `ISRI:Birch`.
    pub code: String,
    /// Lower is tried first; unique within the set.
    pub precedence: u16,
    /// Description (free text).
    pub description: String,
    /// Nominal Cu ppm (informational).
    pub nominal_cu_ppm: u32,
    /// Minimum Cu ppm (inclusive).
    pub min_cu_ppm: u32,
    /// Maximum ppm per contaminant element (inclusive). A limited element
    /// must be present in the readings.
    pub max_ppm: BTreeMap<String, u32>,
    /// Maximum estimated ppm per visual contaminant (inclusive). A class
    /// not listed here is not allowed at all.
    pub visual_max_ppm: BTreeMap<VisualContaminant, u32>,
}

/// A grading rule set published by a certifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Rule set id (stable across versions).
    pub id: Uuid,
    /// Version: strictly increasing per id.
    pub version: u32,
    /// Name.
    pub name: String,
    /// Free text (status, source, disclaimers).
    pub note: String,
    /// Minimum spots per reading.
    pub min_spots: u16,
    /// Maximum calibration age in days (`null` = 365, i.e. 12 months).
    pub max_calibration_age_days: Option<u32>,
    /// Grades.
    pub grades: Vec<GradeSpec>,
}

/// Analyser type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// X-ray fluorescence.
    Xrf,
    /// Laser-induced breakdown spectroscopy.
    Libs,
    /// Optical emission spectrometry.
    Oes,
}

/// A reading: mean ppm over `spots` measurement spots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    /// Mean ppm by mass.
    pub ppm: u32,
    /// Number of spots measured.
    pub spots: u16,
}

/// Grades a scrap lot. The rules recompute the grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    /// The scrap lot.
    pub lot: Uuid,
    /// Analyser type.
    pub instrument: Instrument,
    /// Analyser serial number.
    pub instrument_serial: String,
    /// Last calibration time (Unix ms).
    pub calibrated_ms: i64,
    /// Readings per element symbol.
    pub readings: BTreeMap<String, Reading>,
    /// Visual contaminant estimates in ppm by mass.
    pub visual_ppm: BTreeMap<VisualContaminant, u32>,
    /// Rule set and version applied.
    pub rule_set: RuleSetRef,
    /// The claimed grade code (`null` = no grade matches, off-grade).
    pub claimed_grade: Option<String>,
}
