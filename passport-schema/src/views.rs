//! Read-only views for the node's JSON API and the CLI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bytes::Bytes32;
use crate::criteria::{self, CriterionResult};
use crate::error::Error;
use crate::events::{Composition, InputUse, MaterialKind, PassportIssue, SchemeRef, ServiceKind};
use crate::state::records::{
    CertificateRecord, Change, Creation, GradeRecord, HistoryItem, MaterialRecord, RevocationRecord,
};
use crate::state::{self, StateError, StateStore};

/// Derived recycled content, ppm of mass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecycledShare {
    /// Pre-consumer share.
    pub pre_consumer_ppm: u32,
    /// Post-consumer share.
    pub post_consumer_ppm: u32,
    /// Pre + post.
    pub total_ppm: u32,
}

impl RecycledShare {
    fn of(n: &MaterialRecord) -> Self {
        Self {
            pre_consumer_ppm: n.recycled_pre_ppm,
            post_consumer_ppm: n.recycled_post_ppm,
            total_ppm: n.recycled_ppm(),
        }
    }
}

/// Any material: a lot or a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotView {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: MaterialKind,
    /// Owner.
    pub owner: Bytes32,
    /// Producer.
    pub producer: Bytes32,
    /// Mass at creation.
    pub mass_g: u64,
    /// Remaining mass.
    pub remaining_g: u64,
    /// Derived recycled share.
    pub recycled: RecycledShare,
    /// Derived primary origin shares.
    pub origin_ppm: BTreeMap<String, u32>,
    /// Latest composition.
    pub composition: Option<Composition>,
    /// The most copper it can hold, ppm, from what went into it (`None`:
    /// no bound below 100 %).
    pub cu_max_ppm: Option<u32>,
    /// How it was created.
    pub creation: Creation,
    /// Creating entry.
    pub created_index: u64,
    /// Consumed inputs.
    pub inputs: Vec<InputUse>,
    /// The grade that applies (the only grading's, the most conservative
    /// while gradings dispute it, or the settled one).
    pub grade: Option<GradeRecord>,
    /// True while two gradings or more dispute the grade and no settlement
    /// has picked one.
    pub grade_disputed: bool,
    /// True for a receipt from an unregistered supplier, which rests on the
    /// receiver's declaration and evidence alone (no co-signed dispatch).
    pub declared: bool,
    /// Passport, if a product with a passport.
    pub has_passport: bool,
    /// End-of-life entry.
    pub end_of_life_index: Option<u64>,
    /// Certificates on it.
    pub certificates: Vec<Uuid>,
    /// Every entry that created or changed it.
    pub history: Vec<HistoryItem>,
    /// Grams of the remaining mass already claimed by certificates (issued
    /// on it or inherited with consumed inputs); not claimable again.
    pub claimed_g: u64,
}

/// A lot (any material) by id.
pub fn lot_view(state: &impl StateStore, id: &Uuid) -> Result<LotView, Error> {
    let n = state::material(state, id)?.ok_or(Error::NotFound {
        what: "lot",
        id: *id,
    })?;
    Ok(LotView {
        id: n.id,
        kind: n.kind,
        owner: n.owner,
        producer: n.producer,
        mass_g: n.mass_g,
        remaining_g: n.remaining_g,
        recycled: RecycledShare::of(&n),
        origin_ppm: n.origin_ppm.clone(),
        composition: n.composition.clone(),
        cu_max_ppm: n.cu_max_ppm,
        creation: n.creation.clone(),
        created_index: n.created_index,
        inputs: n.parents.clone(),
        grade: n.grade.clone(),
        grade_disputed: state::lot_grading(state, id)?.disputed(),
        declared: matches!(n.creation, Creation::ScrapReceipt { declared: true, .. }),
        has_passport: n.passport.is_some(),
        end_of_life_index: n.end_of_life,
        certificates: n.certificates.clone(),
        claimed_g: n.claimed_g,
        history: n.history,
    })
}

/// Where a passport's product is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassportStatus {
    /// In service.
    InService,
    /// Decommissioned, not yet declared end of life.
    Decommissioned,
    /// Declared end of life.
    EndOfLife,
    /// Consumed (recycled as scrap or disassembled).
    Consumed,
}

/// A certificate's id and status, as listed on a passport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    /// Id.
    pub id: Uuid,
    /// Status.
    pub status: CertificateStatus,
}

/// A product passport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassportView {
    /// Product id.
    pub id: Uuid,
    /// Declared identity and product data.
    pub passport: PassportIssue,
    /// Life status.
    pub status: PassportStatus,
    /// Current owner.
    pub owner: Bytes32,
    /// Manufacturer (creator of the product).
    pub manufacturer: Bytes32,
    /// Mass.
    pub mass_g: u64,
    /// Derived recycled share.
    pub recycled: RecycledShare,
    /// Derived primary origin shares.
    pub origin_ppm: BTreeMap<String, u32>,
    /// Service history.
    pub service_history: Vec<HistoryItem>,
    /// Ownership history.
    pub ownership_history: Vec<HistoryItem>,
    /// End-of-life entry.
    pub end_of_life_index: Option<u64>,
    /// Certificates.
    pub certificates: Vec<CertificateSummary>,
    /// Every entry that created or changed it.
    pub evidence: Vec<u64>,
}

/// A product passport by product id.
pub fn passport_view(state: &impl StateStore, id: &Uuid) -> Result<PassportView, Error> {
    let n = state::material(state, id)?.ok_or(Error::NotFound {
        what: "passport",
        id: *id,
    })?;
    let passport = n.passport.clone().ok_or(Error::NotFound {
        what: "passport",
        id: *id,
    })?;
    let decommissioned = n.history.iter().any(|h| {
        matches!(
            h.change,
            Change::Service {
                kind: ServiceKind::Decommission,
                ..
            }
        )
    });
    let status = if n.remaining_g == 0 {
        PassportStatus::Consumed
    } else if n.end_of_life.is_some() {
        PassportStatus::EndOfLife
    } else if decommissioned {
        PassportStatus::Decommissioned
    } else {
        PassportStatus::InService
    };
    let mut certificates = Vec::with_capacity(n.certificates.len());
    for c in &n.certificates {
        if let Some(rec) = state::certificate(state, c)? {
            certificates.push(CertificateSummary {
                id: *c,
                status: status_of(state, &rec)?.0,
            });
        }
    }
    Ok(PassportView {
        id: n.id,
        passport,
        status,
        owner: n.owner,
        manufacturer: n.producer,
        mass_g: n.mass_g,
        recycled: RecycledShare::of(&n),
        origin_ppm: n.origin_ppm.clone(),
        service_history: n
            .history
            .iter()
            .filter(|h| matches!(h.change, Change::Service { .. }))
            .cloned()
            .collect(),
        ownership_history: n
            .history
            .iter()
            .filter(|h| matches!(h.change, Change::Created | Change::Transferred { .. }))
            .cloned()
            .collect(),
        end_of_life_index: n.end_of_life,
        certificates,
        evidence: n.history.iter().map(|h| h.index).collect(),
    })
}

/// A certificate's status: its latest entry decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// Issued, not revoked.
    Active,
    /// Revoked.
    Revoked,
    /// Not revoked, but its issuer's key is revoked: it no longer holds.
    IssuerRevoked,
}

/// A certificate's status and the entry that set it: its revocation, else
/// its issuer's key revocation, else its issuance.
fn status_of(
    state: &impl StateStore,
    c: &CertificateRecord,
) -> Result<(CertificateStatus, u64), StateError> {
    if let Some(r) = &c.revoked {
        return Ok((CertificateStatus::Revoked, r.index));
    }
    match state::actor(state, &c.issuer.0)?.and_then(|a| a.revoked) {
        Some(r) => Ok((CertificateStatus::IssuerRevoked, r.index)),
        None => Ok((CertificateStatus::Active, c.issued_index)),
    }
}

/// A certificate with every criterion recomputed on the current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    /// Id.
    pub id: Uuid,
    /// Scheme.
    pub scheme: SchemeRef,
    /// Scheme name.
    pub scheme_name: String,
    /// Subject material.
    pub subject: Uuid,
    /// Claimed share.
    pub claimed_recycled_share_ppm: u32,
    /// Claimed mass.
    pub claimed_mass_g: u64,
    /// Derived share of the subject now.
    pub derived_recycled_share_ppm: u32,
    /// Issuer.
    pub issuer: Bytes32,
    /// Issuance entry.
    pub issued_index: u64,
    /// Status.
    pub status: CertificateStatus,
    /// The entry that set the status.
    pub status_index: u64,
    /// Revocation details.
    pub revocation: Option<RevocationRecord>,
    /// Criteria recomputed now.
    pub criteria: Vec<CriterionResult>,
    /// Whether every recomputed criterion holds.
    pub all_criteria_hold: bool,
}

/// A certificate by id, with recomputed criteria.
pub fn certificate_view(state: &impl StateStore, id: &Uuid) -> Result<CertificateView, Error> {
    let c = state::certificate(state, id)?.ok_or(Error::NotFound {
        what: "certificate",
        id: *id,
    })?;
    let scheme = state::scheme(state, &c.scheme.id, c.scheme.version)?.ok_or(Error::NotFound {
        what: "scheme",
        id: c.scheme.id,
    })?;
    let subject = state::material(state, &c.subject)?.ok_or(Error::NotFound {
        what: "material",
        id: c.subject,
    })?;
    let criteria = criteria::evaluate(
        state,
        &scheme.scheme,
        &subject,
        c.claimed_recycled_share_ppm,
        c.claimed_mass_g,
        None,
    )?;
    let (status, status_index) = status_of(state, &c)?;
    Ok(CertificateView {
        id: c.id,
        scheme: c.scheme,
        scheme_name: scheme.scheme.name,
        subject: c.subject,
        claimed_recycled_share_ppm: c.claimed_recycled_share_ppm,
        claimed_mass_g: c.claimed_mass_g,
        derived_recycled_share_ppm: subject.recycled_ppm(),
        issuer: c.issuer,
        issued_index: c.issued_index,
        status,
        status_index,
        revocation: c.revoked,
        all_criteria_hold: criteria.iter().all(|r| r.pass),
        criteria,
    })
}
