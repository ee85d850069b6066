//! The grading policy a client runs before signing: spot averaging and
//! the measurement checks, which are the grading rule's own.

use std::collections::BTreeMap;

use passport_schema::grading::{
    AveragingError, MILLI_PPM_PER_PPM, SpotAverager, SpotMeans, check_measurements, compute_grade,
};
use passport_schema::*;

use crate::common::*;
use crate::rejections::W;

/// Means of `rows` (milli-ppm) for `elements`.
fn means(elements: &[&str], rows: &[&[u64]]) -> Result<SpotMeans, AveragingError> {
    let mut a = SpotAverager::new(elements.iter().copied())?;
    for r in rows {
        a.add_spot(r)?;
    }
    a.finish()
}

/// Whole ppm as milli-ppm.
fn milli(ppm: u64) -> u64 {
    ppm * MILLI_PPM_PER_PPM
}

#[test]
fn averages_spots_exactly() {
    // (99.52 + 99.48 + 99.55 + 99.50 + 99.53) / 5 = 99.516 % = 995,160 ppm;
    // (0.015 + 0.012 + 0.014 + 0.016 + 0.013) / 5 = 0.014 % = 140 ppm
    // (1 % = 10,000 ppm).
    let cu = [995_200, 994_800, 995_500, 995_000, 995_300];
    let pb = [150, 120, 140, 160, 130];
    let rows: Vec<[u64; 2]> = cu
        .iter()
        .zip(pb)
        .map(|(c, p)| [milli(*c), milli(p)])
        .collect();
    let rows: Vec<&[u64]> = rows.iter().map(|r| &r[..]).collect();
    let m = means(&["Cu", "Pb"], &rows).unwrap();
    assert_eq!(m.spots, 5);
    assert_eq!(m.mean_ppm["Cu"], 995_160);
    assert_eq!(m.mean_ppm["Pb"], 140);
    assert_eq!(
        m.readings()["Cu"],
        Reading {
            ppm: 995_160,
            spots: 5
        }
    );
    // ppm with decimals: 995,000.5 and 995,001 average 995,000.75.
    let m = means(
        &["Cu", "Sn"],
        &[&[995_000_500, 12_000], &[995_001_000, 13_000]],
    )
    .unwrap();
    assert_eq!(m.mean_ppm["Cu"], 995_000); // Cu is floored
    assert_eq!(m.mean_ppm["Sn"], 13); // 12.5 rounds up
}

#[test]
fn cu_mean_is_floored_never_lifted_onto_a_minimum() {
    // 999,899.5 ppm would round half up onto a 999,900 minimum.
    let m = means(
        &["Cu", "Sn"],
        &[&[999_899_000, 1_000], &[999_900_000, 2_000]],
    )
    .unwrap();
    assert_eq!(m.mean_ppm["Cu"], 999_899);
    assert_eq!(m.mean_ppm["Sn"], 2); // 1.5: the other elements round half up
    // A mean just below a whole ppm stays below it.
    let m = means(&["Cu"], &[&[1_999], &[1_999], &[1_999]]).unwrap();
    assert_eq!(m.mean_ppm["Cu"], 1);
    // Just below a half stays down for the others too.
    let m = means(&["Sn"], &[&[1_499]]).unwrap();
    assert_eq!(m.mean_ppm["Sn"], 1);
}

#[test]
fn averaging_refuses_what_it_cannot_average() {
    assert_eq!(means(&["Cu"], &[]), Err(AveragingError::NoSpots));
    assert_eq!(
        SpotAverager::new(["Cu", "Cu"]),
        Err(AveragingError::DuplicateElement {
            element: "Cu".into()
        })
    );
    assert_eq!(
        SpotAverager::new(["CU"]),
        Err(AveragingError::NotAnElement { name: "CU".into() })
    );
    assert_eq!(
        means(&["Cu", "Sn"], &[&[1, 2], &[1]]),
        Err(AveragingError::SpotLength {
            spot: 2,
            values: 1,
            elements: 2
        })
    );
    let mut a = SpotAverager::new(["Cu"]).unwrap();
    for _ in 0..u16::MAX {
        a.add_spot(&[995_000_000]).unwrap();
    }
    assert_eq!(a.finish().unwrap().spots, u16::MAX);
    a.add_spot(&[995_000_000]).unwrap();
    assert_eq!(a.spots(), 65_536);
    assert_eq!(
        a.finish(),
        Err(AveragingError::TooManySpots { spots: 65_536 })
    );
    // Huge values neither overflow nor panic.
    let m = means(&["Sn"], &[&[u64::MAX], &[u64::MAX]]).unwrap();
    assert_eq!(m.mean_ppm["Sn"], u32::MAX);
}

/// A grading of the fresh scrap lot that claims what its readings give.
fn claiming(mut g: Grading) -> Grading {
    let rs = isri();
    g.claimed_grade = compute_grade(&rs, &g.readings, &g.visual_ppm).map(|s| s.code.clone());
    g
}

#[test]
fn check_measurements_is_what_the_grading_rule_checks() {
    let w = W::new();
    let now = w.l.now;
    let good = || berry(w.fresh, isri_ref(), now - DAY);
    let cases: Vec<(&str, Grading, usize)> = vec![
        ("good", good().build(), 0),
        (
            "calibrated exactly 365 days before",
            berry(w.fresh, isri_ref(), now - 365 * DAY).build(),
            0,
        ),
        (
            "stale",
            berry(w.fresh, isri_ref(), now - 365 * DAY - 1).build(),
            1,
        ),
        ("future", berry(w.fresh, isri_ref(), now + 1).build(), 1),
        ("too few spots", good().reading("Cu", 995_000, 2).build(), 1),
        ("not an element", good().reading("cu", 1, 5).build(), 1),
        (
            "reading above 100 %",
            good().reading("Ni", 1_000_001, 5).build(),
            1,
        ),
        (
            "sum above 100 %",
            good().reading("Ni", 10_000, 5).build(),
            1,
        ),
        (
            "visual above 100 %",
            good().visual(VisualContaminant::Paint, 1_000_001).build(),
            1,
        ),
        (
            "stale, too few spots and a bad visual estimate",
            berry(w.fresh, isri_ref(), now - 400 * DAY)
                .reading("Sn", 200, 1)
                .visual(VisualContaminant::Paint, 2_000_000)
                .build(),
            3,
        ),
    ];
    for (name, g, n) in cases {
        let g = claiming(g);
        let found = check_measurements(&isri(), &g, now);
        assert_eq!(found.len(), n, "{name}: {found:?}");
        // The rule rejects with the first, or accepts when there is none.
        match (found.first(), w.l.check(&w.r, g.clone())) {
            (None, Ok(_)) => {}
            (Some(v), Err(e)) => assert_eq!(v, &e, "{name}"),
            (f, r) => panic!("{name}: check_measurements gives {f:?}, the rule {r:?}"),
        }
    }
}

#[test]
fn check_measurements_names_each_violation() {
    let g = berry(uuid::Uuid::now_v7(), isri_ref(), T0 - 400 * DAY)
        .reading("Sn", 200, 1)
        .visual(VisualContaminant::Paint, 2_000_000)
        .build();
    let found = check_measurements(&isri(), &g, T0);
    assert!(matches!(
        found.as_slice(),
        [
            RuleViolation::StaleCalibration {
                max_age_days: 365,
                ..
            },
            RuleViolation::TooFewSpots {
                spots: 1,
                min: 3,
                ..
            },
            RuleViolation::InvalidField {
                field: "visual_ppm",
                ..
            },
        ]
    ));
    // A rule set's own maximum age replaces the default.
    let mut rs = isri();
    rs.max_calibration_age_days = Some(30);
    let g = berry(uuid::Uuid::now_v7(), isri_ref(), T0 - 31 * DAY).build();
    assert!(matches!(
        check_measurements(&rs, &g, T0).as_slice(),
        [RuleViolation::StaleCalibration {
            max_age_days: 30,
            ..
        }]
    ));
    let g = berry(uuid::Uuid::now_v7(), isri_ref(), T0 - 30 * DAY).build();
    assert_eq!(check_measurements(&rs, &g, T0), vec![]);
    // Means over the spots become readings the checks accept.
    let m = SpotMeans {
        spots: 3,
        mean_ppm: BTreeMap::from([("Cu".to_owned(), 999_000)]),
    };
    let mut g = g;
    g.readings = m.readings();
    assert_eq!(check_measurements(&rs, &g, T0), vec![]);
}
