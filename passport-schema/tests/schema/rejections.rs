//! One rejection test per rule, each asserting the specific variant.

use passport_schema::*;
use uuid::Uuid;

use crate::common::*;

const T: u64 = 1_000_000;

/// A populated ledger with fixtures for every rule.
pub struct W {
    pub l: Ledger,
    pub op: Actor,
    pub r: Actor,
    pub m: Actor,
    pub u: Actor,
    pub c: Actor,
    pub x: Actor,
    pub x2: Actor,
    pub aud: Actor,
    pub stranger: Actor,
    pub p: Uuid,
    pub mp: Uuid,
    pub graded: Uuid,
    pub ungraded: Uuid,
    pub fresh: Uuid,
    pub rs2: RuleSet,
    pub good: Uuid,
    pub good_mass: u64,
    pub lowcu: Uuid,
    pub nograde: Uuid,
    pub rs2lot: Uuid,
    pub prim: Uuid,
    pub clot: Uuid,
    pub nocomp: Uuid,
    pub prod: Uuid,
    pub prod_nopass: Uuid,
    pub eol: Uuid,
    pub not_eol: Uuid,
    pub scheme: SchemeRef,
    pub cert: Uuid,
    pub k: Uuid,
    pub k_open: Uuid,
}

/// Refines `inputs` into one lot, losing 4 % to slag and anode scrap (the
/// refined copper may not exceed the copper that went in).
fn refine(l: &mut Ledger, who: &Actor, inputs: &[(Uuid, u64)], cu_ppm: Option<u32>) -> Uuid {
    let total: u64 = inputs.iter().map(|i| i.1).sum();
    let out = total / 100 * 96;
    let mut b = TransformationBuilder::new(Process::Refine);
    for (id, g) in inputs {
        b = b.input(*id, *g);
    }
    let b = b
        .output_with(Uuid::now_v7(), MaterialKind::Refined, out, cu_ppm.map(cu))
        .losses_g(total - out);
    let id = b.output_ids()[0];
    l.submit(who, b.build()).unwrap();
    id
}

impl W {
    pub fn new() -> Self {
        let op = Actor::from_seed(1);
        let mut l = Ledger::genesis(&op);
        let r = l.actor(&op, 2, "Refiner", &[Role::Refiner]);
        let m = l.actor(&op, 3, "Manufacturer", &[Role::Manufacturer]);
        let u = l.actor(&op, 4, "Utility", &[Role::Service]);
        let c = l.actor(&op, 5, "Recycler", &[Role::Recycler]);
        let x = l.actor(&op, 6, "Certifier", &[Role::Certifier]);
        let x2 = l.actor(&op, 7, "Certifier 2", &[Role::Certifier]);
        let aud = l.actor(&op, 8, "Auditor", &[Role::Auditor]);
        let stranger = Actor::from_seed(99);

        let rs = isri();
        let rsr = isri_ref();
        l.submit(&x, rs).unwrap();
        let rs2 = RuleSetBuilder::new("Other grades")
            .grade("X:Any", 0, &[])
            .build();
        let rs2r = RuleSetRef {
            id: rs2.id,
            version: rs2.version,
        };
        l.submit(&x2, rs2.clone()).unwrap();

        let p = primary(100 * T, "CL");
        l.submit(&r, p.clone()).unwrap();
        let sup = Supplier::new("Scrap Trader", "CN", None);
        let g = receipt(10 * T, 0, sup.clone(), ScrapOrigin::PreConsumer);
        l.submit(&r, g.clone()).unwrap();
        l.submit(
            &r,
            berry(g.id, rsr, l.now - DAY)
                .claim(Some("ISRI:Berry/Candy"))
                .build(),
        )
        .unwrap();
        let ug = receipt(5 * T, 0, sup.clone(), ScrapOrigin::PostConsumer);
        l.submit(&r, ug.clone()).unwrap();
        let fresh = receipt(4 * T, 0, sup.clone(), ScrapOrigin::PreConsumer);
        l.submit(&r, fresh.clone()).unwrap();
        let g2 = receipt(3 * T, 0, sup.clone(), ScrapOrigin::PreConsumer);
        l.submit(&r, g2.clone()).unwrap();
        l.submit(
            &r,
            GradingBuilder::new(g2.id, rs2r, Instrument::Xrf, "X1", l.now - DAY)
                .reading("Cu", 990_000, 3)
                .claim(Some("X:Any"))
                .build(),
        )
        .unwrap();

        // GOOD and LOWCU from P + graded scrap: 10/30 recycled.
        let t = TransformationBuilder::new(Process::Refine)
            .input(p.id, 20 * T)
            .input(g.id, 10 * T)
            .output_with(
                Uuid::now_v7(),
                MaterialKind::Refined,
                20 * T,
                Some(cu(999_970)),
            )
            .output_with(
                Uuid::now_v7(),
                MaterialKind::Refined,
                9 * T,
                Some(cu(999_000)),
            )
            .output_with(Uuid::now_v7(), MaterialKind::Refined, T, None)
            .build();
        let (good, lowcu, nocomp) = (t.outputs[0].id, t.outputs[1].id, t.outputs[2].id);
        l.submit(&r, t).unwrap();
        let nograde = refine(&mut l, &r, &[(p.id, 10 * T), (ug.id, 5 * T)], Some(999_970));
        let rs2lot = refine(&mut l, &r, &[(p.id, 6 * T), (g2.id, 3 * T)], Some(999_970));
        let prim = refine(&mut l, &r, &[(p.id, 5 * T)], Some(999_970));

        // A recycler-produced lot (producer lacks refiner).
        let g3 = receipt(2 * T, 0, sup, ScrapOrigin::PreConsumer);
        l.submit(&c, g3.clone()).unwrap();
        l.submit(
            &c,
            berry(g3.id, rsr, l.now - DAY)
                .claim(Some("ISRI:Berry/Candy"))
                .build(),
        )
        .unwrap();
        // Refined by the recycler itself, losing 1 % (a melt could not
        // raise the Berry scrap's purity).
        let t = TransformationBuilder::new(Process::Refine)
            .input(g3.id, 2 * T)
            .output_with(
                Uuid::now_v7(),
                MaterialKind::Refined,
                1_980_000,
                Some(cu(999_900)),
            )
            .losses_g(20_000)
            .build();
        let clot = t.outputs[0].id;
        l.submit(&c, t).unwrap();

        // Manufacturer: primary lot, products, passports.
        let mpl = primary(10 * T, "PE");
        l.submit(&m, mpl.clone()).unwrap();
        let mk = |l: &mut Ledger, g: u64| {
            let t = TransformationBuilder::new(Process::Assemble)
                .input(mpl.id, g)
                .output(MaterialKind::Product, g)
                .build();
            let id = t.outputs[0].id;
            l.submit(&m, t).unwrap();
            id
        };
        let prod = mk(&mut l, 2 * T);
        l.submit(&m, passport_for(prod)).unwrap();
        let prod_nopass = mk(&mut l, T);
        let eol = mk(&mut l, T);
        l.submit(&m, passport_for(eol)).unwrap();
        // A use phase (delivered to the utility, installed there), then
        // end of life and back to the refiner as scrap.
        l.submit(&m, Transfer::new(eol, u.kid)).unwrap();
        l.submit(
            &u,
            ServiceEvent {
                product: eol,
                kind: ServiceKind::Install,
                note: "installed".into(),
                evidence: vec![],
            },
        )
        .unwrap();
        l.submit(
            &u,
            EndOfLife {
                product: eol,
                reason: "worn out".into(),
                evidence: vec![],
            },
        )
        .unwrap();
        l.submit(&u, Transfer::new(eol, r.kid)).unwrap();
        let not_eol = mk(&mut l, T);
        l.submit(&m, passport_for(not_eol)).unwrap();
        l.submit(&m, Transfer::new(not_eol, r.kid)).unwrap();
        l.submit(&m, Transfer::new(prod_nopass, r.kid)).unwrap();

        // Scheme and a certificate on GOOD.
        let sch = SchemeBuilder::new("Tongling Recycled", 300_000)
            .limit("Cu", Some(999_500), None)
            .accept(rsr)
            .build();
        let scheme = SchemeRef {
            id: sch.id,
            version: sch.version,
        };
        l.submit(&x, sch).unwrap();
        let cert = Uuid::now_v7();
        l.submit(
            &x,
            CertificateIssue {
                id: cert,
                scheme,
                subject: good,
                claimed_recycled_share_ppm: 333_333,
                claimed_mass_g: 20 * T,
            },
        )
        .unwrap();

        // Contracts: one accepted, one open.
        let spec = MaterialSpec {
            description: "refined copper".into(),
            kinds: vec![MaterialKind::Refined],
            min_cu_ppm: 999_500,
        };
        let k = ContractBuilder::new(m.kid, spec.clone(), T0, T0 + 365 * DAY, "CNY")
            .take_back_share(100_000)
            .grade(isri_ref(), "ISRI:Berry/Candy", 30_000)
            .min_recycled_share(300_000)
            .build();
        l.submit(&r, k.clone()).unwrap();
        l.submit(&m, l.acceptance(k.id)).unwrap();
        let k2 = ContractBuilder::new(m.kid, spec, T0, T0 + 365 * DAY, "CNY").build();
        l.submit(&r, k2.clone()).unwrap();

        W {
            l,
            op,
            r,
            m,
            u,
            c,
            x,
            x2,
            aud,
            stranger,
            p: p.id,
            mp: mpl.id,
            graded: g.id,
            ungraded: ug.id,
            fresh: fresh.id,
            rs2,
            good,
            good_mass: 20 * T,
            lowcu,
            nograde,
            rs2lot,
            prim,
            clot,
            nocomp,
            prod,
            prod_nopass,
            eol,
            not_eol,
            scheme,
            cert,
            k: k.id,
            k_open: k2.id,
        }
    }

    fn check(&self, signer: &Actor, body: impl Into<EventBody>) -> Result<Effects, RuleViolation> {
        self.l.check(signer, body)
    }

    fn cert_on(&self, subject: Uuid, share: u32, mass: u64) -> CertificateIssue {
        CertificateIssue {
            id: Uuid::now_v7(),
            scheme: self.scheme,
            subject,
            claimed_recycled_share_ppm: share,
            claimed_mass_g: mass,
        }
    }

    fn material_mass(&self, id: Uuid) -> u64 {
        self.l.material(&id).mass_g
    }
}

/// `reject!(name, |w| (signer, body), Pattern)` asserts the exact variant.
macro_rules! reject {
    ($name:ident, |$w:ident| $call:expr, $pat:pat) => {
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut $w = W::new();
            let r: Result<_, RuleViolation> = $call;
            assert!(
                matches!(r, Err($pat)),
                "expected {}, got {:?}",
                stringify!($pat),
                r
            );
        }
    };
}

fn weak_key() -> Bytes32 {
    // The identity point: small order, rejected as weak.
    let mut k = [0u8; 32];
    k[0] = 1;
    Bytes32(k)
}

fn invalid_key() -> Bytes32 {
    // Find y values that do not decompress to a curve point.
    (0u8..=255)
        .map(|b| Bytes32([b; 32]))
        .find(|k| ed25519_dalek::VerifyingKey::from_bytes(&k.0).is_err())
        .unwrap()
}

fn reg(name: &str, key: Bytes32) -> RegisterActor {
    RegisterActor {
        name: name.into(),
        country: "CN".into(),
        public_key: key,
    }
}

fn move_all(from: Uuid, g: u64, kind: MaterialKind) -> Transformation {
    TransformationBuilder::new(Process::Cast)
        .input(from, g)
        .output(kind, g)
        .build()
}

// ---- genesis, signers, roles ----
reject!(
    unknown_signer,
    |w| w.check(&w.stranger, primary(T, "CL")),
    RuleViolation::UnknownSigner { .. }
);
reject!(
    forged_role_rule_set,
    |w| w.check(&w.m, isri()),
    RuleViolation::RoleNotPermitted {
        kind: EventKind::PublishRuleSet,
        ..
    }
);
reject!(
    forged_role_passport,
    |w| w.check(&w.r, passport_for(w.prod)),
    RuleViolation::RoleNotPermitted {
        kind: EventKind::IssuePassport,
        ..
    }
);
reject!(
    auditor_signs_nothing,
    |w| w.check(&w.aud, Transfer::new(w.p, w.m.kid)),
    RuleViolation::RoleNotPermitted { .. }
);
reject!(
    non_operator_registers,
    |w| w.check(&w.r, reg("X", Actor::from_seed(50).public())),
    RuleViolation::RoleNotPermitted { .. }
);
reject!(
    revoked_key,
    |w| {
        w.l.submit(
            &w.op,
            RevokeKey {
                actor: w.r.b32(),
                reason: "key compromised".into(),
            },
        )
        .unwrap();
        w.check(&w.r, primary(T, "CL"))
    },
    RuleViolation::SignerRevoked { .. }
);
reject!(
    genesis_twice,
    |w| w.check(
        &w.op,
        Genesis::new("x", reg("Op", w.op.public()), w.op.public())
    ),
    RuleViolation::GenesisNotFirst { .. }
);
reject!(
    first_entry_not_genesis,
    |w| Ledger::empty().check(&w.op, primary(T, "CL")),
    RuleViolation::GenesisRequired { .. }
);
reject!(
    genesis_signer_mismatch,
    |w| Ledger::empty().check(
        &w.r,
        Genesis::new("x", reg("Op", w.op.public()), w.op.public())
    ),
    RuleViolation::GenesisSignerMismatch { .. }
);

// ---- actors ----
reject!(
    weak_key_rejected,
    |w| w.check(&w.op, reg("Weak", weak_key())),
    RuleViolation::InvalidPublicKey { .. }
);
reject!(
    invalid_key_rejected,
    |w| w.check(&w.op, reg("Bad", invalid_key())),
    RuleViolation::InvalidPublicKey { .. }
);
reject!(
    actor_registered_twice,
    |w| w.check(&w.op, reg("Again", w.r.public())),
    RuleViolation::ActorAlreadyRegistered { .. }
);
reject!(
    grant_to_unknown_actor,
    |w| w.check(
        &w.op,
        GrantRole {
            actor: w.stranger.b32(),
            role: Role::Refiner
        }
    ),
    RuleViolation::UnknownActor { .. }
);
reject!(
    role_granted_twice,
    |w| w.check(
        &w.op,
        GrantRole {
            actor: w.r.b32(),
            role: Role::Refiner
        }
    ),
    RuleViolation::RoleAlreadyGranted {
        role: Role::Refiner,
        ..
    }
);
reject!(
    operator_revokes_itself,
    |w| w.check(
        &w.op,
        RevokeKey {
            actor: w.op.b32(),
            reason: "oops".into()
        }
    ),
    RuleViolation::CannotRevokeSelf
);
reject!(
    revoked_twice,
    |w| {
        w.l.submit(
            &w.op,
            RevokeKey {
                actor: w.c.b32(),
                reason: "left".into(),
            },
        )
        .unwrap();
        w.check(
            &w.op,
            RevokeKey {
                actor: w.c.b32(),
                reason: "again".into(),
            },
        )
    },
    RuleViolation::AlreadyRevoked { .. }
);
reject!(
    bad_country,
    |w| w.check(
        &w.op,
        RegisterActor {
            name: "X".into(),
            country: "China".into(),
            public_key: Actor::from_seed(51).public()
        }
    ),
    RuleViolation::InvalidField {
        field: "country",
        ..
    }
);

// ---- material ----
reject!(
    duplicate_id,
    |w| {
        let mut p = primary(T, "CL");
        p.id = w.p;
        w.check(&w.r, p)
    },
    RuleViolation::DuplicateId { .. }
);
reject!(
    duplicate_output_id,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Cast)
            .input(w.p, T)
            .output_with(w.good, MaterialKind::Refined, T, None)
            .build()
    ),
    RuleViolation::DuplicateId { .. }
);
reject!(
    zero_mass_lot,
    |w| w.check(&w.r, primary(0, "CL")),
    RuleViolation::ZeroMass { .. }
);
reject!(
    wrong_owner_consumes,
    |w| w.check(&w.m, move_all(w.p, T, MaterialKind::Rod)),
    RuleViolation::NotOwner { .. }
);
reject!(
    over_consumption,
    |w| {
        let rem = w.l.material(&w.p).remaining_g;
        w.check(&w.r, move_all(w.p, rem + 1, MaterialKind::Rod))
    },
    RuleViolation::Overconsumption { .. }
);
reject!(
    consume_exhausted_scrap,
    |w| w.check(&w.r, move_all(w.graded, 1, MaterialKind::Rod)),
    RuleViolation::Overconsumption { remaining_g: 0, .. }
);
reject!(
    duplicate_input,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .input(w.p, T)
            .output(MaterialKind::Intermediate, 2 * T)
            .build()
    ),
    RuleViolation::DuplicateInput { .. }
);
reject!(
    mass_not_conserved,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .output(MaterialKind::Intermediate, T + 1)
            .build()
    ),
    RuleViolation::MassNotConserved {
        imbalance: MassImbalance::Excess,
        ..
    }
);
reject!(
    mass_created_within_tolerance,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .output(MaterialKind::Intermediate, T + 1_000)
            .tolerance_g(5_000)
            .build()
    ),
    RuleViolation::MassNotConserved {
        imbalance: MassImbalance::Excess,
        ..
    }
);
reject!(
    losses_push_total_above_inputs,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .output(MaterialKind::Intermediate, T - 1_000)
            .losses_g(2_000)
            .tolerance_g(5_000)
            .build()
    ),
    RuleViolation::MassNotConserved {
        imbalance: MassImbalance::Excess,
        ..
    }
);
reject!(
    losses_unrecorded,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .output(MaterialKind::Intermediate, T - 10_000)
            .tolerance_g(5_000)
            .build()
    ),
    RuleViolation::MassNotConserved {
        imbalance: MassImbalance::Deficit,
        ..
    }
);

/// An unrecorded shortfall within the tolerance is accepted; the
/// boundary (exactly the tolerance) is included.
#[test]
fn shortfall_within_tolerance_accepted() {
    let w = W::new();
    let t = TransformationBuilder::new(Process::Melt)
        .input(w.p, T)
        .output(MaterialKind::Intermediate, T - 5_000)
        .tolerance_g(5_000)
        .build();
    assert!(w.check(&w.r, t).is_ok());
}
reject!(
    tolerance_too_large,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .output(MaterialKind::Intermediate, T)
            .tolerance_g(5_001)
            .build()
    ),
    RuleViolation::ToleranceTooLarge { max_g: 5_000, .. }
);
reject!(
    empty_transformation,
    |w| w.check(
        &w.r,
        TransformationBuilder::new(Process::Melt)
            .input(w.p, T)
            .build()
    ),
    RuleViolation::EmptyTransformation
);
reject!(
    output_primary_cathode,
    |w| w.check(&w.r, move_all(w.p, T, MaterialKind::PrimaryCathode)),
    RuleViolation::OutputKindNotAllowed { .. }
);
reject!(
    product_from_melt,
    |w| w.check(&w.r, move_all(w.p, T, MaterialKind::Product)),
    RuleViolation::OutputKindNotAllowed { .. }
);
reject!(
    consume_unknown_material,
    |w| w.check(&w.r, move_all(Uuid::now_v7(), T, MaterialKind::Rod)),
    RuleViolation::UnknownMaterial { .. }
);
reject!(
    passport_on_lot,
    |w| {
        let mut p = passport_for(w.mp);
        p.product = w.mp;
        w.check(&w.m, p)
    },
    RuleViolation::NotAProduct { .. }
);
reject!(
    passport_twice,
    |w| w.check(&w.m, passport_for(w.prod)),
    RuleViolation::PassportAlreadyIssued { .. }
);
reject!(
    bad_gs1_link,
    |w| {
        let id = Uuid::now_v7();
        w.l.submit(
            &w.m,
            TransformationBuilder::new(Process::Assemble)
                .input(w.mp, T)
                .output_with(id, MaterialKind::Product, T, None)
                .build(),
        )
        .unwrap();
        let mut p = passport_for(id);
        p.gs1_digital_link = Some("https://id.gs1.org/01/09506000134353".into());
        w.check(&w.m, p)
    },
    RuleViolation::InvalidGs1DigitalLink {
        reason: "GTIN check digit is wrong",
        ..
    }
);
reject!(
    implausible_conductivity,
    |w| {
        let id = Uuid::now_v7();
        w.l.submit(
            &w.m,
            TransformationBuilder::new(Process::Assemble)
                .input(w.mp, T)
                .output_with(id, MaterialKind::Product, T, None)
                .build(),
        )
        .unwrap();
        let mut p = passport_for(id);
        p.conductivity_centi_iacs = Some(15_000);
        w.check(&w.m, p)
    },
    RuleViolation::InvalidField {
        field: "conductivity_centi_iacs",
        ..
    }
);
reject!(
    bad_composition,
    |w| w.check(
        &w.r,
        primary(T, "CL").with_composition(Composition::new().with("Cu", 999_000).with("Ag", 2_000))
    ),
    RuleViolation::InvalidField {
        field: "composition",
        ..
    }
);
reject!(
    transfer_to_self,
    |w| w.check(&w.r, Transfer::new(w.p, w.r.kid)),
    RuleViolation::TransferToSelf { .. }
);
reject!(
    transfer_to_unknown,
    |w| w.check(&w.r, Transfer::new(w.p, w.stranger.kid)),
    RuleViolation::UnknownActor { .. }
);
reject!(
    transfer_to_revoked,
    |w| {
        w.l.submit(
            &w.op,
            RevokeKey {
                actor: w.c.b32(),
                reason: "left".into(),
            },
        )
        .unwrap();
        w.check(&w.r, Transfer::new(w.p, w.c.kid))
    },
    RuleViolation::ActorRevoked { .. }
);
reject!(
    transfer_by_non_owner,
    |w| w.check(&w.m, Transfer::new(w.p, w.c.kid)),
    RuleViolation::NotOwner { .. }
);
reject!(
    transfer_exhausted,
    |w| w.check(&w.r, Transfer::new(w.graded, w.c.kid)),
    RuleViolation::MaterialExhausted { .. }
);
reject!(
    service_by_stranger_owner,
    |w| w.check(
        &w.r,
        ServiceEvent {
            product: w.prod,
            kind: ServiceKind::Inspect,
            note: String::new(),
            evidence: vec![]
        }
    ),
    RuleViolation::NotOwner { .. }
);
reject!(
    service_on_lot,
    |w| w.check(
        &w.u,
        ServiceEvent {
            product: w.p,
            kind: ServiceKind::Inspect,
            note: String::new(),
            evidence: vec![]
        }
    ),
    RuleViolation::NotAProduct { .. }
);
reject!(
    service_after_end_of_life,
    |w| w.check(
        &w.r,
        ServiceEvent {
            product: w.eol,
            kind: ServiceKind::Repair,
            note: String::new(),
            evidence: vec![]
        }
    ),
    RuleViolation::ProductEndOfLife { .. }
);
reject!(
    end_of_life_twice,
    |w| w.check(
        &w.r,
        EndOfLife {
            product: w.eol,
            reason: "again".into(),
            evidence: vec![]
        }
    ),
    RuleViolation::ProductEndOfLife { .. }
);
reject!(
    end_of_life_by_non_owner,
    |w| w.check(
        &w.r,
        EndOfLife {
            product: w.prod,
            reason: "x".into(),
            evidence: vec![]
        }
    ),
    RuleViolation::NotOwner { .. }
);

// ---- scrap ----
fn sup() -> Supplier {
    Supplier::new("Trader", "CN", None)
}
reject!(
    net_mass_mismatch,
    |w| {
        let mut s = receipt(10, 2, sup(), ScrapOrigin::PreConsumer);
        s.net_g = 9;
        w.check(&w.r, s)
    },
    RuleViolation::NetMassMismatch { .. }
);
reject!(
    tare_above_gross,
    |w| {
        let mut s = receipt(10, 2, sup(), ScrapOrigin::PreConsumer);
        s.tare_g = 11;
        w.check(&w.r, s)
    },
    RuleViolation::NetMassMismatch { .. }
);
reject!(
    source_passport_not_end_of_life,
    |w| w.check(
        &w.r,
        receipt(T, 0, sup(), ScrapOrigin::PostConsumer).source_passport(w.not_eol)
    ),
    RuleViolation::SourcePassportNotEndOfLife { .. }
);
reject!(
    source_without_passport,
    |w| w.check(
        &w.r,
        receipt(T, 0, sup(), ScrapOrigin::PostConsumer).source_passport(w.prod_nopass)
    ),
    RuleViolation::SourceWithoutPassport { .. }
);
reject!(
    source_passport_not_owned,
    |w| w.check(
        &w.c,
        receipt(T, 0, sup(), ScrapOrigin::PostConsumer).source_passport(w.eol)
    ),
    RuleViolation::NotOwner { .. }
);
reject!(
    passport_scrap_pre_consumer,
    |w| w.check(
        &w.r,
        receipt(T, 0, sup(), ScrapOrigin::PreConsumer).source_passport(w.eol)
    ),
    RuleViolation::PassportScrapMustBePostConsumer { .. }
);
reject!(
    scrap_exceeds_sources,
    |w| w.check(
        &w.r,
        receipt(T + 1, 0, sup(), ScrapOrigin::PostConsumer).source_passport(w.eol)
    ),
    RuleViolation::ScrapExceedsSources { .. }
);
reject!(
    grade_exhausted_lot,
    |w| w.check(
        &w.r,
        berry(w.ungraded, isri_ref(), w.l.now - DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::MaterialExhausted { .. }
);
reject!(
    grade_non_scrap,
    |w| w.check(
        &w.r,
        berry(w.p, isri_ref(), w.l.now - DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::NotAScrapLot { .. }
);
reject!(
    grade_unknown_rule_set,
    |w| w.check(
        &w.r,
        berry(
            w.fresh,
            RuleSetRef {
                id: isri_ref().id,
                version: 9
            },
            w.l.now - DAY
        )
        .claim(Some("ISRI:Berry/Candy"))
        .build()
    ),
    RuleViolation::UnknownRuleSet { version: 9, .. }
);
reject!(
    readings_sum_above_million,
    |w| w.check(
        &w.r,
        berry(w.fresh, isri_ref(), w.l.now - DAY)
            .reading("Ni", 10_000, 5)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::InvalidField {
        field: "readings.composition",
        ..
    }
);
reject!(
    wrong_grade,
    |w| w.check(
        &w.r,
        berry(w.fresh, isri_ref(), w.l.now - DAY)
            .claim(Some("ISRI:Barley"))
            .build()
    ),
    RuleViolation::GradeMismatch { .. }
);
reject!(
    off_grade_claimed_as_grade,
    |w| w.check(
        &w.r,
        GradingBuilder::new(w.fresh, isri_ref(), Instrument::Oes, "O1", w.l.now - DAY)
            .reading("Cu", 800_000, 3)
            .claim(Some("ISRI:Dream"))
            .build()
    ),
    RuleViolation::GradeMismatch { computed: None, .. }
);
reject!(
    missing_contaminant_reading,
    |w| w.check(
        &w.r,
        GradingBuilder::new(w.fresh, isri_ref(), Instrument::Xrf, "X", w.l.now - DAY)
            .reading("Cu", 999_000, 3)
            .claim(Some("ISRI:Barley"))
            .build()
    ),
    RuleViolation::GradeMismatch { .. }
);
reject!(
    stale_calibration,
    |w| w.check(
        &w.r,
        berry(w.fresh, isri_ref(), w.l.now - 366 * DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::StaleCalibration {
        max_age_days: 365,
        ..
    }
);
reject!(
    calibration_in_future,
    |w| w.check(
        &w.r,
        berry(w.fresh, isri_ref(), w.l.now + 1)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::CalibrationInFuture { .. }
);
reject!(
    too_few_spots,
    |w| w.check(
        &w.r,
        berry(w.fresh, isri_ref(), w.l.now - DAY)
            .reading("Cu", 995_000, 2)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::TooFewSpots {
        spots: 2,
        min: 3,
        ..
    }
);
reject!(
    grade_by_non_owner,
    |w| w.check(
        &w.c,
        berry(w.fresh, isri_ref(), w.l.now - DAY)
            .claim(Some("ISRI:Berry/Candy"))
            .build()
    ),
    RuleViolation::NotOwner { .. }
);
reject!(
    rule_set_version_not_increasing,
    |w| w.check(&w.x, isri()),
    RuleViolation::VersionNotIncreasing { .. }
);
reject!(
    rule_set_other_publisher,
    |w| {
        let mut rs = isri();
        rs.version = 2;
        w.check(&w.x2, rs)
    },
    RuleViolation::NotPublisher { .. }
);
reject!(
    invalid_rule_set,
    |w| w.check(
        &w.x,
        RuleSetBuilder::new("dup")
            .grade("A", 1, &[])
            .grade("A", 2, &[])
            .build()
    ),
    RuleViolation::InvalidRuleSet { .. }
);

// ---- certificates: one per criterion ----
macro_rules! criterion {
    ($name:ident, |$w:ident| $cert:expr, $crit:ident) => {
        reject!(
            $name,
            |$w| $w.check(&$w.x, $cert),
            RuleViolation::CertificateCriterionFailed {
                criterion: Criterion::$crit,
                ..
            }
        );
    };
}
// GOOD already holds the certificate under the brand (AlreadyCertified is
// checked first), so the claim criteria are tried on LOWCU, which shares
// GOOD's derived share.
criterion!(
    cert_claimed_mass,
    |w| w.cert_on(w.lowcu, 333_333, w.material_mass(w.lowcu) + 1),
    ClaimedMass
);
criterion!(
    cert_claimed_share_too_high,
    |w| w.cert_on(w.lowcu, 333_334, w.material_mass(w.lowcu)),
    ClaimedShare
);
criterion!(
    cert_min_recycled_share,
    |w| w.cert_on(w.prim, 0, w.material_mass(w.prim)),
    MinRecycledShare
);
criterion!(
    cert_composition_limit,
    |w| w.cert_on(w.lowcu, 333_333, w.material_mass(w.lowcu)),
    Composition
);
criterion!(
    cert_composition_missing,
    |w| w.cert_on(w.nocomp, 333_333, w.material_mass(w.nocomp)),
    Composition
);
criterion!(
    cert_rule_set_not_accepted,
    |w| w.cert_on(w.rs2lot, 333_333, w.material_mass(w.rs2lot)),
    AcceptedRuleSets
);
criterion!(
    cert_producer_not_refiner,
    |w| w.cert_on(w.clot, 1_000_000, w.material_mass(w.clot)),
    ProducerRole
);
criterion!(
    cert_chain_of_custody,
    |w| w.cert_on(w.nograde, 333_333, w.material_mass(w.nograde)),
    ChainOfCustody
);
reject!(
    cert_unknown_scheme,
    |w| {
        let mut c = w.cert_on(w.good, 1, w.good_mass);
        c.scheme.version = 2;
        w.check(&w.x, c)
    },
    RuleViolation::UnknownScheme { .. }
);
reject!(
    cert_duplicate_id,
    |w| {
        let mut c = w.cert_on(w.good, 1, w.good_mass);
        c.id = w.cert;
        w.check(&w.x, c)
    },
    RuleViolation::DuplicateId { .. }
);
reject!(
    cert_issued_by_non_publisher,
    |w| w.check(&w.x2, w.cert_on(w.good, 333_333, w.good_mass)),
    RuleViolation::NotPublisher { what: "scheme", .. }
);
reject!(
    cert_subject_already_certified,
    |w| w.check(&w.x, w.cert_on(w.good, 333_333, w.good_mass)),
    RuleViolation::AlreadyCertified { .. }
);

/// The refusal names the active certificate; once it is revoked the
/// subject may be certified again under the same scheme.
#[test]
fn cert_after_revocation_allowed() {
    let mut w = W::new();
    let r = w.check(&w.x, w.cert_on(w.good, 333_333, w.good_mass));
    assert!(
        matches!(
            r,
            Err(RuleViolation::AlreadyCertified { subject, certificate, .. })
                if subject == w.good && certificate == w.cert
        ),
        "{r:?}"
    );
    w.l.submit(
        &w.x,
        CertificateRevocation {
            certificate: w.cert,
            reason: "superseded".into(),
        },
    )
    .unwrap();
    let again = w.cert_on(w.good, 333_333, w.good_mass);
    w.l.submit(&w.x, again.clone()).unwrap();
    // The new certificate's provenance still replays offline.
    let prov = provenance(&w.l.state, &again.id).unwrap();
    let replayed = w.l.replay(prov).unwrap();
    assert_eq!(
        certificate_view(&replayed, &again.id).unwrap(),
        certificate_view(&w.l.state, &again.id).unwrap()
    );
}
reject!(
    cert_revoke_not_issuer,
    |w| w.check(
        &w.x2,
        CertificateRevocation {
            certificate: w.cert,
            reason: "x".into()
        }
    ),
    RuleViolation::NotCertificateIssuer { .. }
);
reject!(
    cert_revoke_twice,
    |w| {
        w.l.submit(
            &w.x,
            CertificateRevocation {
                certificate: w.cert,
                reason: "x".into(),
            },
        )
        .unwrap();
        w.check(
            &w.x,
            CertificateRevocation {
                certificate: w.cert,
                reason: "y".into(),
            },
        )
    },
    RuleViolation::CertificateAlreadyRevoked { .. }
);
reject!(
    cert_revoke_unknown,
    |w| w.check(
        &w.x,
        CertificateRevocation {
            certificate: Uuid::now_v7(),
            reason: "x".into()
        }
    ),
    RuleViolation::UnknownCertificate { .. }
);
reject!(
    scheme_unknown_rule_set,
    |w| w.check(
        &w.x,
        SchemeBuilder::new("S", 1)
            .accept(RuleSetRef {
                id: Uuid::now_v7(),
                version: 1
            })
            .build()
    ),
    RuleViolation::UnknownRuleSet { .. }
);

// ---- contracts ----
fn spec() -> MaterialSpec {
    MaterialSpec {
        description: "refined".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    }
}
reject!(
    contract_unknown_customer,
    |w| w.check(
        &w.r,
        ContractBuilder::new(w.stranger.kid, spec(), T0, T0 + DAY, "CNY").build()
    ),
    RuleViolation::UnknownActor { .. }
);
reject!(
    contract_bad_currency,
    |w| w.check(
        &w.r,
        ContractBuilder::new(w.m.kid, spec(), T0, T0 + DAY, "yuan").build()
    ),
    RuleViolation::InvalidField {
        field: "take_back.currency",
        ..
    }
);
reject!(
    contract_accepted_by_producer,
    |w| w.check(&w.r, w.l.acceptance(w.k_open)),
    RuleViolation::NotContractCustomer { .. }
);
reject!(
    contract_accepted_by_third_party,
    |w| w.check(&w.u, w.l.acceptance(w.k_open)),
    RuleViolation::NotContractCustomer { .. }
);
reject!(
    contract_accepted_twice,
    |w| w.check(&w.m, w.l.acceptance(w.k)),
    RuleViolation::ContractAlreadyAccepted { .. }
);
reject!(
    contract_accepted_naming_another_proposal,
    |w| w.check(
        &w.m,
        ContractAcceptance::new(w.k_open, w.l.acceptance(w.k).proposal)
    ),
    RuleViolation::ContractProposalMismatch { .. }
);
reject!(
    contract_unknown,
    |w| w.check(&w.m, ContractAcceptance::new(Uuid::now_v7(), [7; 32])),
    RuleViolation::UnknownContract { .. }
);
reject!(
    delivery_before_acceptance,
    |w| w.check(&w.r, Transfer::delivery(w.good, w.m.kid, w.k_open)),
    RuleViolation::ContractNotAccepted { .. }
);
reject!(
    delivery_by_customer,
    |w| {
        w.l.submit(&w.r, Transfer::delivery(w.good, w.m.kid, w.k))
            .unwrap();
        w.check(&w.m, Transfer::delivery(w.good, w.r.kid, w.k))
    },
    RuleViolation::NotContractProducer { .. }
);
reject!(
    delivery_to_non_customer,
    |w| w.check(&w.r, Transfer::delivery(w.good, w.c.kid, w.k)),
    RuleViolation::DeliveryNotToCustomer { .. }
);
reject!(
    delivery_outside_period,
    |w| {
        w.l.now = T0 + 366 * DAY;
        w.check(&w.r, Transfer::delivery(w.good, w.m.kid, w.k))
    },
    RuleViolation::OutsideContractPeriod { .. }
);
reject!(
    delivery_kind_not_in_spec,
    |w| w.check(&w.r, Transfer::delivery(w.p, w.m.kid, w.k)),
    RuleViolation::DeliveryKindNotInSpec { .. }
);
reject!(
    take_back_not_from_customer,
    |w| w.check(
        &w.r,
        receipt(
            T,
            0,
            Supplier::new("U", "CN", Some(w.u.b32())),
            ScrapOrigin::PreConsumer
        )
        .under_contract(w.k)
    ),
    RuleViolation::TakeBackNotFromCustomer { .. }
);
reject!(
    take_back_by_non_producer,
    |w| w.check(
        &w.c,
        receipt(
            T,
            0,
            Supplier::new("M", "CN", Some(w.m.b32())),
            ScrapOrigin::PreConsumer
        )
        .under_contract(w.k)
    ),
    RuleViolation::NotContractProducer { .. }
);

// ---- schema ----
reject!(
    unsupported_schema,
    |w| {
        let mut ev = w.l.event(primary(T, "CL"));
        // Version 2 was dropped when version 3 replaced its rules.
        ev.schema = 2;
        verdict(apply(
            &w.l.state,
            &Context {
                index: w.l.next_index(),
                signer: w.r.kid,
                leaf_hash: leaf_of(w.l.next_index(), &ev),
            },
            &ev,
        ))
    },
    RuleViolation::UnsupportedSchema { found: 2 }
);

/// Two entries in one batch: the second spend of the same mass loses.
#[test]
fn double_spend_in_one_batch_loses() {
    let w = W::new();
    let rem = w.l.material(&w.p).remaining_g;
    let half = rem / 2 + 1;
    let mut ov = Overlay::new(&w.l.state);
    let i = w.l.next_index();
    let e1 = w.l.event(move_all(w.p, half, MaterialKind::Rod));
    let e2 = w.l.event(move_all(w.p, half, MaterialKind::Wire));
    let ok = apply(
        &ov,
        &Context {
            index: i,
            signer: w.r.kid,
            leaf_hash: leaf_of(i, &e1),
        },
        &e1,
    )
    .unwrap();
    // Each alone is fine against the base...
    assert!(
        apply(
            &w.l.state,
            &Context {
                index: i,
                signer: w.r.kid,
                leaf_hash: leaf_of(i, &e2),
            },
            &e2
        )
        .is_ok()
    );
    ov.commit(ok);
    // ...but not after the first in the same batch.
    let r = verdict(apply(
        &ov,
        &Context {
            index: i + 1,
            signer: w.r.kid,
            leaf_hash: leaf_of(i + 1, &e2),
        },
        &e2,
    ));
    assert!(
        matches!(r, Err(RuleViolation::Overconsumption { .. })),
        "{r:?}"
    );
    let batch = ov.into_effects();
    assert!(
        batch.writes.windows(2).all(|p| p[0].0 < p[1].0),
        "batch sorted by key"
    );
}

#[test]
fn every_violation_has_a_code() {
    let w = W::new();
    let e = w.check(&w.stranger, primary(T, "CL")).unwrap_err();
    assert_eq!(e.code(), "unknown_signer");
    assert!(e.to_string().contains("not a registered actor"));
}

// ---- not a rule: the store ----

/// `base`, except that reading a key starting with `prefix` fails.
struct FailingReads<'a> {
    base: &'a MemoryState,
    prefix: Vec<u8>,
}

impl StateStore for FailingReads<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if key.starts_with(&self.prefix) {
            Err(StateError::Backend("disk unplugged".into()))
        } else {
            self.base.get(key)
        }
    }
}

fn ctx_of(w: &W, signer: &Actor) -> Context {
    Context {
        index: w.l.next_index(),
        signer: signer.kid,
        leaf_hash: [0xab; 32],
    }
}

#[test]
fn a_failing_store_is_a_state_error_not_a_rule_violation() {
    let w = W::new();
    let ev = w.l.event(move_all(w.p, T, MaterialKind::Rod));
    // Fine on the real store...
    assert!(apply(&w.l.state, &ctx_of(&w, &w.r), &ev).is_ok());
    // ...but the material's read fails: that is no verdict on the event.
    let broken = FailingReads {
        base: &w.l.state,
        prefix: state::keys::material(&w.p),
    };
    let e = apply(&broken, &ctx_of(&w, &w.r), &ev).unwrap_err();
    assert_eq!(
        e,
        ApplyError::State(StateError::Backend("disk unplugged".into()))
    );
    assert!(e.rule().is_none());
    assert_eq!(e.code(), "state_backend");
    assert!(matches!(
        Error::from(e),
        Error::State(StateError::Backend(_))
    ));
    // The signer check reads the store first: it fails the same way.
    let broken = FailingReads {
        base: &w.l.state,
        prefix: b"actor/".to_vec(),
    };
    let e = apply(&broken, &ctx_of(&w, &w.r), &ev).unwrap_err();
    assert!(
        matches!(e, ApplyError::State(StateError::Backend(_))),
        "{e:?}"
    );
}

#[test]
fn a_corrupt_record_is_a_state_error_not_a_rule_violation() {
    let w = W::new();
    let mut s = w.l.state.clone();
    s.commit(Effects {
        writes: vec![(state::keys::material(&w.p), vec![0xff])],
    });
    let ev = w.l.event(move_all(w.p, T, MaterialKind::Rod));
    let e = apply(&s, &ctx_of(&w, &w.r), &ev).unwrap_err();
    assert!(
        matches!(e, ApplyError::State(StateError::Corrupt { .. })),
        "{e:?}"
    );
    assert_eq!(e.code(), "state_corrupt");
    // MemoryState::apply reports it the same way and commits nothing.
    let before = s.clone();
    assert!(matches!(
        s.apply(&ctx_of(&w, &w.r), &ev),
        Err(ApplyError::State(StateError::Corrupt { .. }))
    ));
    assert_eq!(s, before);
}

#[test]
fn a_rejection_converts_to_the_crate_error_as_a_rule() {
    let w = W::new();
    let ev = w.l.event(primary(T, "CL"));
    let e = apply(&w.l.state, &ctx_of(&w, &w.stranger), &ev).unwrap_err();
    assert!(matches!(
        e.rule(),
        Some(RuleViolation::UnknownSigner { .. })
    ));
    assert_eq!(e.code(), "unknown_signer");
    let e = Error::from(e);
    assert_eq!(e.code(), "unknown_signer");
    assert!(matches!(
        e,
        Error::Rule(RuleViolation::UnknownSigner { .. })
    ));
}
