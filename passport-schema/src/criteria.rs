//! "Tongling Recycled" certificate criteria, recomputed from state.

use serde::{Deserialize, Serialize};

use crate::events::Scheme;
use crate::graph::{Depth, ancestors};
use crate::roles::Role;
use crate::state::records::{Creation, MaterialRecord};
use crate::state::{self, StateError, StateStore};

/// One scheme criterion, in evaluation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// At issuance the claimed mass is at most the subject's remaining,
    /// not yet claimed mass; recomputed later, at most the subject's mass.
    ClaimedMass,
    /// The claimed share does not exceed the derived share.
    ClaimedShare,
    /// The derived share meets the scheme minimum.
    MinRecycledShare,
    /// The subject's latest composition meets every limit.
    Composition,
    /// Every graded scrap input was graded under an accepted rule set.
    AcceptedRuleSets,
    /// The subject's producer holds the refiner role (and is not revoked).
    ProducerRole,
    /// Every received scrap lot in the claims graph is graded to a grade,
    /// and every leaf is a primary lot or a received scrap lot.
    ChainOfCustody,
}

/// One recomputed criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionResult {
    /// Criterion.
    pub criterion: Criterion,
    /// Whether it holds.
    pub pass: bool,
    /// Recomputed values.
    pub detail: String,
    /// Entry indices the result rests on.
    pub evidence: Vec<u64>,
}

fn result(criterion: Criterion, pass: bool, detail: String, evidence: Vec<u64>) -> CriterionResult {
    CriterionResult {
        criterion,
        pass,
        detail,
        evidence,
    }
}

/// Recomputes every criterion of `scheme` for `subject`. `unclaimed_g` is
/// the subject's remaining mass not yet claimed, at issuance; `None` when
/// recomputing an issued certificate, whose claim has since moved with
/// the subject's consumption: then the claim is checked against the
/// subject's mass.
pub fn evaluate(
    state: &impl StateStore,
    scheme: &Scheme,
    subject: &MaterialRecord,
    claimed_share_ppm: u32,
    claimed_mass_g: u64,
    unclaimed_g: Option<u64>,
) -> Result<Vec<CriterionResult>, StateError> {
    let mut out = Vec::with_capacity(7);
    let created = vec![subject.created_index];
    let derived = subject.recycled_ppm();

    out.push(match unclaimed_g {
        Some(unclaimed) => result(
            Criterion::ClaimedMass,
            claimed_mass_g <= unclaimed,
            format!(
                "claimed {claimed_mass_g} g, unclaimed {unclaimed} g (remaining {} g, already claimed {} g)",
                subject.remaining_g, subject.claimed_g
            ),
            created.clone(),
        ),
        None => result(
            Criterion::ClaimedMass,
            claimed_mass_g <= subject.mass_g,
            format!(
                "claimed {claimed_mass_g} g of subject mass {} g",
                subject.mass_g
            ),
            created.clone(),
        ),
    });
    out.push(result(
        Criterion::ClaimedShare,
        claimed_share_ppm <= derived,
        format!("claimed {claimed_share_ppm} ppm, derived {derived} ppm"),
        created.clone(),
    ));
    out.push(result(
        Criterion::MinRecycledShare,
        derived >= scheme.min_recycled_share_ppm,
        format!(
            "derived {derived} ppm, minimum {} ppm",
            scheme.min_recycled_share_ppm
        ),
        created.clone(),
    ));

    // Composition: the latest composition must report every limited element.
    use crate::state::records::Change;
    let setters: Vec<&crate::state::records::HistoryItem> = subject
        .history
        .iter()
        .filter(|h| {
            matches!(
                h.change,
                Change::Created
                    | Change::PassportIssued
                    | Change::Graded { .. }
                    | Change::Assayed { .. }
            )
        })
        .collect();
    let comp_evidence = setters.iter().map(|h| h.index).collect::<Vec<_>>();
    // Whoever made a material declares its composition; a grading or an
    // independent assay measures it.
    let measured = setters
        .last()
        .is_some_and(|h| matches!(h.change, Change::Graded { .. } | Change::Assayed { .. }));
    let mut comp_fail: Option<String> = None;
    if scheme.require_measured_composition && !measured && subject.composition.is_some() {
        comp_fail = Some(
            "the composition is declared by its maker; the scheme requires a measured assay"
                .to_owned(),
        );
    }
    match &subject.composition {
        _ if comp_fail.is_some() => {}
        None if !scheme.composition_limits.is_empty() => {
            comp_fail = Some("subject has no composition".to_owned());
        }
        None => {}
        Some(c) => {
            for lim in &scheme.composition_limits {
                let v = c.ppm(&lim.element);
                let ok = match v {
                    None => false,
                    Some(v) => {
                        lim.min_ppm.is_none_or(|m| v >= m) && lim.max_ppm.is_none_or(|m| v <= m)
                    }
                };
                if !ok {
                    comp_fail = Some(format!(
                        "{} = {:?} ppm, limits min {:?} max {:?}",
                        lim.element, v, lim.min_ppm, lim.max_ppm
                    ));
                    break;
                }
            }
        }
    }
    out.push(result(
        Criterion::Composition,
        comp_fail.is_none(),
        comp_fail.unwrap_or_else(|| format!("{} limits hold", scheme.composition_limits.len())),
        comp_evidence,
    ));

    // Graph criteria.
    let graph = ancestors(state, subject, Depth::Claims)?;
    let mut rule_fail: Option<String> = None;
    let mut custody_fail: Option<String> = None;
    let mut graded_evidence = Vec::new();
    for n in graph.values() {
        match &n.creation {
            Creation::ScrapReceipt { .. } => match &n.grade {
                Some(g) => {
                    graded_evidence.push(g.index);
                    if g.grade.is_none() && custody_fail.is_none() {
                        custody_fail = Some(format!("scrap lot {} is off-grade", n.id));
                    }
                    if !scheme.accepted_rule_sets.contains(&g.rule_set) && rule_fail.is_none() {
                        rule_fail = Some(format!(
                            "scrap lot {} graded under rule set {} v{}, not accepted",
                            n.id, g.rule_set.id, g.rule_set.version
                        ));
                    }
                }
                None => {
                    if custody_fail.is_none() {
                        custody_fail = Some(format!("scrap lot {} is not graded", n.id));
                    }
                }
            },
            Creation::Primary { .. } => {}
            Creation::Transformation { .. } => {
                if n.parents.is_empty() && custody_fail.is_none() {
                    custody_fail = Some(format!("material {} has no recorded inputs", n.id));
                }
            }
        }
    }
    graded_evidence.sort_unstable();
    let n_materials = graph.len();
    out.push(result(
        Criterion::AcceptedRuleSets,
        rule_fail.is_none(),
        rule_fail.unwrap_or_else(|| "all gradings under accepted rule sets".to_owned()),
        graded_evidence.clone(),
    ));

    let (role_ok, role_detail, role_evidence) = match state::actor(state, &subject.producer.0)? {
        None => (
            false,
            format!("producer {} is not registered", subject.producer),
            vec![],
        ),
        Some(a) => {
            let ev: Vec<u64> = a
                .grants
                .iter()
                .filter(|g| g.role == Role::Refiner)
                .map(|g| g.index)
                .collect();
            if let Some(r) = &a.revoked {
                (
                    false,
                    format!("producer {} was revoked at entry {}", a.kid, r.index),
                    vec![r.index],
                )
            } else if a.roles.contains(&Role::Refiner) {
                (true, format!("producer {} holds refiner", a.kid), ev)
            } else {
                (
                    false,
                    format!("producer {} does not hold refiner", a.kid),
                    vec![a.registered_index],
                )
            }
        }
    };
    out.push(result(
        Criterion::ProducerRole,
        role_ok,
        role_detail,
        role_evidence,
    ));

    out.push(result(
        Criterion::ChainOfCustody,
        custody_fail.is_none(),
        custody_fail.unwrap_or_else(|| {
            format!("{n_materials} materials back to primary lots and graded scrap lots")
        }),
        graded_evidence,
    ));
    Ok(out)
}
