//! Issue 11, principles 3 and 5 (and the time checks of principle 4 for
//! them): custody changes need both parties, grades are earned once. Each
//! test plays a party with a valid key and role but no stake, and is named
//! after what it guards.

use passport_schema::*;
use uuid::Uuid;

use crate::common::*;

const T: u64 = 1_000_000;

/// Refiner R (the contract's producer), manufacturer M (its customer),
/// supplier S (registered), recycler C, certifier X (publishes ISRI), a
/// lenient certifier Y (publishes a rule set that reuses an ISRI code), and
/// an accepted take-back contract K whose terms name ISRI.
struct W {
    l: Ledger,
    op: Actor,
    r: Actor,
    m: Actor,
    s: Actor,
    c: Actor,
    x: Actor,
    y: Actor,
    lenient: RuleSetRef,
    k: Uuid,
}

impl W {
    fn new() -> Self {
        let op = Actor::from_seed(1);
        let mut l = Ledger::genesis(&op);
        let r = l.actor(&op, 2, "Refiner", &[Role::Refiner]);
        let m = l.actor(&op, 3, "Manufacturer", &[Role::Manufacturer]);
        let s = l.actor(&op, 4, "Supplier", &[Role::Manufacturer]);
        let c = l.actor(&op, 5, "Recycler", &[Role::Recycler]);
        let x = l.actor(&op, 6, "Certifier", &[Role::Certifier]);
        let y = l.actor(&op, 7, "Lenient certifier", &[Role::Certifier]);
        l.submit(&x, isri()).unwrap();
        let rs = RuleSetBuilder::new("Lenient")
            .min_spots(1)
            .grade("ISRI:Berry/Candy", 0, &[])
            .build();
        let lenient = RuleSetRef {
            id: rs.id,
            version: rs.version,
        };
        l.submit(&y, rs).unwrap();
        let spec = MaterialSpec {
            description: "refined copper".into(),
            kinds: vec![MaterialKind::Refined],
            min_cu_ppm: 999_500,
        };
        let k = ContractBuilder::new(m.kid, spec, T0, T0 + 365 * DAY, "CNY")
            .grade(isri_ref(), "ISRI:Berry/Candy", 30_000)
            .build();
        let kid = k.id;
        l.submit(&r, k).unwrap();
        l.submit(&m, l.acceptance(kid)).unwrap();
        Self {
            l,
            op,
            r,
            m,
            s,
            c,
            x,
            y,
            lenient,
            k: kid,
        }
    }

    fn supplier_s(&self) -> Supplier {
        Supplier::new("Supplier", "CN", Some(self.s.b32()))
    }

    fn supplier_m(&self) -> Supplier {
        Supplier::new("Manufacturer", "CN", Some(self.m.b32()))
    }

    /// S dispatches `net` to C and C receives it: a co-signed lot of C's.
    fn cosigned_lot(&mut self, net: u64) -> Uuid {
        let d = dispatch(&mut self.l, &self.s, &self.c, net, None);
        let rc = receipt(net, 0, self.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
        let id = rc.id;
        self.l.submit(&self.c, rc).unwrap();
        id
    }

    /// Checks `body` signed by `who` dated `ms`, without committing.
    fn check_at(
        &self,
        who: &Actor,
        ms: i64,
        body: impl Into<EventBody>,
    ) -> Result<Effects, RuleViolation> {
        let ev = Event::new(ms, body);
        verdict(apply(
            &self.l.state,
            &Context {
                index: self.l.next_index(),
                signer: who.kid,
                leaf_hash: leaf_of(self.l.next_index(), &ev),
            },
            &ev,
        ))
    }

    fn berry(&self, lot: Uuid) -> Grading {
        berry(lot, isri_ref(), self.l.now - DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    }

    fn birch(&self, lot: Uuid) -> Grading {
        birch(lot, isri_ref(), self.l.now - DAY)
            .claim(Some("ISRI:Birch/Cliff"))
            .build()
    }
}

macro_rules! assert_rejects {
    ($r:expr, $pat:pat) => {{
        let r = $r;
        assert!(
            matches!(r, Err($pat)),
            "expected {}, got {:?}",
            stringify!($pat),
            r
        );
    }};
}

// ---- custody: a take-back and a registered supplier's receipt ----

#[test]
fn take_back_from_a_customer_who_signed_nothing_is_refused() {
    let w = W::new();
    // The producer records a 50 t take-back the customer never dispatched.
    let rc = receipt(50 * T, 0, w.supplier_m(), ScrapOrigin::PostConsumer).under_contract(w.k);
    assert_rejects!(w.l.check(&w.r, rc), RuleViolation::DispatchRequired { .. });
}

#[test]
fn receipt_from_a_registered_supplier_without_its_dispatch_is_refused() {
    let w = W::new();
    let rc = receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer);
    assert_rejects!(w.l.check(&w.c, rc), RuleViolation::DispatchRequired { .. });
}

#[test]
fn receipt_naming_an_unknown_dispatch_is_refused() {
    let w = W::new();
    let rc =
        receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(Uuid::now_v7());
    assert_rejects!(w.l.check(&w.c, rc), RuleViolation::UnknownDispatch { .. });
}

#[test]
fn dispatch_to_a_cannot_be_received_by_b() {
    let mut w = W::new();
    let d = dispatch(&mut w.l, &w.s, &w.c, 5 * T, None);
    let rc = receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
    assert_rejects!(
        w.l.check(&w.r, rc),
        RuleViolation::DispatchNotToReceiver { .. }
    );
}

#[test]
fn dispatch_cannot_be_passed_off_as_another_suppliers() {
    let mut w = W::new();
    // M dispatches to C; C claims the lot came from S.
    let d = dispatch(&mut w.l, &w.m, &w.c, 5 * T, None);
    let rc = receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
    assert_rejects!(
        w.l.check(&w.c, rc),
        RuleViolation::DispatchNotFromSupplier { .. }
    );
    // Nor as a declared receipt from an unregistered supplier.
    let rc = receipt(
        5 * T,
        0,
        Supplier::new("Trader", "CN", None),
        ScrapOrigin::PreConsumer,
    )
    .of_dispatch(d);
    assert_rejects!(
        w.l.check(&w.c, rc),
        RuleViolation::DispatchNotFromSupplier { .. }
    );
}

#[test]
fn a_dispatch_is_received_once() {
    let mut w = W::new();
    let d = dispatch(&mut w.l, &w.s, &w.c, 5 * T, None);
    let first = receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
    w.l.submit(&w.c, first).unwrap();
    let again = receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
    assert_rejects!(
        w.l.check(&w.c, again),
        RuleViolation::DispatchAlreadyReceived { .. }
    );
}

#[test]
fn received_mass_cannot_be_inflated_beyond_the_tolerance() {
    let mut w = W::new();
    let d = dispatch(&mut w.l, &w.s, &w.c, 10 * T, None);
    // 0.5 % of 10 t is 50 kg: 10.051 t is refused, 9.949 t too.
    for net in [10 * T + 50_001, 10 * T - 50_001] {
        let rc = receipt(net, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
        assert_rejects!(
            w.l.check(&w.c, rc),
            RuleViolation::DispatchMassMismatch {
                tolerance_g: 50_000,
                ..
            }
        );
    }
    // Exactly at the tolerance is accepted, and the lot is co-signed.
    let rc = receipt(10 * T + 50_000, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
    let id = rc.id;
    w.l.submit(&w.c, rc).unwrap();
    let v = lot_view(&w.l.state, &id).unwrap();
    assert!(!v.declared);
    assert!(matches!(
        v.creation,
        state::records::Creation::ScrapReceipt {
            dispatch: Some(_),
            declared: false,
            ..
        }
    ));
}

#[test]
fn receipt_dated_before_its_dispatch_is_refused() {
    let mut w = W::new();
    let d = dispatch(&mut w.l, &w.s, &w.c, 5 * T, None);
    let rc = receipt(5 * T, 0, w.supplier_s(), ScrapOrigin::PreConsumer).of_dispatch(d);
    let before = w.l.now - 10 * 60_000;
    assert_rejects!(
        w.check_at(&w.c, before, rc),
        RuleViolation::ReceiptBeforeDispatch { .. }
    );
}

// ---- custody: contract take-backs ----

#[test]
fn take_back_needs_the_customers_dispatch_under_that_contract() {
    let mut w = W::new();
    // A plain dispatch from the customer is not a take-back dispatch.
    let d = dispatch(&mut w.l, &w.m, &w.r, 5 * T, None);
    let rc = receipt(5 * T, 0, w.supplier_m(), ScrapOrigin::PreConsumer)
        .under_contract(w.k)
        .of_dispatch(d);
    assert_rejects!(
        w.l.check(&w.r, rc),
        RuleViolation::DispatchContractMismatch { .. }
    );
    // And a take-back dispatch cannot be received as a plain receipt.
    let d = dispatch(&mut w.l, &w.m, &w.r, 5 * T, Some(w.k));
    let rc = receipt(5 * T, 0, w.supplier_m(), ScrapOrigin::PreConsumer).of_dispatch(d);
    assert_rejects!(
        w.l.check(&w.r, rc),
        RuleViolation::DispatchContractMismatch { .. }
    );
    // Under the contract it is accepted.
    let rc = receipt(5 * T, 0, w.supplier_m(), ScrapOrigin::PreConsumer)
        .under_contract(w.k)
        .of_dispatch(d);
    w.l.submit(&w.r, rc).unwrap();
}

#[test]
fn only_the_customer_dispatches_a_take_back_and_only_to_the_producer() {
    let w = W::new();
    let by_stranger = DispatchScrap::new(w.r.b32(), 5 * T, "scrap").under_contract(w.k);
    assert_rejects!(
        w.l.check(&w.s, by_stranger),
        RuleViolation::NotContractCustomer { .. }
    );
    let elsewhere = DispatchScrap::new(w.c.b32(), 5 * T, "scrap").under_contract(w.k);
    assert_rejects!(
        w.l.check(&w.m, elsewhere),
        RuleViolation::InvalidField { field: "to", .. }
    );
}

#[test]
fn take_back_backdated_into_a_closed_period_is_refused() {
    let mut w = W::new();
    let end = T0 + 365 * DAY;
    let d = dispatch(&mut w.l, &w.m, &w.r, 5 * T, Some(w.k));
    // The log's time passes the end; the producer dates the receipt an hour
    // before it (within the backdating window).
    w.l.submit_event(&w.op, Event::new(end + 3_600_000, LogTime {}))
        .unwrap();
    let rc = receipt(5 * T, 0, w.supplier_m(), ScrapOrigin::PreConsumer)
        .under_contract(w.k)
        .of_dispatch(d);
    assert_rejects!(
        w.check_at(&w.r, end - 3_600_000, rc),
        RuleViolation::OutsideContractPeriod { .. }
    );
    // A take-back dispatch backdated the same way is refused too.
    let late = DispatchScrap::new(w.r.b32(), 5 * T, "scrap").under_contract(w.k);
    assert_rejects!(
        w.check_at(&w.m, end - 3_600_000, late),
        RuleViolation::OutsideContractPeriod { .. }
    );
}

// ---- custody: declared receipts ----

#[test]
fn declared_receipt_without_evidence_is_refused_and_with_it_is_marked_declared() {
    let mut w = W::new();
    let bare = ScrapReceipt::new(
        5 * T,
        0,
        Supplier::new("Trader", "CN", None),
        ScrapOrigin::PreConsumer,
    );
    assert_rejects!(
        w.l.check(&w.c, bare.clone()),
        RuleViolation::DeclaredReceiptWithoutEvidence
    );
    let id = bare.id;
    w.l.submit(&w.c, bare.evidence(sha256(b"weighbridge ticket 42")))
        .unwrap();
    assert!(lot_view(&w.l.state, &id).unwrap().declared);
}

// ---- grades: who, when, how often ----

#[test]
fn a_friendly_grader_not_named_by_the_owner_cannot_grade() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    // A certifier, once allowed to grade any lot, is now refused.
    assert_rejects!(
        w.l.check(&w.x, w.berry(lot)),
        RuleViolation::NotOwner { .. }
    );
    // The owner names X; Y (another certifier) is still refused, X may grade.
    w.l.submit(
        &w.c,
        NameGrader {
            lot,
            grader: w.x.b32(),
        },
    )
    .unwrap();
    assert_rejects!(
        w.l.check(&w.y, w.berry(lot)),
        RuleViolation::GraderNotNamed { .. }
    );
    w.l.submit(&w.x, w.berry(lot)).unwrap();
}

#[test]
fn only_the_owner_names_a_grader_and_only_one_who_may_grade() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    assert_rejects!(
        w.l.check(
            &w.x,
            NameGrader {
                lot,
                grader: w.x.b32()
            }
        ),
        RuleViolation::RoleNotPermitted { .. }
    );
    assert_rejects!(
        w.l.check(
            &w.r,
            NameGrader {
                lot,
                grader: w.x.b32()
            }
        ),
        RuleViolation::NotOwner { .. }
    );
    // M (a manufacturer) holds no grading role.
    assert_rejects!(
        w.l.check(
            &w.c,
            NameGrader {
                lot,
                grader: w.m.b32()
            }
        ),
        RuleViolation::RoleNotPermitted { .. }
    );
}

#[test]
fn a_named_grader_lapses_when_the_lot_changes_owner() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    w.l.submit(
        &w.c,
        NameGrader {
            lot,
            grader: w.x.b32(),
        },
    )
    .unwrap();
    w.l.submit(&w.c, Transfer::new(lot, w.r.kid)).unwrap();
    assert_rejects!(
        w.l.check(&w.x, w.berry(lot)),
        RuleViolation::GraderNotNamed { .. }
    );
}

#[test]
fn a_lot_cannot_be_graded_after_partial_consumption() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    let melt = TransformationBuilder::new(Process::Melt)
        .input(lot, T)
        .output(MaterialKind::Intermediate, T)
        .build();
    w.l.submit(&w.c, melt).unwrap();
    assert_rejects!(
        w.l.check(&w.c, w.berry(lot)),
        RuleViolation::GradeAfterConsumption { consumed_g: T, .. }
    );
}

#[test]
fn a_graded_lot_cannot_be_regraded_after_consumption() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    w.l.submit(&w.c, w.birch(lot)).unwrap();
    let melt = TransformationBuilder::new(Process::Melt)
        .input(lot, 2 * T)
        .output(MaterialKind::Intermediate, 2 * T)
        .build();
    w.l.submit(&w.c, melt).unwrap();
    assert_rejects!(
        w.l.check(&w.c, w.berry(lot)),
        RuleViolation::GradeAfterConsumption { .. }
    );
    assert_eq!(
        w.l.material(&lot).grade.unwrap().grade.as_deref(),
        Some("ISRI:Birch/Cliff")
    );
}

#[test]
fn regrading_cannot_earn_a_better_grade() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    let first = w.l.submit(&w.c, w.birch(lot)).unwrap();
    w.l.submit(&w.c, w.berry(lot)).unwrap();
    let v = lot_view(&w.l.state, &lot).unwrap();
    assert!(v.grade_disputed);
    let g = v.grade.unwrap();
    assert_eq!(g.grade.as_deref(), Some("ISRI:Birch/Cliff"));
    assert_eq!(g.index, first);
}

#[test]
fn regrading_under_another_rule_set_makes_the_lot_off_grade_until_settled() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    w.l.submit(&w.c, w.berry(lot)).unwrap();
    let lenient = GradingBuilder::new(lot, w.lenient, Instrument::Xrf, "X1", w.l.now - DAY)
        .reading("Cu", 900_000, 1)
        .claim(Some("ISRI:Berry/Candy"))
        .build();
    w.l.submit(&w.c, lenient).unwrap();
    assert_eq!(w.l.material(&lot).grade.unwrap().grade, None);
}

#[test]
fn only_the_first_gradings_rule_set_publisher_settles_a_dispute_once() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    let settle = |grading| SettleGrade {
        lot,
        grading,
        reason: "re-assay".into(),
    };
    let first = w.l.submit(&w.c, w.birch(lot)).unwrap();
    assert_rejects!(
        w.l.check(&w.x, settle(first)),
        RuleViolation::NoGradeDispute { .. }
    );
    let second = w.l.submit(&w.c, w.berry(lot)).unwrap();
    assert_rejects!(
        w.l.check(&w.y, settle(second)),
        RuleViolation::NotPublisher { .. }
    );
    assert_rejects!(
        w.l.check(&w.x, settle(second + 1)),
        RuleViolation::UnknownGrading { .. }
    );
    w.l.submit(&w.x, settle(second)).unwrap();
    let v = lot_view(&w.l.state, &lot).unwrap();
    assert!(!v.grade_disputed);
    assert_eq!(v.grade.unwrap().grade.as_deref(), Some("ISRI:Berry/Candy"));
    assert_rejects!(
        w.l.check(&w.c, w.birch(lot)),
        RuleViolation::GradeAlreadySettled { .. }
    );
    assert_rejects!(
        w.l.check(&w.x, settle(first)),
        RuleViolation::GradeAlreadySettled { .. }
    );
}

// ---- grades: time ----

#[test]
fn grading_dated_before_the_receipt_is_refused() {
    let mut w = W::new();
    let received = w.l.now;
    let lot = w.cosigned_lot(5 * T);
    let g = berry(lot, isri_ref(), received - DAY)
        .claim(Some("ISRI:Berry/Candy"))
        .build();
    assert_rejects!(
        w.check_at(&w.c, received - 60_000, g),
        RuleViolation::GradedBeforeReceipt { .. }
    );
}

#[test]
fn backdating_cannot_make_a_stale_calibration_pass() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    w.l.now += 3 * DAY;
    let now = w.l.now;
    w.l.submit_event(&w.op, Event::new(now, LogTime {}))
        .unwrap();
    // 366 days before the log's time, 364 days before the declared time.
    let g = berry(lot, isri_ref(), now - 366 * DAY)
        .claim(Some("ISRI:Berry/Candy"))
        .build();
    assert_rejects!(
        w.check_at(&w.c, now - 2 * DAY, g),
        RuleViolation::StaleCalibration { .. }
    );
}

// ---- grade terms name the rule set ----

#[test]
fn a_lenient_rule_set_reusing_a_code_earns_nothing_under_a_contract() {
    let mut w = W::new();
    let d = dispatch(&mut w.l, &w.m, &w.r, 5 * T, Some(w.k));
    let rc = receipt(5 * T, 0, w.supplier_m(), ScrapOrigin::PreConsumer)
        .under_contract(w.k)
        .of_dispatch(d);
    let lot = rc.id;
    w.l.submit(&w.r, rc).unwrap();
    let g = GradingBuilder::new(lot, w.lenient, Instrument::Xrf, "X1", w.l.now - DAY)
        .reading("Cu", 900_000, 1)
        .claim(Some("ISRI:Berry/Candy"))
        .build();
    w.l.submit(&w.r, g).unwrap();
    let a = contract_audit(&w.l.state, &w.k).unwrap();
    assert_eq!(a.taken_back_g, 5 * T);
    assert_eq!(a.eligible_taken_back_g, 0);
    assert_eq!(a.settlement_value_minor, 0);
    assert!(a.grade_mix.iter().all(|g| !g.eligible));
}

#[test]
fn the_same_code_under_two_rule_sets_may_both_be_terms() {
    let w = W::new();
    let spec = MaterialSpec {
        description: "refined copper".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let k = ContractBuilder::new(w.m.kid, spec, T0, T0 + DAY, "CNY")
        .grade(isri_ref(), "ISRI:Berry/Candy", 30_000)
        .grade(w.lenient, "ISRI:Berry/Candy", -90_000)
        .build();
    w.l.check(&w.r, k).unwrap();
}

// ---- provenance carries the other half of the custody change ----

#[test]
fn provenance_of_a_cosigned_lot_includes_its_dispatch_and_replays() {
    let mut w = W::new();
    let d_index = w.l.next_index();
    let lot = w.cosigned_lot(5 * T);
    w.l.submit(
        &w.c,
        NameGrader {
            lot,
            grader: w.x.b32(),
        },
    )
    .unwrap();
    w.l.submit(&w.x, w.birch(lot)).unwrap();
    w.l.submit(&w.c, w.berry(lot)).unwrap();
    let p = provenance(&w.l.state, &lot).unwrap();
    assert!(p.contains(&d_index));
    let replayed = w.l.replay(p).unwrap();
    assert_eq!(
        state::material(&replayed, &lot).unwrap().unwrap(),
        w.l.material(&lot)
    );
}

#[test]
fn a_dispute_cannot_be_settled_after_the_lot_is_consumed() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    w.l.submit(&w.c, w.birch(lot)).unwrap();
    let better = w.l.submit(&w.c, w.berry(lot)).unwrap();
    let melt = TransformationBuilder::new(Process::Melt)
        .input(lot, T)
        .output(MaterialKind::Intermediate, T)
        .build();
    w.l.submit(&w.c, melt).unwrap();
    let settle = SettleGrade {
        lot,
        grading: better,
        reason: "late".into(),
    };
    assert_rejects!(
        w.l.check(&w.x, settle),
        RuleViolation::GradeAfterConsumption { .. }
    );
    // The conservative grade stays.
    assert_eq!(
        w.l.material(&lot).grade.unwrap().grade.as_deref(),
        Some("ISRI:Birch/Cliff")
    );
}

#[test]
fn an_off_grade_grading_in_a_dispute_makes_the_lot_off_grade() {
    let mut w = W::new();
    let lot = w.cosigned_lot(5 * T);
    w.l.submit(&w.c, w.berry(lot)).unwrap();
    let dirty = GradingBuilder::new(lot, isri_ref(), Instrument::Xrf, "X2", w.l.now - DAY)
        .reading("Cu", 700_000, 5)
        .reading("Sn", 200, 5)
        .reading("Pb", 100, 5)
        .reading("Zn", 300, 5)
        .reading("Fe", 100, 5)
        .claim(None)
        .build();
    let off = w.l.submit(&w.c, dirty).unwrap();
    let g = w.l.material(&lot).grade.unwrap();
    assert_eq!((g.grade, g.index), (None, off));
}

#[test]
fn a_dispatch_to_an_unknown_or_self_receiver_is_refused() {
    let w = W::new();
    let stranger = Actor::from_seed(99);
    assert_rejects!(
        w.l.check(&w.s, DispatchScrap::new(stranger.b32(), T, "scrap")),
        RuleViolation::UnknownActor { .. }
    );
    assert_rejects!(
        w.l.check(&w.s, DispatchScrap::new(w.s.b32(), T, "scrap")),
        RuleViolation::InvalidField { field: "to", .. }
    );
    assert_rejects!(
        w.l.check(&w.s, DispatchScrap::new(w.c.b32(), 0, "scrap")),
        RuleViolation::ZeroMass { .. }
    );
}
