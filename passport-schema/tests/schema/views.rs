//! Every served view round-trips through JSON: a client deserializes what
//! the node and the CLI serialize, into the same types.

use std::fmt::Debug;

use passport_schema::grading::{check_grade, compute_grade};
use passport_schema::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::*;
use crate::lifecycle::story;

/// Serializes `v` to JSON, deserializes it back and checks it is equal.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
    let json = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| {
        panic!(
            "{} does not deserialize: {e}\n{json}",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(&back, v, "{json}");
}

#[test]
fn views_round_trip_through_json() {
    let mut st = story();
    // Revoke the certificate too, so both statuses and a revocation occur.
    st.l.submit(
        &st.x,
        CertificateRevocation {
            certificate: st.cert,
            reason: "audit finding".into(),
        },
    )
    .unwrap();
    // Views built from a replay of the whole log, as an auditor builds them.
    let state = st.l.replay(0..st.l.next_index()).unwrap();

    let pv = passport_view(&state, &st.product).unwrap();
    round_trip(&pv);
    round_trip(&pv.status);
    round_trip(&pv.recycled);
    for h in pv.service_history.iter().chain(&pv.ownership_history) {
        round_trip(h);
    }

    for id in [st.refined_a, st.refined_b, st.post_lot, st.product] {
        let lv = lot_view(&state, &id).unwrap();
        round_trip(&lv);
        round_trip(&lv.creation);
    }
    // A graded scrap lot carries a grade record.
    let post = lot_view(&state, &st.post_lot).unwrap();
    assert!(post.grade.is_some());

    let cv = certificate_view(&state, &st.cert).unwrap();
    assert_eq!(cv.status, CertificateStatus::Revoked);
    assert!(cv.revocation.is_some() && !cv.criteria.is_empty());
    round_trip(&cv);
    round_trip(&cv.status);
    round_trip(&CertificateStatus::Active);
    round_trip(&CertificateSummary {
        id: cv.id,
        status: cv.status,
    });
    for c in &cv.criteria {
        round_trip(c);
        round_trip(&c.criterion);
    }

    let audit = contract_audit(&state, &st.contract).unwrap();
    assert!(!audit.grade_mix.is_empty() && !audit.deliveries.is_empty());
    round_trip(&audit);
    for t in &audit.terms {
        round_trip(t);
        round_trip(&t.term);
    }
    for g in &audit.grade_mix {
        round_trip(g);
    }
    for d in &audit.deliveries {
        round_trip(d);
    }
}

#[test]
fn rule_sets_schemes_and_grade_misses_round_trip_through_json() {
    let st = story();
    let rs = isri();
    round_trip(&rs);
    let cv = certificate_view(&st.l.state, &st.cert).unwrap();
    let scheme = state::scheme(&st.l.state, &cv.scheme.id, cv.scheme.version)
        .unwrap()
        .unwrap()
        .scheme;
    assert!(!scheme.accepted_rule_sets.is_empty());
    round_trip(&scheme);

    // Why each grade does (not) match, as the CLI explains a grading.
    let g = berry(st.post_lot, isri_ref(), T0).build();
    assert!(compute_grade(&rs, &g.readings, &g.visual_ppm).is_some());
    let misses: Vec<_> = rs
        .grades
        .iter()
        .filter_map(|spec| check_grade(spec, &g.readings, &g.visual_ppm).err())
        .collect();
    assert!(!misses.is_empty());
    for m in &misses {
        round_trip(m);
    }
}
