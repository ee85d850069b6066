//! Principle 2 "Post-consumer means used" and principle 7 "Authority
//! follows stake" (service): each test is a cheat by a party with valid keys
//! and roles but no stake, and the rule that stops it.

use passport_schema::*;
use uuid::Uuid;

use crate::common::*;

const T: u64 = 1_000_000;

/// Actors and one passported product still with its manufacturer.
struct U {
    l: Ledger,
    /// Manufacturer (producer of the product).
    m: Actor,
    /// A second key of the manufacturer's organisation (same name and
    /// country), with the service role.
    m2: Actor,
    /// The user: a utility (service role).
    u: Actor,
    /// A service company (service role).
    s: Actor,
    /// A recycler.
    c: Actor,
    /// A second key of the recycler's organisation.
    c2: Actor,
    /// A primary lot of the manufacturer (for more products).
    lot: Uuid,
    /// The product (passport issued, owned by `m`).
    p: Uuid,
    /// When `p` was created.
    p_ms: i64,
}

fn svc(product: Uuid, kind: ServiceKind) -> ServiceEvent {
    ServiceEvent {
        product,
        kind,
        note: "work order 7".into(),
        evidence: vec![],
    }
}

fn eol(product: Uuid) -> EndOfLife {
    EndOfLife {
        product,
        reason: "retired".into(),
        evidence: vec![],
    }
}

fn auth(product: Uuid, actor: &Actor, until_ms: Option<i64>) -> ServiceAuthorisation {
    ServiceAuthorisation {
        product,
        actor: actor.b32(),
        until_ms,
    }
}

fn post_receipt(supplier: &Actor, product: Uuid) -> ScrapReceipt {
    ScrapReceipt::new(
        T,
        0,
        Supplier::new("Supplier", "CN", Some(supplier.b32())),
        ScrapOrigin::PostConsumer,
    )
    .source_passport(product)
}

impl U {
    fn new() -> Self {
        let op = Actor::from_seed(1);
        let mut l = Ledger::genesis(&op);
        let m = l.actor(&op, 3, "Tongling Cable Works", &[Role::Manufacturer]);
        let m2 = l.actor(
            &op,
            13,
            " tongling cable works ",
            &[Role::Manufacturer, Role::Service],
        );
        let u = l.actor(&op, 4, "Anhui Grid Utility", &[Role::Service]);
        let s = l.actor(&op, 7, "Cable Service Co", &[Role::Service]);
        let c = l.actor(&op, 5, "Hefei Recycling", &[Role::Recycler]);
        let c2 = l.actor(&op, 15, "Hefei Recycling", &[Role::Recycler]);
        let lot = primary(100 * T, "CL");
        l.submit(&m, lot.clone()).unwrap();
        let mut w = U {
            l,
            m,
            m2,
            u,
            s,
            c,
            c2,
            lot: lot.id,
            p: Uuid::nil(),
            p_ms: 0,
        };
        (w.p, w.p_ms) = w.product(w.lot);
        w
    }

    /// A passported product assembled by `m` from `input`, and its time.
    fn product(&mut self, input: Uuid) -> (Uuid, i64) {
        let t = TransformationBuilder::new(Process::Assemble)
            .input(input, T)
            .output(MaterialKind::Product, T)
            .build();
        let id = t.outputs[0].id;
        let ms = self.l.now;
        let m = self.m.clone();
        self.l.submit(&m, t).unwrap();
        self.l.submit(&m, passport_for(id)).unwrap();
        (id, ms)
    }

    /// `p` delivered to the utility and installed by it.
    fn in_use(&mut self) {
        let (m, u) = (self.m.clone(), self.u.clone());
        self.l.submit(&m, Transfer::new(self.p, u.kid)).unwrap();
        self.l
            .submit(&u, svc(self.p, ServiceKind::Install))
            .unwrap();
    }

    /// Checks `body` by `signer` dated `ms`.
    fn check_at(
        &self,
        ms: i64,
        signer: &Actor,
        body: impl Into<EventBody>,
    ) -> Result<Effects, RuleViolation> {
        let mut l = self.l.clone();
        l.now = ms;
        l.check(signer, body)
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

// ---- principle 2: post-consumer means used ----

#[test]
fn used_product_yields_post_consumer_scrap() {
    let mut w = U::new();
    w.in_use();
    w.l.submit(&w.u, svc(w.p, ServiceKind::Decommission))
        .unwrap();
    w.l.submit(&w.u, eol(w.p)).unwrap();
    w.l.submit(&w.u, Transfer::new(w.p, w.c.kid)).unwrap();
    let d = dispatch(&mut w.l, &w.u.clone(), &w.c.clone(), T, None);
    let r = post_receipt(&w.u, w.p).of_dispatch(d);
    w.l.submit(&w.c, r.clone()).unwrap();
    assert_eq!(w.l.material(&r.id).recycled_post_ppm, 1_000_000);
}

#[test]
fn virgin_product_handed_to_recycler_is_never_used() {
    // The cheat of the issue: virgin cathode assembled, handed to a
    // recycler, declared end of life at once.
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.c.kid)).unwrap();
    assert_rejects!(w.l.check(&w.c, eol(w.p)), RuleViolation::NeverUsed { .. });
    assert_rejects!(
        w.l.check(&w.c, post_receipt(&w.m, w.p)),
        RuleViolation::SourcePassportNotEndOfLife { .. }
    );
}

#[test]
fn end_of_life_by_producer_that_never_let_go_is_never_used() {
    let w = U::new();
    assert_rejects!(w.l.check(&w.m, eol(w.p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn install_by_producer_before_it_left_does_not_count() {
    let mut w = U::new();
    w.l.submit(&w.m, svc(w.p, ServiceKind::Install)).unwrap();
    w.l.submit(&w.m, Transfer::new(w.p, w.c.kid)).unwrap();
    assert_rejects!(w.l.check(&w.c, eol(w.p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn transfer_without_install_is_not_a_use_phase() {
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.u.kid)).unwrap();
    w.l.submit(&w.u, svc(w.p, ServiceKind::Inspect)).unwrap();
    assert_rejects!(w.l.check(&w.u, eol(w.p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn transfer_to_accomplice_and_back_without_install_is_never_used() {
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.u.kid)).unwrap();
    w.l.submit(&w.u, Transfer::new(w.p, w.m.kid)).unwrap();
    // Installed again by the producer itself: not a use.
    w.l.submit(&w.m, svc(w.p, ServiceKind::Install)).unwrap();
    assert_rejects!(w.l.check(&w.m, eol(w.p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn install_by_second_key_of_producer_organisation_does_not_count() {
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.m2.kid)).unwrap();
    w.l.submit(&w.m2, svc(w.p, ServiceKind::Install)).unwrap();
    w.l.submit(&w.m2, Transfer::new(w.p, w.c.kid)).unwrap();
    assert_rejects!(w.l.check(&w.c, eol(w.p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn home_scrap_assembled_into_unused_product_is_never_post_consumer() {
    let mut w = U::new();
    let roll = TransformationBuilder::new(Process::Roll)
        .input(w.lot, 10 * T)
        .output(MaterialKind::Foil, 9 * T)
        .output(MaterialKind::Scrap, T)
        .build();
    let home = roll.outputs[1].id;
    w.l.submit(&w.m, roll).unwrap();
    let (p, _) = w.product(home);
    w.l.submit(&w.m, Transfer::new(p, w.c.kid)).unwrap();
    assert_rejects!(w.l.check(&w.c, eol(p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn install_by_the_receiving_recycler_is_not_a_use_phase() {
    // The recycler "uses" the product itself: it may retire it, but its
    // own scrap receipt cannot turn it into post-consumer scrap.
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.c.kid)).unwrap();
    w.l.submit(&w.c, svc(w.p, ServiceKind::Install)).unwrap();
    w.l.submit(&w.c, eol(w.p)).unwrap();
    assert_rejects!(
        w.l.check(&w.c, post_receipt(&w.m, w.p)),
        RuleViolation::NeverUsed { .. }
    );
    // Nor through a second key of the recycler's organisation.
    w.l.submit(&w.c, Transfer::new(w.p, w.c2.kid)).unwrap();
    assert_rejects!(
        w.l.check(&w.c2, post_receipt(&w.m, w.p)),
        RuleViolation::NeverUsed { .. }
    );
}

#[test]
fn end_of_life_dated_before_the_install_is_never_used() {
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.u.kid)).unwrap();
    let before_install = w.l.now - 1;
    w.l.submit(&w.u, svc(w.p, ServiceKind::Install)).unwrap();
    assert_rejects!(
        w.check_at(before_install, &w.u, eol(w.p)),
        RuleViolation::NeverUsed { .. }
    );
}

#[test]
fn self_supplied_scrap_is_home_scrap() {
    // A receipt naming the receiver's own key as its supplier needs a
    // dispatch signed by that key to itself, which custody refuses: a
    // recycler cannot receive its own scrap as recycled content at all
    // (home scrap is a transformation's `scrap` output). Premise changed
    // by the co-signed custody rules; the cheat stays closed.
    let mut w = U::new();
    let r = ScrapReceipt::new(
        T,
        0,
        Supplier::new("Hefei Recycling", "CN", Some(w.c.b32())),
        ScrapOrigin::PostConsumer,
    );
    let got = w.l.submit(&w.c, r);
    assert!(
        matches!(got, Err(RuleViolation::DispatchRequired { .. })),
        "{got:?}"
    );
    let to_self = DispatchScrap::new(w.c.b32(), T, "own scrap");
    assert!(w.l.submit(&w.c, to_self).is_err());
}

#[test]
fn scrap_from_second_key_of_receiver_organisation_is_home_scrap() {
    let mut w = U::new();
    let d = dispatch(&mut w.l, &w.c2.clone(), &w.c.clone(), T, None);
    let r = ScrapReceipt::new(
        T,
        0,
        Supplier::new("Hefei Recycling yard 2", "CN", Some(w.c2.b32())),
        ScrapOrigin::PostConsumer,
    )
    .of_dispatch(d);
    w.l.submit(&w.c, r.clone()).unwrap();
    assert_eq!(w.l.material(&r.id).recycled_ppm(), 0);
    // Another organisation's scrap keeps its declared class.
    let r = ScrapReceipt::new(
        T,
        0,
        Supplier::new("Anhui Grid Utility", "CN", Some(w.u.b32())),
        ScrapOrigin::PostConsumer,
    )
    .of_dispatch(dispatch(&mut w.l, &w.u.clone(), &w.c.clone(), T, None));
    w.l.submit(&w.c, r.clone()).unwrap();
    assert_eq!(w.l.material(&r.id).recycled_post_ppm, 1_000_000);
}

// ---- principle 7: service follows stake ----

#[test]
fn service_by_unauthorised_service_actor_is_refused() {
    let mut w = U::new();
    w.in_use();
    assert_rejects!(
        w.l.check(&w.s, svc(w.p, ServiceKind::Repair)),
        RuleViolation::NotOwner { .. }
    );
}

#[test]
fn decommission_by_unauthorised_service_actor_is_refused() {
    let mut w = U::new();
    w.in_use();
    assert_rejects!(
        w.l.check(&w.s, svc(w.p, ServiceKind::Decommission)),
        RuleViolation::NotOwner { .. }
    );
}

#[test]
fn install_by_unauthorised_actor_cannot_create_a_use_phase() {
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.c.kid)).unwrap();
    assert_rejects!(
        w.l.check(&w.s, svc(w.p, ServiceKind::Install)),
        RuleViolation::NotOwner { .. }
    );
}

#[test]
fn authorised_service_actor_may_service_and_install() {
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.u.kid)).unwrap();
    w.l.submit(&w.u, auth(w.p, &w.s, None)).unwrap();
    w.l.submit(&w.s, svc(w.p, ServiceKind::Install)).unwrap();
    w.l.submit(&w.s, svc(w.p, ServiceKind::Decommission))
        .unwrap();
    w.l.submit(&w.u, eol(w.p)).unwrap();
    let pv = passport_view(&w.l.state, &w.p).unwrap();
    assert_eq!(pv.service_history.len(), 2);
}

#[test]
fn service_after_authorisation_expired_is_refused() {
    let mut w = U::new();
    w.in_use();
    let until = w.l.now + 3_600_000;
    w.l.submit(&w.u, auth(w.p, &w.s, Some(until))).unwrap();
    w.l.submit(&w.s, svc(w.p, ServiceKind::Inspect)).unwrap();
    assert_rejects!(
        w.check_at(until, &w.s, svc(w.p, ServiceKind::Repair)),
        RuleViolation::ServiceAuthorisationExpired { .. }
    );
}

#[test]
fn later_authorisation_withdraws_an_earlier_one() {
    let mut w = U::new();
    w.in_use();
    w.l.submit(&w.u, auth(w.p, &w.s, None)).unwrap();
    let until = w.l.now + 1;
    w.l.submit(&w.u, auth(w.p, &w.s, Some(until))).unwrap();
    assert_rejects!(
        w.l.check(&w.s, svc(w.p, ServiceKind::Repair)),
        RuleViolation::ServiceAuthorisationExpired { .. }
    );
}

#[test]
fn authorisation_ends_when_the_product_changes_owner() {
    let mut w = U::new();
    w.l.submit(&w.m, auth(w.p, &w.s, None)).unwrap();
    w.l.submit(&w.m, Transfer::new(w.p, w.u.kid)).unwrap();
    assert_rejects!(
        w.l.check(&w.s, svc(w.p, ServiceKind::Install)),
        RuleViolation::NotOwner { .. }
    );
}

#[test]
fn authorisation_by_non_owner_is_refused() {
    let mut w = U::new();
    w.in_use();
    // The former owner, and the service actor itself.
    assert_rejects!(
        w.l.check(&w.m, auth(w.p, &w.s, None)),
        RuleViolation::NotOwner { .. }
    );
    assert_rejects!(
        w.l.check(&w.s, auth(w.p, &w.s, None)),
        RuleViolation::NotOwner { .. }
    );
}

#[test]
fn authorising_an_actor_without_service_role_is_refused() {
    let mut w = U::new();
    w.in_use();
    assert_rejects!(
        w.l.check(&w.u, auth(w.p, &w.c, None)),
        RuleViolation::NotAServiceActor { .. }
    );
}

#[test]
fn authorisation_ending_before_it_starts_is_refused() {
    let mut w = U::new();
    w.in_use();
    let past = w.l.now;
    assert_rejects!(
        w.l.check(&w.u, auth(w.p, &w.s, Some(past))),
        RuleViolation::InvalidField {
            field: "until_ms",
            ..
        }
    );
}

#[test]
fn end_of_life_by_authorised_service_actor_is_refused() {
    // Decommissioning is service; retiring the product is the owner's alone.
    let mut w = U::new();
    w.in_use();
    w.l.submit(&w.u, auth(w.p, &w.s, None)).unwrap();
    assert_rejects!(w.l.check(&w.s, eol(w.p)), RuleViolation::NotOwner { .. });
}

// ---- principle 4: no event dated before what it refers to ----

#[test]
fn service_dated_before_product_creation_is_refused() {
    let mut w = U::new();
    w.in_use();
    assert_rejects!(
        w.check_at(w.p_ms - 1, &w.u, svc(w.p, ServiceKind::Repair)),
        RuleViolation::PredatesRecord { .. }
    );
}

#[test]
fn end_of_life_dated_before_product_creation_is_refused() {
    let mut w = U::new();
    w.in_use();
    assert_rejects!(
        w.check_at(w.p_ms - 1, &w.u, eol(w.p)),
        RuleViolation::PredatesRecord { .. }
    );
}

#[test]
fn transfer_dated_before_material_creation_is_refused() {
    let w = U::new();
    assert_rejects!(
        w.check_at(w.p_ms - 1, &w.m, Transfer::new(w.p, w.u.kid)),
        RuleViolation::PredatesRecord { .. }
    );
}

#[test]
fn passport_dated_before_product_creation_is_refused() {
    let mut w = U::new();
    let t = TransformationBuilder::new(Process::Assemble)
        .input(w.lot, T)
        .output(MaterialKind::Product, T)
        .build();
    let id = t.outputs[0].id;
    let ms = w.l.now;
    w.l.submit(&w.m, t).unwrap();
    assert_rejects!(
        w.check_at(ms - 1, &w.m, passport_for(id)),
        RuleViolation::PredatesRecord { .. }
    );
}

#[test]
fn authorisation_dated_before_product_creation_is_refused() {
    let w = U::new();
    assert_rejects!(
        w.check_at(w.p_ms - 1, &w.m, auth(w.p, &w.s, None)),
        RuleViolation::PredatesRecord { .. }
    );
}

// ---- principle 7: a footprint states how it was made; physical bounds ----

fn unpassported(w: &mut U) -> Uuid {
    let t = TransformationBuilder::new(Process::Assemble)
        .input(w.lot, T)
        .output(MaterialKind::Product, T)
        .build();
    let id = t.outputs[0].id;
    w.l.submit(&w.m, t).unwrap();
    id
}

#[test]
fn zero_carbon_footprint_is_refused() {
    let mut w = U::new();
    let id = unpassported(&mut w);
    let mut p = passport_for(id);
    p.carbon_footprint.g_co2e_per_kg = 0;
    assert_rejects!(
        w.l.check(&w.m, p),
        RuleViolation::InvalidField {
            field: "carbon_footprint.g_co2e_per_kg",
            ..
        }
    );
}

#[test]
fn conductivity_above_103_iacs_is_refused() {
    let mut w = U::new();
    let id = unpassported(&mut w);
    let mut p = passport_for(id);
    p.conductivity_centi_iacs = Some(10_301);
    assert_rejects!(
        w.l.check(&w.m, p.clone()),
        RuleViolation::InvalidField {
            field: "conductivity_centi_iacs",
            ..
        }
    );
    p.conductivity_centi_iacs = Some(10_300);
    p.carbon_footprint = CarbonFootprint {
        g_co2e_per_kg: 2_400,
        method: FootprintMethod::Pact,
        boundary: FootprintBoundary::CradleToGrave,
        third_party_verified: true,
    };
    w.l.submit(&w.m, p.clone()).unwrap();
    let pv = passport_view(&w.l.state, &id).unwrap();
    assert_eq!(pv.passport.carbon_footprint, p.carbon_footprint);
}

#[test]
fn end_of_life_by_recycler_that_produced_and_kept_the_product_is_never_used() {
    // A recycler that also makes products: its own product never left it.
    let op = Actor::from_seed(1);
    let mut l = Ledger::genesis(&op);
    let c = l.actor(
        &op,
        5,
        "Hefei Recycling",
        &[Role::Recycler, Role::Manufacturer],
    );
    let lot = primary(10 * T, "CN");
    l.submit(&c, lot.clone()).unwrap();
    let t = TransformationBuilder::new(Process::Assemble)
        .input(lot.id, T)
        .output(MaterialKind::Product, T)
        .build();
    let p = t.outputs[0].id;
    l.submit(&c, t).unwrap();
    l.submit(&c, passport_for(p)).unwrap();
    l.submit(&c, svc(p, ServiceKind::Install)).unwrap();
    assert_rejects!(l.check(&c, eol(p)), RuleViolation::NeverUsed { .. });
}

#[test]
fn provenance_of_used_scrap_replays_with_its_authorisations() {
    // The use phase and the authorisation behind an authorised install are
    // in the scrap lot's provenance, so an offline replay accepts them.
    let mut w = U::new();
    w.l.submit(&w.m, Transfer::new(w.p, w.u.kid)).unwrap();
    w.l.submit(&w.u, auth(w.p, &w.s, Some(w.l.now + DAY)))
        .unwrap();
    w.l.submit(&w.s, svc(w.p, ServiceKind::Install)).unwrap();
    w.l.submit(&w.u, eol(w.p)).unwrap();
    w.l.submit(&w.u, Transfer::new(w.p, w.c.kid)).unwrap();
    let d = dispatch(&mut w.l, &w.u.clone(), &w.c.clone(), T, None);
    let r = post_receipt(&w.u, w.p).of_dispatch(d);
    w.l.submit(&w.c, r.clone()).unwrap();
    let prov = provenance(&w.l.state, &r.id).unwrap();
    let replayed = w.l.replay(prov).unwrap();
    let lot = state::material(&replayed, &r.id).unwrap().unwrap();
    assert_eq!(lot.recycled_post_ppm, 1_000_000);
}
