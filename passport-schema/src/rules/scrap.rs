//! Scrap receipts, rule sets and grading.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::validate::{MILLION, country, element, invalid, text};
use super::{Cx, Tx, active_contract_of_producer, claim_id, owned_material, put_material};
use crate::error::{ApplyError, RuleViolation};
use crate::events::{
    Composition, ContractProposal, DispatchScrap, EventKind, Grading, InputUse, MaterialKind,
    NameGrader, RuleSet, RuleSetRef, ScrapOrigin, ScrapReceipt, SettleGrade,
};
use crate::grading::{check_measurements, compute_grade};
use crate::roles::allowed_roles;
use crate::state::records::{
    Change, Creation, DispatchRecord, GradeRecord, GradingEntry, IdKind, LatestVersion,
    LotGradingRecord, MaterialRecord, NamedGraderRecord, RuleSetRecord, TakeBackRecord,
};
use crate::state::{self, StateStore, keys};

pub(super) fn receive<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &ScrapReceipt,
) -> Result<(), ApplyError> {
    if e.gross_g.checked_sub(e.tare_g) != Some(e.net_g) {
        return Err(RuleViolation::NetMassMismatch {
            gross_g: e.gross_g,
            tare_g: e.tare_g,
            net_g: e.net_g,
        }
        .into());
    }
    if e.net_g == 0 {
        return Err(RuleViolation::ZeroMass { field: "net_g" }.into());
    }
    text("supplier.name", &e.supplier.name)?;
    country("supplier.country", &e.supplier.country)?;

    // Source passports: end-of-life products the receiver owns, consumed whole.
    let mut seen = BTreeSet::new();
    let mut sources: Vec<MaterialRecord> = Vec::with_capacity(e.source_passports.len());
    let mut sources_g: u128 = 0;
    for id in &e.source_passports {
        if !seen.insert(*id) {
            return Err(RuleViolation::DuplicateInput { material: *id }.into());
        }
        let n = owned_material(tx, cx, id)?;
        if n.kind != MaterialKind::Product {
            return Err(RuleViolation::NotAProduct {
                material: *id,
                kind: n.kind,
            }
            .into());
        }
        if n.passport.is_none() {
            return Err(RuleViolation::SourceWithoutPassport { product: *id }.into());
        }
        if n.end_of_life.is_none() {
            return Err(RuleViolation::SourcePassportNotEndOfLife { product: *id }.into());
        }
        // Post-consumer means used: only a product that had a use phase,
        // and not one in which the receiver itself was the user.
        if super::material::use_phase(tx, &n, cx.occurred_ms, Some(&cx.signer))?.is_none() {
            return Err(RuleViolation::NeverUsed {
                product: *id,
                producer: n.producer,
            }
            .into());
        }
        if n.remaining_g == 0 {
            return Err(RuleViolation::MaterialExhausted { material: *id }.into());
        }
        sources_g += u128::from(n.remaining_g);
        sources.push(n);
    }
    if !sources.is_empty() {
        if e.origin_class != ScrapOrigin::PostConsumer {
            return Err(RuleViolation::PassportScrapMustBePostConsumer {
                declared: e.origin_class,
            }
            .into());
        }
        if u128::from(e.net_g) > sources_g {
            return Err(RuleViolation::ScrapExceedsSources {
                net_g: e.net_g,
                sources_g: u64::try_from(sources_g).unwrap_or(u64::MAX),
            }
            .into());
        }
    }

    if let Some(cid) = &e.contract {
        let mut c = active_contract_of_producer(tx, cx, cid)?;
        if e.supplier.kid != Some(c.proposal.customer) {
            return Err(RuleViolation::TakeBackNotFromCustomer {
                contract: *cid,
                supplier: e.supplier.kid,
                customer: c.proposal.customer,
            }
            .into());
        }
        in_period_by_log_time(cx, cid, &c.proposal)?;
        c.take_backs.push(TakeBackRecord {
            index: cx.index,
            occurred_ms: cx.occurred_ms,
            lot: e.id,
            net_g: e.net_g,
        });
        tx.put(keys::contract(cid), &c)?;
    }

    let (dispatch, declared) = custody(tx, cx, e)?;

    claim_id(tx, &e.id, IdKind::Material, cx.index)?;
    let mut parents = Vec::with_capacity(sources.len());
    // Claim units: the consumed sources' claimed grams go to the lot.
    let mut moved: u128 = 0;
    for mut n in sources {
        let all_g = n.remaining_g;
        moved += u128::from(super::claims::take(&mut n, all_g));
        parents.push(InputUse {
            material: n.id,
            mass_g: n.remaining_g,
        });
        n.history.push(cx.history(Change::Consumed {
            mass_g: n.remaining_g,
        }));
        n.remaining_g = 0;
        put_material(tx, &n)?;
    }
    // Scrap the receiver supplies to itself (its own key, or a key of its
    // organisation) without source passports is home scrap, whatever class
    // it declares.
    let self_supplied = match &e.supplier.kid {
        Some(k) => super::same_org(tx, k, &cx.signer)?,
        None => false,
    };
    let (pre, post) = match e.origin_class {
        _ if self_supplied && e.source_passports.is_empty() => (0, 0),
        ScrapOrigin::PostConsumer => (0, MILLION),
        ScrapOrigin::PreConsumer => (MILLION, 0),
        ScrapOrigin::Home => (0, 0),
    };
    let rec = MaterialRecord {
        id: e.id,
        kind: MaterialKind::Scrap,
        owner: cx.signer,
        producer: cx.signer,
        mass_g: e.net_g,
        remaining_g: e.net_g,
        recycled_pre_ppm: pre,
        recycled_post_ppm: post,
        origin_ppm: BTreeMap::new(),
        composition: None,
        cu_max_ppm: None,
        creation: Creation::ScrapReceipt {
            gross_g: e.gross_g,
            tare_g: e.tare_g,
            supplier: e.supplier.clone(),
            origin_class: e.origin_class,
            contract: e.contract,
            dispatch,
            declared,
        },
        created_index: cx.index,
        parents,
        grade: None,
        passport: None,
        end_of_life: None,
        certificates: Vec::new(),
        history: vec![cx.history(Change::Created)],
        claimed_g: super::claims::spread(moved, &[e.net_g])
            .first()
            .copied()
            .unwrap_or(0),
    };
    put_material(tx, &rec)
}

fn check_rule_set(r: &RuleSet) -> Result<(), String> {
    if r.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    if r.grades.is_empty() {
        return Err("no grades".into());
    }
    if r.min_spots == 0 {
        return Err("min_spots must be at least 1".into());
    }
    if r.max_calibration_age_days == Some(0) {
        return Err("max_calibration_age_days must be positive".into());
    }
    let mut codes = BTreeSet::new();
    let mut precedences = BTreeSet::new();
    for g in &r.grades {
        if g.code.trim().is_empty() {
            return Err("empty grade code".into());
        }
        if !codes.insert(g.code.as_str()) {
            return Err(format!("duplicate grade code {}", g.code));
        }
        if !precedences.insert(g.precedence) {
            return Err(format!("duplicate precedence {}", g.precedence));
        }
        if g.min_cu_ppm > MILLION || g.nominal_cu_ppm > MILLION {
            return Err(format!("{}: Cu ppm above 1,000,000", g.code));
        }
        for (el, v) in &g.max_ppm {
            if element("max_ppm", el).is_err() || *v > MILLION {
                return Err(format!("{}: bad limit {el} = {v}", g.code));
            }
        }
        if g.visual_max_ppm.values().any(|v| *v > MILLION) {
            return Err(format!("{}: visual limit above 1,000,000", g.code));
        }
    }
    Ok(())
}

/// Version bookkeeping shared by rule sets and schemes.
pub(super) fn check_version<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    what: &'static str,
    id: &uuid::Uuid,
    version: u32,
    latest: Option<LatestVersion>,
    kind: IdKind,
) -> Result<(), ApplyError> {
    match latest {
        Some(l) => {
            if l.publisher != cx.signer {
                return Err(RuleViolation::NotPublisher {
                    what,
                    id: *id,
                    publisher: l.publisher,
                }
                .into());
            }
            if version <= l.version {
                return Err(RuleViolation::VersionNotIncreasing {
                    what,
                    id: *id,
                    version,
                    latest: l.version,
                }
                .into());
            }
            Ok(())
        }
        None => claim_id(tx, id, kind, cx.index),
    }
}

pub(super) fn publish_rule_set<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &RuleSet,
) -> Result<(), ApplyError> {
    check_rule_set(e).map_err(|reason| RuleViolation::InvalidRuleSet { reason })?;
    let latest = state::rule_set_latest(tx, &e.id)?;
    check_version(
        tx,
        cx,
        "rule set",
        &e.id,
        e.version,
        latest,
        IdKind::RuleSet,
    )?;
    tx.put(
        keys::rule_set(&e.id, e.version),
        &RuleSetRecord {
            rule_set: e.clone(),
            publisher: cx.signer,
            index: cx.index,
        },
    )?;
    tx.put(
        keys::rule_set_latest(&e.id),
        &LatestVersion {
            version: e.version,
            publisher: cx.signer,
        },
    )?;
    Ok(())
}

pub(super) fn grade<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &Grading,
) -> Result<(), ApplyError> {
    let mut n = super::load_material(tx, &e.lot)?;
    let mut lg = state::lot_grading(tx, &e.lot)?;
    // The owner, or the grader the current owner named.
    let named = lg
        .grader
        .as_ref()
        .is_some_and(|g| g.grader == cx.signer && g.owner == n.owner);
    if n.owner != cx.signer && !named {
        if lg.grader.is_none() {
            // No grader named: only the owner may grade (a certifier too).
            return Err(RuleViolation::NotOwner {
                material: e.lot,
                owner: n.owner,
                signer: cx.signer,
            }
            .into());
        }
        return Err(RuleViolation::GraderNotNamed {
            lot: e.lot,
            owner: n.owner,
            signer: cx.signer,
        }
        .into());
    }
    if n.kind != MaterialKind::Scrap {
        return Err(RuleViolation::NotAScrapLot {
            material: e.lot,
            kind: n.kind,
        }
        .into());
    }
    if n.remaining_g == 0 {
        return Err(RuleViolation::MaterialExhausted { material: e.lot }.into());
    }
    unconsumed_unsettled(&n, &lg)?;
    let received_ms = n.history.first().map_or(i64::MIN, |h| h.occurred_ms);
    if cx.occurred_ms < received_ms {
        return Err(RuleViolation::GradedBeforeReceipt {
            lot: e.lot,
            received_ms,
            occurred_ms: cx.occurred_ms,
        }
        .into());
    }
    text("instrument_serial", &e.instrument_serial)?;
    let rs = state::rule_set(tx, &e.rule_set.id, e.rule_set.version)?.ok_or(
        RuleViolation::UnknownRuleSet {
            id: e.rule_set.id,
            version: e.rule_set.version,
        },
    )?;
    let rs = rs.rule_set;
    // Calibration, readings (which become the lot's composition) and visual
    // estimates: the same checks a client runs before signing. Calibration
    // age is judged at the later of the declared time and the log's time.
    if let Some(v) = check_measurements(&rs, e, cx.occurred_ms.max(cx.log_ms))
        .into_iter()
        .next()
    {
        return Err(v.into());
    }
    let measured = Composition {
        elements_ppm: e.readings.iter().map(|(k, r)| (k.clone(), r.ppm)).collect(),
    };
    let spec = compute_grade(&rs, &e.readings, &e.visual_ppm);
    let computed = spec.map(|g| g.code.clone());
    if computed != e.claimed_grade {
        return Err(RuleViolation::GradeMismatch {
            claimed: e.claimed_grade.clone(),
            computed,
        }
        .into());
    }
    lg.gradings.push(GradingEntry {
        index: cx.index,
        rule_set: e.rule_set,
        grade: computed.clone(),
        precedence: spec.map(|g| g.precedence),
    });
    n.grade = Some(applicable_grade(&lg.gradings, cx.index, e.rule_set));
    n.composition = Some(measured);
    n.history.push(cx.history(Change::Graded {
        rule_set: e.rule_set,
        grade: computed,
    }));
    tx.put(keys::lot_grading(&e.lot), &lg)?;
    put_material(tx, &n)
}

/// A lot's grade can change only before its first consumption and until a
/// dispute about it is settled.
fn unconsumed_unsettled(n: &MaterialRecord, lg: &LotGradingRecord) -> Result<(), ApplyError> {
    if n.remaining_g < n.mass_g {
        return Err(RuleViolation::GradeAfterConsumption {
            lot: n.id,
            consumed_g: n.mass_g - n.remaining_g,
        }
        .into());
    }
    if let Some(index) = lg.settled {
        return Err(RuleViolation::GradeAlreadySettled { lot: n.id, index }.into());
    }
    Ok(())
}

/// The grade that applies: the only grading's, or, while several dispute
/// it, the most conservative: off-grade if any is off-grade or they used
/// different rule set versions (their grades cannot be compared), else the
/// grade latest in precedence order (the least pure).
fn applicable_grade(gradings: &[GradingEntry], latest: u64, rule_set: RuleSetRef) -> GradeRecord {
    let first_rs = gradings.first().map_or(rule_set, |g| g.rule_set);
    let off = GradeRecord {
        rule_set: first_rs,
        grade: None,
        index: latest,
    };
    if gradings.iter().any(|g| g.rule_set != first_rs) {
        return off;
    }
    let mut worst: Option<&GradingEntry> = None;
    for g in gradings {
        let Some(p) = g.precedence else {
            return GradeRecord {
                rule_set: first_rs,
                grade: None,
                index: g.index,
            };
        };
        if worst.and_then(|w| w.precedence).is_none_or(|wp| p > wp) {
            worst = Some(g);
        }
    }
    worst.map_or(off.clone(), |w| GradeRecord {
        rule_set: w.rule_set,
        grade: w.grade.clone(),
        index: w.index,
    })
}

/// Names the one grader besides the owner (by the owner, before consumption).
pub(super) fn name_grader<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &NameGrader,
) -> Result<(), ApplyError> {
    let mut n = owned_material(tx, cx, &e.lot)?;
    if n.kind != MaterialKind::Scrap {
        return Err(RuleViolation::NotAScrapLot {
            material: e.lot,
            kind: n.kind,
        }
        .into());
    }
    let mut lg = state::lot_grading(tx, &e.lot)?;
    unconsumed_unsettled(&n, &lg)?;
    if e.grader == cx.signer {
        return Err(invalid("grader", "the owner may grade without naming itself").into());
    }
    let g = state::actor(tx, &e.grader.0)?.ok_or(RuleViolation::UnknownActor { kid: e.grader })?;
    if g.revoked.is_some() {
        return Err(RuleViolation::ActorRevoked { kid: e.grader }.into());
    }
    let allowed = allowed_roles(EventKind::Grade);
    if !allowed.iter().any(|r| g.roles.contains(r)) {
        return Err(RuleViolation::RoleNotPermitted {
            kind: EventKind::Grade,
            signer: e.grader,
            allowed: allowed.to_vec(),
            held: g.roles.iter().copied().collect(),
        }
        .into());
    }
    lg.grader = Some(NamedGraderRecord {
        grader: e.grader,
        owner: cx.signer,
        index: cx.index,
    });
    n.history
        .push(cx.history(Change::GraderNamed { grader: e.grader }));
    tx.put(keys::lot_grading(&e.lot), &lg)?;
    put_material(tx, &n)
}

/// Settles a disputed grading: the publisher of the rule set of the lot's
/// first grading picks the grading that applies (before consumption).
pub(super) fn settle_grade<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &SettleGrade,
) -> Result<(), ApplyError> {
    let mut n = super::load_material(tx, &e.lot)?;
    let mut lg = state::lot_grading(tx, &e.lot)?;
    unconsumed_unsettled(&n, &lg)?;
    if !lg.disputed() {
        return Err(RuleViolation::NoGradeDispute { lot: e.lot }.into());
    }
    text("reason", &e.reason)?;
    let Some(first) = lg.gradings.first() else {
        return Err(RuleViolation::NoGradeDispute { lot: e.lot }.into());
    };
    let rs = first.rule_set;
    let publisher = state::rule_set(tx, &rs.id, rs.version)?
        .ok_or(RuleViolation::UnknownRuleSet {
            id: rs.id,
            version: rs.version,
        })?
        .publisher;
    if publisher != cx.signer {
        return Err(RuleViolation::NotPublisher {
            what: "rule set",
            id: rs.id,
            publisher,
        }
        .into());
    }
    let pick =
        lg.gradings
            .iter()
            .find(|g| g.index == e.grading)
            .ok_or(RuleViolation::UnknownGrading {
                lot: e.lot,
                index: e.grading,
            })?;
    n.grade = Some(GradeRecord {
        rule_set: pick.rule_set,
        grade: pick.grade.clone(),
        index: pick.index,
    });
    lg.settled = Some(cx.index);
    n.history
        .push(cx.history(Change::GradeSettled { grading: e.grading }));
    tx.put(keys::lot_grading(&e.lot), &lg)?;
    put_material(tx, &n)
}

/// A scrap dispatch, signed by the supplier.
pub(super) fn dispatch<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &DispatchScrap,
) -> Result<(), ApplyError> {
    if e.mass_g == 0 {
        return Err(RuleViolation::ZeroMass { field: "mass_g" }.into());
    }
    text("description", &e.description)?;
    if e.to == cx.signer {
        return Err(invalid("to", "a supplier cannot dispatch to itself").into());
    }
    let to = state::actor(tx, &e.to.0)?.ok_or(RuleViolation::UnknownActor { kid: e.to })?;
    if to.revoked.is_some() {
        return Err(RuleViolation::ActorRevoked { kid: e.to }.into());
    }
    if let Some(cid) = &e.contract {
        let c = state::contract(tx, cid)?.ok_or(RuleViolation::UnknownContract { id: *cid })?;
        if c.proposal.customer != cx.signer {
            return Err(RuleViolation::NotContractCustomer {
                contract: *cid,
                customer: c.proposal.customer,
                signer: cx.signer,
            }
            .into());
        }
        if c.accepted_index.is_none() {
            return Err(RuleViolation::ContractNotAccepted { contract: *cid }.into());
        }
        if e.to != c.producer {
            return Err(
                invalid("to", "a take-back dispatch goes to the contract's producer").into(),
            );
        }
        let p = &c.proposal;
        super::in_contract_period(cid, p, cx.occurred_ms)?;
        in_period_by_log_time(cx, cid, p)?;
    }
    claim_id(tx, &e.id, IdKind::Dispatch, cx.index)?;
    tx.put(
        keys::dispatch(&e.id),
        &DispatchRecord {
            dispatch: e.clone(),
            supplier: cx.signer,
            index: cx.index,
            occurred_ms: cx.occurred_ms,
            received: None,
        },
    )?;
    Ok(())
}

/// The log's time must be before the contract's end too, so a backdated
/// take-back cannot land in a closed period.
fn in_period_by_log_time(cx: &Cx, cid: &Uuid, p: &ContractProposal) -> Result<(), ApplyError> {
    if cx.log_ms >= p.end_ms {
        return Err(RuleViolation::OutsideContractPeriod {
            contract: *cid,
            occurred_ms: cx.log_ms,
            start_ms: p.start_ms,
            end_ms: p.end_ms,
        }
        .into());
    }
    Ok(())
}

/// Custody of a receipt: the supplier's dispatch it takes in (required for
/// a registered supplier), or, for an unregistered supplier, evidence
/// hashes. Returns the dispatch entry and whether the receipt is declared.
fn custody<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &ScrapReceipt,
) -> Result<(Option<u64>, bool), ApplyError> {
    let Some(did) = &e.dispatch else {
        if let Some(kid) = e.supplier.kid {
            return Err(RuleViolation::DispatchRequired { supplier: kid }.into());
        }
        if e.evidence.is_empty() {
            return Err(RuleViolation::DeclaredReceiptWithoutEvidence.into());
        }
        return Ok((None, true));
    };
    let mut d = state::dispatch(tx, did)?.ok_or(RuleViolation::UnknownDispatch { id: *did })?;
    if d.dispatch.to != cx.signer {
        return Err(RuleViolation::DispatchNotToReceiver {
            dispatch: *did,
            to: d.dispatch.to,
            signer: cx.signer,
        }
        .into());
    }
    if e.supplier.kid != Some(d.supplier) {
        return Err(RuleViolation::DispatchNotFromSupplier {
            dispatch: *did,
            dispatcher: d.supplier,
            supplier: e.supplier.kid,
        }
        .into());
    }
    if let Some(index) = d.received {
        return Err(RuleViolation::DispatchAlreadyReceived {
            dispatch: *did,
            index,
        }
        .into());
    }
    if d.dispatch.contract != e.contract {
        return Err(RuleViolation::DispatchContractMismatch {
            dispatch: *did,
            dispatch_contract: d.dispatch.contract,
            receipt_contract: e.contract,
        }
        .into());
    }
    if cx.occurred_ms < d.occurred_ms {
        return Err(RuleViolation::ReceiptBeforeDispatch {
            dispatch: *did,
            dispatched_ms: d.occurred_ms,
            occurred_ms: cx.occurred_ms,
        }
        .into());
    }
    let tolerance_g = u64::try_from(
        u128::from(d.dispatch.mass_g) * u128::from(crate::DISPATCH_TOLERANCE_PPM)
            / u128::from(MILLION),
    )
    .unwrap_or(u64::MAX);
    if e.net_g.abs_diff(d.dispatch.mass_g) > tolerance_g {
        return Err(RuleViolation::DispatchMassMismatch {
            dispatch: *did,
            dispatched_g: d.dispatch.mass_g,
            received_g: e.net_g,
            tolerance_g,
        }
        .into());
    }
    d.received = Some(cx.index);
    tx.put(keys::dispatch(did), &d)?;
    Ok((Some(d.index), false))
}
