//! Schemes and certificates.

use std::collections::BTreeSet;

use super::scrap::check_version;
use super::validate::{element, invalid, ppm, text};
use super::{Cx, Tx, claim_id, load_material, put_material};
use crate::criteria;
use crate::error::{ApplyError, RuleViolation};
use crate::events::{CertificateIssue, CertificateRevocation, Scheme};
use crate::roles::Role;
use crate::state::records::{
    BrandRecord, CertificateRecord, Change, IdKind, LatestVersion, RevocationRecord, SchemeRecord,
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
    check_version(
        tx,
        cx,
        "scheme",
        &e.id,
        e.version,
        latest.clone(),
        IdKind::Scheme,
    )?;
    // The first publisher of a brand holds it.
    let brand = normalise_brand(&e.name);
    match state::brand(tx, &brand)? {
        Some(b) if b.holder != cx.signer => {
            return Err(RuleViolation::BrandHeld {
                brand,
                holder: b.holder,
                scheme: b.scheme,
                index: b.index,
            }
            .into());
        }
        Some(_) => {}
        None => tx.put(
            keys::brand(&brand),
            &BrandRecord {
                brand: brand.clone(),
                holder: cx.signer,
                scheme: e.id,
                index: cx.index,
            },
        )?,
    }
    // The previous latest version is superseded by this one.
    if let Some(l) = latest
        && let Some(mut prev) = state::scheme(tx, &e.id, l.version)?
    {
        prev.superseded_by = Some(e.version);
        tx.put(keys::scheme(&e.id, l.version), &prev)?;
    }
    tx.put(
        keys::scheme(&e.id, e.version),
        &SchemeRecord {
            scheme: e.clone(),
            publisher: cx.signer,
            index: cx.index,
            published_ms: cx.log_ms,
            superseded_by: None,
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

/// A certification brand: the scheme's name, trimmed and case-folded.
pub(crate) fn normalise_brand(name: &str) -> String {
    name.trim().to_lowercase()
}

const DAY_MS: i64 = 86_400_000;

pub(super) fn issue<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &CertificateIssue,
) -> Result<(), ApplyError> {
    ppm("claimed_recycled_share_ppm", e.claimed_recycled_share_ppm)?;
    if e.claimed_mass_g == 0 {
        return Err(RuleViolation::ZeroMass {
            field: "claimed_mass_g",
        }
        .into());
    }
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
    // Only the latest version, or the previous one within the transition
    // window of the version that superseded it (log time).
    if let Some(v) = scheme.superseded_by
        && let Some(newer) = state::scheme(tx, &e.scheme.id, v)?
    {
        let window_ms = i64::from(newer.scheme.transition_days).saturating_mul(DAY_MS);
        if cx.log_ms.saturating_sub(newer.published_ms) > window_ms {
            return Err(RuleViolation::SchemeVersionSuperseded {
                id: e.scheme.id,
                version: e.scheme.version,
                newer: v,
                newer_published_ms: newer.published_ms,
                transition_days: newer.scheme.transition_days,
                log_ms: cx.log_ms,
            }
            .into());
        }
    }
    let mut subject = load_material(tx, &e.subject)?;
    if subject.remaining_g == 0 {
        return Err(RuleViolation::MaterialExhausted {
            material: e.subject,
        }
        .into());
    }
    claim_id(tx, &e.id, IdKind::Certificate, cx.index)?;
    // One active certificate per subject and brand (any scheme id or
    // version under it); a revoked one does not block re-certification.
    let brand = normalise_brand(&scheme.scheme.name);
    for id in &subject.certificates {
        let Some(c) = state::certificate(tx, id)? else {
            continue;
        };
        if c.revoked.is_some() {
            continue;
        }
        let same_brand = match state::scheme(tx, &c.scheme.id, c.scheme.version)? {
            Some(s) => normalise_brand(&s.scheme.name) == brand,
            None => c.scheme.id == e.scheme.id,
        };
        if same_brand || c.scheme.id == e.scheme.id {
            return Err(RuleViolation::AlreadyCertified {
                subject: e.subject,
                certificate: c.id,
                index: c.issued_index,
            }
            .into());
        }
    }
    let results = criteria::evaluate(
        tx,
        &scheme.scheme,
        &subject,
        e.claimed_recycled_share_ppm,
        e.claimed_mass_g,
        Some(subject.unclaimed_g()),
    )?;
    if let Some(f) = results.iter().find(|r| !r.pass) {
        return Err(RuleViolation::CertificateCriterionFailed {
            criterion: f.criterion,
            detail: f.detail.clone(),
        }
        .into());
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
    // Claim units: the claimed grams are now taken (the criterion checked
    // claimed <= remaining - already claimed).
    subject.claimed_g = subject.claimed_g.saturating_add(e.claimed_mass_g);
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
    // The scheme's owner (its publisher, who issued it) or an operator.
    let owner = state::scheme_latest(tx, &c.scheme.id)?.map_or(c.issuer, |l| l.publisher);
    if cx.signer != owner && !cx.actor.roles.contains(&Role::Operator) {
        return Err(RuleViolation::NotCertificateIssuer {
            id: e.certificate,
            issuer: owner,
        }
        .into());
    }
    text("reason", &e.reason)?;
    // Release the claim only where its grams still sit on the subject;
    // grams that moved on with consumed mass stay claimed. The subject's
    // other active certificates are taken to still hold all their grams
    // there (their claims may postdate the consumption), so the revoked
    // certificate's grams count as consumed first.
    if let Some(mut subject) = state::material(tx, &c.subject)? {
        let mut others: u64 = 0;
        for id in &subject.certificates {
            if *id == c.id {
                continue;
            }
            if let Some(o) = state::certificate(tx, id)?
                && o.revoked.is_none()
            {
                others = others.saturating_add(o.claimed_mass_g);
            }
        }
        let released = subject
            .claimed_g
            .saturating_sub(others)
            .min(c.claimed_mass_g);
        if released > 0 {
            subject.claimed_g -= released;
            put_material(tx, &subject)?;
        }
    }
    c.revoked = Some(RevocationRecord {
        index: cx.index,
        by: cx.signer,
        reason: e.reason.clone(),
    });
    tx.put(keys::certificate(&e.certificate), &c)?;
    Ok(())
}
