//! Types shared by several events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Measured or declared elemental composition, ppm by mass per element
/// symbol (`"Cu"`, `"Sn"`, ...). The sum never exceeds 1,000,000.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Composition {
    /// ppm by mass per element symbol.
    pub elements_ppm: BTreeMap<String, u32>,
}

impl Composition {
    /// An empty composition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one element's ppm.
    pub fn with(mut self, element: &str, ppm: u32) -> Self {
        self.elements_ppm.insert(element.to_owned(), ppm);
        self
    }

    /// The ppm of one element, if present.
    pub fn ppm(&self, element: &str) -> Option<u32> {
        self.elements_ppm.get(element).copied()
    }
}

/// What kind of material a lot or product is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    /// Primary copper cathode lot (registered, never produced on-ledger).
    PrimaryCathode,
    /// Scrap lot: received by a recycler, or home scrap from a transformation.
    Scrap,
    /// Intermediate lot: melt, anode, ingot.
    Intermediate,
    /// Refined lot (e.g. cathode or ingot from refining recycled feed).
    Refined,
    /// Semi-finished rod.
    Rod,
    /// Semi-finished foil.
    Foil,
    /// Semi-finished strip.
    Strip,
    /// Semi-finished wire.
    Wire,
    /// A product (may carry a passport).
    Product,
}

/// A transformation process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Process {
    /// Melting.
    Melt,
    /// Fire or electrolytic refining.
    Refine,
    /// Casting.
    Cast,
    /// Rolling (strip, foil).
    Roll,
    /// Drawing (rod, wire).
    Draw,
    /// Annealing.
    Anneal,
    /// Plating.
    Plate,
    /// Assembly into a product.
    Assemble,
    /// Disassembly of a product.
    Disassemble,
}

/// A reference to one published version of a rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetRef {
    /// Rule set id.
    pub id: uuid::Uuid,
    /// Rule set version.
    pub version: u32,
}

/// A reference to one published version of a certification scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeRef {
    /// Scheme id.
    pub id: uuid::Uuid,
    /// Scheme version.
    pub version: u32,
}
