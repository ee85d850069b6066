//! Where commands read and write: a local sled ledger (`--dir`) or a node
//! over HTTP (`--node`). Both implement [`Backend`] with the same codes and
//! messages, so a command gives the same result in either mode.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ledger::{ConsistencyProof, Entry, InclusionProof, SledStore, tiles::TileId};
use node::{PassportLedger, Receipt, keyfile::Permissions};
use passport_schema::{Event, EventBody, RuleSet, Scheme, decode_canonical};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{CliError, Result};

/// A read view of the ledger's derived state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `/v1/passports/{id}`.
    Passport,
    /// `/v1/lots/{id}`.
    Lot,
    /// `/v1/certificates/{id}`.
    Certificate,
    /// `/v1/contracts/{id}/audit`.
    ContractAudit,
}

/// What every command needs from a ledger.
pub trait Backend {
    /// Where this backend points, for messages.
    fn describe(&self) -> String;
    /// Checks and appends one signed entry.
    fn submit(&self, entry: &[u8]) -> Result<Receipt>;
    /// The latest signed checkpoint note.
    fn checkpoint(&self) -> Result<String>;
    /// An inclusion proof (at the current size if `tree_size` is `None`).
    fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof>;
    /// A consistency proof (to the current size if `new` is `None`).
    fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof>;
    /// The raw bytes of one entry.
    fn entry(&self, index: u64) -> Result<Vec<u8>>;
    /// Entries `start..end` (unverified here; `log verify` verifies).
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>>;
    /// The current tree size.
    fn tree_size(&self) -> Result<u64>;
    /// A view as JSON, exactly as the node serves it.
    fn view(&self, view: View, id: &Uuid) -> Result<Value>;
    /// A certificate's evidence bundle (CBOR).
    fn bundle(&self, id: &Uuid) -> Result<Vec<u8>>;
    /// A published rule set version (the latest if `version` is `None`).
    fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSet> {
        let found = scan_latest(self, &|e: &Event| match &e.body {
            EventBody::PublishRuleSet(r)
                if r.id == *id && version.is_none_or(|v| v == r.version) =>
            {
                Some(r.clone())
            }
            _ => None,
        })?;
        found.ok_or_else(|| unknown("rule set", id, version))
    }
    /// A published scheme version (the latest if `version` is `None`).
    fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<Scheme> {
        let found = scan_latest(self, &|e: &Event| match &e.body {
            EventBody::PublishScheme(s)
                if s.id == *id && version.is_none_or(|v| v == s.version) =>
            {
                Some(s.clone())
            }
            _ => None,
        })?;
        found.ok_or_else(|| unknown("scheme", id, version))
    }
}

fn unknown(what: &str, id: &Uuid, version: Option<u32>) -> CliError {
    let v = version.map(|v| format!(" version {v}")).unwrap_or_default();
    CliError::refused(
        "not_found",
        format!("not found: no {what} {id}{v} in the ledger"),
    )
}

/// Scans the log from the newest entry back for the first event `f` accepts.
pub fn scan_latest<T, B: Backend + ?Sized>(
    b: &B,
    f: &dyn Fn(&Event) -> Option<T>,
) -> Result<Option<T>> {
    let size = b.tree_size()?;
    let mut end = size;
    while end > 0 {
        let start = end.saturating_sub(256);
        let entries = b.entries(start, end)?;
        for bytes in entries.iter().rev() {
            let Ok(entry) = Entry::from_bytes(bytes) else {
                continue;
            };
            let Ok(event) = decode_canonical(entry.payload()) else {
                continue;
            };
            if let Some(t) = f(&event) {
                return Ok(Some(t));
            }
        }
        end = start;
    }
    Ok(None)
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
        if !dir.join("store").exists() {
            return Err(CliError::usage(format!(
                "{} holds no ledger; create one with `cupass --dir {} init --origin NAME`, \
                 or use --node URL",
                dir.display(),
                dir.display()
            )));
        }
        let ledger =
            node::open(dir, &node::Config::default(), Permissions::Warn).map_err(|e| match e {
                // Only a store that disagrees with its signed checkpoint is
                // a refusal (exit 1); other configuration problems (an
                // unreadable key file, ...) are usage errors (exit 2).
                node::Error::Config(m) if m.contains("does not match its signed checkpoint") => {
                    CliError::refused("store_mismatch", m)
                }
                other => CliError::from(other),
            })?;
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
    fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        let log = self.ledger.log();
        let size = match tree_size {
            Some(s) => s,
            None => log.size()?,
        };
        Ok(log.inclusion_proof(index, size)?)
    }
    fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof> {
        let log = self.ledger.log();
        let new = match new {
            Some(n) => n,
            None => log.size()?,
        };
        Ok(log.consistency_proof(old, new)?)
    }
    fn entry(&self, index: u64) -> Result<Vec<u8>> {
        Ok(self.ledger.log().entry(index)?)
    }
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        use ledger::Store;
        Ok(self.ledger.log().store().entries(start, end)?)
    }
    fn tree_size(&self) -> Result<u64> {
        Ok(self.ledger.log().size()?)
    }
    fn view(&self, view: View, id: &Uuid) -> Result<Value> {
        let st = self.ledger.state();
        let v = match view {
            View::Passport => serde_json::to_value(passport_schema::passport_view(&st, id)?),
            View::Lot => serde_json::to_value(passport_schema::lot_view(&st, id)?),
            View::Certificate => serde_json::to_value(passport_schema::certificate_view(&st, id)?),
            View::ContractAudit => serde_json::to_value(passport_schema::contract_audit(&st, id)?),
        };
        v.map_err(|e| CliError::failed(format!("encoding view: {e}")))
    }
    fn bundle(&self, id: &Uuid) -> Result<Vec<u8>> {
        // As the node does: a bundle of nothing is "not found", not an empty file.
        passport_schema::certificate_view(&self.ledger.state(), id)?;
        Ok(self.ledger.bundle(id)?.to_cbor()?)
    }
    fn rule_set(&self, id: &Uuid, version: Option<u32>) -> Result<RuleSet> {
        let st = self.ledger.state();
        let v = match version {
            Some(v) => Some(v),
            None => passport_schema::state::rule_set_latest(&st, id)
                .map_err(node::Error::from)?
                .map(|l| l.version),
        };
        let rec = match v {
            Some(v) => passport_schema::state::rule_set(&st, id, v).map_err(node::Error::from)?,
            None => None,
        };
        rec.map(|r| r.rule_set)
            .ok_or_else(|| unknown("rule set", id, version))
    }
    fn scheme(&self, id: &Uuid, version: Option<u32>) -> Result<Scheme> {
        let st = self.ledger.state();
        let v = match version {
            Some(v) => Some(v),
            None => passport_schema::state::scheme_latest(&st, id)
                .map_err(node::Error::from)?
                .map(|l| l.version),
        };
        let rec = match v {
            Some(v) => passport_schema::state::scheme(&st, id, v).map_err(node::Error::from)?,
            None => None,
        };
        rec.map(|r| r.scheme)
            .ok_or_else(|| unknown("scheme", id, version))
    }
}

/// A node over HTTP.
pub struct Http {
    base: String,
    client: reqwest::blocking::Client,
}

impl Http {
    /// A client for the node at `url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(url: &str) -> Result<Self> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CliError::usage(format!(
                "--node {url:?}: give a URL such as http://127.0.0.1:8080"
            )));
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| CliError::failed(format!("HTTP client: {e}")))?;
        Ok(Http {
            base: url.trim_end_matches('/').to_string(),
            client,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send(&self, req: reqwest::blocking::RequestBuilder) -> Result<reqwest::blocking::Response> {
        let resp = req.send().map_err(|e| {
            CliError::failed(format!("cannot reach the node at {}: {e}", self.base))
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        match serde_json::from_str::<node::api::ErrorBody>(&text) {
            Ok(b) => Err(CliError::refused(b.error, b.message)),
            Err(_) => Err(CliError::failed(format!(
                "node answered {status}: {}",
                text.trim()
            ))),
        }
    }

    fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self.send(self.client.get(self.url(path)))?;
        resp.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| CliError::failed(format!("reading {path}: {e}")))
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let bytes = self.get_bytes(path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CliError::failed(format!("node sent bad JSON for {path}: {e}")))
    }

    /// A tile or entry bundle by its C2SP path (`tile/0/001.p/5`).
    pub fn tile(&self, path: &str) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/{path}"))
    }
}

impl Backend for Http {
    fn describe(&self) -> String {
        format!("node {}", self.base)
    }
    fn submit(&self, entry: &[u8]) -> Result<Receipt> {
        let resp = self.send(
            self.client
                .post(self.url("/v1/entries"))
                .header("content-type", "application/cose")
                .body(entry.to_vec()),
        )?;
        resp.json()
            .map_err(|e| CliError::failed(format!("node sent a bad receipt: {e}")))
    }
    fn checkpoint(&self) -> Result<String> {
        let b = self.get_bytes("/checkpoint")?;
        String::from_utf8(b).map_err(|_| CliError::failed("checkpoint is not UTF-8"))
    }
    fn inclusion_proof(&self, index: u64, tree_size: Option<u64>) -> Result<InclusionProof> {
        let q = match tree_size {
            Some(s) => format!("/v1/proofs/inclusion?index={index}&tree_size={s}"),
            None => format!("/v1/proofs/inclusion?index={index}"),
        };
        self.get_json(&q)
    }
    fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<ConsistencyProof> {
        let q = match new {
            Some(n) => format!("/v1/proofs/consistency?old={old}&new={n}"),
            None => format!("/v1/proofs/consistency?old={old}"),
        };
        self.get_json(&q)
    }
    fn entry(&self, index: u64) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/v1/entries/{index}"))
    }
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let size = self.tree_size()?;
        let end = end.min(size);
        let mut out = Vec::new();
        let mut i = start;
        while i < end {
            let n = i / 256;
            let width = TileId::width_at(0, n, size).unwrap_or(0);
            let id = TileId {
                level: 0,
                index: n,
                width,
            };
            let bundle = self.tile(&id.path(ledger::tiles::TileKind::Entries))?;
            let entries = ledger::tiles::parse_entry_bundle(&bundle)
                .map_err(|e| CliError::failed(format!("entry bundle {n}: {e}")))?;
            let first = n * 256;
            for (j, e) in entries.into_iter().enumerate() {
                let idx = first + j as u64;
                if idx >= i && idx < end {
                    out.push(e);
                }
            }
            i = first + 256;
        }
        Ok(out)
    }
    fn tree_size(&self) -> Result<u64> {
        let note = self.checkpoint()?;
        let body = note.split("\n\n").next().unwrap_or_default();
        let cp = ledger::Checkpoint::parse_body(&format!("{body}\n"))
            .map_err(|e| CliError::failed(format!("node checkpoint: {e}")))?;
        Ok(cp.size)
    }
    fn view(&self, view: View, id: &Uuid) -> Result<Value> {
        let path = match view {
            View::Passport => format!("/v1/passports/{id}"),
            View::Lot => format!("/v1/lots/{id}"),
            View::Certificate => format!("/v1/certificates/{id}"),
            View::ContractAudit => format!("/v1/contracts/{id}/audit"),
        };
        self.get_json(&path)
    }
    fn bundle(&self, id: &Uuid) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/v1/certificates/{id}/bundle"))
    }
}
