//! The full lifecycle on MemoryState, and the provenance replay property.

use passport_schema::*;
use uuid::Uuid;

use crate::common::*;

const T: u64 = 1_000_000; // grams per tonne

pub struct Story {
    pub l: Ledger,
    pub refined_a: Uuid,
    pub refined_b: Uuid,
    pub cert: Uuid,
    pub contract: Uuid,
    pub product: Uuid,
    pub post_lot: Uuid,
    pub x: Actor,
}

pub fn story() -> Story {
    let op = Actor::from_seed(1);
    let mut l = Ledger::genesis(&op);
    let r = l.actor(
        &op,
        2,
        "Tongling Refinery",
        &[Role::Refiner, Role::Recycler],
    );
    let m = l.actor(&op, 3, "Tongling Cable Works", &[Role::Manufacturer]);
    let u = l.actor(&op, 4, "Anhui Grid Utility", &[Role::Service]);
    let c = l.actor(&op, 5, "Hefei Recycling", &[Role::Recycler]);
    let x = l.actor(&op, 6, "Tongling Certification", &[Role::Certifier]);
    let s = l.actor(&op, 7, "Cable Service Co", &[Role::Service]);

    // Primary cathode, to the cable maker.
    let p1 = primary(100 * T, "CL");
    l.submit(&r, p1.clone()).unwrap();
    l.submit(&r, Transfer::new(p1.id, m.kid)).unwrap();

    // Rod and foil (with home scrap from rolling).
    let draw = TransformationBuilder::new(Process::Draw)
        .input(p1.id, 60 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Rod,
            59_900_000,
            Some(cu(999_930)),
        )
        .losses_g(100_000)
        .build();
    let rod = draw.outputs[0].id;
    l.submit(&m, draw).unwrap();
    let roll = TransformationBuilder::new(Process::Roll)
        .input(p1.id, 40 * T)
        .output(MaterialKind::Foil, 39 * T)
        .output(MaterialKind::Scrap, 950_000)
        .losses_g(50_000)
        .build();
    let foil = roll.outputs[0].id;
    let home_scrap = roll.outputs[1].id;
    l.submit(&m, roll).unwrap();
    assert_eq!(
        l.material(&home_scrap).recycled_ppm(),
        0,
        "home scrap is not recycled"
    );

    // Product and passport.
    let asm = TransformationBuilder::new(Process::Assemble)
        .input(rod, 10 * T)
        .input(foil, T)
        .output(MaterialKind::Product, 10_900_000)
        .losses_g(100_000)
        .build();
    let product = asm.outputs[0].id;
    l.submit(&m, asm).unwrap();
    l.submit(&m, passport_for(product)).unwrap();
    assert_eq!(l.material(&product).origin_ppm.get("CL"), Some(&1_000_000));

    // Service history, then end of life.
    l.submit(&m, Transfer::new(product, u.kid)).unwrap();
    let ev = |kind, note: &str| ServiceEvent {
        product,
        kind,
        note: note.into(),
        evidence: vec![sha256(note.as_bytes())],
    };
    l.submit(&u, ev(ServiceKind::Install, "installed feeder 12"))
        .unwrap();
    // The utility authorises the service company (principle 7).
    l.submit(
        &u,
        ServiceAuthorisation {
            product,
            actor: s.b32(),
            until_ms: None,
        },
    )
    .unwrap();
    l.submit(&s, ev(ServiceKind::Inspect, "thermal scan ok"))
        .unwrap();
    l.submit(&u, ev(ServiceKind::Repair, "joint replaced"))
        .unwrap();
    l.submit(&u, ev(ServiceKind::Decommission, "feeder retired"))
        .unwrap();
    let pv = passport_view(&l.state, &product).unwrap();
    assert_eq!(pv.status, PassportStatus::Decommissioned);
    l.submit(
        &u,
        EndOfLife {
            product,
            reason: "feeder replaced".into(),
            evidence: vec![],
        },
    )
    .unwrap();
    l.submit(&u, Transfer::new(product, c.kid)).unwrap();

    // Scrap receipts and grading. The utility, a registered supplier,
    // dispatches the scrap it hands over; the receipt names the dispatch.
    let post_dispatch = dispatch(&mut l, &u, &c, 10_500_000, None);
    let post = receipt(
        11_000_000,
        500_000,
        Supplier::new("Anhui Grid Utility", "CN", Some(u.b32())),
        ScrapOrigin::PostConsumer,
    )
    .source_passport(product)
    .of_dispatch(post_dispatch);
    let post_lot = post.id;
    l.submit(&c, post).unwrap();
    let pre = receipt(
        5_200_000,
        200_000,
        Supplier::new("Wuhu Wire", "CN", None),
        ScrapOrigin::PreConsumer,
    );
    let pre_lot = pre.id;
    l.submit(&c, pre).unwrap();
    let rs = isri();
    l.submit(&x, rs.clone()).unwrap();
    let rsr = isri_ref();
    l.submit(
        &c,
        birch(post_lot, rsr, l.now - 30 * DAY)
            .claim(Some("ISRI:Birch/Cliff"))
            .build(),
    )
    .unwrap();
    l.submit(
        &c,
        berry(pre_lot, rsr, l.now - 30 * DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build(),
    )
    .unwrap();
    let pv = passport_view(&l.state, &product).unwrap();
    assert_eq!(pv.status, PassportStatus::Consumed);
    assert_eq!(pv.service_history.len(), 4);
    assert_eq!(pv.ownership_history.len(), 3);

    // Melt and refine with a primary top-up.
    l.submit(&c, Transfer::new(post_lot, r.kid)).unwrap();
    l.submit(&c, Transfer::new(pre_lot, r.kid)).unwrap();
    let p2 = primary(20 * T, "CN");
    l.submit(&r, p2.clone()).unwrap();
    let melt = TransformationBuilder::new(Process::Melt)
        .input(post_lot, 10_500_000)
        .input(pre_lot, 5 * T)
        .input(p2.id, 20 * T)
        .output(MaterialKind::Intermediate, 35_200_000)
        .losses_g(300_000)
        .tolerance_g(10_000)
        .build();
    let anode = melt.outputs[0].id;
    l.submit(&r, melt).unwrap();
    let refine = TransformationBuilder::new(Process::Refine)
        .input(anode, 35_200_000)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Refined,
            20 * T,
            Some(cu(999_970)),
        )
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Refined,
            14_200_000,
            Some(cu(999_960)),
        )
        // Slag and anode scrap: refined copper cannot exceed the copper in.
        .losses_g(1_000_000)
        .build();
    let (refined_a, refined_b) = (refine.outputs[0].id, refine.outputs[1].id);
    l.submit(&r, refine).unwrap();

    // Derived shares: 10.5 t post + 5 t pre of 35.5 t, floored.
    let a = lot_view(&l.state, &refined_a).unwrap();
    assert_eq!(
        u64::from(a.recycled.post_consumer_ppm),
        10_500_000u64 * 1_000_000 / 35_500_000
    );
    assert_eq!(
        u64::from(a.recycled.pre_consumer_ppm),
        5_000_000u64 * 1_000_000 / 35_500_000
    );
    assert_eq!(a.recycled.total_ppm, 295_774 + 140_845);
    assert_eq!(a.origin_ppm.get("CN"), Some(&563_380));

    // Scheme and certificate.
    let scheme = SchemeBuilder::new("Tongling Recycled", 300_000)
        .limit("Cu", Some(999_500), None)
        .accept(rsr)
        .build();
    let sref = SchemeRef {
        id: scheme.id,
        version: scheme.version,
    };
    l.submit(&x, scheme).unwrap();
    let cert = CertificateIssue {
        id: Uuid::now_v7(),
        scheme: sref,
        subject: refined_a,
        claimed_recycled_share_ppm: 436_619,
        claimed_mass_g: 20 * T,
    };
    l.submit(&x, cert.clone()).unwrap();
    let cv = certificate_view(&l.state, &cert.id).unwrap();
    assert_eq!(cv.status, CertificateStatus::Active);
    assert!(cv.all_criteria_hold);
    assert_eq!(cv.criteria.len(), 7);

    // Contract: proposal, acceptance, deliveries, take-back.
    let spec = MaterialSpec {
        description: "Cu-CATH-1 equivalent refined copper".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let k = ContractBuilder::new(m.kid, spec, T0, T0 + 365 * DAY, "CNY")
        .take_back_share(100_000)
        .grade(isri_ref(), "ISRI:Berry/Candy", 30_000)
        .grade(isri_ref(), "ISRI:Birch/Cliff", -15_000)
        .min_recycled_share(300_000)
        .build();
    let kid_ = k.id;
    l.submit(&r, k).unwrap();
    l.submit(&m, l.acceptance(kid_)).unwrap();
    let d1 = l
        .submit(&r, Transfer::delivery(refined_a, m.kid, kid_))
        .unwrap();
    let d2 = l
        .submit(&r, Transfer::delivery(refined_b, m.kid, kid_))
        .unwrap();
    let tb1_dispatch = dispatch(&mut l, &m, &r, 4000000, Some(kid_));
    let tb1 = receipt(
        4_100_000,
        100_000,
        Supplier::new("Tongling Cable Works", "CN", Some(m.b32())),
        ScrapOrigin::PreConsumer,
    )
    .under_contract(kid_)
    .of_dispatch(tb1_dispatch);
    let tb1_id = tb1.id;
    l.submit(&r, tb1).unwrap();
    l.submit(
        &r,
        berry(tb1_id, rsr, l.now - DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build(),
    )
    .unwrap();
    let tb2_dispatch = dispatch(&mut l, &m, &r, 1500000, Some(kid_));
    let tb2 = receipt(
        1_600_000,
        100_000,
        Supplier::new("Tongling Cable Works", "CN", Some(m.b32())),
        ScrapOrigin::PreConsumer,
    )
    .under_contract(kid_)
    .of_dispatch(tb2_dispatch);
    let tb2_id = tb2.id;
    l.submit(&r, tb2).unwrap();
    l.submit(
        &r,
        birch(tb2_id, rsr, l.now - DAY)
            .claim(Some("ISRI:Birch/Cliff"))
            .build(),
    )
    .unwrap();
    // An off-grade take-back counts in the mix but is not eligible.
    let tb3_dispatch = dispatch(&mut l, &m, &r, 500000, Some(kid_));
    let tb3 = receipt(
        600_000,
        100_000,
        Supplier::new("Tongling Cable Works", "CN", Some(m.b32())),
        ScrapOrigin::PreConsumer,
    )
    .under_contract(kid_)
    .of_dispatch(tb3_dispatch);
    let tb3_id = tb3.id;
    l.submit(&r, tb3).unwrap();
    l.submit(
        &r,
        GradingBuilder::new(tb3_id, rsr, Instrument::Oes, "OES-2", l.now - DAY)
            .reading("Cu", 700_000, 3)
            .claim(None)
            .build(),
    )
    .unwrap();

    let audit = contract_audit(&l.state, &kid_).unwrap();
    assert_eq!(audit.delivered_g, 34_200_000);
    assert_eq!(audit.taken_back_g, 4 * T + 1_500_000 + 500_000);
    assert_eq!(audit.eligible_taken_back_g, 5_500_000);
    assert_eq!(
        audit.take_back_ratio_ppm,
        Some(5_500_000u64 * 1_000_000 / 34_200_000)
    );
    // 4 t x +30,000 + 1.5 t x -15,000 = 120,000 - 22,500
    assert_eq!(audit.settlement_value_minor, 97_500);
    assert_eq!(audit.grade_mix.len(), 3);
    assert!(
        audit
            .grade_mix
            .iter()
            .any(|g| g.grade.is_none() && !g.eligible && g.mass_g == 500_000)
    );
    assert_eq!(audit.deliveries.len(), 2);
    assert!(
        audit
            .deliveries
            .iter()
            .all(|d| d.meets_recycled_guarantee && d.meets_spec)
    );
    assert!(audit.all_terms_hold, "{:#?}", audit.terms);
    assert!(audit.terms[0].evidence.contains(&d1) && audit.terms[1].evidence.contains(&d2));

    Story {
        l,
        refined_a,
        refined_b,
        cert: cert.id,
        contract: kid_,
        product,
        post_lot,
        x,
    }
}

#[test]
fn full_lifecycle() {
    let st = story();
    // JSON views serialize.
    let j = serde_json::to_string(&contract_audit(&st.l.state, &st.contract).unwrap()).unwrap();
    assert!(j.contains("settlement_value_minor"));
    let pv = passport_view(&st.l.state, &st.product).unwrap();
    assert_eq!(pv.passport.granularity, Granularity::Batch);
    assert!(serde_json::to_string(&pv).unwrap().contains("id.gs1.org"));
    let b = lot_view(&st.l.state, &st.refined_b).unwrap();
    assert_eq!(b.owner, st.l.material(&st.refined_a).owner);
}

#[test]
fn certificate_revocation_sets_status() {
    let mut st = story();
    let idx =
        st.l.submit(
            &st.x,
            CertificateRevocation {
                certificate: st.cert,
                reason: "audit finding".into(),
            },
        )
        .unwrap();
    let cv = certificate_view(&st.l.state, &st.cert).unwrap();
    assert_eq!(cv.status, CertificateStatus::Revoked);
    assert_eq!(cv.status_index, idx);
    // The revocation is evidence too: replay reproduces the status.
    let prov = provenance(&st.l.state, &st.cert).unwrap();
    assert!(prov.contains(&idx));
    let replayed = st.l.replay(prov).unwrap();
    let re = certificate_view(&replayed, &st.cert).unwrap();
    assert_eq!(
        (re.status, re.status_index),
        (CertificateStatus::Revoked, idx)
    );
    assert_eq!(re.criteria, cv.criteria);
}

fn assert_replay_reproduces(l: &Ledger, id: Uuid, material: Uuid, cert: Option<Uuid>) {
    let prov = provenance(&l.state, &id).unwrap();
    assert!(prov.contains(&0));
    assert!(
        (prov.len() as u64) < l.next_index(),
        "provenance should be a strict subset here"
    );
    let replayed = l
        .replay(prov.iter().copied())
        .unwrap_or_else(|(i, e)| panic!("replay of entry {i} failed: {e}"));
    let full = lot_view(&l.state, &material).unwrap();
    let re = lot_view(&replayed, &material).unwrap();
    assert_eq!(full.recycled, re.recycled);
    assert_eq!(full.origin_ppm, re.origin_ppm);
    if let Some(c) = cert {
        let a = certificate_view(&l.state, &c).unwrap();
        let b = certificate_view(&replayed, &c).unwrap();
        assert_eq!(a.criteria, b.criteria);
        assert_eq!(a.status, b.status);
        assert!(b.all_criteria_hold);
    }
}

#[test]
fn provenance_replay_reproduces_certificate() {
    let st = story();
    assert_replay_reproduces(&st.l, st.cert, st.refined_a, Some(st.cert));
    // The source passport's service and end-of-life entries are included.
    let prov = provenance(&st.l.state, &st.cert).unwrap();
    let p = st.l.material(&st.product);
    for h in &p.history {
        if !matches!(h.change, state::records::Change::Consumed { .. }) {
            assert!(prov.contains(&h.index));
        }
    }
}

#[test]
fn provenance_replay_reproduces_materials() {
    let st = story();
    for n in [st.refined_a, st.refined_b, st.post_lot] {
        assert_replay_reproduces(&st.l, n, n, None);
    }
}
