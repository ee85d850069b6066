//! Measured, not declared: an independent assay, and schemes that require one.

use passport_schema::*;

use crate::common::*;
use crate::lifecycle::story;

fn assay(material: uuid::Uuid, cu_ppm: u32, calibrated_ms: i64) -> Assay {
    Assay {
        material,
        instrument: Instrument::Oes,
        instrument_serial: "OES-9".into(),
        calibrated_ms,
        spots: 3,
        composition: Composition::new().with("Cu", cu_ppm).with("O", 4),
        evidence: vec![sha256(b"lab report")],
    }
}

#[test]
fn a_scheme_that_requires_measured_values_refuses_a_declared_composition() {
    let mut st = story();
    let op = Actor::from_seed(1);
    let lab = st.l.actor(&op, 40, "Anhui Copper Lab", &[Role::Certifier]);
    let scheme = SchemeBuilder::new("Tongling Measured", 300_000)
        .limit("Cu", Some(999_500), None)
        .accept(isri_ref())
        .require_measured()
        .build();
    let sref = SchemeRef {
        id: scheme.id,
        version: scheme.version,
    };
    st.l.submit(&st.x, scheme).unwrap();
    let lot = lot_view(&st.l.state, &st.refined_b).unwrap();
    let cert = |id| CertificateIssue {
        id,
        scheme: sref,
        subject: st.refined_b,
        claimed_recycled_share_ppm: lot.recycled.total_ppm,
        claimed_mass_g: lot.remaining_g,
    };
    // The refiner declared 99.996 % Cu when it refined the lot.
    let r = st.l.submit(&st.x, cert(uuid::Uuid::now_v7()));
    assert!(
        matches!(
            r,
            Err(RuleViolation::CertificateCriterionFailed {
                criterion: Criterion::Composition,
                ..
            })
        ),
        "{r:?}"
    );
    // An independent lab measures it; now the criterion holds.
    let now = st.l.now;
    st.l.submit(&lab, assay(st.refined_b, 999_960, now - 30 * DAY))
        .unwrap();
    st.l.submit(&st.x, cert(uuid::Uuid::now_v7())).unwrap();
}

#[test]
fn the_producer_cannot_assay_its_own_output() {
    let mut st = story();
    let op = Actor::from_seed(1);
    // The refinery made refined_b: its own figure is a declaration.
    let refinery = Actor::from_seed(2);
    let now = st.l.now;
    let r =
        st.l.submit(&refinery, assay(st.refined_b, 999_999, now - DAY));
    assert!(
        matches!(r, Err(RuleViolation::AssayNotIndependent { .. })),
        "{r:?}"
    );
    let _ = op;
}

#[test]
fn a_backdated_assay_cannot_freshen_a_stale_calibration() {
    let mut st = story();
    let op = Actor::from_seed(1);
    let lab = st.l.actor(&op, 41, "Lab", &[Role::Certifier]);
    // The log's time moves on; the assay is dated two days earlier (inside
    // the backdating window), its calibration 364 days before that date:
    // fresh by the declared time, stale by the log's time.
    let log_now = st.l.now + 10 * DAY;
    st.l.submit_event(&op, Event::new(log_now, LogTime {}))
        .unwrap();
    let dated = log_now - 2 * DAY;
    let ev = Event::new(dated, assay(st.refined_b, 999_960, dated - 364 * DAY));
    let r = st.l.submit_event(&lab, ev);
    assert!(
        matches!(r, Err(RuleViolation::StaleCalibration { .. })),
        "{r:?}"
    );
}
