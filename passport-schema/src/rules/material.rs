//! Primary lots, transformations, passports, transfers, service, end of life.

use std::collections::{BTreeMap, BTreeSet};

use super::validate::{MILLION, composition, country, gs1_digital_link, text};
use super::{
    Cx, Tx, active_contract_of_producer, claim_id, not_before_creation, owned_material,
    put_material, same_org,
};
use crate::blend::{Shares, blend};
use crate::bytes::Bytes32;
use crate::error::{ApplyError, MassImbalance, RuleViolation};
use crate::events::{
    Alloy, EndOfLife, MaterialKind, OutputSpec, PassportIssue, PrimaryLot, Process,
    ServiceAuthorisation, ServiceEvent, ServiceKind, Transfer, Transformation,
};
use crate::roles::Role;
use crate::state::records::{Change, Creation, DeliveryRecord, IdKind, MaterialRecord};
use crate::state::{self, StateStore, keys};

/// Highest physical conductivity of copper: 103.00 %IACS (annealed
/// high-purity copper reaches ~102 %; only silver conducts better).
const MAX_CONDUCTIVITY_CENTI_IACS: u32 = 10_300;

/// Largest declarable tolerance: 0.5% of consumed input mass.
pub(crate) const MAX_TOLERANCE_PPM: u128 = 5_000;

pub(super) fn primary_lot<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &PrimaryLot,
) -> Result<(), ApplyError> {
    if e.mass_g == 0 {
        return Err(RuleViolation::ZeroMass { field: "mass_g" }.into());
    }
    country("origin_country", &e.origin_country)?;
    text("supplier", &e.supplier)?;
    if let Some(c) = &e.composition {
        composition("composition", c)?;
    }
    claim_id(tx, &e.id, IdKind::Material, cx.index)?;
    let rec = MaterialRecord {
        id: e.id,
        kind: MaterialKind::PrimaryCathode,
        owner: cx.signer,
        producer: cx.signer,
        mass_g: e.mass_g,
        remaining_g: e.mass_g,
        recycled_pre_ppm: 0,
        recycled_post_ppm: 0,
        origin_ppm: BTreeMap::from([(e.origin_country.clone(), MILLION)]),
        composition: e.composition.clone(),
        cu_max_ppm: e.composition.as_ref().and_then(|c| c.ppm("Cu")),
        creation: Creation::Primary {
            supplier: e.supplier.clone(),
            origin_country: e.origin_country.clone(),
            brand: e.brand.clone(),
        },
        created_index: cx.index,
        parents: Vec::new(),
        grade: None,
        passport: None,
        end_of_life: None,
        certificates: Vec::new(),
        history: vec![cx.history(Change::Created)],
        claimed_g: 0,
    };
    put_material(tx, &rec)
}

fn output_allowed(process: Process, kind: MaterialKind) -> bool {
    match kind {
        MaterialKind::PrimaryCathode => false,
        MaterialKind::Product => matches!(process, Process::Assemble | Process::Disassemble),
        _ => true,
    }
}

pub(crate) fn shares_of(n: &MaterialRecord) -> Shares {
    Shares {
        pre_ppm: n.recycled_pre_ppm,
        post_ppm: n.recycled_post_ppm,
        origin_ppm: n.origin_ppm.clone(),
    }
}

pub(super) fn transform<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &Transformation,
) -> Result<(), ApplyError> {
    if e.inputs.is_empty() || e.outputs.is_empty() {
        return Err(RuleViolation::EmptyTransformation.into());
    }
    let mut seen = BTreeSet::new();
    let mut inputs: Vec<(MaterialRecord, u64)> = Vec::with_capacity(e.inputs.len());
    let mut in_sum: u128 = 0;
    for i in &e.inputs {
        if !seen.insert(i.material) {
            return Err(RuleViolation::DuplicateInput {
                material: i.material,
            }
            .into());
        }
        if i.mass_g == 0 {
            return Err(RuleViolation::ZeroMass {
                field: "inputs.mass_g",
            }
            .into());
        }
        let n = owned_material(tx, cx, &i.material)?;
        if i.mass_g > n.remaining_g {
            return Err(RuleViolation::Overconsumption {
                material: i.material,
                requested_g: i.mass_g,
                remaining_g: n.remaining_g,
            }
            .into());
        }
        in_sum += u128::from(i.mass_g);
        inputs.push((n, i.mass_g));
    }
    let mut out_sum: u128 = 0;
    for o in &e.outputs {
        if o.mass_g == 0 {
            return Err(RuleViolation::ZeroMass {
                field: "outputs.mass_g",
            }
            .into());
        }
        if !output_allowed(e.process, o.kind) {
            return Err(RuleViolation::OutputKindNotAllowed {
                process: e.process,
                kind: o.kind,
            }
            .into());
        }
        if let Some(c) = &o.composition {
            composition("outputs.composition", c)?;
        }
        out_sum += u128::from(o.mass_g);
    }
    let max_tol = in_sum * MAX_TOLERANCE_PPM / u128::from(MILLION);
    if u128::from(e.tolerance_g) > max_tol {
        return Err(RuleViolation::ToleranceTooLarge {
            tolerance_g: e.tolerance_g,
            max_g: u64::try_from(max_tol).unwrap_or(u64::MAX),
        }
        .into());
    }
    // Mass may vanish within the tolerance (unrecorded loss), never appear:
    // outputs + losses <= inputs, and inputs - outputs - losses <= tolerance.
    let produced = out_sum + u128::from(e.losses_g);
    let imbalance = if produced > in_sum {
        Some(MassImbalance::Excess)
    } else if in_sum - produced > u128::from(e.tolerance_g) {
        Some(MassImbalance::Deficit)
    } else {
        None
    };
    if let Some(imbalance) = imbalance {
        return Err(RuleViolation::MassNotConserved {
            imbalance,
            inputs_g: u64::try_from(in_sum).unwrap_or(u64::MAX),
            outputs_g: u64::try_from(out_sum).unwrap_or(u64::MAX),
            losses_g: e.losses_g,
            tolerance_g: e.tolerance_g,
        }
        .into());
    }

    let derived_cu = copper_conserved(e, &inputs, in_sum)?;

    let input_shares: Vec<(u64, Shares)> = inputs.iter().map(|(n, g)| (*g, shares_of(n))).collect();
    let shares = blend(input_shares.iter().map(|(g, s)| (*g, s)));

    // Claim units: consumed mass carries its claimed grams first.
    let mut moved: u128 = 0;
    for (mut n, g) in inputs {
        n.remaining_g -= g; // checked above: g <= remaining
        moved += u128::from(super::claims::take(&mut n, g));
        n.history.push(cx.history(Change::Consumed { mass_g: g }));
        put_material(tx, &n)?;
    }
    let masses: Vec<u64> = e.outputs.iter().map(|o| o.mass_g).collect();
    let inherited = super::claims::spread(moved, &masses);
    for (o, claimed_g) in e.outputs.iter().zip(inherited) {
        claim_id(tx, &o.id, IdKind::Material, cx.index)?;
        let rec = MaterialRecord {
            id: o.id,
            kind: o.kind,
            owner: cx.signer,
            producer: cx.signer,
            mass_g: o.mass_g,
            remaining_g: o.mass_g,
            recycled_pre_ppm: shares.pre_ppm,
            recycled_post_ppm: shares.post_ppm,
            origin_ppm: shares.origin_ppm.clone(),
            composition: o.composition.clone(),
            cu_max_ppm: o
                .composition
                .as_ref()
                .and_then(|c| c.ppm("Cu"))
                .or(derived_cu),
            creation: Creation::Transformation {
                process: e.process,
                losses_g: e.losses_g,
            },
            created_index: cx.index,
            parents: e.inputs.clone(),
            grade: None,
            passport: None,
            end_of_life: None,
            certificates: Vec::new(),
            history: vec![cx.history(Change::Created)],
            claimed_g,
        };
        put_material(tx, &rec)?;
    }
    Ok(())
}

/// Copper is never created: the copper the outputs declare (mass × Cu ppm)
/// is at most what the inputs hold, within the tolerance; and only
/// refining may raise purity above the inputs' mass-weighted average.
/// Outputs that declare no composition claim nothing and are not counted.
/// An input whose Cu is unknown counts at its bound, or as pure copper:
/// the check can only be generous there, never invent a shortfall.
///
/// Returns the Cu bound the undeclared outputs inherit (rounded up): the
/// inputs' mass-weighted Cu outside refining; from a refining, the copper
/// the declared outputs left, spread over the undeclared mass. So copper
/// stays accounted for through every step, and a later refining is checked
/// against it.
fn copper_conserved(
    e: &Transformation,
    inputs: &[(MaterialRecord, u64)],
    in_sum: u128,
) -> Result<Option<u32>, RuleViolation> {
    let in_cu: u128 = inputs
        .iter()
        .map(|(n, g)| u128::from(*g) * u128::from(cu_at_most(n)))
        .sum();
    // The inputs' average, rounded up: an output may match it exactly.
    let avg = if in_sum == 0 {
        u128::from(MILLION)
    } else {
        in_cu.div_ceil(in_sum)
    };

    let declared: Vec<(&OutputSpec, u32)> = e
        .outputs
        .iter()
        .filter_map(|o| {
            let cu = o.composition.as_ref().and_then(|c| c.ppm("Cu"))?;
            Some((o, cu))
        })
        .collect();
    let out_cu: u128 = declared
        .iter()
        .map(|(o, cu)| u128::from(o.mass_g) * u128::from(*cu))
        .sum();
    let million = u128::from(MILLION);
    if out_cu > in_cu + u128::from(e.tolerance_g) * million {
        return Err(RuleViolation::CopperNotConserved {
            out_cu_g: u64::try_from(out_cu / million).unwrap_or(u64::MAX),
            in_cu_g: u64::try_from(in_cu / million).unwrap_or(u64::MAX),
            tolerance_g: e.tolerance_g,
        });
    }
    // Undeclared outputs inherit a bound: outside refining the inputs'
    // average (purity does not rise); from a refining, the copper the
    // declared outputs did not take, spread over the undeclared mass.
    let undeclared_g: u128 = e
        .outputs
        .iter()
        .filter(|o| o.composition.as_ref().and_then(|c| c.ppm("Cu")).is_none())
        .map(|o| u128::from(o.mass_g))
        .sum();
    let derived = match e.process {
        Process::Refine if undeclared_g > 0 => {
            let left = in_cu.saturating_sub(out_cu);
            u32::try_from(left.div_ceil(undeclared_g).min(million)).ok()
        }
        Process::Refine => None,
        _ => u32::try_from(avg).ok(),
    };
    if e.process != Process::Refine {
        for (o, cu) in &declared {
            if u128::from(*cu) > avg {
                return Err(RuleViolation::PurityRaised {
                    process: e.process,
                    output: o.id,
                    out_cu_ppm: *cu,
                    in_cu_ppm: u32::try_from(avg).unwrap_or(u32::MAX),
                });
            }
        }
    }
    Ok(derived)
}

/// The most Cu a material can hold, ppm: its composition's Cu, else its
/// bound, else 100 %.
pub(crate) fn cu_at_most(n: &MaterialRecord) -> u32 {
    n.composition
        .as_ref()
        .and_then(|c| c.ppm("Cu"))
        .or(n.cu_max_ppm)
        .unwrap_or(MILLION)
}

fn live_product(n: &MaterialRecord) -> Result<(), RuleViolation> {
    if n.kind != MaterialKind::Product {
        return Err(RuleViolation::NotAProduct {
            material: n.id,
            kind: n.kind,
        });
    }
    if let Some(i) = n.end_of_life {
        return Err(RuleViolation::ProductEndOfLife {
            product: n.id,
            index: i,
        });
    }
    if n.remaining_g == 0 {
        return Err(RuleViolation::MaterialExhausted { material: n.id });
    }
    Ok(())
}

pub(super) fn passport<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &PassportIssue,
) -> Result<(), ApplyError> {
    let mut n = owned_material(tx, cx, &e.product)?;
    live_product(&n)?;
    not_before_creation(cx, &n)?;
    if n.passport.is_some() {
        let index = n
            .history
            .iter()
            .find(|h| h.change == Change::PassportIssued)
            .map(|h| h.index)
            .unwrap_or(n.created_index);
        return Err(RuleViolation::PassportAlreadyIssued {
            product: e.product,
            index,
        }
        .into());
    }
    text("name", &e.name)?;
    text("model", &e.model)?;
    text("serial_or_batch", &e.serial_or_batch)?;
    if let Some(uri) = &e.gs1_digital_link {
        gs1_digital_link(uri).map_err(|reason| RuleViolation::InvalidGs1DigitalLink {
            uri: uri.clone(),
            reason,
        })?;
    }
    match &e.alloy {
        Alloy::Uns(s) | Alloy::Gb(s) => text("alloy", s)?,
    }
    composition("composition", &e.composition)?;
    if let Some(c) = e.conductivity_centi_iacs
        && c > MAX_CONDUCTIVITY_CENTI_IACS
    {
        return Err(RuleViolation::InvalidField {
            field: "conductivity_centi_iacs",
            reason: format!("{c} exceeds {MAX_CONDUCTIVITY_CENTI_IACS} (103.00 %IACS)"),
        }
        .into());
    }
    if e.carbon_footprint.g_co2e_per_kg == 0 {
        return Err(RuleViolation::InvalidField {
            field: "carbon_footprint.g_co2e_per_kg",
            reason: "no copper product has a zero carbon footprint".to_owned(),
        }
        .into());
    }
    for s in &e.process_summary {
        text("process_summary.facility", &s.facility)?;
        country("process_summary.country", &s.country)?;
    }
    n.passport = Some(e.clone());
    n.composition = Some(e.composition.clone());
    n.history.push(cx.history(Change::PassportIssued));
    put_material(tx, &n)
}

pub(super) fn transfer<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &Transfer,
) -> Result<(), ApplyError> {
    let mut n = owned_material(tx, cx, &e.material)?;
    if n.remaining_g == 0 {
        return Err(RuleViolation::MaterialExhausted {
            material: e.material,
        }
        .into());
    }
    not_before_creation(cx, &n)?;
    if e.to == n.owner {
        return Err(RuleViolation::TransferToSelf {
            material: e.material,
            to: e.to,
        }
        .into());
    }
    let to = state::actor(tx, &e.to.0)?.ok_or(RuleViolation::UnknownActor { kid: e.to })?;
    if to.revoked.is_some() {
        return Err(RuleViolation::ActorRevoked { kid: e.to }.into());
    }
    mark_returns(tx, cx, &n, &e.to)?;
    if let Some(cid) = &e.contract {
        let mut c = active_contract_of_producer(tx, cx, cid)?;
        if e.to != c.proposal.customer {
            return Err(RuleViolation::DeliveryNotToCustomer {
                contract: *cid,
                to: e.to,
                customer: c.proposal.customer,
            }
            .into());
        }
        if !c.proposal.spec.kinds.contains(&n.kind) {
            return Err(RuleViolation::DeliveryKindNotInSpec {
                contract: *cid,
                kind: n.kind,
            }
            .into());
        }
        c.deliveries.push(DeliveryRecord {
            index: cx.index,
            occurred_ms: cx.occurred_ms,
            material: n.id,
            kind: n.kind,
            mass_g: n.remaining_g,
            recycled_share_ppm: n.recycled_ppm(),
            cu_ppm: n.composition.as_ref().and_then(|c| c.ppm("Cu")),
            returned_index: None,
        });
        tx.put(keys::contract(cid), &c)?;
    }
    n.history.push(cx.history(Change::Transferred {
        from: n.owner,
        to: e.to,
        contract: e.contract,
    }));
    n.owner = e.to;
    put_material(tx, &n)
}

/// A material going back to the producer of a contract it was delivered
/// under is a return: those deliveries no longer count, so delivering it
/// again counts once.
fn mark_returns<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    n: &MaterialRecord,
    to: &crate::bytes::Bytes32,
) -> Result<(), ApplyError> {
    let contracts: BTreeSet<uuid::Uuid> = n
        .history
        .iter()
        .filter_map(|h| match h.change {
            Change::Transferred {
                contract: Some(c), ..
            } => Some(c),
            _ => None,
        })
        .collect();
    for cid in contracts {
        let Some(mut c) = state::contract(tx, &cid)? else {
            continue;
        };
        if c.producer != *to {
            continue;
        }
        let mut returned = false;
        for d in &mut c.deliveries {
            if d.material == n.id && d.returned_index.is_none() {
                d.returned_index = Some(cx.index);
                returned = true;
            }
        }
        if returned {
            tx.put(keys::contract(&cid), &c)?;
        }
    }
    Ok(())
}

/// The current owner's service authorisations on `n`: actor -> end (the
/// latest authorisation of each actor since the last transfer).
fn authorisations(n: &MaterialRecord) -> BTreeMap<Bytes32, Option<i64>> {
    let mut auth = BTreeMap::new();
    for h in &n.history {
        match &h.change {
            Change::Transferred { .. } => auth.clear(),
            Change::ServiceAuthorised { actor, until_ms } => {
                auth.insert(*actor, *until_ms);
            }
            _ => {}
        }
    }
    auth
}

/// Service entries come from the owner or a service actor the current
/// owner authorised, within the authorisation's period.
pub(super) fn service<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &ServiceEvent,
) -> Result<(), ApplyError> {
    let mut n = super::load_material(tx, &e.product)?;
    live_product(&n)?;
    if n.owner != cx.signer {
        match authorisations(&n).get(&cx.signer) {
            None => {
                return Err(RuleViolation::NotOwner {
                    material: e.product,
                    owner: n.owner,
                    signer: cx.signer,
                }
                .into());
            }
            Some(Some(until_ms)) if cx.occurred_ms >= *until_ms => {
                return Err(RuleViolation::ServiceAuthorisationExpired {
                    product: e.product,
                    signer: cx.signer,
                    until_ms: *until_ms,
                }
                .into());
            }
            Some(_) if !cx.actor.roles.contains(&Role::Service) => {
                return Err(RuleViolation::NotAServiceActor { actor: cx.signer }.into());
            }
            Some(_) => {}
        }
    }
    not_before_creation(cx, &n)?;
    n.history.push(cx.history(Change::Service {
        kind: e.kind,
        note: e.note.clone(),
        evidence: e.evidence.clone(),
    }));
    put_material(tx, &n)
}

/// The owner authorises a service actor on a live product.
pub(super) fn authorise_service<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &ServiceAuthorisation,
) -> Result<(), ApplyError> {
    let mut n = owned_material(tx, cx, &e.product)?;
    live_product(&n)?;
    not_before_creation(cx, &n)?;
    if e.actor == n.owner {
        return Err(RuleViolation::InvalidField {
            field: "actor",
            reason: "the owner needs no authorisation".to_owned(),
        }
        .into());
    }
    let a = state::actor(tx, &e.actor.0)?.ok_or(RuleViolation::UnknownActor { kid: e.actor })?;
    if a.revoked.is_some() {
        return Err(RuleViolation::ActorRevoked { kid: e.actor }.into());
    }
    if !a.roles.contains(&Role::Service) {
        return Err(RuleViolation::NotAServiceActor { actor: e.actor }.into());
    }
    if let Some(until) = e.until_ms
        && until <= cx.occurred_ms
    {
        return Err(RuleViolation::InvalidField {
            field: "until_ms",
            reason: format!(
                "{until} is not after the authorisation ({})",
                cx.occurred_ms
            ),
        }
        .into());
    }
    n.history.push(cx.history(Change::ServiceAuthorised {
        actor: e.actor,
        until_ms: e.until_ms,
    }));
    put_material(tx, &n)
}

/// The entry that gave `n` a use phase, dated at or before `by_ms`: an
/// install service entry while the product was owned by a user outside
/// its producer's organisation (it left its producer and was put into
/// service), and outside `not_by`'s organisation if given (the recycler
/// that receives it as scrap cannot have been its user).
pub(crate) fn use_phase<S: StateStore>(
    tx: &Tx<'_, S>,
    n: &MaterialRecord,
    by_ms: i64,
    not_by: Option<&Bytes32>,
) -> Result<Option<u64>, ApplyError> {
    let mut owner = n.producer;
    for h in &n.history {
        match &h.change {
            Change::Transferred { to, .. } => owner = *to,
            Change::Service {
                kind: ServiceKind::Install,
                ..
            } if h.occurred_ms <= by_ms && !same_org(tx, &owner, &n.producer)? => {
                let excluded = match not_by {
                    Some(k) => same_org(tx, &owner, k)?,
                    None => false,
                };
                if !excluded {
                    return Ok(Some(h.index));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// End of life: the owner retires a product that had a use phase.
pub(super) fn end_of_life<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &EndOfLife,
) -> Result<(), ApplyError> {
    let mut n = owned_material(tx, cx, &e.product)?;
    live_product(&n)?;
    text("reason", &e.reason)?;
    not_before_creation(cx, &n)?;
    if use_phase(tx, &n, cx.occurred_ms, None)?.is_none() {
        return Err(RuleViolation::NeverUsed {
            product: n.id,
            producer: n.producer,
        }
        .into());
    }
    n.end_of_life = Some(cx.index);
    n.history.push(cx.history(Change::EndOfLife {
        reason: e.reason.clone(),
        evidence: e.evidence.clone(),
    }));
    put_material(tx, &n)
}
