//! Property tests: canonical encoding, mass conservation, no
//! over-consumption, derived share vs brute force, replay determinism.

use std::collections::BTreeMap;

use passport_schema::*;
use proptest::prelude::*;
use uuid::Uuid;

use crate::common::*;

/// SplitMix64: a seed-driven generator for arbitrary events.
struct Rng(u64);

impl Rng {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.u64() % n.max(1)
    }
    /// Edge-heavy integers: 0, small, boundaries of CBOR widths, max.
    fn int(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => self.below(24),
            2 => 23 + self.below(3),
            3 => 255 + self.below(3),
            4 => 65_535 + self.below(3),
            5 => u64::from(u32::MAX) + self.below(3) - 1,
            6 => u64::MAX - self.below(2),
            _ => self.u64(),
        }
    }
    fn u32(&mut self) -> u32 {
        self.int() as u32
    }
    fn u16(&mut self) -> u16 {
        self.int() as u16
    }
    fn i64(&mut self) -> i64 {
        self.int() as i64
    }
    fn bool(&mut self) -> bool {
        self.below(2) == 0
    }
    fn text(&mut self) -> String {
        const P: &[&str] = &[
            "",
            "a",
            "Cu",
            "Tongling 铜陵",
            "ü",
            "x y",
            "🔶",
            "ISRI:Birch/Cliff",
        ];
        let n = self.below(4);
        (0..n)
            .map(|_| P[self.below(P.len() as u64) as usize])
            .collect()
    }
    fn long_text(&mut self) -> String {
        "z".repeat(self.below(400) as usize)
    }
    fn uuid(&mut self) -> Uuid {
        Uuid::from_u64_pair(self.u64(), self.u64())
    }
    fn b32(&mut self) -> Bytes32 {
        let mut b = [0u8; 32];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&self.u64().to_le_bytes());
        }
        Bytes32(b)
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.bool() { Some(f(self)) } else { None }
    }
    fn vec<T>(&mut self, max: u64, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = self.below(max + 1);
        (0..n).map(|_| f(self)).collect()
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn comp(&mut self) -> Composition {
        let mut c = Composition::new();
        for _ in 0..self.below(4) {
            let el = self.pick(&["Cu", "O", "Ag", "Sn", "Pb"]);
            c = c.with(el, self.u32());
        }
        c
    }
    fn kind(&mut self) -> MaterialKind {
        self.pick(&[
            MaterialKind::PrimaryCathode,
            MaterialKind::Scrap,
            MaterialKind::Intermediate,
            MaterialKind::Refined,
            MaterialKind::Rod,
            MaterialKind::Foil,
            MaterialKind::Strip,
            MaterialKind::Wire,
            MaterialKind::Product,
        ])
    }
    fn process(&mut self) -> Process {
        self.pick(&[
            Process::Melt,
            Process::Refine,
            Process::Cast,
            Process::Roll,
            Process::Draw,
            Process::Anneal,
            Process::Plate,
            Process::Assemble,
            Process::Disassemble,
        ])
    }
    fn role(&mut self) -> Role {
        self.pick(&[
            Role::Operator,
            Role::Manufacturer,
            Role::Refiner,
            Role::Recycler,
            Role::Certifier,
            Role::Service,
            Role::Auditor,
        ])
    }
    fn visual(&mut self) -> VisualContaminant {
        self.pick(&[
            VisualContaminant::Insulation,
            VisualContaminant::Solder,
            VisualContaminant::Oil,
            VisualContaminant::Enamel,
            VisualContaminant::Burnt,
            VisualContaminant::Paint,
            VisualContaminant::Attachments,
        ])
    }
    fn rsref(&mut self) -> RuleSetRef {
        RuleSetRef {
            id: self.uuid(),
            version: self.u32(),
        }
    }
    fn actor(&mut self) -> RegisterActor {
        RegisterActor {
            name: self.text(),
            country: self.text(),
            public_key: self.b32(),
        }
    }
    fn supplier(&mut self) -> Supplier {
        Supplier {
            name: self.text(),
            country: self.text(),
            kid: self.opt(|r| r.b32()),
        }
    }
    fn body(&mut self) -> EventBody {
        match self.below(22) {
            0 => Genesis::new(&self.text(), self.actor(), self.b32()).into(),
            1 => self.actor().into(),
            2 => GrantRole {
                actor: self.b32(),
                role: self.role(),
            }
            .into(),
            3 => RevokeKey {
                actor: self.b32(),
                reason: self.long_text(),
            }
            .into(),
            4 => PrimaryLot {
                id: self.uuid(),
                mass_g: self.int(),
                origin_country: self.text(),
                supplier: self.text(),
                brand: self.opt(|r| r.text()),
                composition: self.opt(|r| r.comp()),
            }
            .into(),
            5 => Transformation {
                process: self.process(),
                inputs: self.vec(4, |r| InputUse {
                    material: r.uuid(),
                    mass_g: r.int(),
                }),
                outputs: self.vec(4, |r| OutputSpec {
                    id: r.uuid(),
                    kind: r.kind(),
                    mass_g: r.int(),
                    composition: r.opt(|r| r.comp()),
                }),
                losses_g: self.int(),
                tolerance_g: self.int(),
            }
            .into(),
            6 => PassportIssue {
                product: self.uuid(),
                name: self.text(),
                model: self.text(),
                serial_or_batch: self.text(),
                gs1_digital_link: self.opt(|r| r.text()),
                granularity: if self.bool() {
                    Granularity::Item
                } else {
                    Granularity::Batch
                },
                alloy: if self.bool() {
                    Alloy::Uns(self.text())
                } else {
                    Alloy::Gb(self.text())
                },
                composition: self.comp(),
                carbon_footprint: CarbonFootprint {
                    g_co2e_per_kg: self.u32(),
                    method: self.pick(&[FootprintMethod::Iso14067, FootprintMethod::Pact]),
                    boundary: self.pick(&[
                        FootprintBoundary::CradleToGate,
                        FootprintBoundary::CradleToGrave,
                    ]),
                    third_party_verified: self.bool(),
                },
                conductivity_centi_iacs: self.opt(|r| r.u32()),
                process_summary: self.vec(3, |r| ProcessStep {
                    process: r.process(),
                    facility: r.text(),
                    country: r.text(),
                }),
            }
            .into(),
            7 => Transfer {
                material: self.uuid(),
                to: self.b32(),
                contract: self.opt(|r| r.uuid()),
            }
            .into(),
            8 => ServiceEvent {
                product: self.uuid(),
                kind: self.pick(&[
                    ServiceKind::Install,
                    ServiceKind::Inspect,
                    ServiceKind::Repair,
                    ServiceKind::Refurbish,
                    ServiceKind::Decommission,
                ]),
                note: self.text(),
                evidence: self.vec(3, |r| r.b32()),
            }
            .into(),
            9 => EndOfLife {
                product: self.uuid(),
                reason: self.text(),
                evidence: self.vec(2, |r| r.b32()),
            }
            .into(),
            10 => ScrapReceipt {
                id: self.uuid(),
                gross_g: self.int(),
                tare_g: self.int(),
                net_g: self.int(),
                supplier: self.supplier(),
                source_passports: self.vec(3, |r| r.uuid()),
                origin_class: self.pick(&[
                    ScrapOrigin::PostConsumer,
                    ScrapOrigin::PreConsumer,
                    ScrapOrigin::Home,
                ]),
                contract: self.opt(|r| r.uuid()),
                dispatch: self.opt(|r| r.uuid()),
                evidence: self.vec(2, |r| r.b32()),
            }
            .into(),
            11 => RuleSet {
                id: self.uuid(),
                version: self.u32(),
                name: self.text(),
                note: self.long_text(),
                min_spots: self.u16(),
                max_calibration_age_days: self.opt(|r| r.u32()),
                grades: self.vec(3, |r| GradeSpec {
                    code: r.text(),
                    precedence: r.u16(),
                    description: r.text(),
                    nominal_cu_ppm: r.u32(),
                    min_cu_ppm: r.u32(),
                    max_ppm: r.comp().elements_ppm,
                    visual_max_ppm: (0..r.below(3)).map(|_| (r.visual(), r.u32())).collect(),
                }),
            }
            .into(),
            12 => Grading {
                lot: self.uuid(),
                instrument: self.pick(&[Instrument::Xrf, Instrument::Libs, Instrument::Oes]),
                instrument_serial: self.text(),
                calibrated_ms: self.i64(),
                readings: self
                    .comp()
                    .elements_ppm
                    .into_iter()
                    .map(|(k, v)| (k, Reading { ppm: v, spots: 3 }))
                    .collect(),
                visual_ppm: (0..self.below(3))
                    .map(|_| (self.visual(), self.u32()))
                    .collect(),
                rule_set: self.rsref(),
                claimed_grade: self.opt(|r| r.text()),
            }
            .into(),
            13 => Scheme {
                id: self.uuid(),
                version: self.u32(),
                name: self.text(),
                min_recycled_share_ppm: self.u32(),
                composition_limits: self.vec(3, |r| CompositionLimit {
                    element: r.text(),
                    min_ppm: r.opt(|r| r.u32()),
                    max_ppm: r.opt(|r| r.u32()),
                }),
                accepted_rule_sets: self.vec(3, |r| r.rsref()),
                require_measured_composition: self.u32().is_multiple_of(2),
                transition_days: self.u32(),
            }
            .into(),
            14 => CertificateIssue {
                id: self.uuid(),
                scheme: SchemeRef {
                    id: self.uuid(),
                    version: self.u32(),
                },
                subject: self.uuid(),
                claimed_recycled_share_ppm: self.u32(),
                claimed_mass_g: self.int(),
            }
            .into(),
            15 => CertificateRevocation {
                certificate: self.uuid(),
                reason: self.text(),
            }
            .into(),
            16 => ContractProposal {
                id: self.uuid(),
                customer: self.b32(),
                spec: MaterialSpec {
                    description: self.text(),
                    kinds: self.vec(3, |r| r.kind()),
                    min_cu_ppm: self.u32(),
                },
                start_ms: self.i64(),
                end_ms: self.i64(),
                take_back: TakeBackTerms {
                    min_share_ppm: self.u32(),
                    grades: self.vec(3, |r| GradeTerm {
                        rule_set: r.rsref(),
                        code: r.text(),
                        differential_per_tonne_minor: r.i64(),
                    }),
                    currency: self.text(),
                },
                min_recycled_share_ppm: self.u32(),
            }
            .into(),
            17 => ServiceAuthorisation {
                product: self.uuid(),
                actor: self.b32(),
                until_ms: self.opt(|r| r.i64()),
            }
            .into(),
            18 => DispatchScrap {
                id: self.uuid(),
                to: self.b32(),
                mass_g: self.int(),
                description: self.text(),
                evidence: self.vec(2, |r| r.b32()),
                contract: self.opt(|r| r.uuid()),
            }
            .into(),
            19 => NameGrader {
                lot: self.uuid(),
                grader: self.b32(),
            }
            .into(),
            20 => SettleGrade {
                lot: self.uuid(),
                grading: self.u64(),
                reason: self.text(),
            }
            .into(),
            _ => ContractAcceptance {
                contract: self.uuid(),
                proposal: self.b32(),
            }
            .into(),
        }
    }
    fn event(&mut self) -> Event {
        Event::new(self.i64(), self.body())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_decode_encode_is_identical(seed in any::<u64>()) {
        let ev = Rng(seed).event();
        let b = encode(&ev).unwrap();
        let back = decode_canonical(&b).unwrap();
        prop_assert_eq!(&back, &ev);
        prop_assert_eq!(encode(&back).unwrap(), b);
        // JSON form round-trips to the same event.
        prop_assert_eq!(from_json(&to_json(&ev).unwrap()).unwrap(), ev);
    }

    #[test]
    fn mutated_payloads_never_panic(seed in any::<u64>(), pos in any::<usize>(), byte in any::<u8>()) {
        let ev = Rng(seed).event();
        let mut b = encode(&ev).unwrap();
        let i = pos % b.len();
        b[i] = byte;
        if let Ok(d) = decode_canonical(&b) {
            // Anything accepted is canonical by construction.
            prop_assert_eq!(encode(&d).unwrap(), b);
        }
    }
}

/// A random transformation graph on one owner, with a model of it.
struct Graph {
    l: Ledger,
    r: Actor,
    materials: Vec<Uuid>,
    /// Leaves' shares (pre, post, origin).
    leaves: BTreeMap<Uuid, (u32, u32, BTreeMap<String, u32>)>,
    /// Accepted transformations: inputs and outputs.
    edges: BTreeMap<Uuid, Vec<(Uuid, u64)>>,
    created_g: u128,
    losses_g: u128,
    consumed: BTreeMap<Uuid, u128>,
    rejected: usize,
}

fn build_graph(seed: u64, steps: usize) -> Graph {
    let mut rng = Rng(seed);
    let op = Actor::from_seed(1);
    let mut l = Ledger::genesis(&op);
    let r = l.actor(&op, 2, "R", &[Role::Refiner, Role::Recycler]);
    let mut g = Graph {
        l,
        r: r.clone(),
        materials: vec![],
        leaves: BTreeMap::new(),
        edges: BTreeMap::new(),
        created_g: 0,
        losses_g: 0,
        consumed: BTreeMap::new(),
        rejected: 0,
    };
    for _ in 0..3 + rng.below(3) {
        let country = rng.pick(&["CL", "PE", "CN", "CD"]);
        let p = primary(1 + rng.below(50_000_000), country);
        g.l.submit(&r, p.clone()).unwrap();
        g.created_g += u128::from(p.mass_g);
        g.leaves.insert(
            p.id,
            (0, 0, BTreeMap::from([(country.to_owned(), 1_000_000)])),
        );
        g.materials.push(p.id);
    }
    for _ in 0..2 + rng.below(3) {
        let origin = rng.pick(&[
            ScrapOrigin::PostConsumer,
            ScrapOrigin::PreConsumer,
            ScrapOrigin::Home,
        ]);
        let s = receipt(
            1 + rng.below(20_000_000),
            0,
            Supplier::new("S", "CN", None),
            origin,
        );
        g.l.submit(&r, s.clone()).unwrap();
        g.created_g += u128::from(s.net_g);
        let (pre, post) = match origin {
            ScrapOrigin::PostConsumer => (0, 1_000_000),
            ScrapOrigin::PreConsumer => (1_000_000, 0),
            ScrapOrigin::Home => (0, 0),
        };
        g.leaves.insert(s.id, (pre, post, BTreeMap::new()));
        g.materials.push(s.id);
    }
    for _ in 0..steps {
        let mut b = TransformationBuilder::new(Process::Melt);
        let mut inputs = vec![];
        let mut total: u64 = 0;
        for _ in 0..1 + rng.below(3) {
            let id = g.materials[rng.below(g.materials.len() as u64) as usize];
            if inputs.iter().any(|(i, _)| *i == id) {
                continue;
            }
            let rem = g.l.material(&id).remaining_g;
            // Mostly valid; sometimes more than remains.
            let m = if rng.below(5) == 0 {
                rem + 1 + rng.below(1_000)
            } else {
                rng.below(rem + 1)
            };
            inputs.push((id, m));
            b = b.input(id, m);
            total = total.saturating_add(m);
        }
        let losses = if total > 0 {
            rng.below(total / 20 + 1)
        } else {
            0
        };
        b = b.losses_g(losses);
        let mut left = total.saturating_sub(losses);
        let n_out = 1 + rng.below(3);
        let mut outs = vec![];
        for k in 0..n_out {
            let m = if k + 1 == n_out {
                left
            } else {
                rng.below(left + 1)
            };
            left -= m;
            let id = Uuid::now_v7();
            b = b.output_with(
                id,
                rng.pick(&[
                    MaterialKind::Intermediate,
                    MaterialKind::Refined,
                    MaterialKind::Rod,
                    MaterialKind::Scrap,
                ]),
                m,
                None,
            );
            outs.push((id, m));
        }
        let before = g.l.state.clone();
        match g.l.submit(&r, b.build()) {
            Ok(_) => {
                for (id, m) in &inputs {
                    *g.consumed.entry(*id).or_default() += u128::from(*m);
                }
                for (id, _) in &outs {
                    g.edges.insert(*id, inputs.clone());
                    g.materials.push(*id);
                }
                g.losses_g += u128::from(losses);
            }
            Err(_) => {
                g.rejected += 1;
                assert_eq!(g.l.state, before, "a rejected event changes nothing");
            }
        }
    }
    g
}

/// Recomputes a material's shares by walking the model graph.
fn brute(
    g: &Graph,
    id: &Uuid,
    memo: &mut BTreeMap<Uuid, (u32, u32, BTreeMap<String, u32>)>,
) -> (u32, u32, BTreeMap<String, u32>) {
    if let Some(v) = memo.get(id) {
        return v.clone();
    }
    let v = if let Some(leaf) = g.leaves.get(id) {
        leaf.clone()
    } else {
        let ins = &g.edges[id];
        let total: u128 = ins.iter().map(|(_, m)| u128::from(*m)).sum();
        let (mut pre, mut post) = (0u128, 0u128);
        let mut origin: BTreeMap<String, u128> = BTreeMap::new();
        for (i, m) in ins {
            let (a, b, o) = brute(g, i, memo);
            pre += u128::from(*m) * u128::from(a);
            post += u128::from(*m) * u128::from(b);
            for (c, p) in o {
                *origin.entry(c).or_default() += u128::from(*m) * u128::from(p);
            }
        }
        (
            (pre / total) as u32,
            (post / total) as u32,
            origin
                .into_iter()
                .map(|(c, v)| (c, (v / total) as u32))
                .filter(|(_, v)| *v > 0)
                .collect(),
        )
    };
    memo.insert(*id, v.clone());
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn transformation_graph_invariants(seed in any::<u64>(), steps in 1usize..40) {
        let g = build_graph(seed, steps);
        let mut remaining: u128 = 0;
        let mut memo = BTreeMap::new();
        for id in &g.materials {
            let n = g.l.material(id);
            remaining += u128::from(n.remaining_g);
            // No sequence consumes more than exists.
            let consumed = g.consumed.get(id).copied().unwrap_or(0);
            prop_assert!(consumed <= u128::from(n.mass_g));
            prop_assert_eq!(u128::from(n.remaining_g), u128::from(n.mass_g) - consumed);
            // Derived share in [0, 1] and equal to the brute-force walk.
            prop_assert!(n.recycled_ppm() <= 1_000_000);
            let origin_sum: u64 = n.origin_ppm.values().map(|v| u64::from(*v)).sum();
            prop_assert!(u64::from(n.recycled_ppm()) + origin_sum <= 1_000_000);
            let (pre, post, origin) = brute(&g, id, &mut memo);
            prop_assert_eq!((n.recycled_pre_ppm, n.recycled_post_ppm), (pre, post));
            prop_assert_eq!(&n.origin_ppm, &origin);
        }
        // Mass is conserved (tolerance 0): what exists plus losses is what entered.
        prop_assert_eq!(remaining + g.losses_g, g.created_g);
        // Replay determinism: same entries, same order, same state.
        let replayed = g.l.replay(0..g.l.next_index()).unwrap();
        prop_assert_eq!(replayed.entries(), g.l.state.entries());
        let again = g.l.replay(0..g.l.next_index()).unwrap();
        prop_assert_eq!(again, replayed);
        let _ = (&g.r, g.rejected);
    }
}

#[test]
fn random_graphs_are_mostly_accepted_and_deep() {
    let (mut accepted, mut rejected) = (0, 0);
    for seed in 0..20 {
        let g = build_graph(seed, 40);
        accepted += g.edges.len();
        rejected += g.rejected;
    }
    assert!(
        accepted > 400,
        "accepted outputs {accepted}, rejected {rejected}"
    );
    assert!(
        rejected > 20,
        "over-consumption attempts must occur ({rejected})"
    );
}
