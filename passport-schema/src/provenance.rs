//! The entries a material's or certificate's claims depend on.
//!
//! Replaying exactly these entries, in index order, into an empty state
//! succeeds and reproduces the same derived shares and certificate
//! criteria: the offline auditor relies on it (evidence bundles).

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::bytes::Bytes32;
use crate::error::Error;
use crate::events::RuleSetRef;
use crate::graph::{Depth, ancestors};
use crate::state::records::{Change, Creation};
use crate::state::{self, StateStore};

/// Entry indices that `id` (a material or a certificate) depends on:
/// genesis; every material back to primary lots and received scrap lots,
/// through source passports, with their creation (and a receipt's
/// dispatch), transfers, grader namings, gradings, settlements,
/// passport, service and end-of-life entries (consumptions by other
/// branches are left out: they only lower remaining mass); the rule sets
/// and contracts those entries reference; for a certificate its issuance,
/// revocation, scheme and the scheme's accepted rule sets; and the
/// registration, role grants and revocation of every actor involved,
/// closed over the operators who signed those; and, for each of these
/// entries, the log-time entry that gave the log's time when it was
/// integrated.
pub fn provenance(state: &impl StateStore, id: &Uuid) -> Result<BTreeSet<u64>, Error> {
    let mut set = BTreeSet::from([0u64]);
    let mut kids: BTreeSet<Bytes32> = BTreeSet::new();
    let mut rule_sets: BTreeSet<RuleSetRef> = BTreeSet::new();
    let mut contracts: BTreeSet<Uuid> = BTreeSet::new();

    let subject = if let Some(cert) = state::certificate(state, id)? {
        set.insert(cert.issued_index);
        kids.insert(cert.issuer);
        if let Some(r) = &cert.revoked {
            set.insert(r.index);
            kids.insert(r.by);
        }
        let scheme =
            state::scheme(state, &cert.scheme.id, cert.scheme.version)?.ok_or(Error::NotFound {
                what: "scheme",
                id: cert.scheme.id,
            })?;
        set.insert(scheme.index);
        kids.insert(scheme.publisher);
        rule_sets.extend(scheme.scheme.accepted_rule_sets.iter().copied());
        cert.subject
    } else {
        *id
    };
    let start = state::material(state, &subject)?.ok_or(Error::NotFound {
        what: "material or certificate",
        id: *id,
    })?;

    for n in ancestors(state, &start, Depth::Replay)?.values() {
        if let Creation::ScrapReceipt {
            contract,
            dispatch,
            supplier,
            ..
        } = &n.creation
        {
            contracts.extend(contract.iter().copied());
            // The supplier's dispatch: the other half of the custody change.
            set.extend(dispatch.iter().copied());
            kids.extend(supplier.kid.iter().copied());
        }
        for h in &n.history {
            match &h.change {
                Change::Consumed { .. } | Change::Certified { .. } => continue,
                Change::Transferred { to, contract, .. } => {
                    kids.insert(*to);
                    contracts.extend(contract.iter().copied());
                }
                Change::Graded { rule_set, .. } => {
                    rule_sets.insert(*rule_set);
                }
                Change::ServiceAuthorised { actor, .. } => {
                    kids.insert(*actor);
                }
                Change::GraderNamed { grader } => {
                    kids.insert(*grader);
                }
                _ => {}
            }
            set.insert(h.index);
            kids.insert(h.signer);
        }
    }
    for c in &contracts {
        let rec = state::contract(state, c)?.ok_or(Error::NotFound {
            what: "contract",
            id: *c,
        })?;
        set.insert(rec.proposed_index);
        set.extend(rec.accepted_index);
        kids.insert(rec.producer);
        kids.insert(rec.proposal.customer);
    }
    for r in &rule_sets {
        let rec = state::rule_set(state, &r.id, r.version)?.ok_or(Error::NotFound {
            what: "rule set",
            id: r.id,
        })?;
        set.insert(rec.index);
        kids.insert(rec.publisher);
    }

    // Actors, closed over whoever registered, granted or revoked them.
    let mut done: BTreeSet<Bytes32> = BTreeSet::new();
    let mut todo: Vec<Bytes32> = kids.into_iter().collect();
    while let Some(k) = todo.pop() {
        if !done.insert(k) {
            continue;
        }
        let Some(a) = state::actor(state, &k.0)? else {
            continue;
        };
        set.insert(a.registered_index);
        todo.push(a.registered_by);
        for g in &a.grants {
            set.insert(g.index);
            todo.push(g.by);
        }
        if let Some(r) = &a.revoked {
            set.insert(r.index);
            todo.push(r.by);
        }
    }
    // The log's time for each of them: the clock reading that governs it.
    let clocks = set
        .iter()
        .map(|&i| state::governing_clock(state, i).map(|c| c.map(|c| c.index)))
        .collect::<Result<Vec<_>, _>>()?;
    set.extend(clocks.into_iter().flatten());
    Ok(set)
}
