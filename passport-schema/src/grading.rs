//! Grade recomputation from readings under a rule set.
//!
//! Grades are tried in ascending `precedence`; the first that matches
//! applies. A grade matches when Cu ≥ `min_cu_ppm`, every limited element
//! is present in the readings and ≤ its maximum (a missing reading cannot
//! prove a limit holds, so it fails), and every visual contaminant estimate
//! is ≤ the grade's limit for that class (classes the grade does not list
//! are limited to 0). No match means off-grade (`None`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::{GradeSpec, Reading, RuleSet, VisualContaminant};

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
