//! Analyser readings: the CSV a handheld XRF/LIBS gun exports, averaged
//! per element with integer arithmetic.
//!
//! Format: a header row, then one row per measured spot. An optional
//! `spot` column (any position, any text) labels the spot; the element
//! columns are element symbols (`Cu`, `Sn`, ...). Values are mass percent
//! ([`Unit::Percent`], at most 4 decimals = 1 ppm) or ppm by mass
//! ([`Unit::Ppm`], at most 3 decimals). Anything else in an element column —
//! a blank, `<LOD`, `ND`, a negative number — and any duplicate or unknown
//! column is refused with its row and column: a missing reading cannot
//! prove a limit holds.
//!
//! Columns that real analyser exports carry besides the readings are
//! ignored (their cells are never read), matched case-insensitively:
//! the metadata columns in [`METADATA_COLUMNS`] and per-element
//! uncertainty columns, an element symbol followed by `+/-`, `±`, `Err`,
//! `Error`, `SD` or `Sigma` (`Cu +/-`, `Cu Err`, `Sn±`, `Pb Error`). A
//! `Units` column is the one metadata column that is checked: a cell that
//! names a unit (`%`, `percent`, `ppm`, ...) must agree with the unit the
//! file is read in.
//!
//! Means: the averaging policy is the domain's
//! ([`passport_schema::grading::SpotAverager`]): every value is taken
//! exactly in milli-ppm, every element's mean is rounded half up to whole
//! ppm, except Cu, whose mean is rounded down (floored): grades set Cu
//! *minimums*, and rounding must never lift a lot onto one. This module
//! only reads the CSV.

use std::collections::BTreeMap;

use passport_schema::grading::{AveragingError, MILLI_PPM_PER_PPM, SpotAverager, SpotMeans};
use passport_schema::{Reading, is_element};
use serde::Serialize;

use crate::error::{CliError, Result};

/// Unit of the CSV values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Mass percent (99.52 = 995,200 ppm).
    Percent,
    /// Parts per million by mass.
    Ppm,
}

impl Unit {
    /// Parses `percent` / `%` / `wt%` or `ppm`.
    pub fn parse(s: &str) -> Result<Unit> {
        match s.to_ascii_lowercase().as_str() {
            "percent" | "%" | "wt%" | "pct" => Ok(Unit::Percent),
            "ppm" => Ok(Unit::Ppm),
            _ => Err(CliError::usage(format!("--unit {s:?}: use percent or ppm"))),
        }
    }

    /// (milli-ppm per unit, most decimals allowed, largest value)
    fn scale(self) -> (u64, usize, u64) {
        match self {
            // 1 % = 10,000 ppm.
            Unit::Percent => (10_000 * MILLI_PPM_PER_PPM, 4, 100),
            Unit::Ppm => (MILLI_PPM_PER_PPM, 3, 1_000_000),
        }
    }
}

/// Averaged readings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Averaged {
    /// The unit the file was read in.
    pub unit: Unit,
    /// Number of spots (rows).
    pub spots: u16,
    /// Element columns, in file order.
    pub elements: Vec<String>,
    /// Mean ppm per element (Cu rounded down, the others half up).
    pub mean_ppm: BTreeMap<String, u32>,
}

impl Averaged {
    /// As the `readings` of a grading event.
    pub fn readings(&self) -> BTreeMap<String, Reading> {
        SpotMeans {
            spots: self.spots,
            mean_ppm: self.mean_ppm.clone(),
        }
        .readings()
    }
}

/// Metadata columns of analyser exports that are ignored (case-insensitive).
pub const METADATA_COLUMNS: &[&str] = &[
    "Date", "Time", "Units", "Unit", "Sample", "ID", "Operator", "Mode", "Duration",
];

/// Suffixes that make `<element><suffix>` an uncertainty column (case-insensitive,
/// optional space or `_` between).
const UNCERTAINTY_SUFFIXES: &[&str] = &["+/-", "±", "err", "error", "sd", "sigma"];

fn is_uncertainty(h: &str) -> bool {
    UNCERTAINTY_SUFFIXES.iter().any(|suf| {
        h.len() > suf.len()
            && h.get(h.len() - suf.len()..)
                .is_some_and(|end| end.eq_ignore_ascii_case(suf))
            && h.get(..h.len() - suf.len())
                .is_some_and(|el| is_element(el.trim_end_matches([' ', '_'])))
    })
}

/// A decimal number as milli-ppm, exactly.
fn parse_value(cell: &str, unit: Unit) -> std::result::Result<u64, String> {
    let (scale, max_dec, max) = unit.scale();
    if cell.is_empty() {
        return Err("empty cell".into());
    }
    let (int, frac) = match cell.split_once('.') {
        Some((i, f)) => (i, f),
        None => (cell, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (cell.contains('.') && frac.is_empty()) {
        return Err(format!("{cell:?} is not a non-negative decimal number"));
    }
    if frac.len() > max_dec {
        return Err(format!(
            "{cell:?} has more than {max_dec} decimals (finer than 1 ppm)"
        ));
    }
    let int: u64 = int.parse().map_err(|_| format!("{cell:?} is too large"))?;
    if int > max {
        return Err(format!("{cell:?} exceeds {max}"));
    }
    let mut f: u64 = 0;
    let mut unit_scale = scale;
    for b in frac.bytes() {
        unit_scale /= 10;
        f += u64::from(b - b'0') * unit_scale;
    }
    let v = int * scale + f;
    if v > max * scale {
        return Err(format!("{cell:?} exceeds {max}"));
    }
    Ok(v)
}

/// Parses and averages a readings CSV; `source` names the file in errors.
pub fn parse(text: &str, source: &str, unit: Unit) -> Result<Averaged> {
    let bad = |m: String| CliError::input(format!("{source}: {m}"));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| bad(format!("cannot read the header row: {e}")))?
        .clone();
    let mut spot_col = None;
    let mut units_col = None;
    let mut cols: Vec<(usize, String)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let col = i + 1;
        if h.eq_ignore_ascii_case("spot") {
            if spot_col.is_some() {
                return Err(bad(format!("column {col}: a second `spot` column")));
            }
            spot_col = Some(i);
        } else if METADATA_COLUMNS.iter().any(|m| m.eq_ignore_ascii_case(h)) {
            if h.eq_ignore_ascii_case("units") || h.eq_ignore_ascii_case("unit") {
                units_col = Some(i);
            }
        } else if is_uncertainty(h) {
            // An uncertainty column: ignored.
        } else if is_element(h) {
            if cols.iter().any(|(_, e)| e == h) {
                return Err(bad(format!("column {col} ({h}): element appears twice")));
            }
            cols.push((i, h.to_string()));
        } else {
            return Err(bad(format!(
                "column {col} ({h:?}) is neither `spot`, an element symbol such as Cu or Sn, \
                 a known metadata column ({}) nor an uncertainty column such as \"Cu +/-\"",
                METADATA_COLUMNS.join(", ")
            )));
        }
    }
    if cols.is_empty() {
        return Err(bad("the header names no element columns".into()));
    }
    // The header loop refused duplicates and non-elements: this cannot fail.
    let mut averager =
        SpotAverager::new(cols.iter().map(|(_, e)| e.as_str())).map_err(|e| bad(e.to_string()))?;
    let mut values: Vec<u64> = Vec::with_capacity(cols.len());
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(format!("{e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let spot = spot_col
            .and_then(|i| rec.get(i))
            .map(|s| format!(" (spot {s})"))
            .unwrap_or_default();
        if let Some(u) = units_col {
            let cell = rec.get(u).unwrap_or_default();
            if let Ok(named) = Unit::parse(cell)
                && named != unit
            {
                return Err(bad(format!(
                    "row {line}{spot}, column {} (Units): {cell:?} disagrees with the unit \
                     the file is read in ({unit:?}; see --unit)",
                    u + 1
                )));
            }
        }
        values.clear();
        for (i, el) in &cols {
            let cell = rec.get(*i).unwrap_or_default();
            let v = parse_value(cell, unit)
                .map_err(|m| bad(format!("row {line}{spot}, column {} ({el}): {m}", i + 1)))?;
            values.push(v);
        }
        averager
            .add_spot(&values)
            .map_err(|e| bad(format!("row {line}{spot}: {e}")))?;
    }
    let means = averager.finish().map_err(|e| match e {
        AveragingError::NoSpots => {
            bad("no readings: the file has a header but no spot rows".into())
        }
        AveragingError::TooManySpots { spots } => bad(format!("{spots} spots is too many")),
        other => bad(other.to_string()),
    })?;
    Ok(Averaged {
        unit,
        spots: means.spots,
        elements: cols.into_iter().map(|(_, e)| e).collect(),
        mean_ppm: means.mean_ppm,
    })
}
