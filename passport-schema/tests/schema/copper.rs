//! Copper is conserved: no transformation declares more copper than went
//! in, and only refining raises purity. Each test tries a way to create
//! copper on paper.

use passport_schema::*;
use uuid::Uuid;

use crate::common::*;

const T: u64 = 1_000_000; // grams per tonne

/// A refiner holding 10 t of graded Birch scrap (95.5 % Cu) and 1 kg of a
/// primary lot registered without a composition.
struct Yard {
    l: Ledger,
    r: Actor,
    scrap: Uuid,
    bare_primary: Uuid,
}

fn yard() -> Yard {
    let op = Actor::from_seed(1);
    let mut l = Ledger::genesis(&op);
    let r = l.actor(&op, 2, "Refiner", &[Role::Refiner, Role::Recycler]);
    let x = l.actor(&op, 6, "Certifier", &[Role::Certifier]);
    l.submit(&x, isri()).unwrap();
    let sup = Supplier::new("Scrap Dealer", "CN", None);
    let s = receipt(10 * T, 0, sup, ScrapOrigin::PostConsumer);
    l.submit(&r, s.clone()).unwrap();
    l.submit(
        &r,
        birch(s.id, isri_ref(), l.now - DAY)
            .claim(Some("ISRI:Birch/Cliff"))
            .build(),
    )
    .unwrap();
    let bare = PrimaryLot::new(1_000, "CL", "Cathode Supplier");
    l.submit(&r, bare.clone()).unwrap();
    Yard {
        l,
        r,
        scrap: s.id,
        bare_primary: bare.id,
    }
}

fn one_output(
    process: Process,
    inputs: &[(Uuid, u64)],
    out_g: u64,
    cu_ppm: Option<u32>,
) -> Transformation {
    let total: u64 = inputs.iter().map(|i| i.1).sum();
    let mut b = TransformationBuilder::new(process);
    for (id, g) in inputs {
        b = b.input(*id, *g);
    }
    let kind = if process == Process::Refine {
        MaterialKind::Refined
    } else {
        MaterialKind::Intermediate
    };
    b.output_with(Uuid::now_v7(), kind, out_g, cu_ppm.map(cu))
        .losses_g(total - out_g)
        .build()
}

#[test]
fn casting_scrap_into_pure_metal_creates_no_copper() {
    // The example: 95.5 % Cu scrap cast (not refined) into
    // "99.999 % Cu" metal would create about 450 kg of copper.
    let mut y = yard();
    let t = one_output(Process::Cast, &[(y.scrap, 10 * T)], 10 * T, Some(999_990));
    let r = y.l.submit(&y.r, t);
    assert!(
        matches!(
            r,
            Err(RuleViolation::CopperNotConserved {
                out_cu_g: 9_999_900,
                in_cu_g: 9_550_000,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn casting_cannot_raise_purity_by_calling_impurities_losses() {
    // 10 t in, 9.55 t out "at 99.999 %", 0.45 t declared lost: the copper
    // mass would balance, but a cast removes no impurities.
    let mut y = yard();
    let t = one_output(
        Process::Cast,
        &[(y.scrap, 10 * T)],
        9_550_000,
        Some(999_990),
    );
    let r = y.l.submit(&y.r, t);
    assert!(
        matches!(r, Err(RuleViolation::PurityRaised { .. })),
        "{r:?}"
    );
}

#[test]
fn refining_cannot_create_copper() {
    let mut y = yard();
    let t = one_output(Process::Refine, &[(y.scrap, 10 * T)], 10 * T, Some(999_990));
    let r = y.l.submit(&y.r, t);
    assert!(
        matches!(
            r,
            Err(RuleViolation::CopperNotConserved {
                in_cu_g: 9_550_000,
                out_cu_g: 9_999_900,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn a_melt_carries_its_copper_to_the_refinery() {
    // Melt without declaring a composition: the intermediate derives its
    // copper from the inputs, so the refining is checked against 95.5 %.
    let mut y = yard();
    let melt = one_output(Process::Melt, &[(y.scrap, 10 * T)], 9_900_000, None);
    let anode = melt.outputs[0].id;
    y.l.submit(&y.r, melt).unwrap();
    let view = lot_view(&y.l.state, &anode).unwrap();
    assert_eq!(
        view.composition, None,
        "a derived bound is not a composition"
    );
    assert_eq!(view.cu_max_ppm, Some(955_000));
    let t = one_output(
        Process::Refine,
        &[(anode, 9_900_000)],
        9_900_000,
        Some(999_990),
    );
    let r = y.l.submit(&y.r, t);
    assert!(
        matches!(r, Err(RuleViolation::CopperNotConserved { .. })),
        "{r:?}"
    );
    // A realistic yield (95.5 % Cu in, 4.6 % to slag and anode scrap) passes.
    let t = one_output(
        Process::Refine,
        &[(anode, 9_900_000)],
        9_440_000,
        Some(999_990),
    );
    y.l.submit(&y.r, t).unwrap();
}

#[test]
fn an_input_of_unknown_copper_counts_as_pure_and_opens_no_door() {
    // 1 kg of primary without a composition in the melt: it counts at
    // 100 % Cu, so the intermediate's bound is barely above 95.5 % and the
    // refining is still checked against it.
    let mut y = yard();
    let melt = one_output(
        Process::Melt,
        &[(y.scrap, 10 * T), (y.bare_primary, 1_000)],
        10_001_000,
        None,
    );
    let anode = melt.outputs[0].id;
    y.l.submit(&y.r, melt).unwrap();
    let bound = lot_view(&y.l.state, &anode).unwrap().cu_max_ppm;
    assert_eq!(bound, Some(955_005));
    let t = one_output(
        Process::Refine,
        &[(anode, 10_001_000)],
        10_001_000,
        Some(999_990),
    );
    let r = y.l.submit(&y.r, t);
    assert!(
        matches!(r, Err(RuleViolation::CopperNotConserved { .. })),
        "{r:?}"
    );
}

#[test]
fn splitting_cannot_concentrate_copper_into_one_output() {
    // Cast 10 t into 5 t at 99 % and 5 t at 92 %: the average holds (95.5 %)
    // but the first output is purer than its inputs.
    let mut y = yard();
    let t = TransformationBuilder::new(Process::Cast)
        .input(y.scrap, 10 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Intermediate,
            5 * T,
            Some(cu(990_000)),
        )
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Intermediate,
            5 * T,
            Some(cu(920_000)),
        )
        .build();
    let r = y.l.submit(&y.r, t);
    assert!(
        matches!(
            r,
            Err(RuleViolation::PurityRaised {
                out_cu_ppm: 990_000,
                ..
            })
        ),
        "{r:?}"
    );
}

mod props {
    //! Random transformations, honest and cheating: after every accepted
    //! one, no process but refining has raised purity, and the copper the
    //! live materials can hold never exceeds the copper that came in.

    use proptest::prelude::*;

    use super::*;

    /// Copper a material can hold, grams × ppm: its composition's Cu,
    /// else its bound, else 100 %.
    fn cu_of(l: &Ledger, id: &Uuid) -> (u128, u32) {
        let v = lot_view(&l.state, id).unwrap();
        let ppm = v
            .composition
            .and_then(|c| c.ppm("Cu"))
            .or(v.cu_max_ppm)
            .unwrap_or(1_000_000);
        (u128::from(v.remaining_g) * u128::from(ppm), ppm)
    }

    #[derive(Debug, Clone)]
    struct Step {
        process: Process,
        /// Which live materials to consume (indices mod the count), and how much of each (ppm of remaining).
        inputs: Vec<(usize, u32)>,
        /// Output mass as ppm of the input mass, and its declared Cu (None: undeclared).
        outputs: Vec<(u32, Option<u32>)>,
    }

    fn process() -> impl Strategy<Value = Process> {
        prop_oneof![
            Just(Process::Melt),
            Just(Process::Cast),
            Just(Process::Refine),
            Just(Process::Draw),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            process(),
            proptest::collection::vec((0usize..8, 100_000u32..=1_000_000), 1..3),
            proptest::collection::vec(
                (
                    50_000u32..=600_000,
                    proptest::option::of(900_000u32..=1_000_000),
                ),
                1..3,
            ),
        )
            .prop_map(|(process, inputs, outputs)| Step {
                process,
                inputs,
                outputs,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn copper_never_grows(steps in proptest::collection::vec(step(), 1..20)) {
            let mut y = yard();
            // Copper that came in: the graded scrap at 95.5 % and the bare
            // kilogram counted as pure.
            let mut live = vec![y.scrap, y.bare_primary];
            let came_in: u128 = live.iter().map(|id| cu_of(&y.l, id).0).sum();
            // A derived bound rounds up: at most 1 ppm of each output's mass.
            let mut rounding: u128 = 0;
            for s in steps {
                let mut b = TransformationBuilder::new(s.process);
                let mut picked = std::collections::BTreeSet::new();
                let mut in_g: u64 = 0;
                let mut in_cu: u128 = 0;
                for (i, share) in &s.inputs {
                    let id = live[i % live.len()];
                    if !picked.insert(id) {
                        continue;
                    }
                    let rem = lot_view(&y.l.state, &id).unwrap().remaining_g;
                    let g = (u128::from(rem) * u128::from(*share) / 1_000_000) as u64;
                    if g == 0 {
                        continue;
                    }
                    in_cu += u128::from(g) * u128::from(cu_of(&y.l, &id).1);
                    in_g += g;
                    b = b.input(id, g);
                }
                if in_g == 0 {
                    continue;
                }
                let mut out_g = 0;
                let kind = if s.process == Process::Refine { MaterialKind::Refined } else { MaterialKind::Intermediate };
                for (share, cu_ppm) in &s.outputs {
                    let g = (u128::from(in_g) * u128::from(*share) / 1_000_000) as u64;
                    if g == 0 || out_g + g > in_g {
                        continue;
                    }
                    out_g += g;
                    b = b.output_with(Uuid::now_v7(), kind, g, cu_ppm.map(cu));
                }
                if out_g == 0 {
                    continue;
                }
                let t = b.losses_g(in_g - out_g).build();
                let outs: Vec<Uuid> = t.outputs.iter().map(|o| o.id).collect();
                let declared: Vec<u32> = t.outputs.iter().filter_map(|o| o.composition.as_ref().and_then(|c| c.ppm("Cu"))).collect();
                if y.l.submit(&y.r, t).is_ok() {
                    if s.process != Process::Refine {
                        let avg = in_cu.div_ceil(u128::from(in_g));
                        for c in declared {
                            prop_assert!(u128::from(c) <= avg, "{:?} raised purity to {c} from {avg}", s.process);
                        }
                    }
                    live.extend(outs);
                    rounding += u128::from(out_g);
                }
                let held: u128 = live.iter().map(|id| cu_of(&y.l, id).0).sum();
                prop_assert!(held <= came_in + rounding, "copper grew: {held} > {came_in} + {rounding}");
            }
        }
    }
}
