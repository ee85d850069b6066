//! Grading: averaging analyser spots into readings, the checks the grading
//! rule makes on measurements, and grade recomputation under a rule set.
//!
//! **Averaging** ([`SpotAverager`]): every element's reading is the integer
//! mean of its per-spot values, summed exactly in milli-ppm (thousandths of
//! a ppm). The Cu mean is rounded down (floored): grades set Cu *minimums*,
//! and rounding must never lift a lot onto one. Every other element's mean
//! is rounded half up to whole ppm.
//!
//! **Measurement checks** ([`check_measurements`]): the calibration is not
//! after the grading and not older than the rule set's maximum age
//! ([`DEFAULT_MAX_CALIBRATION_AGE_DAYS`] unless the rule set says
//! otherwise), every reading is a valid element with at least the rule
//! set's `min_spots`, the readings form a valid composition, and the visual
//! estimates are valid ppm. The grading rule runs exactly this function, so
//! a client can refuse a grading the ledger would reject before signing it.
//!
//! **Grades** ([`compute_grade`]): grades are tried in ascending
//! `precedence`; the first that matches applies. A grade matches when Cu ≥
//! `min_cu_ppm`, every limited element is present in the readings and ≤ its
//! maximum (a missing reading cannot prove a limit holds, so it fails), and
//! every visual contaminant estimate is ≤ the grade's limit for that class
//! (classes the grade does not list are limited to 0). No match means
//! off-grade (`None`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DEFAULT_MAX_CALIBRATION_AGE_DAYS;
use crate::error::RuleViolation;
use crate::events::{Composition, GradeSpec, Grading, Reading, RuleSet, VisualContaminant};
use crate::rules::validate::{composition, element, ppm};

/// Milliseconds in a day, for the calibration age.
const DAY_MS: i128 = 86_400_000;

/// Milli-ppm (thousandths of a ppm) in one ppm: the unit per-spot values
/// are given to [`SpotAverager`] in, so that analyser values with up to
/// three decimals in ppm (or seven in mass percent) are summed exactly.
pub const MILLI_PPM_PER_PPM: u64 = 1_000;

/// Why per-spot values cannot be averaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AveragingError {
    /// A name given as an element is not an element symbol.
    #[error("`{name}` is not an element symbol")]
    NotAnElement {
        /// The name.
        name: String,
    },
    /// The same element is given twice.
    #[error("element {element} appears twice")]
    DuplicateElement {
        /// The element.
        element: String,
    },
    /// A spot does not have exactly one value per element.
    #[error("spot {spot} has {values} values for {elements} elements")]
    SpotLength {
        /// The spot's position, from 1.
        spot: u64,
        /// Values given.
        values: usize,
        /// Elements averaged.
        elements: usize,
    },
    /// No spot was added: there is nothing to average.
    #[error("no spots to average")]
    NoSpots,
    /// More spots than a reading can count (65,535).
    #[error("{spots} spots is too many (a reading counts at most {max})", max = u16::MAX)]
    TooManySpots {
        /// Spots added.
        spots: u64,
    },
}

/// Averages per-spot analyser values, element by element, into readings
/// (see the [module docs](self) for the rounding policy). Every spot has a
/// value for every element: a missing value cannot prove a limit holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotAverager {
    elements: Vec<String>,
    sums_milli_ppm: Vec<u128>,
    spots: u64,
}

impl SpotAverager {
    /// An averager for these elements (symbols such as `Cu`, each once),
    /// in the order [`add_spot`](Self::add_spot) gives their values.
    pub fn new<S: Into<String>>(
        elements: impl IntoIterator<Item = S>,
    ) -> Result<Self, AveragingError> {
        let mut names: Vec<String> = Vec::new();
        for e in elements {
            let e = e.into();
            if !crate::rules::validate::is_element(&e) {
                return Err(AveragingError::NotAnElement { name: e });
            }
            if names.contains(&e) {
                return Err(AveragingError::DuplicateElement { element: e });
            }
            names.push(e);
        }
        let sums_milli_ppm = vec![0; names.len()];
        Ok(Self {
            elements: names,
            sums_milli_ppm,
            spots: 0,
        })
    }

    /// The elements, in the order given.
    pub fn elements(&self) -> &[String] {
        &self.elements
    }

    /// Spots added so far.
    pub fn spots(&self) -> u64 {
        self.spots
    }

    /// Adds one spot: one value per element, in milli-ppm
    /// ([`MILLI_PPM_PER_PPM`] per ppm), in the elements' order.
    pub fn add_spot(&mut self, milli_ppm: &[u64]) -> Result<(), AveragingError> {
        if milli_ppm.len() != self.elements.len() {
            return Err(AveragingError::SpotLength {
                spot: self.spots.saturating_add(1),
                values: milli_ppm.len(),
                elements: self.elements.len(),
            });
        }
        for (sum, v) in self.sums_milli_ppm.iter_mut().zip(milli_ppm) {
            *sum = sum.saturating_add(u128::from(*v));
        }
        self.spots = self.spots.saturating_add(1);
        Ok(())
    }

    /// The mean of every element over the spots added: Cu rounded down,
    /// every other element rounded half up, to whole ppm (a mean above
    /// `u32::MAX` ppm, which no valid reading reaches, saturates).
    pub fn finish(&self) -> Result<SpotMeans, AveragingError> {
        if self.spots == 0 {
            return Err(AveragingError::NoSpots);
        }
        let spots = u16::try_from(self.spots)
            .map_err(|_| AveragingError::TooManySpots { spots: self.spots })?;
        let d = u128::from(self.spots) * u128::from(MILLI_PPM_PER_PPM);
        let mean_ppm = self
            .elements
            .iter()
            .zip(&self.sums_milli_ppm)
            .map(|(el, sum)| {
                // Cu floors (never lifted onto a minimum); the rest round half up.
                let mean = if el == "Cu" {
                    sum / d
                } else {
                    sum.saturating_add(d / 2) / d
                };
                (el.clone(), u32::try_from(mean).unwrap_or(u32::MAX))
            })
            .collect();
        Ok(SpotMeans { spots, mean_ppm })
    }
}

/// Per-element means over a number of spots: what a grading's readings are
/// made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotMeans {
    /// Spots every mean is taken over.
    pub spots: u16,
    /// Mean ppm per element (Cu rounded down, the others half up).
    pub mean_ppm: BTreeMap<String, u32>,
}

impl SpotMeans {
    /// As the `readings` of a grading event.
    pub fn readings(&self) -> BTreeMap<String, Reading> {
        self.mean_ppm
            .iter()
            .map(|(e, p)| {
                (
                    e.clone(),
                    Reading {
                        ppm: *p,
                        spots: self.spots,
                    },
                )
            })
            .collect()
    }
}

/// The checks the grading rule makes on `grading`'s measurements under
/// `rule_set`, for a grading at `graded_ms` (the rule passes the later of
/// the event's `occurred_ms` and the log's time, so backdating cannot make
/// a stale calibration pass).
///
/// Returns every violation, at most one per check, in the order the rule
/// checks them (the rule rejects the event with the first):
///
/// 1. the calibration: after the grading ([`RuleViolation::CalibrationInFuture`]),
///    or older than the rule set's `max_calibration_age_days`
///    ([`DEFAULT_MAX_CALIBRATION_AGE_DAYS`] if unset)
///    ([`RuleViolation::StaleCalibration`]);
/// 2. the first reading, in element order, that is not an element symbol or
///    valid ppm ([`RuleViolation::InvalidField`]) or has fewer than the rule
///    set's `min_spots` ([`RuleViolation::TooFewSpots`]);
/// 3. if every reading passed, the readings as a composition, which they
///    become: their sum at most 1,000,000 ppm ([`RuleViolation::InvalidField`]);
/// 4. the first visual estimate above 1,000,000 ppm ([`RuleViolation::InvalidField`]).
///
/// An empty result means the measurements pass. The rule also checks what
/// this function cannot see: the lot, the signer, that the rule set is
/// published, the instrument serial, and that the claimed grade is the one
/// [`compute_grade`] gives.
pub fn check_measurements(
    rule_set: &RuleSet,
    grading: &Grading,
    graded_ms: i64,
) -> Vec<RuleViolation> {
    let mut out = Vec::new();
    if let Err(v) = check_calibration(rule_set, grading.calibrated_ms, graded_ms) {
        out.push(v);
    }
    match check_readings(rule_set, &grading.readings) {
        Err(v) => out.push(v),
        Ok(()) => {
            let measured = Composition {
                elements_ppm: grading
                    .readings
                    .iter()
                    .map(|(k, r)| (k.clone(), r.ppm))
                    .collect(),
            };
            if let Err(v) = composition("readings.composition", &measured) {
                out.push(v);
            }
        }
    }
    if let Some(v) = grading
        .visual_ppm
        .values()
        .find_map(|v| ppm("visual_ppm", *v).err())
    {
        out.push(v);
    }
    out
}

fn check_calibration(
    rule_set: &RuleSet,
    calibrated_ms: i64,
    graded_ms: i64,
) -> Result<(), RuleViolation> {
    if calibrated_ms > graded_ms {
        return Err(RuleViolation::CalibrationInFuture {
            calibrated_ms,
            occurred_ms: graded_ms,
        });
    }
    let max_days = rule_set
        .max_calibration_age_days
        .unwrap_or(DEFAULT_MAX_CALIBRATION_AGE_DAYS);
    let age = i128::from(graded_ms) - i128::from(calibrated_ms);
    if age > i128::from(max_days) * DAY_MS {
        return Err(RuleViolation::StaleCalibration {
            calibrated_ms,
            occurred_ms: graded_ms,
            max_age_days: max_days,
        });
    }
    Ok(())
}

fn check_readings(
    rule_set: &RuleSet,
    readings: &BTreeMap<String, Reading>,
) -> Result<(), RuleViolation> {
    for (el, r) in readings {
        element("readings", el)?;
        ppm("readings.ppm", r.ppm)?;
        if r.spots < rule_set.min_spots {
            return Err(RuleViolation::TooFewSpots {
                element: el.clone(),
                spots: r.spots,
                min: rule_set.min_spots,
            });
        }
    }
    Ok(())
}

/// Why one grade does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Miss {
    /// Cu below the minimum (or not measured).
    Copper {
        /// Measured Cu ppm (0 if absent).
        measured: u32,
        /// Minimum.
        min: u32,
    },
    /// An element above its limit or not measured.
    Element {
        /// Element.
        element: String,
        /// Measured ppm, if measured.
        measured: Option<u32>,
        /// Limit.
        max: u32,
    },
    /// A visual contaminant above its limit.
    Visual {
        /// Class.
        class: VisualContaminant,
        /// Estimated ppm.
        estimated: u32,
        /// Limit.
        max: u32,
    },
}

/// Checks one grade.
pub fn check_grade(
    grade: &GradeSpec,
    readings: &BTreeMap<String, Reading>,
    visual: &BTreeMap<VisualContaminant, u32>,
) -> Result<(), Miss> {
    let cu = readings.get("Cu").map(|r| r.ppm).unwrap_or(0);
    if cu < grade.min_cu_ppm {
        return Err(Miss::Copper {
            measured: cu,
            min: grade.min_cu_ppm,
        });
    }
    for (el, max) in &grade.max_ppm {
        match readings.get(el) {
            Some(r) if r.ppm <= *max => {}
            other => {
                return Err(Miss::Element {
                    element: el.clone(),
                    measured: other.map(|r| r.ppm),
                    max: *max,
                });
            }
        }
    }
    for (class, est) in visual {
        let max = grade.visual_max_ppm.get(class).copied().unwrap_or(0);
        if *est > max {
            return Err(Miss::Visual {
                class: *class,
                estimated: *est,
                max,
            });
        }
    }
    Ok(())
}

/// The grade the readings earn under `rule_set`, or `None` (off-grade).
pub fn compute_grade<'r>(
    rule_set: &'r RuleSet,
    readings: &BTreeMap<String, Reading>,
    visual: &BTreeMap<VisualContaminant, u32>,
) -> Option<&'r GradeSpec> {
    let mut grades: Vec<&GradeSpec> = rule_set.grades.iter().collect();
    grades.sort_by_key(|g| g.precedence);
    grades
        .into_iter()
        .find(|g| check_grade(g, readings, visual).is_ok())
}
