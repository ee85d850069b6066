//! Schemes and certificates.

use std::collections::BTreeSet;

use super::scrap::check_version;
use super::validate::{element, invalid, ppm, text};
use super::{Cx, Tx, claim_id, load_material, put_material};
use crate::criteria;
use crate::error::{ApplyError, RuleViolation};
use crate::events::{CertificateIssue, CertificateRevocation, Scheme};
use crate::state::records::{
    CertificateRecord, Change, IdKind, LatestVersion, RevocationRecord, SchemeRecord,
};
use crate::state::{self, StateStore, keys};

pub(super) fn publish_scheme<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &Scheme,
) -> Result<(), ApplyError> {
    text("name", &e.name)?;
    ppm("min_recycled_share_ppm", e.min_recycled_share_ppm)?;
    let mut elements = BTreeSet::new();
    for l in &e.composition_limits {
        element("composition_limits.element", &l.element)?;
        if !elements.insert(l.element.as_str()) {
            return Err(invalid(
                "composition_limits",
                format!("{} is limited twice", l.element),
            )
            .into());
        }
        match (l.min_ppm, l.max_ppm) {
            (None, None) => {
                return Err(
                    invalid("composition_limits", format!("{} has no bound", l.element)).into(),
                );
            }
            (Some(a), Some(b)) if a > b => {
                return Err(invalid(
                    "composition_limits",
                    format!("{}: min {a} > max {b}", l.element),
                )
                .into());
            }
            _ => {}
        }
        for v in [l.min_ppm, l.max_ppm].into_iter().flatten() {
            ppm("composition_limits", v)?;
        }
    }
    if e.accepted_rule_sets.is_empty() {
        return Err(invalid("accepted_rule_sets", "must name at least one rule set").into());
    }
    for r in &e.accepted_rule_sets {
        if state::rule_set(tx, &r.id, r.version)?.is_none() {
            return Err(RuleViolation::UnknownRuleSet {
                id: r.id,
                version: r.version,
            }
            .into());
        }
    }
    let latest = state::scheme_latest(tx, &e.id)?;
    check_version(tx, cx, "scheme", &e.id, e.version, latest, IdKind::Scheme)?;
    tx.put(
        keys::scheme(&e.id, e.version),
        &SchemeRecord {
            scheme: e.clone(),
            publisher: cx.signer,
            index: cx.index,
        },
    )?;
    tx.put(
        keys::scheme_latest(&e.id),
        &LatestVersion {
            version: e.version,
            publisher: cx.signer,
        },
    )?;
    Ok(())
}

pub(super) fn issue<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &CertificateIssue,
) -> Result<(), ApplyError> {
    ppm("claimed_recycled_share_ppm", e.claimed_recycled_share_ppm)?;
    let scheme =
        state::scheme(tx, &e.scheme.id, e.scheme.version)?.ok_or(RuleViolation::UnknownScheme {
            id: e.scheme.id,
            version: e.scheme.version,
        })?;
    if scheme.publisher != cx.signer {
        return Err(RuleViolation::NotPublisher {
            what: "scheme",
            id: e.scheme.id,
            publisher: scheme.publisher,
        }
        .into());
    }
    let mut subject = load_material(tx, &e.subject)?;
    let results = criteria::evaluate(
        tx,
        &scheme.scheme,
        &subject,
        e.claimed_recycled_share_ppm,
        e.claimed_mass_g,
    )?;
    if let Some(f) = results.iter().find(|r| !r.pass) {
        return Err(RuleViolation::CertificateCriterionFailed {
            criterion: f.criterion,
            detail: f.detail.clone(),
        }
        .into());
    }
    claim_id(tx, &e.id, IdKind::Certificate, cx.index)?;
    // One active certificate per subject and scheme (any version); a
    // revoked one does not block re-certification.
    for id in &subject.certificates {
        let Some(c) = state::certificate(tx, id)? else {
            continue;
        };
        if c.scheme.id == e.scheme.id && c.revoked.is_none() {
            return Err(RuleViolation::AlreadyCertified {
                subject: e.subject,
                certificate: c.id,
                index: c.issued_index,
            }
            .into());
        }
    }
    tx.put(
        keys::certificate(&e.id),
        &CertificateRecord {
            id: e.id,
            scheme: e.scheme,
            subject: e.subject,
            claimed_recycled_share_ppm: e.claimed_recycled_share_ppm,
            claimed_mass_g: e.claimed_mass_g,
            issuer: cx.signer,
            issued_index: cx.index,
            issued_ms: cx.occurred_ms,
            criteria_at_issue: results,
            revoked: None,
        },
    )?;
    subject.certificates.push(e.id);
    subject
        .history
        .push(cx.history(Change::Certified { certificate: e.id }));
    put_material(tx, &subject)
}

pub(super) fn revoke<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &CertificateRevocation,
) -> Result<(), ApplyError> {
    let mut c = state::certificate(tx, &e.certificate)?
        .ok_or(RuleViolation::UnknownCertificate { id: e.certificate })?;
    if let Some(r) = &c.revoked {
        return Err(RuleViolation::CertificateAlreadyRevoked {
            id: e.certificate,
            index: r.index,
        }
        .into());
    }
    if c.issuer != cx.signer {
        return Err(RuleViolation::NotCertificateIssuer {
            id: e.certificate,
            issuer: c.issuer,
        }
        .into());
    }
    text("reason", &e.reason)?;
    c.revoked = Some(RevocationRecord {
        index: cx.index,
        by: cx.signer,
        reason: e.reason.clone(),
    });
    tx.put(keys::certificate(&e.certificate), &c)?;
    Ok(())
}
