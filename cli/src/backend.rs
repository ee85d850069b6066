//! Where commands read and write: a local sled ledger (`--dir`) or a node over HTTP (`--node`).
//!
//! Both implement [`Backend`] with the same typed answers, codes and
//! messages, so a command gives the same result in either mode.

use std::path::{Path, PathBuf};

use client::http::NodeClient;
use client::{PassportLedger, Receipt, keyfile::Permissions};
use ledger::{ConsistencyProof, InclusionProof, SledStore};
use passport_schema::{CertificateView, ContractAudit, LotView, PassportView, RuleSet, Scheme};
use uuid::Uuid;

use crate::error::{CliError, Result};

/// What every command needs from a ledger.
pub trait Backend {
    /// Where this backend points, for messages.
    fn describe(&self) -> String;
    /// Checks and appends one signed entry.
    fn submit(&self, entry: &[u8]) -> Result<Receipt>;
    /// The latest signed checkpoint note.
    fn checkpoint(&self) -> Result<String>;
    /// The log's origin, which every entry signed for it names in its
    /// `cupass-log` header: the first line of its checkpoint.
    fn origin(&self) -> Result<String> {
        Ok(client::checkpoint_origin(&self.checkpoint()?)?)
    }
    /// An inclusion proof (at the current size if `tree_size` is `None`).
    fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof>;
    /// A consistency proof (to the current size if `new` is `None`).
    fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof>;
    /// The raw bytes of one entry.
    fn entry(&self, index: u64) -> Result<Vec<u8>>;
    /// The passport of a product.
    fn passport(&self, id: &Uuid) -> Result<PassportView>;
    /// The view of a lot.
    fn lot(&self, id: &Uuid) -> Result<LotView>;
    /// A certificate.
    fn certificate(&self, id: &Uuid) -> Result<CertificateView>;
    /// A contract's audit.
    fn contract_audit(&self, id: &Uuid) -> Result<ContractAudit>;
    /// A certificate's evidence bundle (CBOR).
    fn bundle(&self, id: &Uuid) -> Result<Vec<u8>>;
    /// The current status of a certificate, key or material with its proof (CBOR).
    fn status(&self, key: &passport_schema::status::StatusKey) -> Result<Vec<u8>>;
    /// A published rule set version (the latest if `version` is `None`).
    fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSet>;
    /// A published scheme version (the latest if `version` is `None`).
    fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<Scheme>;
}

/// A local ledger directory (embedded sled, no server).
pub struct Local {
    dir: PathBuf,
    ledger: PassportLedger<SledStore>,
}

impl Local {
    /// Opens `dir` (made by `cupass init` or `cupass-node init`), with the
    /// full tamper check.
    pub fn open(dir: &Path) -> Result<Self> {
        if !client::DataDir(dir.to_path_buf()).holds_ledger() {
            return Err(CliError::usage(format!(
                "{} holds no ledger; create one with `cupass --dir {} init --origin NAME`, \
                 or use --node URL",
                dir.display(),
                dir.display()
            )));
        }
        let ledger = client::open(dir, &client::Options::default(), Permissions::Warn)?;
        Ok(Local {
            dir: dir.to_path_buf(),
            ledger,
        })
    }

    /// The ledger underneath (the demo commits batches directly).
    pub fn ledger(&self) -> &PassportLedger<SledStore> {
        &self.ledger
    }
}

impl Backend for Local {
    fn describe(&self) -> String {
        format!("local ledger {}", self.dir.display())
    }
    fn submit(&self, entry: &[u8]) -> Result<Receipt> {
        Ok(self.ledger.submit(entry)?)
    }
    fn checkpoint(&self) -> Result<String> {
        Ok(self.ledger.log().checkpoint()?)
    }
    fn origin(&self) -> Result<String> {
        Ok(self.ledger.origin()?)
    }
    fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        Ok(self.ledger.inclusion_proof(index, tree_size)?)
    }
    fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof> {
        Ok(self.ledger.consistency_proof(old, new)?)
    }
    fn entry(&self, index: u64) -> Result<Vec<u8>> {
        Ok(self.ledger.log().entry(index)?)
    }
    fn passport(&self, id: &Uuid) -> Result<PassportView> {
        Ok(self.ledger.passport(id)?)
    }
    fn lot(&self, id: &Uuid) -> Result<LotView> {
        Ok(self.ledger.lot(id)?)
    }
    fn certificate(&self, id: &Uuid) -> Result<CertificateView> {
        Ok(self.ledger.certificate(id)?)
    }
    fn contract_audit(&self, id: &Uuid) -> Result<ContractAudit> {
        Ok(self.ledger.contract_audit(id)?)
    }
    fn bundle(&self, id: &Uuid) -> Result<Vec<u8>> {
        // As the node does: a bundle of nothing is "not found", not an empty file.
        self.ledger.certificate(id)?;
        Ok(self.ledger.bundle(id)?.to_cbor()?)
    }
    fn status(&self, key: &passport_schema::status::StatusKey) -> Result<Vec<u8>> {
        Ok(self.ledger.status_answer(key)?.to_cbor()?)
    }
    fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSet> {
        Ok(self.ledger.rule_set(id, version)?.rule_set)
    }
    fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<Scheme> {
        Ok(self.ledger.scheme(id, version)?.scheme)
    }
}

/// A node over HTTP.
pub struct Http(NodeClient);

impl Http {
    /// A client for the node at `url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(url: &str) -> Result<Self> {
        Ok(Http(NodeClient::new(url)?))
    }

    /// The typed client underneath.
    pub fn client(&self) -> &NodeClient {
        &self.0
    }
}

impl Backend for Http {
    fn describe(&self) -> String {
        format!("node {}", self.0.base())
    }
    fn submit(&self, entry: &[u8]) -> Result<Receipt> {
        Ok(self.0.submit(entry)?)
    }
    fn checkpoint(&self) -> Result<String> {
        Ok(self.0.checkpoint()?)
    }
    fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        Ok(self.0.inclusion_proof(index, tree_size)?)
    }
    fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof> {
        Ok(self.0.consistency_proof(old, new)?)
    }
    fn entry(&self, index: u64) -> Result<Vec<u8>> {
        Ok(self.0.entry(index)?)
    }
    fn passport(&self, id: &Uuid) -> Result<PassportView> {
        Ok(self.0.passport(id)?)
    }
    fn lot(&self, id: &Uuid) -> Result<LotView> {
        Ok(self.0.lot(id)?)
    }
    fn certificate(&self, id: &Uuid) -> Result<CertificateView> {
        Ok(self.0.certificate(id)?)
    }
    fn contract_audit(&self, id: &Uuid) -> Result<ContractAudit> {
        Ok(self.0.contract_audit(id)?)
    }
    fn bundle(&self, id: &Uuid) -> Result<Vec<u8>> {
        Ok(self.0.bundle(id)?)
    }
    fn status(&self, key: &passport_schema::status::StatusKey) -> Result<Vec<u8>> {
        use passport_schema::status::StatusKey;
        let (kind, id) = match key {
            StatusKey::Certificate(id) => ("certificate", id.to_string()),
            StatusKey::Key(kid) => ("key", hex::encode(kid.0)),
            StatusKey::Material(id) => ("material", id.to_string()),
        };
        Ok(self.0.status(kind, &id)?)
    }
    fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSet> {
        Ok(self.0.rule_set(id, version)?.rule_set)
    }
    fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<Scheme> {
        Ok(self.0.scheme(id, version)?.scheme)
    }
}
