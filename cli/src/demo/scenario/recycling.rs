//! The scenario's second half, from end of life back to certified copper: scrap receipt and grading, melting and refining, certificates, the circular contract and its take-back.

use std::collections::BTreeMap;

use passport_schema::{
    CertificateIssue, ContractAcceptance, ContractBuilder, DispatchScrap, EventBody, Instrument,
    LotView, MaterialKind, MaterialSpec, Process, RuleSet, RuleSetRef, SchemeRef, ScrapOrigin,
    ScrapReceipt, Supplier, Transfer, TransformationBuilder, VisualContaminant,
};
use uuid::Uuid;

use super::{Actor, Cast, Cathode, DAY, GradeRow, Recorder, T, cu};
use crate::backend::{Backend, Local};
use crate::demo::Paths;
use crate::demo::analyser::{self, Profile, Sample};
use crate::error::{CliError, Result};
use crate::output::Style;

/// The scrap lots the recyclers received.
pub(super) struct Scrap {
    /// Hefei's post-consumer lots.
    pub(super) hefei: Vec<ScrapReceipt>,
    /// Wuhu's post-consumer lots.
    pub(super) wuhu: Vec<ScrapReceipt>,
    /// Wuhu's pre-consumer lot (no passports behind it).
    pub(super) pre: Uuid,
}

/// What melting and refining made.
pub(super) struct Refined {
    /// The first melt's output.
    pub(super) anode: Uuid,
    /// Index of the first melt's entry.
    pub(super) melt_index: u64,
    /// The first refined lot from that anode: the one certified.
    pub(super) certified: Uuid,
    /// The other two, delivered under the contract.
    pub(super) deliveries: [Uuid; 2],
    /// The refined lot from the second anode (it holds off-grade scrap).
    pub(super) tainted: Uuid,
}

/// Each recycler receives its end-of-life products as three post-consumer
/// scrap lots; Wuhu also receives a pre-consumer lot from a harness maker.
pub(super) fn receive_scrap(
    d: &mut Recorder<'_>,
    c: &Cast,
    to_hefei: &[Uuid],
    to_wuhu: &[Uuid],
) -> Result<Scrap> {
    let util_supplier = Supplier::new(c.utility.name, "CN", Some(c.utility.kid));
    // The utility, a registered supplier, signs a dispatch for every lot it
    // hands over; each receipt names its dispatch (a co-signed custody change).
    let mut dispatches: Vec<(&Actor, EventBody)> = Vec::new();
    let mut receipt = |sources: &[Uuid], to: &Actor| {
        let mass = 49_500 * sources.len() as u64;
        let net = mass - 20_000;
        let dispatch = DispatchScrap::new(to.kid, net, "end-of-life medium-voltage cable");
        let mut r = ScrapReceipt::new(
            net + 35_000,
            35_000,
            util_supplier.clone(),
            ScrapOrigin::PostConsumer,
        )
        .of_dispatch(dispatch.id);
        dispatches.push((&c.utility, EventBody::DispatchScrap(dispatch)));
        r.source_passports = sources.to_vec();
        r
    };
    let hefei: Vec<ScrapReceipt> = to_hefei
        .chunks(to_hefei.len().div_ceil(3))
        .map(|s| receipt(s, &c.hefei))
        .collect();
    let wuhu: Vec<ScrapReceipt> = to_wuhu
        .chunks(to_wuhu.len().div_ceil(3))
        .map(|s| receipt(s, &c.wuhu))
        .collect();
    d.batch(dispatches)?;
    // The harness maker is not registered: a declared receipt, resting on
    // the weighbridge ticket's hash.
    let pre = ScrapReceipt::new(
        5_200_000,
        200_000,
        Supplier::new("Wuhu Wire Harness Co", "CN", None),
        ScrapOrigin::PreConsumer,
    )
    .evidence(passport_schema::sha256(
        b"Wuhu weighbridge ticket WB-2025-0147",
    ));
    let pre_id = pre.id;
    let mut items: Vec<(&Actor, EventBody)> = hefei
        .iter()
        .map(|r| (&c.hefei, EventBody::ReceiveScrap(r.clone())))
        .collect();
    items.extend(
        wuhu.iter()
            .map(|r| (&c.wuhu, EventBody::ReceiveScrap(r.clone()))),
    );
    items.push((&c.wuhu, EventBody::ReceiveScrap(pre)));
    d.batch(items)?;
    Ok(Scrap {
        hefei,
        wuhu,
        pre: pre_id,
    })
}

/// Clean bare bright wire: ISRI Berry/Candy.
const BERRY: Profile = &[
    ("Cu", 995_200),
    ("Sn", 400),
    ("Pb", 150),
    ("Zn", 600),
    ("Fe", 300),
    ("Ni", 200),
];
/// Mixed wire: ISRI Birch/Cliff.
const BIRCH: Profile = &[
    ("Cu", 958_000),
    ("Sn", 9_000),
    ("Pb", 3_500),
    ("Zn", 6_000),
    ("Fe", 2_500),
    ("Ni", 800),
];
/// Burnt, contaminated scrap: off-grade.
const BURNT: Profile = &[
    ("Cu", 861_000),
    ("Sn", 31_000),
    ("Pb", 42_000),
    ("Zn", 24_000),
    ("Fe", 18_000),
    ("Ni", 1_500),
];

/// What every grading in the scenario shares: where the CSVs go, the rule
/// set, and the style `plan_grading` explains in.
pub(super) struct Grader<'a> {
    pub(super) paths: &'a Paths,
    pub(super) rule_set: &'a RuleSet,
    pub(super) style: &'a Style,
}

impl Grader<'_> {
    /// Grades `sample` from its CSV `readings/FILE` as `who` at `at_ms` and
    /// checks the rules would take it; `refused` words the error if not.
    fn grade(
        &self,
        at_ms: i64,
        who: &Actor,
        file: &str,
        sample: Sample,
        run: &analyser::Run,
        refused: impl FnOnce(&str) -> String,
    ) -> Result<(GradeRow, EventBody)> {
        let path = self.paths.readings.join(file);
        let lot = sample.lot;
        let g = analyser::grade_from_csv(&path, sample, run, self.rule_set, at_ms, self.style)?;
        if let Some(why) = g.plan.refusal {
            return Err(CliError::failed(refused(&why)));
        }
        let row = GradeRow {
            lot,
            recycler: who.name,
            file: path
                .strip_prefix(&self.paths.out)
                .unwrap_or(&path)
                .display()
                .to_string(),
            spots: g.spots,
            cu_ppm: g.cu_ppm,
            grade: g.plan.grade,
            take_back: false,
        };
        Ok((row, EventBody::Grade(g.plan.grading)))
    }
}

/// The recyclers grade their lots from analyser CSVs (Hefei by XRF, Wuhu
/// by LIBS); one Wuhu lot is burnt and off-grade.
pub(super) fn grade_scrap(
    d: &mut Recorder<'_>,
    c: &Cast,
    grader: &Grader<'_>,
    scrap: &Scrap,
) -> Result<Vec<GradeRow>> {
    let mut plan: Vec<(&Actor, Sample)> = Vec::new();
    for (i, r) in scrap.hefei.iter().enumerate() {
        let (profile, visual) = if i == 0 {
            (BERRY, vec![(VisualContaminant::Oil, 500)])
        } else {
            (BIRCH, vec![(VisualContaminant::Solder, 8_000)])
        };
        plan.push((
            &c.hefei,
            Sample {
                lot: r.id,
                profile,
                visual: visual.into_iter().collect(),
                instrument: Instrument::Xrf,
                serial: "XRF-HF-0417",
            },
        ));
    }
    for (i, r) in scrap.wuhu.iter().enumerate() {
        let (profile, visual) = if i == 0 {
            (
                BURNT,
                vec![
                    (VisualContaminant::Burnt, 60_000),
                    (VisualContaminant::Insulation, 15_000),
                ],
            )
        } else {
            (BIRCH, vec![(VisualContaminant::Insulation, 3_000)])
        };
        plan.push((
            &c.wuhu,
            Sample {
                lot: r.id,
                profile,
                visual: visual.into_iter().collect(),
                instrument: Instrument::Libs,
                serial: "LIBS-WH-22",
            },
        ));
    }
    plan.push((
        &c.wuhu,
        Sample {
            lot: scrap.pre,
            profile: BERRY,
            visual: BTreeMap::new(),
            instrument: Instrument::Libs,
            serial: "LIBS-WH-22",
        },
    ));
    let mut rows = Vec::new();
    let mut gradings = Vec::new();
    for (i, (who, sample)) in plan.into_iter().enumerate() {
        let file = format!("lot-{:02}-{}.csv", i + 1, sample.serial);
        let lot = sample.lot;
        let run = analyser::Run {
            seed: 17 + i as u64,
            jitter: 400,
            spots: 5,
            calibrated_days_ago: 30,
        };
        let (row, grading) = grader.grade(d.clock, who, &file, sample, &run, |why| {
            format!("demo: grading of {lot} refused: {why}")
        })?;
        rows.push(row);
        gradings.push((who, grading));
    }
    d.batch(gradings)?;
    Ok(rows)
}

/// One melt: `lots` of scrap, `extra` other inputs and a primary `top`-up;
/// 1 % is lost. Returns the melt and its output mass.
fn melt(
    lots: &[ScrapReceipt],
    extra: &[(Uuid, u64)],
    top: (Uuid, u64),
) -> (passport_schema::Transformation, u64) {
    let mut b = TransformationBuilder::new(Process::Melt);
    let mut total = 0;
    for l in lots {
        b = b.input(l.id, l.net_g);
        total += l.net_g;
    }
    for (id, m) in extra.iter().chain(std::iter::once(&top)) {
        b = b.input(*id, *m);
        total += m;
    }
    let loss = total / 100;
    (
        b.output(MaterialKind::Intermediate, total - loss)
            .losses_g(loss)
            .build(),
        total - loss,
    )
}

/// Electrolytic refining of one anode into `parts` equal refined lots of
/// 99.997 % Cu: the impurities go to slag and anode slimes, and 1 % of the
/// copper too (for No. 2 scrap the loss comes to 2 to 5 % of the mass). The
/// refined copper never exceeds the copper in the anode (`cu_ppm`).
fn refine(anode: Uuid, mass: u64, cu_ppm: u32, parts: u64) -> passport_schema::Transformation {
    let copper = u128::from(mass) * u128::from(cu_ppm) / 1_000_000 * 99 / 100;
    let refined = u64::try_from(copper * 1_000_000 / 999_970)
        .unwrap_or(mass)
        .min(mass);
    let each = refined / parts;
    let mut b = TransformationBuilder::new(Process::Refine).input(anode, mass);
    for _ in 0..parts {
        b = b.output_with(
            Uuid::now_v7(),
            MaterialKind::Refined,
            each,
            Some(cu(999_970).with("O", 5)),
        );
    }
    b.losses_g(mass - each * parts).build()
}

/// The recyclers ship their scrap to the refinery, which melts Hefei's lots
/// with the pre-consumer lot and Chinese cathode, Wuhu's with Chilean
/// cathode, and refines the first anode into three lots, the second into one.
pub(super) fn melt_and_refine(
    d: &mut Recorder<'_>,
    c: &Cast,
    scrap: &Scrap,
    cathode: &Cathode,
) -> Result<Refined> {
    let to_refinery = |lot| EventBody::Transfer(Transfer::new(lot, c.refinery.kid));
    let mut items: Vec<(&Actor, EventBody)> = scrap
        .hefei
        .iter()
        .map(|r| (&c.hefei, to_refinery(r.id)))
        .collect();
    items.extend(scrap.wuhu.iter().map(|r| (&c.wuhu, to_refinery(r.id))));
    items.push((&c.wuhu, to_refinery(scrap.pre)));
    d.batch(items)?;
    let (melt1, anode1_mass) = melt(&scrap.hefei, &[(scrap.pre, 5 * T)], (cathode.top_cn, 8 * T));
    let (melt2, anode2_mass) = melt(&scrap.wuhu, &[], (cathode.top_cl, 4 * T));
    let anode1 = melt1.outputs.first().map(|o| o.id).unwrap_or_default();
    let anode2 = melt2.outputs.first().map(|o| o.id).unwrap_or_default();
    let melt_index = d.batch_by(
        &c.refinery,
        [EventBody::Transform(melt1), EventBody::Transform(melt2)],
    )?;
    let r1 = refine(anode1, anode1_mass, d.cu_at_most(&anode1)?, 3);
    let r2 = refine(anode2, anode2_mass, d.cu_at_most(&anode2)?, 1);
    let r1_ids: Vec<Uuid> = r1.outputs.iter().map(|o| o.id).collect();
    let r2_id = r2.outputs.first().map(|o| o.id).unwrap_or_default();
    d.batch_by(
        &c.refinery,
        [EventBody::Transform(r1), EventBody::Transform(r2)],
    )?;
    let [certified, deliver_a, deliver_b, ..] = r1_ids.as_slice() else {
        return Err(CliError::failed("demo: refining produced too few lots"));
    };
    Ok(Refined {
        anode: anode1,
        melt_index: melt_index.first().copied().unwrap_or(0),
        certified: *certified,
        deliveries: [*deliver_a, *deliver_b],
        tainted: r2_id,
    })
}

/// The certifier certifies the first refined lot's derived recycled share,
/// then tries the same on the lot holding off-grade scrap, which the rules
/// refuse (checked, never appended). Returns the certificate, the certified
/// lot's view and the refusal.
pub(super) fn certificates(
    d: &mut Recorder<'_>,
    local: &Local,
    c: &Cast,
    scheme: SchemeRef,
    refined: &Refined,
) -> Result<(Uuid, LotView, CliError)> {
    let lot_view = local.lot(&refined.certified)?;
    let cert = CertificateIssue {
        id: Uuid::now_v7(),
        scheme,
        subject: refined.certified,
        claimed_recycled_share_ppm: lot_view.recycled.total_ppm,
        claimed_mass_g: lot_view.mass_g,
    };
    let cert_id = cert.id;
    d.one(&c.certifier, EventBody::IssueCertificate(cert))?;
    let tainted = local.lot(&refined.tainted)?;
    let refused_attempt = CertificateIssue {
        id: Uuid::now_v7(),
        scheme,
        subject: refined.tainted,
        claimed_recycled_share_ppm: tainted.recycled.total_ppm,
        claimed_mass_g: tainted.mass_g,
    };
    let bytes = d.sign(&c.certifier, EventBody::IssueCertificate(refused_attempt))?;
    let refusal = match d.check(&bytes) {
        Err(e) => e,
        Ok(_) => {
            return Err(CliError::failed(
                "demo: the certificate on the lot with off-grade scrap was NOT refused",
            ));
        }
    };
    Ok((cert_id, lot_view, refusal))
}

/// The refinery proposes a circular performance contract to the rod mill
/// (which accepts it) and delivers two refined lots under it.
pub(super) fn contract(
    d: &mut Recorder<'_>,
    c: &Cast,
    refined: &Refined,
    rule_set: RuleSetRef,
    now: i64,
) -> Result<Uuid> {
    let spec = MaterialSpec {
        description: "Cu-CATH-1 equivalent refined copper (GB/T 467 A-grade)".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let contract = ContractBuilder::new(c.rodmill.kid, spec, d.clock - DAY, now + 365 * DAY, "CNY")
        .take_back_share(100_000)
        .grade(rule_set, "ISRI:Berry/Candy", 30_000)
        .grade(rule_set, "ISRI:Birch/Cliff", -15_000)
        .min_recycled_share(300_000)
        .build();
    let contract_id = contract.id;
    let proposed = d.one(&c.refinery, EventBody::ProposeContract(contract))?;
    let proposal = d.leaf_hash(proposed)?;
    d.one(
        &c.rodmill,
        EventBody::AcceptContract(ContractAcceptance::new(contract_id, proposal)),
    )?;
    d.batch_by(
        &c.refinery,
        refined
            .deliveries
            .map(|lot| EventBody::Transfer(Transfer::delivery(lot, c.rodmill.kid, contract_id))),
    )?;
    Ok(contract_id)
}

/// The rod mill's production scrap comes back to the refinery under the
/// contract as two lots, graded by OES.
pub(super) fn take_back(
    d: &mut Recorder<'_>,
    c: &Cast,
    grader: &Grader<'_>,
    contract: Uuid,
) -> Result<Vec<GradeRow>> {
    let rod_supplier = Supplier::new(c.rodmill.name, "CN", Some(c.rodmill.kid));
    // The customer dispatches its scrap under the contract; the refinery's
    // take-backs name those dispatches.
    let d1 = DispatchScrap::new(c.refinery.kid, 1_200_000, "rod mill drawing scrap")
        .under_contract(contract);
    let d2 =
        DispatchScrap::new(c.refinery.kid, 600_000, "rod mill wire ends").under_contract(contract);
    let tb1 = ScrapReceipt::new(
        1_250_000,
        50_000,
        rod_supplier.clone(),
        ScrapOrigin::PreConsumer,
    )
    .under_contract(contract)
    .of_dispatch(d1.id);
    let tb2 = ScrapReceipt::new(640_000, 40_000, rod_supplier, ScrapOrigin::PreConsumer)
        .under_contract(contract)
        .of_dispatch(d2.id);
    d.batch_by(
        &c.rodmill,
        [EventBody::DispatchScrap(d1), EventBody::DispatchScrap(d2)],
    )?;
    let (tb1_id, tb2_id) = (tb1.id, tb2.id);
    d.batch_by(
        &c.refinery,
        [EventBody::ReceiveScrap(tb1), EventBody::ReceiveScrap(tb2)],
    )?;
    let oil = BTreeMap::from([(VisualContaminant::Oil, 400)]);
    let mut rows = Vec::new();
    let mut gradings = Vec::new();
    for (i, (lot, profile, visual)) in [(tb1_id, BERRY, oil), (tb2_id, BIRCH, BTreeMap::new())]
        .into_iter()
        .enumerate()
    {
        let sample = Sample {
            lot,
            profile,
            visual,
            instrument: Instrument::Oes,
            serial: "OES-TL-9",
        };
        let run = analyser::Run {
            seed: 99 + i as u64,
            jitter: 300,
            spots: 4,
            calibrated_days_ago: 10,
        };
        let file = format!("takeback-{}-OES-TL-9.csv", i + 1);
        let (row, grading) = grader.grade(d.clock, &c.refinery, &file, sample, &run, |why| {
            format!("demo: take-back grading refused: {why}")
        })?;
        rows.push(GradeRow {
            take_back: true,
            ..row
        });
        gradings.push(grading);
    }
    d.batch_by(&c.refinery, gradings)?;
    Ok(rows)
}
