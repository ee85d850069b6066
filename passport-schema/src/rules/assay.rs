//! Assays: a measured composition, by someone with no stake in the material.

use super::validate::{composition, invalid, text};
use super::{Cx, Tx, load_material, put_material};
use crate::DEFAULT_MAX_CALIBRATION_AGE_DAYS;
use crate::error::{ApplyError, RuleViolation};
use crate::events::Assay;
use crate::state::StateStore;
use crate::state::records::Change;

const DAY_MS: i64 = 86_400_000;

pub(super) fn assay<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &Assay,
) -> Result<(), ApplyError> {
    let mut n = load_material(tx, &e.material)?;
    // The owner and the producer have a stake in the figure: theirs is a
    // declaration, not a measurement.
    if n.owner == cx.signer || n.producer == cx.signer {
        return Err(RuleViolation::AssayNotIndependent {
            material: e.material,
            signer: cx.signer,
        }
        .into());
    }
    if n.remaining_g == 0 {
        return Err(RuleViolation::MaterialExhausted {
            material: e.material,
        }
        .into());
    }
    text("instrument_serial", &e.instrument_serial)?;
    if e.spots == 0 {
        return Err(invalid("spots", "an assay measures at least one spot").into());
    }
    composition("composition", &e.composition)?;
    if e.composition.ppm("Cu").is_none() {
        return Err(invalid("composition", "an assay reports Cu").into());
    }
    // The calibration is judged at the later of the declared time and the
    // log's time, so backdating the assay cannot make it fresh.
    let at = cx.occurred_ms.max(cx.log_ms);
    if e.calibrated_ms > at {
        return Err(RuleViolation::CalibrationInFuture {
            calibrated_ms: e.calibrated_ms,
            occurred_ms: at,
        }
        .into());
    }
    let max_days = DEFAULT_MAX_CALIBRATION_AGE_DAYS;
    if i128::from(at) - i128::from(e.calibrated_ms) > i128::from(max_days) * i128::from(DAY_MS) {
        return Err(RuleViolation::StaleCalibration {
            calibrated_ms: e.calibrated_ms,
            occurred_ms: at,
            max_age_days: max_days,
        }
        .into());
    }
    n.composition = Some(e.composition.clone());
    n.history.push(cx.history(Change::Assayed {
        instrument: e.instrument,
        instrument_serial: e.instrument_serial.clone(),
    }));
    put_material(tx, &n)
}
