//! "A gram is claimed once": certificates claim grams that exist and are
//! not yet claimed, claimed grams move with the mass that carries them, and
//! every way a party with a valid key and role could claim a gram twice is
//! refused. Plus the certificate parts of "claims that hold": one active
//! certificate per brand, scheme versions and their transition window,
//! who may revoke, and a revoked issuer's certificates.

use passport_schema::*;
use proptest::prelude::*;
use uuid::Uuid;

use crate::common::*;

const T: u64 = 1_000_000;

/// A log with a refiner (who also manufactures), two certifiers with their
/// own brands, a customer and a bystander.
struct W {
    l: Ledger,
    op: Actor,
    /// Refiner and manufacturer: produces, owns and assembles.
    r: Actor,
    /// A second refiner: the buyer of certified material.
    r2: Actor,
    /// Certifier of brand "Tongling Recycled".
    x: Actor,
    /// Certifier of brand "Green Copper".
    x2: Actor,
    s1: SchemeRef,
    s2: SchemeRef,
}

fn scheme(name: &str) -> Scheme {
    SchemeBuilder::new(name, 0).accept(isri_ref()).build()
}

fn sref(s: &Scheme) -> SchemeRef {
    SchemeRef {
        id: s.id,
        version: s.version,
    }
}

impl W {
    fn new() -> Self {
        let op = Actor::from_seed(1);
        let mut l = Ledger::genesis(&op);
        let r = l.actor(&op, 2, "Refiner", &[Role::Refiner, Role::Manufacturer]);
        let r2 = l.actor(&op, 3, "Refiner 2", &[Role::Refiner]);
        let x = l.actor(&op, 5, "Certifier", &[Role::Certifier]);
        let x2 = l.actor(&op, 6, "Certifier 2", &[Role::Certifier]);
        l.submit(&x, isri()).unwrap();
        let a = scheme("Tongling Recycled");
        let b = scheme("Green Copper");
        l.submit(&x, a.clone()).unwrap();
        l.submit(&x2, b.clone()).unwrap();
        W {
            l,
            op,
            r,
            r2,
            x,
            x2,
            s1: sref(&a),
            s2: sref(&b),
        }
    }

    /// A primary lot of `g` grams owned by the refiner.
    fn lot(&mut self, g: u64) -> Uuid {
        let p = primary(g, "CL");
        self.l.submit(&self.r, p.clone()).unwrap();
        p.id
    }

    fn cert(&self, scheme: SchemeRef, subject: Uuid, g: u64) -> CertificateIssue {
        CertificateIssue {
            id: Uuid::now_v7(),
            scheme,
            subject,
            claimed_recycled_share_ppm: 0,
            claimed_mass_g: g,
        }
    }

    /// Issues a certificate; `x` signs under `s1`, `x2` under `s2`.
    fn certify(
        &mut self,
        by: &Actor,
        scheme: SchemeRef,
        subject: Uuid,
        g: u64,
    ) -> Result<Uuid, RuleViolation> {
        let c = self.cert(scheme, subject, g);
        self.l.submit(by, c.clone()).map(|_| c.id)
    }

    /// Transforms `inputs` (owned by `who`) into outputs of the given masses.
    fn transform(&mut self, who: &Actor, inputs: &[(Uuid, u64)], outputs: &[u64]) -> Vec<Uuid> {
        let mut b = TransformationBuilder::new(Process::Refine);
        for (id, g) in inputs {
            b = b.input(*id, *g);
        }
        let lost: u64 = inputs.iter().map(|i| i.1).sum::<u64>() - outputs.iter().sum::<u64>();
        // The outputs declare their inputs' average Cu: no copper is created.
        let (cu_g, in_g) = inputs.iter().fold((0u128, 0u128), |(c, m), (id, g)| {
            let v = lot_view(&self.l.state, id).unwrap();
            let ppm = v
                .composition
                .and_then(|x| x.ppm("Cu"))
                .or(v.cu_max_ppm)
                .unwrap_or(1_000_000);
            (c + u128::from(*g) * u128::from(ppm), m + u128::from(*g))
        });
        let out_cu = u32::try_from(cu_g / in_g.max(1)).unwrap();
        for g in outputs {
            b = b.output_with(Uuid::now_v7(), MaterialKind::Refined, *g, Some(cu(out_cu)));
        }
        let b = b.losses_g(lost);
        let ids = b.output_ids();
        self.l.submit(who, b.build()).unwrap();
        ids
    }

    fn claimed(&self, id: Uuid) -> u64 {
        self.l.material(&id).claimed_g
    }

    fn revoke(&mut self, by: &Actor, cert: Uuid) -> Result<u64, RuleViolation> {
        self.l.submit(
            by,
            CertificateRevocation {
                certificate: cert,
                reason: "withdrawn".into(),
            },
        )
    }
}

fn is_claimed_mass(r: &Result<Uuid, RuleViolation>) -> bool {
    matches!(
        r,
        Err(RuleViolation::CertificateCriterionFailed {
            criterion: Criterion::ClaimedMass,
            ..
        })
    )
}

macro_rules! assert_claimed_mass {
    ($r:expr) => {{
        let r = $r;
        assert!(is_claimed_mass(&r), "expected ClaimedMass, got {r:?}");
    }};
}

// ---- principle 1: a gram is claimed once ----

#[test]
fn claim_beyond_the_lot_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    assert_claimed_mass!(w.certify(&w.x.clone(), w.s1, lot, 20 * T + 1));
    w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    assert_eq!(w.claimed(lot), 20 * T);
}

#[test]
fn zero_claim_is_refused() {
    let mut w = W::new();
    let lot = w.lot(T);
    let r = w.certify(&w.x.clone(), w.s1, lot, 0);
    assert!(
        matches!(
            r,
            Err(RuleViolation::ZeroMass {
                field: "claimed_mass_g"
            })
        ),
        "{r:?}"
    );
}

#[test]
fn second_scheme_cannot_claim_the_same_grams() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    // Another brand, another certifier: the 20 t are claimed already.
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, lot, 20 * T));
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, lot, 1));
}

#[test]
fn two_brands_share_a_lot_but_never_exceed_it() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    w.certify(&w.x.clone(), w.s1, lot, 12 * T).unwrap();
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, lot, 8 * T + 1));
    w.certify(&w.x2.clone(), w.s2, lot, 8 * T).unwrap();
    assert_eq!(w.claimed(lot), 20 * T);
}

#[test]
fn recertify_after_transform_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    let r = w.r.clone();
    let out = w.transform(&r, &[(lot, 20 * T)], &[20 * T]);
    assert_eq!(w.claimed(out[0]), 20 * T, "the claim moved with the mass");
    assert_eq!(w.claimed(lot), 0);
    assert_claimed_mass!(w.certify(&w.x.clone(), w.s1, out[0], 20 * T));
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, out[0], 1));
}

#[test]
fn certificate_on_an_exhausted_material_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let r = w.r.clone();
    w.transform(&r, &[(lot, 20 * T)], &[20 * T]);
    let res = w.certify(&w.x.clone(), w.s1, lot, 1);
    assert!(
        matches!(res, Err(RuleViolation::MaterialExhausted { .. })),
        "{res:?}"
    );
}

#[test]
fn split_then_certify_both_halves_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    let r = w.r.clone();
    let halves = w.transform(&r, &[(lot, 20 * T)], &[10 * T, 10 * T]);
    for h in &halves {
        assert_eq!(w.claimed(*h), 10 * T);
        assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, *h, 1));
    }
}

#[test]
fn partial_consumption_carries_claimed_grams_first() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    w.certify(&w.x.clone(), w.s1, lot, 10 * T).unwrap();
    let r = w.r.clone();
    // 4 t consumed: they carry 4 t of the claim; 6 t stay claimed on the lot.
    let out = w.transform(&r, &[(lot, 4 * T)], &[4 * T]);
    assert_eq!(w.claimed(out[0]), 4 * T);
    assert_eq!(w.claimed(lot), 6 * T);
    // 16 t remain, 6 t claimed: 10 t are free, no more.
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, lot, 10 * T + 1));
    w.certify(&w.x2.clone(), w.s2, lot, 10 * T).unwrap();
}

#[test]
fn outputs_inherit_claims_in_proportion_and_never_above_their_mass() {
    let mut w = W::new();
    let a = w.lot(10 * T);
    let b = w.lot(10 * T);
    w.certify(&w.x.clone(), w.s1, a, 10 * T).unwrap();
    let r = w.r.clone();
    // 20 t in (10 t claimed), 1 t lost, outputs 12 t + 7 t.
    let out = w.transform(&r, &[(a, 10 * T), (b, 10 * T)], &[12 * T, 7 * T]);
    let (c0, c1) = (w.claimed(out[0]), w.claimed(out[1]));
    assert_eq!(
        c0 + c1,
        10 * T,
        "conserved: the outputs hold the whole claim"
    );
    assert!(c0 <= 12 * T && c1 <= 7 * T);
    assert_eq!(
        c0,
        10 * T * 12 / 19 + 1,
        "floor, remainder to the first output"
    );
    // Claims beyond the outputs go with the losses: 10 t claimed in, 9 t out.
    let c = w.lot(10 * T);
    w.certify(&w.x.clone(), w.s1, c, 10 * T).unwrap();
    let out = w.transform(&r, &[(c, 10 * T)], &[5 * T, 4 * T]);
    assert_eq!((w.claimed(out[0]), w.claimed(out[1])), (5 * T, 4 * T));
}

#[test]
fn transfer_carries_the_claim_to_the_new_owner() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    w.l.submit(&w.r.clone(), Transfer::new(lot, w.r2.kid))
        .unwrap();
    assert_eq!(w.claimed(lot), 20 * T);
    // The new owner's certifier (another brand) cannot claim it again ...
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, lot, 20 * T));
    // ... nor after the new owner transforms it.
    let r2 = w.r2.clone();
    let out = w.transform(&r2, &[(lot, 20 * T)], &[20 * T]);
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, out[0], 1));
}

#[test]
fn revoke_then_reissue_after_the_claim_moved_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let cert = w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    let r = w.r.clone();
    let out = w.transform(&r, &[(lot, 15 * T)], &[15 * T]);
    w.revoke(&w.x.clone(), cert).unwrap();
    // Only the 5 t still on the lot are released.
    assert_eq!(w.claimed(lot), 0);
    assert_eq!(w.claimed(out[0]), 15 * T);
    assert_claimed_mass!(w.certify(&w.x.clone(), w.s1, out[0], 1));
    assert_claimed_mass!(w.certify(&w.x.clone(), w.s1, lot, 5 * T + 1));
    w.certify(&w.x.clone(), w.s1, lot, 5 * T).unwrap();
}

/// A certificate issued after a consumption cannot have lost grams to it:
/// revoking an older certificate whose grams moved on must not release the
/// newer one's grams for a third claim.
#[test]
fn revoke_after_the_claim_moved_does_not_release_a_later_claim() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let a = w.certify(&w.x.clone(), w.s1, lot, 5 * T).unwrap();
    let r = w.r.clone();
    let out = w.transform(&r, &[(lot, 5 * T)], &[5 * T]);
    assert_eq!(w.claimed(out[0]), 5 * T);
    w.certify(&w.x2.clone(), w.s2, lot, 15 * T).unwrap();
    w.revoke(&w.x.clone(), a).unwrap();
    assert_eq!(w.claimed(lot), 15 * T, "nothing of A was left on the lot");
    assert_claimed_mass!(w.certify(&w.x.clone(), w.s1, lot, 1));
}

#[test]
fn revocation_releases_a_claim_still_on_its_subject() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let cert = w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    w.revoke(&w.x.clone(), cert).unwrap();
    assert_eq!(w.claimed(lot), 0);
    w.certify(&w.x2.clone(), w.s2, lot, 20 * T).unwrap();
}

#[test]
fn scrap_from_a_certified_passport_inherits_its_claim() {
    let mut w = W::new();
    let lot = w.lot(3 * T);
    let r = w.r.clone();
    let t = TransformationBuilder::new(Process::Assemble)
        .input(lot, 2 * T)
        .output(MaterialKind::Product, 2 * T)
        .build();
    let prod = t.outputs[0].id;
    w.l.submit(&r, t).unwrap();
    w.l.submit(&r, passport_for(prod)).unwrap();
    w.certify(&w.x.clone(), w.s1, prod, 2 * T).unwrap();
    // A use phase: delivered to a utility that installs it, retires it and
    // hands it back for recycling.
    let utility =
        w.l.actor(&Actor::from_seed(1), 30, "Utility", &[Role::Service]);
    w.l.submit(&r, Transfer::new(prod, utility.kid)).unwrap();
    w.l.submit(
        &utility,
        ServiceEvent {
            product: prod,
            kind: ServiceKind::Install,
            note: "installed".into(),
            evidence: vec![],
        },
    )
    .unwrap();
    w.l.submit(
        &utility,
        EndOfLife {
            product: prod,
            reason: "worn out".into(),
            evidence: vec![],
        },
    )
    .unwrap();
    w.l.submit(&utility, Transfer::new(prod, r.kid)).unwrap();
    let mut s = receipt(
        2 * T,
        0,
        Supplier::new("Utility", "CN", None),
        ScrapOrigin::PostConsumer,
    );
    s.source_passports = vec![prod];
    w.l.submit(&r, s.clone()).unwrap();
    assert_eq!(w.claimed(s.id), 2 * T);
    assert_eq!(w.claimed(prod), 0);
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, s.id, 1));
}

#[test]
fn two_certificates_in_one_batch_cannot_claim_the_same_grams() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let i = w.l.next_index();
    let mut ov = Overlay::new(&w.l.state);
    let first = w.l.event(w.cert(w.s1, lot, 15 * T));
    let second = w.l.event(w.cert(w.s2, lot, 15 * T));
    let ok = verdict(apply(
        &ov,
        &Context {
            index: i,
            signer: w.x.kid,
            leaf_hash: leaf_of(i, &first),
        },
        &first,
    ))
    .unwrap();
    ov.commit(ok);
    let r = verdict(apply(
        &ov,
        &Context {
            index: i + 1,
            signer: w.x2.kid,
            leaf_hash: leaf_of(i + 1, &second),
        },
        &second,
    ));
    assert!(
        matches!(
            r,
            Err(RuleViolation::CertificateCriterionFailed {
                criterion: Criterion::ClaimedMass,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn disassembled_certified_product_parts_cannot_be_certified_again() {
    let mut w = W::new();
    let lot = w.lot(4 * T);
    let r = w.r.clone();
    let t = TransformationBuilder::new(Process::Assemble)
        .input(lot, 4 * T)
        .output(MaterialKind::Product, 4 * T)
        .build();
    let prod = t.outputs[0].id;
    w.l.submit(&r, t).unwrap();
    w.certify(&w.x.clone(), w.s1, prod, 4 * T).unwrap();
    let t = TransformationBuilder::new(Process::Disassemble)
        .input(prod, 4 * T)
        .output(MaterialKind::Product, 3 * T)
        .output(MaterialKind::Scrap, T)
        .build();
    let parts: Vec<Uuid> = t.outputs.iter().map(|o| o.id).collect();
    w.l.submit(&r, t).unwrap();
    assert_eq!(w.claimed(parts[0]) + w.claimed(parts[1]), 4 * T);
    for p in parts {
        assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, p, 1));
    }
}

#[test]
fn merged_lots_keep_the_claims_of_their_inputs() {
    let mut w = W::new();
    let a = w.lot(10 * T);
    let b = w.lot(10 * T);
    w.certify(&w.x.clone(), w.s1, a, 10 * T).unwrap();
    let r = w.r.clone();
    let out = w.transform(&r, &[(a, 10 * T), (b, 10 * T)], &[20 * T]);
    assert_eq!(w.claimed(out[0]), 10 * T);
    // Only the 10 t that came unclaimed from B are free.
    assert_claimed_mass!(w.certify(&w.x2.clone(), w.s2, out[0], 10 * T + 1));
    w.certify(&w.x2.clone(), w.s2, out[0], 10 * T).unwrap();
}

#[test]
fn renaming_a_scheme_to_a_held_brand_is_refused() {
    let mut w = W::new();
    // x2 publishes version 2 of its own scheme under x's brand.
    let v2 = SchemeBuilder::new("Tongling Recycled", 0)
        .accept(isri_ref())
        .id_version(w.s2.id, 2)
        .build();
    let r = w.l.submit(&w.x2.clone(), v2);
    assert!(matches!(r, Err(RuleViolation::BrandHeld { .. })), "{r:?}");
}

// ---- principle 3: one active certificate per brand; scheme versions ----

#[test]
fn brand_is_held_by_its_first_publisher() {
    let mut w = W::new();
    // Same brand, different case and spacing, another certifier.
    let r = w.l.submit(&w.x2.clone(), scheme("  tongling RECYCLED "));
    assert!(
        matches!(r, Err(RuleViolation::BrandHeld { ref brand, .. }) if brand == "tongling recycled"),
        "{r:?}"
    );
    assert_eq!(r.unwrap_err().code(), "brand_held");
    // The holder may publish another scheme id under its brand.
    w.l.submit(&w.x.clone(), scheme("Tongling Recycled "))
        .unwrap();
}

#[test]
fn one_active_certificate_per_subject_per_brand_across_scheme_ids() {
    let mut w = W::new();
    let other = scheme("TONGLING RECYCLED");
    w.l.submit(&w.x.clone(), other.clone()).unwrap();
    let lot = w.lot(20 * T);
    let c = w.certify(&w.x.clone(), w.s1, lot, 5 * T).unwrap();
    let r = w.certify(&w.x.clone(), sref(&other), lot, 5 * T);
    assert!(
        matches!(r, Err(RuleViolation::AlreadyCertified { certificate, .. }) if certificate == c),
        "{r:?}"
    );
    // A different brand may certify the unclaimed rest.
    w.certify(&w.x2.clone(), w.s2, lot, 15 * T).unwrap();
}

#[test]
fn superseded_scheme_version_is_refused_after_its_transition_window() {
    let mut w = W::new();
    let v2 = SchemeBuilder::new("Tongling Recycled", 0)
        .accept(isri_ref())
        .id_version(w.s1.id, 2)
        .transition_days(30)
        .build();
    w.l.submit(&w.x.clone(), v2).unwrap();
    let lot = w.lot(20 * T);
    // Within the window, v1 may still be cited.
    w.certify(&w.x.clone(), w.s1, lot, T).unwrap();
    // 31 days on (log time), it may not.
    w.l.now += 31 * DAY;
    w.l.submit(&w.op.clone(), LogTime {}).unwrap();
    let lot2 = w.lot(20 * T);
    let r = w.certify(&w.x.clone(), w.s1, lot2, T);
    assert!(
        matches!(
            r,
            Err(RuleViolation::SchemeVersionSuperseded {
                version: 1,
                newer: 2,
                transition_days: 30,
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(r.unwrap_err().code(), "scheme_version_superseded");
    w.certify(
        &w.x.clone(),
        SchemeRef {
            id: w.s1.id,
            version: 2,
        },
        lot2,
        T,
    )
    .unwrap();
}

#[test]
fn superseded_scheme_version_without_window_is_refused_at_once() {
    let mut w = W::new();
    let v2 = SchemeBuilder::new("Tongling Recycled", 0)
        .accept(isri_ref())
        .id_version(w.s1.id, 2)
        .build();
    w.l.submit(&w.x.clone(), v2).unwrap();
    w.l.now += 60_000;
    w.l.submit(&w.op.clone(), LogTime {}).unwrap();
    let lot = w.lot(20 * T);
    let r = w.certify(&w.x.clone(), w.s1, lot, T);
    assert!(
        matches!(r, Err(RuleViolation::SchemeVersionSuperseded { .. })),
        "{r:?}"
    );
}

// ---- principle 7: who revokes; a revoked issuer ----

#[test]
fn operator_may_revoke_a_certificate() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let c = w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    w.revoke(&w.op.clone(), c).unwrap();
    assert_eq!(
        certificate_view(&w.l.state, &c).unwrap().status,
        CertificateStatus::Revoked
    );
}

#[test]
fn revocation_by_another_certifier_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let c = w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    let r = w.revoke(&w.x2.clone(), c);
    assert!(
        matches!(r, Err(RuleViolation::NotCertificateIssuer { issuer, .. }) if issuer == w.x.b32()),
        "{r:?}"
    );
}

#[test]
fn revocation_by_the_owner_of_the_material_is_refused() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let c = w.certify(&w.x.clone(), w.s1, lot, 20 * T).unwrap();
    let r = w.revoke(&w.r.clone(), c);
    assert!(
        matches!(r, Err(RuleViolation::RoleNotPermitted { .. })),
        "{r:?}"
    );
}

#[test]
fn certificates_of_a_revoked_issuer_show_issuer_revoked() {
    let mut w = W::new();
    let lot = w.lot(20 * T);
    let r = w.r.clone();
    let t = TransformationBuilder::new(Process::Assemble)
        .input(lot, 2 * T)
        .output(MaterialKind::Product, 2 * T)
        .build();
    let prod = t.outputs[0].id;
    w.l.submit(&r, t).unwrap();
    w.l.submit(&r, passport_for(prod)).unwrap();
    let c = w.certify(&w.x.clone(), w.s1, prod, 2 * T).unwrap();
    let idx =
        w.l.submit(
            &w.op.clone(),
            RevokeKey {
                actor: w.x.b32(),
                reason: "key compromised".into(),
            },
        )
        .unwrap();
    let v = certificate_view(&w.l.state, &c).unwrap();
    assert_eq!(
        (v.status, v.status_index),
        (CertificateStatus::IssuerRevoked, idx)
    );
    let p = passport_view(&w.l.state, &prod).unwrap();
    assert_eq!(p.certificates[0].status, CertificateStatus::IssuerRevoked);
    assert_eq!(
        serde_json::to_string(&v.status).unwrap(),
        "\"issuer_revoked\""
    );
    // The revoked issuer cannot revoke it; the operator can.
    assert!(matches!(
        w.revoke(&w.x.clone(), c),
        Err(RuleViolation::SignerRevoked { .. })
    ));
    w.revoke(&w.op.clone(), c).unwrap();
}

// ---- principle 4: deliveries count once ----

#[test]
fn delivery_returned_and_delivered_again_counts_once() {
    let mut w = W::new();
    let spec = MaterialSpec {
        description: "cathode".into(),
        kinds: vec![MaterialKind::PrimaryCathode, MaterialKind::Refined],
        min_cu_ppm: 0,
    };
    let k = ContractBuilder::new(w.r2.kid, spec, T0, T0 + 365 * DAY, "CNY").build();
    let (r, r2) = (w.r.clone(), w.r2.clone());
    w.l.submit(&r, k.clone()).unwrap();
    let acceptance = w.l.acceptance(k.id);
    w.l.submit(&r2, acceptance).unwrap();
    let lot = w.lot(20 * T);
    w.l.submit(&r, Transfer::delivery(lot, r2.kid, k.id))
        .unwrap();
    assert_eq!(
        contract_audit(&w.l.state, &k.id).unwrap().delivered_g,
        20 * T
    );
    // Returned: it no longer counts.
    let back = w.l.submit(&r2, Transfer::new(lot, r.kid)).unwrap();
    let a = contract_audit(&w.l.state, &k.id).unwrap();
    assert_eq!(a.delivered_g, 0);
    assert_eq!(a.deliveries[0].returned_index, Some(back));
    // Delivered again: counted once.
    w.l.submit(&r, Transfer::delivery(lot, r2.kid, k.id))
        .unwrap();
    let a = contract_audit(&w.l.state, &k.id).unwrap();
    assert_eq!(a.delivered_g, 20 * T);
    assert_eq!(a.deliveries.len(), 2);
    // Returned again, refined into a new lot and that delivered: once.
    w.l.submit(&r2, Transfer::new(lot, r.kid)).unwrap();
    let out = w.transform(&r, &[(lot, 20 * T)], &[20 * T]);
    w.l.submit(&r, Transfer::delivery(out[0], r2.kid, k.id))
        .unwrap();
    let a = contract_audit(&w.l.state, &k.id).unwrap();
    assert_eq!(a.delivered_g, 20 * T);
    assert_eq!(
        a.deliveries
            .iter()
            .filter(|d| d.returned_index.is_none())
            .count(),
        1
    );
}

// ---- properties ----

/// One random step against the claims world.
#[derive(Debug, Clone)]
enum Op {
    Lot(u64),
    Certify {
        brand: bool,
        lot: usize,
        /// Of the lot's unclaimed grams (above 1,000,000: more than is free).
        g_ppm: u32,
    },
    Transform {
        lot: usize,
        take_ppm: u32,
        outputs: u8,
        loss_ppm: u32,
    },
    Transfer {
        lot: usize,
    },
    Revoke {
        cert: usize,
        by_operator: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u64..50_000).prop_map(Op::Lot),
        (any::<bool>(), 0usize..6, 1u32..1_200_000)
            .prop_map(|(brand, lot, g_ppm)| { Op::Certify { brand, lot, g_ppm } }),
        (0usize..6, 1u32..=1_000_000, 1u8..4, 0u32..5_000).prop_map(
            |(lot, take_ppm, outputs, loss_ppm)| Op::Transform {
                lot,
                take_ppm,
                outputs,
                loss_ppm
            }
        ),
        (0usize..6).prop_map(|lot| Op::Transfer { lot }),
        (0usize..6, any::<bool>()).prop_map(|(cert, by_operator)| Op::Revoke { cert, by_operator }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// After any sequence, every material's claimed grams fit its remaining
    /// mass, the live claims never exceed the mass that exists, active
    /// certificates never claim more than was ever registered, and no
    /// accepted certificate claimed a gram already claimed.
    #[test]
    fn no_gram_is_claimed_twice(ops in proptest::collection::vec(op(), 1..60)) {
        let mut w = W::new();
        let mut lots: Vec<Uuid> = Vec::new();
        let mut certs: Vec<Uuid> = Vec::new();
        let mut registered: u128 = 0;
        // Step of each material's last consumption, and of each certificate.
        let mut consumed_at: std::collections::BTreeMap<Uuid, usize> = Default::default();
        let mut issued_at: std::collections::BTreeMap<Uuid, usize> = Default::default();
        for (step, o) in ops.into_iter().enumerate() {
            match o {
                Op::Lot(g) => {
                    lots.push(w.lot(g));
                    registered += u128::from(g);
                }
                Op::Certify { brand, lot, g_ppm } => {
                    let Some(id) = lots.get(lot % lots.len().max(1)).copied() else { continue };
                    let before = w.l.material(&id);
                    let g = (u128::from(before.unclaimed_g()) * u128::from(g_ppm) / 1_000_000).max(1) as u64;
                    let (x, s) = if brand { (w.x.clone(), w.s1) } else { (w.x2.clone(), w.s2) };
                    match w.certify(&x, s, id, g) {
                        Ok(c) => {
                            prop_assert!(g <= before.remaining_g - before.claimed_g, "claimed a claimed gram");
                            prop_assert_eq!(w.claimed(id), before.claimed_g + g);
                            issued_at.insert(c, step);
                            certs.push(c);
                        }
                        Err(e) => prop_assert!(
                            g > before.remaining_g.saturating_sub(before.claimed_g)
                                || matches!(e, RuleViolation::AlreadyCertified { .. } | RuleViolation::MaterialExhausted { .. }),
                            "unexpected refusal {e:?}"
                        ),
                    }
                }
                Op::Transform { lot, take_ppm, outputs, loss_ppm } => {
                    let Some(id) = lots.get(lot % lots.len().max(1)).copied() else { continue };
                    let n = w.l.material(&id);
                    let owner = if n.owner == w.r.b32() { w.r.clone() } else { w.r2.clone() };
                    let take = (u128::from(n.remaining_g) * u128::from(take_ppm) / 1_000_000) as u64;
                    if take == 0 { continue; }
                    let lost = (u128::from(take) * u128::from(loss_ppm) / 1_000_000) as u64;
                    let out_total = take - lost;
                    let k = u64::from(outputs).min(out_total);
                    if k == 0 { continue; }
                    let mut masses = vec![out_total / k; k as usize];
                    masses[0] += out_total % k;
                    let claimed_in = n.claimed_g.min(take);
                    let out = w.transform(&owner, &[(id, take)], &masses);
                    consumed_at.insert(id, step);
                    let inherited: u64 = out.iter().map(|o| w.claimed(*o)).sum();
                    prop_assert_eq!(inherited, claimed_in.min(out_total));
                    lots.extend(out);
                }
                Op::Transfer { lot } => {
                    let Some(id) = lots.get(lot % lots.len().max(1)).copied() else { continue };
                    let n = w.l.material(&id);
                    if n.remaining_g == 0 { continue; }
                    let (from, to) = if n.owner == w.r.b32() { (w.r.clone(), w.r2.clone()) } else { (w.r2.clone(), w.r.clone()) };
                    w.l.submit(&from, Transfer::new(id, to.kid)).unwrap();
                    prop_assert_eq!(w.claimed(id), n.claimed_g);
                }
                Op::Revoke { cert, by_operator } => {
                    let Some(id) = certs.get(cert % certs.len().max(1)).copied() else { continue };
                    let c = state::certificate(&w.l.state, &id).unwrap().unwrap();
                    let by = if by_operator { w.op.clone() } else if c.scheme == w.s1 { w.x.clone() } else { w.x2.clone() };
                    let before = w.claimed(c.subject);
                    // The other active certificates' grams on the subject are
                    // kept; at most this certificate's claim is released.
                    let others: u64 = certs
                        .iter()
                        .filter(|o| **o != id)
                        .map(|o| state::certificate(&w.l.state, o).unwrap().unwrap())
                        .filter(|o| o.subject == c.subject && o.revoked.is_none())
                        .map(|o| o.claimed_mass_g)
                        .sum();
                    match w.revoke(&by, id) {
                        Ok(_) => prop_assert_eq!(
                            w.claimed(c.subject),
                            before - before.saturating_sub(others).min(c.claimed_mass_g)
                        ),
                        Err(e) => prop_assert!(matches!(e, RuleViolation::CertificateAlreadyRevoked { .. }), "{e:?}"),
                    }
                }
            }
            // Invariants after every step.
            let mut live: u128 = 0;
            let mut exists: u128 = 0;
            for id in &lots {
                let n = w.l.material(id);
                prop_assert!(n.claimed_g <= n.remaining_g, "{} claims {} of {} g", id, n.claimed_g, n.remaining_g);
                live += u128::from(n.claimed_g);
                exists += u128::from(n.remaining_g);
            }
            prop_assert!(live <= exists);
            // Claims issued on a material since its last consumption cannot
            // have moved: they all still sit on it.
            for id in &lots {
                let since = consumed_at.get(id).copied();
                let fixed: u64 = certs
                    .iter()
                    .map(|c| state::certificate(&w.l.state, c).unwrap().unwrap())
                    .filter(|c| c.subject == *id && c.revoked.is_none())
                    .filter(|c| since.is_none_or(|s| issued_at[&c.id] > s))
                    .map(|c| c.claimed_mass_g)
                    .sum();
                prop_assert!(fixed <= w.claimed(*id), "{} holds {} g of claims issued since its last consumption but {} g claimed", id, fixed, w.claimed(*id));
            }
            let active: u128 = certs
                .iter()
                .map(|c| state::certificate(&w.l.state, c).unwrap().unwrap())
                .filter(|c| c.revoked.is_none())
                .map(|c| u128::from(c.claimed_mass_g))
                .sum();
            prop_assert!(active <= registered, "active claims {active} g > registered {registered} g");
        }
    }
}
