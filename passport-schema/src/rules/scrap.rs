//! Scrap receipts, rule sets and grading.

use std::collections::{BTreeMap, BTreeSet};

use super::validate::{MILLION, country, element, text};
use super::{Cx, Tx, active_contract_of_producer, claim_id, owned_material, put_material};
use crate::error::{ApplyError, RuleViolation};
use crate::events::{
    Composition, Grading, InputUse, MaterialKind, RuleSet, ScrapOrigin, ScrapReceipt,
};
use crate::grading::{check_measurements, compute_grade};
use crate::roles::Role;
use crate::state::records::{
    Change, Creation, GradeRecord, IdKind, LatestVersion, MaterialRecord, RuleSetRecord,
    TakeBackRecord,
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
        c.take_backs.push(TakeBackRecord {
            index: cx.index,
            occurred_ms: cx.occurred_ms,
            lot: e.id,
            net_g: e.net_g,
        });
        tx.put(keys::contract(cid), &c)?;
    }

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
    let mut n = super::material_for(tx, cx, &e.lot, Some(Role::Certifier))?;
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
    text("instrument_serial", &e.instrument_serial)?;
    let rs = state::rule_set(tx, &e.rule_set.id, e.rule_set.version)?.ok_or(
        RuleViolation::UnknownRuleSet {
            id: e.rule_set.id,
            version: e.rule_set.version,
        },
    )?;
    let rs = rs.rule_set;
    // Calibration, readings (which become the lot's composition) and visual
    // estimates: the same checks a client runs before signing.
    if let Some(v) = check_measurements(&rs, e, cx.occurred_ms)
        .into_iter()
        .next()
    {
        return Err(v.into());
    }
    let measured = Composition {
        elements_ppm: e.readings.iter().map(|(k, r)| (k.clone(), r.ppm)).collect(),
    };
    let computed = compute_grade(&rs, &e.readings, &e.visual_ppm).map(|g| g.code.clone());
    if computed != e.claimed_grade {
        return Err(RuleViolation::GradeMismatch {
            claimed: e.claimed_grade.clone(),
            computed,
        }
        .into());
    }
    n.grade = Some(GradeRecord {
        rule_set: e.rule_set,
        grade: computed.clone(),
        index: cx.index,
    });
    n.composition = Some(measured);
    n.history.push(cx.history(Change::Graded {
        rule_set: e.rule_set,
        grade: computed,
    }));
    put_material(tx, &n)
}
