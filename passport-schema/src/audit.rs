//! Circular performance contract audit.
//!
//! Integer math throughout: the take-back ratio is
//! `floor(eligible_taken_back_g × 1,000,000 / delivered_g)` ppm, and each
//! grade's settlement value is
//! `round_half_away_from_zero(mass_g × differential_per_tonne / 1,000,000)`
//! minor units (a tonne is 1,000,000 g), summed over grades.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::blend::mul_div_round;
use crate::bytes::Bytes32;
use crate::error::Error;
use crate::events::RuleSetRef;
use crate::state::{self, StateStore};

/// Mass and value of one grade among the take-backs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeMixLine {
    /// Applicable grade of the lots (`None`: ungraded or off-grade).
    pub grade: Option<String>,
    /// The rule set version the grade was earned under (`None` with no grade).
    pub rule_set: Option<RuleSetRef>,
    /// Total net mass.
    pub mass_g: u64,
    /// Whether the grade is eligible under the contract.
    pub eligible: bool,
    /// Differential per tonne (0 if not eligible).
    pub differential_per_tonne_minor: i64,
    /// Settlement value of this line, minor units.
    pub value_minor: i64,
    /// Receipt and grading entries.
    pub evidence: Vec<u64>,
}

/// One delivery against the guarantee and the specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAudit {
    /// Transfer entry.
    pub index: u64,
    /// Delivered material.
    pub material: Uuid,
    /// Delivered grams.
    pub mass_g: u64,
    /// Derived recycled share at delivery.
    pub recycled_share_ppm: u32,
    /// Share ≥ the contract's guaranteed minimum.
    pub meets_recycled_guarantee: bool,
    /// Cu ppm at delivery, if known.
    pub cu_ppm: Option<u32>,
    /// Cu ≥ the specification's minimum.
    pub meets_spec: bool,
    /// The transfer that returned it to the producer: a returned delivery
    /// counts in no total or term (delivered again, it counts once).
    pub returned_index: Option<u64>,
}

/// A contract term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// Eligible take-back ≥ minimum share of delivered mass.
    TakeBackShare,
    /// Every delivery's recycled share ≥ the guarantee.
    RecycledShare,
    /// Every delivery meets the material specification.
    MaterialSpec,
}

/// Pass or fail of one term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermResult {
    /// Term.
    pub term: Term,
    /// Whether it holds.
    pub pass: bool,
    /// Values.
    pub detail: String,
    /// Entries it rests on.
    pub evidence: Vec<u64>,
}

/// The audit of one contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractAudit {
    /// Contract id.
    pub contract: Uuid,
    /// Producer.
    pub producer: Bytes32,
    /// Customer.
    pub customer: Bytes32,
    /// Proposal entry.
    pub proposed_index: u64,
    /// The proposal entry's RFC 9162 leaf hash: what the customer's
    /// acceptance must name.
    pub proposal_leaf_hash: Bytes32,
    /// Acceptance entry.
    pub accepted_index: Option<u64>,
    /// Period start.
    pub start_ms: i64,
    /// Period end.
    pub end_ms: i64,
    /// Total delivered grams.
    pub delivered_g: u64,
    /// Total taken-back net grams (all grades).
    pub taken_back_g: u64,
    /// Taken-back grams of eligible grades.
    pub eligible_taken_back_g: u64,
    /// Eligible taken-back / delivered, ppm (`None` if nothing delivered).
    pub take_back_ratio_ppm: Option<u64>,
    /// Take-backs by grade.
    pub grade_mix: Vec<GradeMixLine>,
    /// ISO 4217 currency.
    pub currency: String,
    /// Total settlement value, minor units.
    pub settlement_value_minor: i64,
    /// Deliveries.
    pub deliveries: Vec<DeliveryAudit>,
    /// Terms.
    pub terms: Vec<TermResult>,
    /// Whether every term holds.
    pub all_terms_hold: bool,
}

/// Audits a contract from its recorded deliveries and take-backs.
pub fn contract_audit(state: &impl StateStore, id: &Uuid) -> Result<ContractAudit, Error> {
    let c = state::contract(state, id)?.ok_or(Error::NotFound {
        what: "contract",
        id: *id,
    })?;
    let p = &c.proposal;
    let mut base_evidence = vec![c.proposed_index];
    base_evidence.extend(c.accepted_index);

    let mut delivered: u128 = 0;
    let mut deliveries = Vec::with_capacity(c.deliveries.len());
    for d in &c.deliveries {
        if d.returned_index.is_none() {
            delivered += u128::from(d.mass_g);
        }
        deliveries.push(DeliveryAudit {
            index: d.index,
            material: d.material,
            mass_g: d.mass_g,
            recycled_share_ppm: d.recycled_share_ppm,
            meets_recycled_guarantee: d.recycled_share_ppm >= p.min_recycled_share_ppm,
            cu_ppm: d.cu_ppm,
            meets_spec: d.cu_ppm.is_some_and(|cu| cu >= p.spec.min_cu_ppm),
            returned_index: d.returned_index,
        });
    }

    // Grade mix by the lots' applicable grade and the rule set version it
    // was earned under: a term names both, so a lenient rule set that
    // reuses a code earns nothing.
    let diffs: BTreeMap<(RuleSetRef, &str), i64> = p
        .take_back
        .grades
        .iter()
        .map(|g| {
            (
                (g.rule_set, g.code.as_str()),
                g.differential_per_tonne_minor,
            )
        })
        .collect();
    type MixKey = (Option<String>, Option<RuleSetRef>);
    let mut mix: BTreeMap<MixKey, (u128, Vec<u64>)> = BTreeMap::new();
    let mut taken: u128 = 0;
    for t in &c.take_backs {
        taken += u128::from(t.net_g);
        let grade = state::material(state, &t.lot)?.and_then(|n| n.grade);
        let key = match grade
            .as_ref()
            .and_then(|g| g.grade.clone().map(|c| (c, g.rule_set)))
        {
            Some((code, rs)) => (Some(code), Some(rs)),
            None => (None, None),
        };
        let line = mix.entry(key).or_default();
        line.0 += u128::from(t.net_g);
        line.1.push(t.index);
        if let Some(g) = grade {
            line.1.push(g.index);
        }
    }
    let mut eligible: u128 = 0;
    let mut total_value: i128 = 0;
    let mut take_evidence = base_evidence.clone();
    let mut grade_mix = Vec::with_capacity(mix.len());
    for ((grade, rule_set), (mass, mut ev)) in mix {
        let diff = match (&grade, rule_set) {
            (Some(code), Some(rs)) => diffs.get(&(rs, code.as_str())).copied(),
            _ => None,
        };
        let value = diff
            .map(|d| {
                mul_div_round(
                    i128::try_from(mass).unwrap_or(i128::MAX),
                    i128::from(d),
                    1_000_000,
                )
            })
            .unwrap_or(0);
        if diff.is_some() {
            eligible += mass;
        }
        total_value = total_value.saturating_add(value);
        ev.sort_unstable();
        take_evidence.extend(ev.iter().copied());
        grade_mix.push(GradeMixLine {
            grade,
            rule_set,
            mass_g: sat64(mass),
            eligible: diff.is_some(),
            differential_per_tonne_minor: diff.unwrap_or(0),
            value_minor: clamp64(value),
            evidence: ev,
        });
    }
    let ratio = (delivered > 0).then(|| sat64(eligible * 1_000_000 / delivered.max(1)));
    let delivery_evidence: Vec<u64> = base_evidence
        .iter()
        .copied()
        .chain(c.deliveries.iter().map(|d| d.index))
        .chain(c.deliveries.iter().filter_map(|d| d.returned_index))
        .collect();
    take_evidence.extend(c.deliveries.iter().map(|d| d.index));
    take_evidence.extend(c.deliveries.iter().filter_map(|d| d.returned_index));
    take_evidence.sort_unstable();
    take_evidence.dedup();

    let take_pass = ratio.is_none_or(|r| r >= u64::from(p.take_back.min_share_ppm));
    let counted = deliveries.iter().filter(|d| d.returned_index.is_none());
    let n_counted = counted.clone().count();
    let rec_fail: Vec<u64> = counted
        .clone()
        .filter(|d| !d.meets_recycled_guarantee)
        .map(|d| d.index)
        .collect();
    let spec_fail: Vec<u64> = counted.filter(|d| !d.meets_spec).map(|d| d.index).collect();
    let terms = vec![
        TermResult {
            term: Term::TakeBackShare,
            pass: take_pass,
            detail: format!(
                "eligible take-back {} g of {} g delivered = {} ppm, minimum {} ppm",
                sat64(eligible),
                sat64(delivered),
                ratio.map_or_else(|| "n/a".to_string(), |r| r.to_string()),
                p.take_back.min_share_ppm
            ),
            evidence: take_evidence,
        },
        TermResult {
            term: Term::RecycledShare,
            pass: rec_fail.is_empty(),
            detail: format!(
                "{} of {} deliveries below the guaranteed {} ppm (entries {:?})",
                rec_fail.len(),
                n_counted,
                p.min_recycled_share_ppm,
                rec_fail
            ),
            evidence: delivery_evidence.clone(),
        },
        TermResult {
            term: Term::MaterialSpec,
            pass: spec_fail.is_empty(),
            detail: format!(
                "{} of {} deliveries below Cu {} ppm or without composition (entries {:?})",
                spec_fail.len(),
                n_counted,
                p.spec.min_cu_ppm,
                spec_fail
            ),
            evidence: delivery_evidence,
        },
    ];
    Ok(ContractAudit {
        contract: *id,
        producer: c.producer,
        customer: p.customer,
        proposed_index: c.proposed_index,
        proposal_leaf_hash: c.proposal_leaf,
        accepted_index: c.accepted_index,
        start_ms: p.start_ms,
        end_ms: p.end_ms,
        delivered_g: sat64(delivered),
        taken_back_g: sat64(taken),
        eligible_taken_back_g: sat64(eligible),
        take_back_ratio_ppm: ratio,
        grade_mix,
        currency: p.take_back.currency.clone(),
        settlement_value_minor: clamp64(total_value),
        all_terms_hold: terms.iter().all(|t| t.pass),
        deliveries,
        terms,
    })
}

fn sat64(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

fn clamp64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}
