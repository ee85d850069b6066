//! A typed, blocking HTTP client for a cupass node: every read the node
//! serves, decoded into the same types the node encodes.

use std::time::Duration;

use ledger::{
    Checkpoint, ConsistencyProof, InclusionProof,
    tiles::{TILE_WIDTH, TileId, TileKind},
};
use passport_schema::{
    CertificateView, ContractAudit, LotView, PassportView,
    state::records::{RuleSetRecord, SchemeRecord},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::Receipt;
use crate::wire::{EntryJson, ErrorBody};

/// The largest response body read (an evidence bundle of a long provenance).
const BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// Why a request to a node did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL is not an `http://` or `https://` URL.
    #[error("{0:?} is not a node URL: give one such as http://127.0.0.1:8080")]
    BadUrl(String),
    /// The node could not be reached: refused, unresolvable, timed out.
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable {
        /// The node's base URL.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The node refused the request, with its JSON error body.
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The node's error code.
        code: String,
        /// The node's message.
        message: String,
    },
    /// The node sent something this client cannot read.
    #[error("{what}: {reason}")]
    BadResponse {
        /// Which request.
        what: String,
        /// What was wrong with the answer.
        reason: String,
    },
}

/// Shorthand for results of this module.
pub type Result<T, E = HttpError> = std::result::Result<T, E>;

/// A client for the node at one base URL.
pub struct NodeClient {
    base: String,
    agent: ureq::Agent,
}

impl NodeClient {
    /// A client for the node at `url` (e.g. `http://127.0.0.1:8080`).
    ///
    /// # Errors
    ///
    /// [`HttpError::BadUrl`] for anything but an `http(s)://` URL.
    pub fn new(url: &str) -> Result<Self> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(HttpError::BadUrl(url.to_string()));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(NodeClient {
            base: url.trim_end_matches('/').to_string(),
            agent,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn read(&self, what: &str, resp: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>> {
        let status = resp.status().as_u16();
        let mut resp = resp;
        let body = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(|e| self.transport(e))?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => Err(HttpError::Refused {
                status,
                code: b.error,
                message: b.message,
            }),
            Err(_) => Err(HttpError::BadResponse {
                what: what.to_string(),
                reason: format!(
                    "the node answered {status}: {}",
                    String::from_utf8_lossy(&body).trim()
                ),
            }),
        }
    }

    fn transport(&self, e: ureq::Error) -> HttpError {
        HttpError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        }
    }

    /// GET a path, as bytes.
    fn get(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .map_err(|e| self.transport(e))?;
        self.read(path, resp)
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let bytes = self.get(path)?;
        serde_json::from_slice(&bytes).map_err(|e| HttpError::BadResponse {
            what: path.to_string(),
            reason: format!("the node sent JSON this client cannot read: {e}"),
        })
    }

    /// Submits one signed entry (`POST /v1/entries`).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] with the node's code for a refused entry.
    pub fn submit(&self, entry: &[u8]) -> Result<Receipt> {
        let resp = self
            .agent
            .post(format!("{}/v1/entries", self.base))
            .header("content-type", "application/cose")
            .send(entry)
            .map_err(|e| self.transport(e))?;
        let bytes = self.read("/v1/entries", resp)?;
        serde_json::from_slice(&bytes).map_err(|e| HttpError::BadResponse {
            what: "/v1/entries".into(),
            reason: format!("the node sent a receipt this client cannot read: {e}"),
        })
    }

    /// The latest signed checkpoint note.
    ///
    /// # Errors
    ///
    /// Transport errors, or a checkpoint that is not UTF-8.
    pub fn checkpoint(&self) -> Result<String> {
        let bytes = self.get("/checkpoint")?;
        String::from_utf8(bytes).map_err(|_| HttpError::BadResponse {
            what: "/checkpoint".into(),
            reason: "the checkpoint is not UTF-8".into(),
        })
    }

    /// The tree size of the latest checkpoint (its signature unchecked).
    ///
    /// # Errors
    ///
    /// Transport errors, or a checkpoint that does not parse.
    pub fn tree_size(&self) -> Result<u64> {
        let note = self.checkpoint()?;
        Checkpoint::parse_note_unverified(&note)
            .map(|cp| cp.size)
            .map_err(|e| HttpError::BadResponse {
                what: "/checkpoint".into(),
                reason: e.to_string(),
            })
    }

    /// An inclusion proof (at the current size if `tree_size` is `None`).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) beyond the tree.
    pub fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        match tree_size {
            Some(s) => self.get_json(&format!("/v1/proofs/inclusion?index={index}&tree_size={s}")),
            None => self.get_json(&format!("/v1/proofs/inclusion?index={index}")),
        }
    }

    /// A consistency proof (to the current size if `new` is `None`).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for sizes beyond the tree.
    pub fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof> {
        match new {
            Some(n) => self.get_json(&format!("/v1/proofs/consistency?old={old}&new={n}")),
            None => self.get_json(&format!("/v1/proofs/consistency?old={old}")),
        }
    }

    /// The raw bytes of one entry.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) beyond the tree.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>> {
        self.get(&format!("/v1/entries/{index}"))
    }

    /// One entry, decoded by the node.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) beyond the tree.
    pub fn entry_json(&self, index: u64) -> Result<EntryJson> {
        self.get_json(&format!("/v1/entries/{index}/json"))
    }

    /// A tile or entry bundle by its C2SP path (`tile/0/001.p/5`).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for a tile beyond the tree.
    pub fn tile(&self, path: &str) -> Result<Vec<u8>> {
        self.get(&format!("/{path}"))
    }

    /// Entries `start..end`, read from the entry bundles of the current
    /// tree (unverified here: [`crate::audit`] verifies).
    ///
    /// # Errors
    ///
    /// Transport errors, or an entry bundle that does not parse.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let size = self.tree_size()?;
        let end = end.min(size);
        let mut out = Vec::new();
        let mut i = start;
        while let Some(id) = TileId::for_entry(i, size).filter(|_| i < end) {
            let bundle = self.tile(&id.path(TileKind::Entries))?;
            let entries =
                ledger::tiles::parse_entry_bundle(&bundle).map_err(|e| HttpError::BadResponse {
                    what: id.path(TileKind::Entries),
                    reason: e.to_string(),
                })?;
            let first = id.start();
            for (j, e) in (first..).zip(entries) {
                if j >= i && j < end {
                    out.push(e);
                }
            }
            i = first + TILE_WIDTH;
        }
        Ok(out)
    }

    /// The passport of a product.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for an unknown id.
    pub fn passport(&self, id: &Uuid) -> Result<PassportView> {
        self.get_json(&format!("/v1/passports/{id}"))
    }

    /// The view of a lot.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for an unknown id.
    pub fn lot(&self, id: &Uuid) -> Result<LotView> {
        self.get_json(&format!("/v1/lots/{id}"))
    }

    /// A certificate.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for an unknown id.
    pub fn certificate(&self, id: &Uuid) -> Result<CertificateView> {
        self.get_json(&format!("/v1/certificates/{id}"))
    }

    /// A contract's audit.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for an unknown id.
    pub fn contract_audit(&self, id: &Uuid) -> Result<ContractAudit> {
        self.get_json(&format!("/v1/contracts/{id}/audit"))
    }

    /// A certificate's evidence bundle (CBOR).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) for an unknown certificate.
    pub fn bundle(&self, id: &Uuid) -> Result<Vec<u8>> {
        self.get(&format!("/v1/certificates/{id}/bundle"))
    }

    /// The current status of a certificate, key or material with its proof
    /// (CBOR; check it with [`crate::status::StatusAnswer::verify`]).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] for a malformed kind or id.
    pub fn status(&self, kind: &str, id: &str) -> Result<Vec<u8>> {
        self.get(&format!("/v1/status/{kind}/{id}"))
    }

    /// A published rule set (the latest version if `version` is `None`).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) if it was never published.
    pub fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSetRecord> {
        match version {
            Some(v) => self.get_json(&format!("/v1/rulesets/{id}/{v}")),
            None => self.get_json(&format!("/v1/rulesets/{id}")),
        }
    }

    /// A published scheme (the latest version if `version` is `None`).
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`] (`not_found`) if it was never published.
    pub fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<SchemeRecord> {
        match version {
            Some(v) => self.get_json(&format!("/v1/schemes/{id}/{v}")),
            None => self.get_json(&format!("/v1/schemes/{id}")),
        }
    }
}
