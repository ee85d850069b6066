//! Contract proposal and acceptance. Deliveries and take-backs are checked
//! in the transfer and scrap-receipt rules.

use std::collections::BTreeSet;

use super::validate::{currency, invalid, ppm, text};
use super::{Cx, Tx, claim_id};
use crate::error::{ApplyError, RuleViolation};
use crate::events::{ContractAcceptance, ContractProposal};
use crate::state::records::{ContractRecord, IdKind};
use crate::state::{self, StateStore, keys};

pub(super) fn propose<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &ContractProposal,
) -> Result<(), ApplyError> {
    if e.customer == cx.signer {
        return Err(invalid("customer", "the producer cannot be its own customer").into());
    }
    let customer =
        state::actor(tx, &e.customer.0)?.ok_or(RuleViolation::UnknownActor { kid: e.customer })?;
    if customer.revoked.is_some() {
        return Err(RuleViolation::ActorRevoked { kid: e.customer }.into());
    }
    if e.end_ms <= e.start_ms {
        return Err(invalid("end_ms", "period end must be after its start").into());
    }
    text("spec.description", &e.spec.description)?;
    if e.spec.kinds.is_empty() {
        return Err(invalid("spec.kinds", "must name at least one kind").into());
    }
    ppm("spec.min_cu_ppm", e.spec.min_cu_ppm)?;
    ppm("take_back.min_share_ppm", e.take_back.min_share_ppm)?;
    ppm("min_recycled_share_ppm", e.min_recycled_share_ppm)?;
    currency("take_back.currency", &e.take_back.currency)?;
    let mut codes = BTreeSet::new();
    for g in &e.take_back.grades {
        text("take_back.grades.code", &g.code)?;
        if !codes.insert((g.rule_set, g.code.as_str())) {
            return Err(
                invalid("take_back.grades", format!("grade {} listed twice", g.code)).into(),
            );
        }
    }
    claim_id(tx, &e.id, IdKind::Contract, cx.index)?;
    tx.put(
        keys::contract(&e.id),
        &ContractRecord {
            proposal: e.clone(),
            producer: cx.signer,
            proposed_index: cx.index,
            proposal_leaf: cx.leaf_hash,
            accepted_index: None,
            deliveries: Vec::new(),
            take_backs: Vec::new(),
        },
    )?;
    Ok(())
}

pub(super) fn accept<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &ContractAcceptance,
) -> Result<(), ApplyError> {
    let mut c = state::contract(tx, &e.contract)?
        .ok_or(RuleViolation::UnknownContract { id: e.contract })?;
    if c.proposal.customer != cx.signer {
        return Err(RuleViolation::NotContractCustomer {
            contract: e.contract,
            customer: c.proposal.customer,
            signer: cx.signer,
        }
        .into());
    }
    if e.proposal != c.proposal_leaf {
        return Err(RuleViolation::ContractProposalMismatch {
            contract: e.contract,
            expected: c.proposal_leaf,
            found: e.proposal,
        }
        .into());
    }
    if let Some(i) = c.accepted_index {
        return Err(RuleViolation::ContractAlreadyAccepted {
            contract: e.contract,
            index: i,
        }
        .into());
    }
    if cx.occurred_ms >= c.proposal.end_ms {
        return Err(RuleViolation::OutsideContractPeriod {
            contract: e.contract,
            occurred_ms: cx.occurred_ms,
            start_ms: c.proposal.start_ms,
            end_ms: c.proposal.end_ms,
        }
        .into());
    }
    c.accepted_index = Some(cx.index);
    tx.put(keys::contract(&e.contract), &c)?;
    Ok(())
}
