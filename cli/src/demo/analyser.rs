//! The demo's analyser readings: synthetic spot CSVs, graded through the same code as `cupass scrap grade`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use passport_schema::{Instrument, RuleSet, VisualContaminant};
use uuid::Uuid;

use super::recorder::DAY;
use crate::cmd::scrap::{GradeInput, GradePlan, plan_grading};
use crate::error::Result;
use crate::output::Style;
use crate::readings::{self, Unit};

/// Per-element means of an analyser profile, in ppm (1/10,000 %).
pub(super) type Profile = &'static [(&'static str, u64)];

/// A small deterministic generator for analyser spot jitter.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Writes an analyser CSV in mass percent: `base` are per-element values
/// in 1/10,000 % (= ppm), jittered by up to `jitter` ppm per spot.
fn write_csv(path: &Path, seed: u64, base: Profile, jitter: u64, spots: u32) -> Result<()> {
    let mut rng = Lcg(seed);
    let mut s = String::from("spot");
    for (el, _) in base {
        s.push(',');
        s.push_str(el);
    }
    s.push('\n');
    for spot in 1..=spots {
        s.push_str(&spot.to_string());
        for (_, ppm) in base {
            let j = rng.next(2 * jitter + 1);
            let v = (ppm + j).saturating_sub(jitter);
            let _ = write!(s, ",{}.{:04}", v / 10_000, v % 10_000);
        }
        s.push('\n');
    }
    std::fs::write(path, s)?;
    Ok(())
}

/// One lot to grade: what the analyser reads and how the recycler records it.
pub(super) struct Sample {
    /// The scrap lot.
    pub(super) lot: Uuid,
    /// Means the readings scatter around.
    pub(super) profile: Profile,
    /// Visual contaminant estimates, ppm.
    pub(super) visual: BTreeMap<VisualContaminant, u32>,
    /// The analyser.
    pub(super) instrument: Instrument,
    /// Its serial number (also in the CSV's file name).
    pub(super) serial: &'static str,
}

/// How a CSV is generated and the analyser calibrated.
pub(super) struct Run {
    /// Seed of the spot jitter.
    pub(super) seed: u64,
    /// Largest jitter, ppm.
    pub(super) jitter: u64,
    /// Spots per CSV.
    pub(super) spots: u32,
    /// Days between the analyser's calibration and the grading.
    pub(super) calibrated_days_ago: i64,
}

/// What grading one lot from its CSV gave.
pub(super) struct Graded {
    /// The grading to sign (and the refusal, if the rules would refuse it).
    pub(super) plan: GradePlan,
    /// Spots in the CSV.
    pub(super) spots: u16,
    /// Mean copper over the spots, ppm.
    pub(super) cu_ppm: u32,
}

/// Writes `sample`'s analyser CSV to `path`, reads it back as `cupass scrap
/// grade --readings` would, and plans the grading at `at_ms`.
pub(super) fn grade_from_csv(
    path: &Path,
    sample: Sample,
    run: &Run,
    rule_set: &RuleSet,
    at_ms: i64,
    style: &Style,
) -> Result<Graded> {
    write_csv(path, run.seed, sample.profile, run.jitter, run.spots)?;
    let text = std::fs::read_to_string(path)?;
    let averaged = readings::parse(&text, &path.display().to_string(), Unit::Percent)?;
    let plan = plan_grading(
        GradeInput {
            lot: sample.lot,
            rule_set,
            averaged: &averaged,
            instrument: sample.instrument,
            serial: sample.serial,
            calibrated_ms: at_ms - run.calibrated_days_ago * DAY,
            visual: sample.visual,
            at_ms,
            expect: None,
        },
        style,
    );
    Ok(Graded {
        plan,
        spots: averaged.spots,
        cu_ppm: averaged.mean_ppm.get("Cu").copied().unwrap_or(0),
    })
}
