//! `cupass demo`: the Tongling scenario in a fresh local ledger, in one run.
//!
//! Two primary cathode suppliers, a secondary-copper refiner, a rod maker,
//! a foil maker, an electronics maker, a grid utility (service), two
//! recyclers and a certifier. Products get passports and service
//! histories, reach end of life, come back as graded scrap (graded from
//! analyser CSVs through the same code as `cupass scrap grade`), are melted
//! with primary top-up and refined; a certificate is issued, another is
//! refused by the rules; a circular performance contract is delivered,
//! taken back and audited; the certificate's evidence bundle is exported
//! and verified offline.
//!
//! Entries are committed in batches through
//! [`client::PassportLedger::commit_batch`] wherever order allows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use client::PassportLedger;
use client::pipeline::Submission;
use ledger::{NoteSigner, SledStore};
use passport_schema::{
    Alloy, Bytes32, CertificateIssue, Composition, ContractAcceptance, ContractBuilder, EndOfLife,
    Event, EventBody, GrantRole, Granularity, Instrument, MaterialKind, MaterialSpec,
    PassportBuilder, PrimaryLot, Process, RegisterActor, Role, RuleSet, SchemeBuilder, SchemeRef,
    ScrapOrigin, ScrapReceipt, ServiceEvent, ServiceKind, Supplier, Transfer,
    TransformationBuilder, VisualContaminant,
};
use serde_json::json;
use uuid::Uuid;

use crate::Ctx;
use crate::args::DemoArgs;
use crate::backend::{Backend, Local};
use crate::cmd::certs::{bundle_json, render_audit, render_verdict};
use crate::cmd::scrap::{GradeInput, plan_grading};
use crate::error::{CliError, Result};
use crate::output::{Report, Table, fields, grams, pct};
use crate::readings::{self, Unit};

const T: u64 = 1_000_000; // grams per tonne
const DAY: i64 = 86_400_000;

struct Actor {
    name: &'static str,
    signer: NoteSigner,
    kid: Bytes32,
    key_file: PathBuf,
}

struct Demo<'a> {
    ledger: &'a PassportLedger<SledStore>,
    clock: i64,
    counts: BTreeMap<&'static str, u64>,
    batches: u64,
}

impl Demo<'_> {
    fn sign(&self, who: &Actor, body: EventBody) -> Result<Vec<u8>> {
        Ok(client::sign_event(
            &who.signer,
            &Event::new(self.clock, body),
        )?)
    }

    /// Checks every entry against the state before the batch, then commits
    /// them in one durable batch (re-checked in order). Returns the indices.
    fn batch(&mut self, items: Vec<(&Actor, EventBody)>) -> Result<Vec<u64>> {
        let mut checked = Vec::with_capacity(items.len());
        let mut kinds = Vec::with_capacity(items.len());
        for (who, body) in items {
            let kind = body.kind().name();
            let bytes = self.sign(who, body)?;
            self.clock += 1_000;
            match self.ledger.check(&bytes, client::now_ms())? {
                Submission::New(c) => checked.push(*c),
                Submission::Duplicate(i) => {
                    return Err(CliError::failed(format!(
                        "demo: {kind} duplicates entry {i}"
                    )));
                }
            }
            kinds.push(kind);
        }
        let results = self.ledger.commit_batch(checked)?;
        let mut out = Vec::with_capacity(results.len());
        for (r, kind) in results.into_iter().zip(kinds) {
            let r = r.map_err(|e| CliError::failed(format!("demo: {kind} refused: {e}")))?;
            *self.counts.entry(kind).or_default() += 1;
            out.push(r.index);
        }
        self.batches += 1;
        self.clock += DAY;
        Ok(out)
    }

    fn one(&mut self, who: &Actor, body: EventBody) -> Result<u64> {
        let v = self.batch(vec![(who, body)])?;
        v.first()
            .copied()
            .ok_or_else(|| CliError::failed("demo: empty batch"))
    }
}

fn new_actor(keys: &Path, name: &'static str, file: &str) -> Result<Actor> {
    let key_name = name.replace(char::is_whitespace, "_");
    let signer = NoteSigner::new(&key_name, ledger::keys::generate_signing_key()?)?;
    let key_file = keys.join(format!("{file}.key"));
    client::keyfile::write_key_file(&key_file, &signer)?;
    std::fs::write(
        keys.join(format!("{file}.key.pub")),
        format!("{}\n", signer.verifier()),
    )?;
    let kid = crate::keys::signer_kid(&signer);
    Ok(Actor {
        name,
        signer,
        kid,
        key_file,
    })
}

fn cu(ppm: u32) -> Composition {
    Composition::new().with("Cu", ppm)
}

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
fn write_csv(path: &Path, seed: u64, base: &[(&str, u64)], jitter: u64, spots: u32) -> Result<()> {
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

/// The fewest passports `--passports` accepts.
const MIN_PASSPORTS: u32 = 20;
/// The most passports `--passports` accepts.
const MAX_PASSPORTS: u32 = 480;
/// The marker file the demo writes into a directory it creates; only a
/// directory holding it (or an empty one) is ever wiped by a later run.
pub const DEMO_MARKER: &str = ".cupass-demo";

/// Makes `out` a fresh, empty directory holding [`DEMO_MARKER`]. Refuses
/// (usage error) to wipe anything that is not an earlier demo's output.
fn prepare_out(out: &Path) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot use --out {}: {e}",
                out.display()
            )));
        }
        Ok(m) if !m.is_dir() => {
            return Err(CliError::usage(format!(
                "--out {} exists and is not a directory; refusing to overwrite it",
                out.display()
            )));
        }
        Ok(_) => {
            let mut entries = std::fs::read_dir(out)?;
            if out.join(DEMO_MARKER).is_file() {
                std::fs::remove_dir_all(out)
                    .map_err(|e| CliError::failed(format!("cannot wipe {}: {e}", out.display())))?;
            } else if entries.next().is_some() {
                return Err(CliError::usage(format!(
                    "--out {} is not empty and not an earlier demo's output (no {DEMO_MARKER} \
                     file); refusing to wipe it. Choose a new or empty directory.",
                    out.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join(DEMO_MARKER),
        "written by `cupass demo`: this directory is wiped by the next demo run into it\n",
    )?;
    Ok(())
}

/// Runs the demo.
pub fn demo(ctx: &mut Ctx, a: DemoArgs) -> Result<Report> {
    if ctx.node.is_some() {
        return Err(CliError::usage(
            "the demo builds a fresh local ledger; drop --node",
        ));
    }
    if !(MIN_PASSPORTS..=MAX_PASSPORTS).contains(&a.passports) || !a.passports.is_multiple_of(20) {
        return Err(CliError::usage(format!(
            "--passports must be a multiple of 20 from {MIN_PASSPORTS} to {MAX_PASSPORTS} (default 240)"
        )));
    }
    let started = Instant::now();
    let out = a.out.clone().unwrap_or_else(|| ctx.dir.join("demo"));
    prepare_out(&out)?;
    let ledger_dir = out.join("ledger");
    let keys = out.join("keys");
    let csv_dir = out.join("readings");
    std::fs::create_dir_all(&keys)?;
    std::fs::create_dir_all(&csv_dir)?;
    let origin = "tongling.cupass.example/demo";
    let init = client::init(
        &ledger_dir,
        origin,
        "Tongling Ledger Operator",
        "CN",
        &client::Options::default(),
    )?;
    let local = Local::open(&ledger_dir)?;
    let op_signer = client::keyfile::read_key_file(
        &client::DataDir(ledger_dir.clone()).operator_key(),
        client::keyfile::Permissions::Strict,
    )?;
    let operator = Actor {
        name: "Tongling Ledger Operator",
        kid: crate::keys::signer_kid(&op_signer),
        signer: op_signer,
        key_file: client::DataDir(ledger_dir.clone()).operator_key(),
    };
    let now = client::now_ms();
    let mut d = Demo {
        ledger: local.ledger(),
        clock: now - 200 * DAY,
        counts: BTreeMap::from([("genesis", 1)]),
        batches: 1,
    };

    // --- Actors -----------------------------------------------------------
    let jinguan = new_actor(&keys, "Jinguan Copper Smelter", "jinguan")?;
    let andes = new_actor(&keys, "Andes Cathode Trading", "andes")?;
    let refinery = new_actor(&keys, "Tongling Secondary Copper Refinery", "refinery")?;
    let rodmill = new_actor(&keys, "Tongling Rod and Wire", "rodmill")?;
    let foil = new_actor(&keys, "Tongling Copper Foil", "foil")?;
    let electronics = new_actor(&keys, "Tongling Power Electronics", "electronics")?;
    let utility = new_actor(&keys, "Anhui Grid Utility", "utility")?;
    let hefei = new_actor(&keys, "Hefei Recycling", "hefei")?;
    let wuhu = new_actor(&keys, "Wuhu Scrap Metals", "wuhu")?;
    let certifier = new_actor(&keys, "Tongling Certification Centre", "certifier")?;
    let roster: Vec<(&Actor, &str, &[Role])> = vec![
        (&jinguan, "CN", &[Role::Refiner]),
        (&andes, "CL", &[Role::Refiner]),
        (&refinery, "CN", &[Role::Refiner, Role::Recycler]),
        (&rodmill, "CN", &[Role::Manufacturer]),
        (&foil, "CN", &[Role::Manufacturer]),
        (&electronics, "CN", &[Role::Manufacturer]),
        (&utility, "CN", &[Role::Service]),
        (&hefei, "CN", &[Role::Recycler]),
        (&wuhu, "CN", &[Role::Recycler]),
        (&certifier, "CN", &[Role::Certifier]),
    ];
    d.batch(
        roster
            .iter()
            .map(|(a, c, _)| {
                (
                    &operator,
                    EventBody::RegisterActor(RegisterActor {
                        name: a.name.into(),
                        country: (*c).into(),
                        public_key: Bytes32(*a.signer.verifier().key().as_bytes()),
                    }),
                )
            })
            .collect(),
    )?;
    d.batch(
        roster
            .iter()
            .flat_map(|(a, _, roles)| {
                roles.iter().map(|r| {
                    (
                        &operator,
                        EventBody::GrantRole(GrantRole {
                            actor: a.kid,
                            role: *r,
                        }),
                    )
                })
            })
            .collect(),
    )?;

    // --- Rule set and scheme ---------------------------------------------
    let rule_set: RuleSet = passport_schema::isri_illustrative_rule_set()?;
    std::fs::write(
        out.join("isri-illustrative-ruleset.json"),
        passport_schema::ISRI_ILLUSTRATIVE_RULESET_JSON,
    )?;
    d.one(&certifier, EventBody::PublishRuleSet(rule_set.clone()))?;
    let rs_ref = passport_schema::RuleSetRef {
        id: rule_set.id,
        version: rule_set.version,
    };
    let scheme = SchemeBuilder::new("Tongling Recycled", 300_000)
        .limit("Cu", Some(999_500), None)
        .accept(rs_ref)
        .build();
    let sref = SchemeRef {
        id: scheme.id,
        version: scheme.version,
    };
    std::fs::write(
        out.join("scheme.json"),
        serde_json::to_string_pretty(&scheme).unwrap_or_default(),
    )?;
    d.one(&certifier, EventBody::PublishScheme(scheme))?;

    // --- Primary cathode ---------------------------------------------------
    let lot = |mass, country: &str, supplier: &str, brand: &str| {
        let mut l =
            PrimaryLot::new(mass, country, supplier).with_composition(cu(999_950).with("O", 30));
        l.brand = Some(brand.into());
        l
    };
    let cn_rod = lot(20 * T, "CN", "Jinguan Copper Smelter", "JINGUAN A");
    let cn_top = lot(10 * T, "CN", "Jinguan Copper Smelter", "JINGUAN A");
    let cl_foil = lot(10 * T, "CL", "Andes Cathode Trading", "CODELCO ENAMI");
    let cl_top = lot(10 * T, "CL", "Andes Cathode Trading", "CODELCO ENAMI");
    let (cn_rod_id, cn_top_id, cl_foil_id, cl_top_id) =
        (cn_rod.id, cn_top.id, cl_foil.id, cl_top.id);
    d.batch(vec![
        (&jinguan, EventBody::RegisterPrimaryLot(cn_rod)),
        (&jinguan, EventBody::RegisterPrimaryLot(cn_top)),
        (&andes, EventBody::RegisterPrimaryLot(cl_foil)),
        (&andes, EventBody::RegisterPrimaryLot(cl_top)),
    ])?;
    d.batch(vec![
        (
            &jinguan,
            EventBody::Transfer(Transfer::new(cn_rod_id, rodmill.kid)),
        ),
        (
            &jinguan,
            EventBody::Transfer(Transfer::new(cn_top_id, refinery.kid)),
        ),
        (
            &andes,
            EventBody::Transfer(Transfer::new(cl_foil_id, foil.kid)),
        ),
        (
            &andes,
            EventBody::Transfer(Transfer::new(cl_top_id, refinery.kid)),
        ),
    ])?;

    // --- Semi-finished: rod and foil -------------------------------------
    let draw = TransformationBuilder::new(Process::Draw)
        .input(cn_rod_id, 20 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Rod,
            19_800_000,
            Some(cu(999_930).with("O", 40)),
        )
        .output(MaterialKind::Scrap, 150_000)
        .losses_g(50_000)
        .build();
    let rod = draw.outputs.first().map(|o| o.id).unwrap_or_default();
    let roll = TransformationBuilder::new(Process::Roll)
        .input(cl_foil_id, 10 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Foil,
            9_850_000,
            Some(cu(999_900)),
        )
        .losses_g(150_000)
        .build();
    let foil_lot = roll.outputs.first().map(|o| o.id).unwrap_or_default();
    d.batch(vec![
        (&rodmill, EventBody::Transform(draw)),
        (&foil, EventBody::Transform(roll)),
    ])?;
    d.batch(vec![
        (
            &rodmill,
            EventBody::Transfer(Transfer::new(rod, electronics.kid)),
        ),
        (
            &foil,
            EventBody::Transfer(Transfer::new(foil_lot, electronics.kid)),
        ),
    ])?;

    // --- Products and passports ------------------------------------------
    let n = a.passports as usize;
    let mut assembles = Vec::new();
    let mut products: Vec<Uuid> = Vec::with_capacity(n);
    for _ in 0..n / 20 {
        let mut b = TransformationBuilder::new(Process::Assemble)
            .input(rod, 20 * 40_000)
            .input(foil_lot, 20 * 10_000)
            .losses_g(20 * 500);
        for _ in 0..20 {
            b = b.output(MaterialKind::Product, 49_500);
        }
        products.extend(b.output_ids());
        assembles.push((&electronics, EventBody::Transform(b.build())));
    }
    d.batch(assembles)?;
    let sample_passport = |p: Uuid, i: usize| {
        PassportBuilder::new(
            p,
            "Copper busbar power distribution unit",
            "TPE-PDU-400A",
            &format!("TPE-2025-{i:05}"),
            Alloy::Gb("T2".into()),
            cu(999_900).with("O", 50),
        )
        .gs1_digital_link(&format!(
            "https://id.gs1.org/01/09506000134352/21/TPE-2025-{i:05}"
        ))
        .granularity(Granularity::Item)
        .carbon_footprint(3_100)
        .conductivity(10_100)
        .step(Process::Draw, "Tongling Rod and Wire", "CN")
        .step(Process::Roll, "Tongling Copper Foil", "CN")
        .step(Process::Assemble, "Tongling Power Electronics", "CN")
        .build()
    };
    if let Some(p0) = products.first() {
        std::fs::write(
            out.join("passport-example.json"),
            serde_json::to_string_pretty(&sample_passport(*p0, 1)).unwrap_or_default(),
        )?;
    }
    d.batch(
        products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    &electronics,
                    EventBody::IssuePassport(sample_passport(*p, i + 1)),
                )
            })
            .collect(),
    )?;
    d.batch(
        products
            .iter()
            .map(|p| {
                (
                    &electronics,
                    EventBody::Transfer(Transfer::new(*p, utility.kid)),
                )
            })
            .collect(),
    )?;
    let svc = |p: Uuid, kind, note: &str| {
        EventBody::Service(ServiceEvent {
            product: p,
            kind,
            note: note.into(),
            evidence: vec![passport_schema::sha256(format!("{p}:{note}").as_bytes())],
        })
    };
    d.batch(
        products
            .iter()
            .map(|p| {
                (
                    &utility,
                    svc(
                        *p,
                        ServiceKind::Install,
                        "installed at Tongling 110 kV substation",
                    ),
                )
            })
            .collect(),
    )?;
    d.batch(
        products
            .iter()
            .map(|p| {
                (
                    &utility,
                    svc(
                        *p,
                        ServiceKind::Inspect,
                        "annual thermal scan: no hot spots",
                    ),
                )
            })
            .collect(),
    )?;
    d.batch(
        products
            .iter()
            .step_by(6)
            .map(|p| {
                (
                    &utility,
                    svc(
                        *p,
                        ServiceKind::Repair,
                        "joint re-torqued, contact replaced",
                    ),
                )
            })
            .collect(),
    )?;
    let retired: Vec<Uuid> = products.iter().take(n / 2).copied().collect();
    d.batch(
        retired
            .iter()
            .map(|p| {
                (
                    &utility,
                    svc(*p, ServiceKind::Decommission, "substation upgrade"),
                )
            })
            .collect(),
    )?;
    d.batch(
        retired
            .iter()
            .map(|p| {
                (
                    &utility,
                    EventBody::EndOfLife(EndOfLife {
                        product: *p,
                        reason: "replaced by 630 A units".into(),
                        evidence: vec![],
                    }),
                )
            })
            .collect(),
    )?;
    let (to_hefei, to_wuhu) = retired.split_at(retired.len() / 2);
    d.batch(
        to_hefei
            .iter()
            .map(|p| (&utility, EventBody::Transfer(Transfer::new(*p, hefei.kid))))
            .chain(
                to_wuhu
                    .iter()
                    .map(|p| (&utility, EventBody::Transfer(Transfer::new(*p, wuhu.kid)))),
            )
            .collect(),
    )?;

    // --- Scrap receipt -----------------------------------------------------
    let util_supplier = Supplier::new(utility.name, "CN", Some(utility.kid));
    let receipt = |sources: &[Uuid]| {
        let mass = 49_500 * sources.len() as u64;
        let mut r = ScrapReceipt::new(
            mass - 20_000 + 35_000,
            35_000,
            util_supplier.clone(),
            ScrapOrigin::PostConsumer,
        );
        r.source_passports = sources.to_vec();
        r
    };
    let hefei_lots: Vec<ScrapReceipt> = to_hefei
        .chunks(to_hefei.len().div_ceil(3))
        .map(receipt)
        .collect();
    let wuhu_lots: Vec<ScrapReceipt> = to_wuhu
        .chunks(to_wuhu.len().div_ceil(3))
        .map(receipt)
        .collect();
    let pre = ScrapReceipt::new(
        5_200_000,
        200_000,
        Supplier::new("Wuhu Wire Harness Co", "CN", None),
        ScrapOrigin::PreConsumer,
    );
    let pre_id = pre.id;
    let mut items: Vec<(&Actor, EventBody)> = hefei_lots
        .iter()
        .map(|r| (&hefei, EventBody::ReceiveScrap(r.clone())))
        .collect();
    items.extend(
        wuhu_lots
            .iter()
            .map(|r| (&wuhu, EventBody::ReceiveScrap(r.clone()))),
    );
    items.push((&wuhu, EventBody::ReceiveScrap(pre)));
    d.batch(items)?;

    // --- Grading from analyser CSVs (the `scrap grade` code path) ---------
    let berry: &[(&str, u64)] = &[
        ("Cu", 995_200),
        ("Sn", 400),
        ("Pb", 150),
        ("Zn", 600),
        ("Fe", 300),
        ("Ni", 200),
    ];
    let birch: &[(&str, u64)] = &[
        ("Cu", 958_000),
        ("Sn", 9_000),
        ("Pb", 3_500),
        ("Zn", 6_000),
        ("Fe", 2_500),
        ("Ni", 800),
    ];
    let burnt: &[(&str, u64)] = &[
        ("Cu", 861_000),
        ("Sn", 31_000),
        ("Pb", 42_000),
        ("Zn", 24_000),
        ("Fe", 18_000),
        ("Ni", 1_500),
    ];
    struct ToGrade<'a> {
        who: &'a Actor,
        lot: Uuid,
        profile: &'a [(&'a str, u64)],
        visual: Vec<(VisualContaminant, u32)>,
        instrument: Instrument,
        serial: &'a str,
    }
    let mut plan: Vec<ToGrade<'_>> = Vec::new();
    for (i, r) in hefei_lots.iter().enumerate() {
        let (profile, visual) = if i == 0 {
            (berry, vec![(VisualContaminant::Oil, 500)])
        } else {
            (birch, vec![(VisualContaminant::Solder, 8_000)])
        };
        plan.push(ToGrade {
            who: &hefei,
            lot: r.id,
            profile,
            visual,
            instrument: Instrument::Xrf,
            serial: "XRF-HF-0417",
        });
    }
    for (i, r) in wuhu_lots.iter().enumerate() {
        let (profile, visual) = if i == 0 {
            (
                burnt,
                vec![
                    (VisualContaminant::Burnt, 60_000),
                    (VisualContaminant::Insulation, 15_000),
                ],
            )
        } else {
            (birch, vec![(VisualContaminant::Insulation, 3_000)])
        };
        plan.push(ToGrade {
            who: &wuhu,
            lot: r.id,
            profile,
            visual,
            instrument: Instrument::Libs,
            serial: "LIBS-WH-22",
        });
    }
    plan.push(ToGrade {
        who: &wuhu,
        lot: pre_id,
        profile: berry,
        visual: vec![],
        instrument: Instrument::Libs,
        serial: "LIBS-WH-22",
    });
    let mut gradings = Vec::new();
    let mut grade_lines = Table::new(&["lot", "recycler", "readings file", "spots", "Cu", "grade"]);
    let mut grades_of: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
    for (i, g) in plan.iter().enumerate() {
        let path = csv_dir.join(format!("lot-{:02}-{}.csv", i + 1, g.serial));
        write_csv(&path, 17 + i as u64, g.profile, 400, 5)?;
        let text = std::fs::read_to_string(&path)?;
        let averaged = readings::parse(&text, &path.display().to_string(), Unit::Percent)?;
        let p = plan_grading(
            GradeInput {
                lot: g.lot,
                rule_set: &rule_set,
                averaged: &averaged,
                instrument: g.instrument,
                serial: g.serial,
                calibrated_ms: d.clock - 30 * DAY,
                visual: g.visual.iter().copied().collect(),
                at_ms: d.clock,
                expect: None,
            },
            &ctx.style,
        );
        if let Some(why) = p.refusal {
            return Err(CliError::failed(format!(
                "demo: grading of {} refused: {why}",
                g.lot
            )));
        }
        grade_lines.row(vec![
            g.lot.to_string(),
            g.who.name.into(),
            path.strip_prefix(&out)
                .unwrap_or(&path)
                .display()
                .to_string(),
            averaged.spots.to_string(),
            pct(u64::from(averaged.mean_ppm.get("Cu").copied().unwrap_or(0))),
            p.grade.clone().unwrap_or_else(|| "off-grade".into()),
        ]);
        grades_of.insert(g.lot, p.grade.clone());
        gradings.push((g.who, EventBody::Grade(p.grading)));
    }
    d.batch(gradings)?;

    // --- To the refinery: melts with primary top-up, refining --------------
    let mut items: Vec<(&Actor, EventBody)> = hefei_lots
        .iter()
        .map(|r| {
            (
                &hefei,
                EventBody::Transfer(Transfer::new(r.id, refinery.kid)),
            )
        })
        .collect();
    items.extend(wuhu_lots.iter().map(|r| {
        (
            &wuhu,
            EventBody::Transfer(Transfer::new(r.id, refinery.kid)),
        )
    }));
    items.push((
        &wuhu,
        EventBody::Transfer(Transfer::new(pre_id, refinery.kid)),
    ));
    d.batch(items)?;
    let melt = |lots: &[&ScrapReceipt], extra: &[(Uuid, u64)], top: (Uuid, u64)| {
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
    };
    let (melt1, anode1_mass) = melt(
        &hefei_lots.iter().collect::<Vec<_>>(),
        &[(pre_id, 5 * T)],
        (cn_top_id, 8 * T),
    );
    let (melt2, anode2_mass) = melt(
        &wuhu_lots.iter().collect::<Vec<_>>(),
        &[],
        (cl_top_id, 4 * T),
    );
    let anode1 = melt1.outputs.first().map(|o| o.id).unwrap_or_default();
    let anode2 = melt2.outputs.first().map(|o| o.id).unwrap_or_default();
    let melt_index = d.batch(vec![
        (&refinery, EventBody::Transform(melt1)),
        (&refinery, EventBody::Transform(melt2)),
    ])?;
    let refine = |anode: Uuid, mass: u64, parts: u64| {
        let loss = mass / 200;
        let each = (mass - loss) / parts;
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
    };
    let r1 = refine(anode1, anode1_mass, 3);
    let r2 = refine(anode2, anode2_mass, 1);
    let r1_ids: Vec<Uuid> = r1.outputs.iter().map(|o| o.id).collect();
    let r2_id = r2.outputs.first().map(|o| o.id).unwrap_or_default();
    d.batch(vec![
        (&refinery, EventBody::Transform(r1)),
        (&refinery, EventBody::Transform(r2)),
    ])?;
    let (Some(certified_lot), Some(deliver_a), Some(deliver_b)) = (
        r1_ids.first().copied(),
        r1_ids.get(1).copied(),
        r1_ids.get(2).copied(),
    ) else {
        return Err(CliError::failed("demo: refining produced too few lots"));
    };

    // --- Certificates: one issued, one refused ------------------------------
    let lot_view = local.lot(&certified_lot)?;
    let share = lot_view.recycled.total_ppm;
    let mass = lot_view.mass_g;
    let cert = CertificateIssue {
        id: Uuid::now_v7(),
        scheme: sref,
        subject: certified_lot,
        claimed_recycled_share_ppm: share,
        claimed_mass_g: mass,
    };
    let cert_id = cert.id;
    d.one(&certifier, EventBody::IssueCertificate(cert))?;
    let r2_view = local.lot(&r2_id)?;
    let refused_attempt = CertificateIssue {
        id: Uuid::now_v7(),
        scheme: sref,
        subject: r2_id,
        claimed_recycled_share_ppm: r2_view.recycled.total_ppm,
        claimed_mass_g: r2_view.mass_g,
    };
    let bytes = d.sign(&certifier, EventBody::IssueCertificate(refused_attempt))?;
    let refusal = match d.ledger.check(&bytes, client::now_ms()) {
        Err(e) => CliError::from(e),
        Ok(_) => {
            return Err(CliError::failed(
                "demo: the certificate on the lot with off-grade scrap was NOT refused",
            ));
        }
    };

    // --- Circular performance contract --------------------------------------
    let spec = MaterialSpec {
        description: "Cu-CATH-1 equivalent refined copper (GB/T 467 A-grade)".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let contract = ContractBuilder::new(rodmill.kid, spec, d.clock - DAY, now + 365 * DAY, "CNY")
        .take_back_share(100_000)
        .grade("ISRI:Berry/Candy", 30_000)
        .grade("ISRI:Birch/Cliff", -15_000)
        .min_recycled_share(300_000)
        .build();
    let contract_id = contract.id;
    d.one(&refinery, EventBody::ProposeContract(contract))?;
    d.one(
        &rodmill,
        EventBody::AcceptContract(ContractAcceptance {
            contract: contract_id,
        }),
    )?;
    d.batch(vec![
        (
            &refinery,
            EventBody::Transfer(Transfer::delivery(deliver_a, rodmill.kid, contract_id)),
        ),
        (
            &refinery,
            EventBody::Transfer(Transfer::delivery(deliver_b, rodmill.kid, contract_id)),
        ),
    ])?;
    let rod_supplier = Supplier::new(rodmill.name, "CN", Some(rodmill.kid));
    let tb1 = ScrapReceipt::new(
        1_250_000,
        50_000,
        rod_supplier.clone(),
        ScrapOrigin::PreConsumer,
    )
    .under_contract(contract_id);
    let tb2 = ScrapReceipt::new(640_000, 40_000, rod_supplier, ScrapOrigin::PreConsumer)
        .under_contract(contract_id);
    let (tb1_id, tb2_id) = (tb1.id, tb2.id);
    d.batch(vec![
        (&refinery, EventBody::ReceiveScrap(tb1)),
        (&refinery, EventBody::ReceiveScrap(tb2)),
    ])?;
    let mut tb_grades = Vec::new();
    let oil = BTreeMap::from([(VisualContaminant::Oil, 400)]);
    for (i, (lot, profile, visual)) in [(tb1_id, berry, oil), (tb2_id, birch, BTreeMap::new())]
        .into_iter()
        .enumerate()
    {
        let path = csv_dir.join(format!("takeback-{}-OES-TL-9.csv", i + 1));
        write_csv(&path, 99 + i as u64, profile, 300, 4)?;
        let text = std::fs::read_to_string(&path)?;
        let averaged = readings::parse(&text, &path.display().to_string(), Unit::Percent)?;
        let p = plan_grading(
            GradeInput {
                lot,
                rule_set: &rule_set,
                averaged: &averaged,
                instrument: Instrument::Oes,
                serial: "OES-TL-9",
                calibrated_ms: d.clock - 10 * DAY,
                visual,
                at_ms: d.clock,
                expect: None,
            },
            &ctx.style,
        );
        if let Some(why) = p.refusal {
            return Err(CliError::failed(format!(
                "demo: take-back grading refused: {why}"
            )));
        }
        grade_lines.row(vec![
            lot.to_string(),
            refinery.name.into(),
            path.strip_prefix(&out)
                .unwrap_or(&path)
                .display()
                .to_string(),
            averaged.spots.to_string(),
            pct(u64::from(averaged.mean_ppm.get("Cu").copied().unwrap_or(0))),
            p.grade.clone().unwrap_or_else(|| "off-grade".into()),
        ]);
        tb_grades.push((&refinery, EventBody::Grade(p.grading)));
    }
    d.batch(tb_grades)?;
    let recorded_at = started.elapsed();

    // --- Evidence bundle, offline verification -----------------------------
    let bundle_bytes = local.bundle(&cert_id)?;
    let bundle_path = out.join("certificate.cupass");
    std::fs::write(&bundle_path, &bundle_bytes)?;
    let bundle = client::bundle::EvidenceBundle::from_cbor(&bundle_bytes)?;
    std::fs::write(
        out.join("certificate.json"),
        serde_json::to_string_pretty(&bundle_json(&bundle)).unwrap_or_default(),
    )?;
    let log_pub = client::DataDir(ledger_dir.clone()).log_pub();
    let log_key = crate::keys::parse_log_key(&log_pub.display().to_string())?;
    let verdict = client::bundle::verify_bundle(&std::fs::read(&bundle_path)?, &log_key);
    let audit = local.contract_audit(&contract_id)?;
    let cert_view = local.certificate(&cert_id)?;
    let elapsed = started.elapsed();
    let size = local.ledger().log().size()?;

    // --- Report -------------------------------------------------------------
    let s = &ctx.style;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} Tongling demo: {size} entries in {} batches, recorded in {:.1} s (total {:.1} s)\n",
        s.mark(verdict.valid),
        d.batches,
        recorded_at.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    text.push_str(&s.bold("What was recorded\n"));
    let mut t = Table::new(&["event kind", "entries"]);
    for (k, c) in &d.counts {
        t.row(vec![(*k).to_string(), c.to_string()]);
    }
    text.push_str(&t.render());
    let _ = writeln!(
        text,
        "\n{}",
        s.bold("Scrap graded from analyser CSVs (same code as `cupass scrap grade`)")
    );
    text.push_str(&grade_lines.render());

    let _ = writeln!(
        text,
        "\n{}",
        s.bold("The certified lot and where its recycled share came from")
    );
    text.push_str(&fields(&[
        ("refined lot", certified_lot.to_string()),
        ("mass", grams(mass)),
        (
            "recycled share",
            format!(
                "{} = post-consumer {} + pre-consumer {} (derived, never typed in)",
                pct(u64::from(share)),
                pct(u64::from(lot_view.recycled.post_consumer_ppm)),
                pct(u64::from(lot_view.recycled.pre_consumer_ppm)),
            ),
        ),
        (
            "primary origin",
            lot_view
                .origin_ppm
                .iter()
                .map(|(c, p)| format!("{c} {}", pct(u64::from(*p))))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "route",
            format!(
                "melt (entry {}) -> refine -> 3 refined lots",
                melt_index.first().copied().unwrap_or(0)
            ),
        ),
    ]));
    let anode_view = local.lot(&anode1)?;
    let mut mt = Table::new(&["melt input", "kind", "consumed", "counts as", "grade"]);
    for i in &anode_view.inputs {
        let v = local.lot(&i.material)?;
        let counts = if v.recycled.post_consumer_ppm > 0 {
            "post-consumer (end-of-life passports)".to_string()
        } else if v.recycled.pre_consumer_ppm > 0 {
            "pre-consumer (declared)".into()
        } else {
            format!(
                "primary ({})",
                v.origin_ppm.keys().cloned().collect::<Vec<_>>().join(",")
            )
        };
        let grade = v
            .grade
            .as_ref()
            .and_then(|g| g.grade.clone())
            .unwrap_or_else(|| "-".into());
        mt.row(vec![
            i.material.to_string(),
            crate::output::name(&v.kind),
            grams(i.mass_g),
            counts,
            grade,
        ]);
    }
    text.push_str(&mt.render());
    let _ = writeln!(
        text,
        "\n{} certificate {cert_id} ({}): {}",
        s.mark(true),
        cert_view.scheme_name,
        crate::output::name(&cert_view.status)
    );
    let _ = writeln!(
        text,
        "{} certificate on refined lot {r2_id} REFUSED by the rules ({}): {}",
        s.mark(false),
        refusal.code,
        refusal.message
    );
    let _ = writeln!(text, "\n{}", s.bold("Circular performance contract audit"));
    text.push_str(&render_audit(s, &audit));
    let _ = writeln!(text, "\n{}", s.bold("Evidence bundle, verified offline"));
    let _ = writeln!(
        text,
        "{} ({} entries, {} bytes)",
        bundle_path.display(),
        bundle.entries.len(),
        bundle_bytes.len()
    );
    text.push_str(&render_verdict(s, &verdict));
    let _ = writeln!(text, "\n{}", s.bold("Files"));
    text.push_str(&fields(&[
        ("ledger", ledger_dir.display().to_string()),
        (
            "log verifier key",
            format!("{} ({})", log_pub.display(), init.verifier_key),
        ),
        ("actor keys", keys.display().to_string()),
        ("analyser CSVs", csv_dir.display().to_string()),
        ("evidence bundle", bundle_path.display().to_string()),
        (
            "bundle, readable",
            out.join("certificate.json").display().to_string(),
        ),
        (
            "rule set / scheme",
            format!(
                "{} / {}",
                out.join("isri-illustrative-ruleset.json").display(),
                out.join("scheme.json").display()
            ),
        ),
    ]));
    let _ = writeln!(
        text,
        "\nTry:\n  cupass --dir {} cert status {cert_id}\n  cupass --dir {} passport show {}\n  cupass verify {} --log-key {}\n  cupass --dir {} log verify",
        ledger_dir.display(),
        ledger_dir.display(),
        products.last().map(|p| p.to_string()).unwrap_or_default(),
        bundle_path.display(),
        log_pub.display(),
        ledger_dir.display()
    );

    let json = json!({
        "entries": size,
        "batches": d.batches,
        "seconds": elapsed.as_secs_f64(),
        "counts": d.counts,
        "passports": products.len(),
        "certificate": cert_id,
        "certified_lot": certified_lot,
        "recycled_share_ppm": share,
        "refused_certificate": {"subject": r2_id, "error": refusal.code, "message": refusal.message},
        "grades": grades_of,
        "contract": contract_id,
        "contract_audit": audit,
        "verdict": verdict,
        "files": {
            "dir": out.display().to_string(),
            "ledger": ledger_dir.display().to_string(),
            "log_pub": log_pub.display().to_string(),
            "keys": keys.display().to_string(),
            "readings": csv_dir.display().to_string(),
            "bundle": bundle_path.display().to_string(),
        },
        "keys": {
            "operator": operator.key_file.display().to_string(),
            "refinery": refinery.key_file.display().to_string(),
            "certifier": certifier.key_file.display().to_string(),
            "electronics": electronics.key_file.display().to_string(),
        },
    });
    Ok(Report {
        json,
        text,
        exit: if verdict.valid {
            0
        } else {
            crate::error::EXIT_INVALID
        },
    })
}
