//! Reads of a ledger that the node serves and local mode answers alike:
//! views, published rule sets and schemes, proofs, entries.

use ledger::{ConsistencyProof, Entry, InclusionProof, Store};
use passport_schema::{
    CertificateView, ContractAudit, Event, LotView, PassportView, decode_canonical,
    state::records::{RuleSetRecord, SchemeRecord},
};
use uuid::Uuid;

use crate::pipeline::PassportLedger;
use crate::{Error, Result};

impl<S: Store> PassportLedger<S> {
    /// The passport of a product.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id; state errors otherwise.
    pub fn passport(&self, id: &Uuid) -> Result<PassportView> {
        Ok(passport_schema::passport_view(&self.state(), id)?)
    }

    /// The view of a lot (any quantity of material).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id; state errors otherwise.
    pub fn lot(&self, id: &Uuid) -> Result<LotView> {
        Ok(passport_schema::lot_view(&self.state(), id)?)
    }

    /// A certificate with its status and recomputed criteria.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id; state errors otherwise.
    pub fn certificate(&self, id: &Uuid) -> Result<CertificateView> {
        Ok(passport_schema::certificate_view(&self.state(), id)?)
    }

    /// The audit of a circular contract.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id; state errors otherwise.
    pub fn contract_audit(&self, id: &Uuid) -> Result<ContractAudit> {
        Ok(passport_schema::contract_audit(&self.state(), id)?)
    }

    /// A published rule set version, the latest if `version` is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no such rule set (version) was published.
    pub fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSetRecord> {
        let st = self.state();
        let version = match version {
            Some(v) => Some(v),
            None => passport_schema::state::rule_set_latest(&st, id)?.map(|l| l.version),
        };
        let record = match version {
            Some(v) => passport_schema::state::rule_set(&st, id, v)?,
            None => None,
        };
        record.ok_or_else(|| not_published("rule set", id, version))
    }

    /// A published scheme version, the latest if `version` is `None`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no such scheme (version) was published.
    pub fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<SchemeRecord> {
        let st = self.state();
        let version = match version {
            Some(v) => Some(v),
            None => passport_schema::state::scheme_latest(&st, id)?.map(|l| l.version),
        };
        let record = match version {
            Some(v) => passport_schema::state::scheme(&st, id, v)?,
            None => None,
        };
        record.ok_or_else(|| not_published("scheme", id, version))
    }

    /// An inclusion proof against the tree of `tree_size` (now, if `None`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an index or size beyond the tree.
    pub fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        Ok(self.log().inclusion_proof_at(index, tree_size)?)
    }

    /// A consistency proof from `old` to `new` (now, if `None`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for sizes beyond the tree or out of order.
    pub fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof> {
        Ok(self.log().consistency_proof_to(old, new)?)
    }

    /// The decoded event at `index`, with its signer's kid.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] beyond the tree; decoding errors for a damaged store.
    pub fn event(&self, index: u64) -> Result<(Event, ledger::hash::Hash)> {
        let bytes = self.log().entry(index)?;
        let entry = Entry::from_bytes(&bytes).map_err(Error::BadEntry)?;
        let event = decode_canonical(entry.payload()).map_err(Error::BadPayload)?;
        Ok((event, *entry.kid()))
    }
}

fn not_published(what: &str, id: &Uuid, version: Option<u32>) -> Error {
    let v = version.map(|v| format!(" version {v}")).unwrap_or_default();
    Error::NotFound(format!("no {what} {id}{v} in the ledger"))
}
