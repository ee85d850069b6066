//! # cupass client library
//!
//! Everything a cupass program does short of serving HTTP: the copper
//! passport ledger as a library ([`PassportLedger`]: the ingest pipeline
//! over any [`ledger::Store`]), the one verifier that ingest, evidence
//! bundles and whole-log audits all run ([`verify`]), evidence bundles
//! ([`bundle`]), log audits from a directory or a node ([`audit`]),
//! signing and key files ([`keyfile`], [`sign_event`]), the data-directory
//! layout ([`DataDir`]), and a typed, blocking HTTP client for nodes
//! ([`http::NodeClient`]). It sits on `ledger` (the verifiable log) and
//! `passport-schema` (the copper rules), and may not depend on an async
//! runtime or an HTTP server: the CLI links it without tokio, axum or hyper.
//!
//! ## Protocol, as this crate runs it
//!
//! 1. A participant builds an [`passport_schema::Event`], and
//!    [`sign_event`] encodes it canonically and wraps it in a COSE_Sign1
//!    signed with the participant's Ed25519 key for one log: the log's
//!    origin is in the signed header, and any other log refuses the entry.
//! 2. The ledger checks it with [`PassportLedger::check`]: identical bytes
//!    already logged are a duplicate; otherwise the [`verify::Replayer`]
//!    decodes it, finds the signer's registered key, verifies the signature
//!    and applies the rules to the current state. Nothing is written.
//! 3. [`PassportLedger::commit_batch`] re-applies the rules to a batch in
//!    sequence order and commits the survivors with their state changes in
//!    one durable store commit, then answers each with a [`Receipt`]
//!    (index, inclusion proof, signed checkpoint).
//! 4. An auditor verifies offline: [`bundle::verify_bundle`] checks a
//!    certificate's evidence bundle and [`audit::verify_log`] a whole log.
//!    Both replay the entries through the same [`verify::Replayer`] and
//!    return one [`verify::Verdict`] that names the part and the entry that
//!    failed.

pub mod audit;
pub mod bundle;
mod error;
pub mod freshness;
pub mod http;
pub mod keyfile;
pub mod pipeline;
mod reads;
pub mod state;
pub mod status;
pub mod verify;
pub mod view_check;
pub mod wire;
pub mod witnessing;

use std::path::{Path, PathBuf};

pub use error::{Error, Result};
use ledger::{Entry, NoteSigner, OpenCheck, SledConfig, SledStore};
use passport_schema::{Event, EventBody, Genesis, RegisterActor};
pub use pipeline::{PassportLedger, Receipt, now_ms};
pub use view_check::ViewMismatchKind;

/// Where a ledger keeps its files inside its data directory.
#[derive(Clone, Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The sled store.
    pub fn store(&self) -> PathBuf {
        self.0.join("store")
    }
    /// The log's signing key (secret).
    pub fn log_key(&self) -> PathBuf {
        self.0.join("log.key")
    }
    /// The operator's signing key (secret; move it off the node after init).
    pub fn operator_key(&self) -> PathBuf {
        self.0.join("operator.key")
    }
    /// The last checkpoint the log signed, kept outside the store (see
    /// [`ledger::anchor`]): a store behind it is refused.
    pub fn signed_head(&self) -> PathBuf {
        self.0.join("log.head")
    }
    /// The log's verifier key string, for auditors.
    pub fn log_pub(&self) -> PathBuf {
        self.0.join("log.pub")
    }
    /// Whether a ledger store exists here.
    pub fn holds_ledger(&self) -> bool {
        self.store().exists()
    }
}

/// How a ledger is opened: the settings the pipeline and the store take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How far ahead of this machine's clock an event may be dated, in ms.
    pub clock_skew_ms: i64,
    /// sled page cache, in bytes.
    pub cache_capacity: u64,
    /// Written into the genesis by [`init`]: how far before the log's time
    /// an event may be dated, in ms (72 h by default).
    pub max_backdating_ms: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock_skew_ms: 10 * 60 * 1000,
            cache_capacity: 64 * 1024 * 1024,
            max_backdating_ms: passport_schema::DEFAULT_MAX_BACKDATING_MS,
        }
    }
}

impl Options {
    fn sled(&self) -> SledConfig {
        SledConfig {
            cache_capacity: self.cache_capacity,
        }
    }
}

/// What `init` created.
#[derive(Debug)]
pub struct Initialised {
    /// The verifier key string auditors need.
    pub verifier_key: String,
    /// The operator's key id (hex).
    pub operator_kid: String,
}

/// Creates a new ledger in `dir`: a log key, an operator key (both 0600),
/// and the operator-signed genesis entry at index 0.
///
/// # Errors
///
/// [`Error::Config`] if `dir` already holds a ledger or `origin` is not a
/// valid key name; I/O and store errors otherwise.
pub fn init(
    dir: &Path,
    origin: &str,
    operator_name: &str,
    operator_country: &str,
    options: &Options,
) -> Result<Initialised> {
    let data = DataDir(dir.to_path_buf());
    if !(0..=passport_schema::MAX_BACKDATING_LIMIT_MS).contains(&options.max_backdating_ms) {
        return Err(Error::Config(format!(
            "a backdating window of {} ms is outside 0 to {} ms (two years)",
            options.max_backdating_ms,
            passport_schema::MAX_BACKDATING_LIMIT_MS
        )));
    }
    if data.holds_ledger() || data.log_key().exists() {
        return Err(Error::Config(format!(
            "{} already holds a ledger; refusing to overwrite it",
            dir.display()
        )));
    }
    ledger::cose::check_log_origin(origin)
        .map_err(|e| Error::Config(format!("origin {origin:?} cannot name a log: {e}")))?;
    std::fs::create_dir_all(dir)?;
    let log_key = NoteSigner::new(origin, ledger::keys::generate_signing_key()?)
        .map_err(|e| Error::Config(format!("origin {origin:?} is not a valid key name: {e}")))?;
    let operator_name_key = operator_name.replace(char::is_whitespace, "_");
    let operator = NoteSigner::new(&operator_name_key, ledger::keys::generate_signing_key()?)
        .map_err(|e| Error::Config(e.to_string()))?;
    keyfile::write_key_file(&data.log_key(), &log_key)?;
    keyfile::write_key_file(&data.operator_key(), &operator)?;
    std::fs::write(data.log_pub(), format!("{}\n", log_key.verifier()))?;
    let genesis = Event::new(
        now_ms(),
        EventBody::Genesis(Genesis {
            origin: origin.to_string(),
            operator: RegisterActor {
                name: operator_name.to_string(),
                country: operator_country.to_string(),
                public_key: passport_schema::Bytes32(*operator.verifier().key().as_bytes()),
            },
            log_key: passport_schema::Bytes32(*log_key.verifier().key().as_bytes()),
            max_backdating_ms: options.max_backdating_ms,
        }),
    );
    let entry = sign_event(&operator, origin, &genesis)?;
    let store = SledStore::open(data.store(), &options.sled())?;
    PassportLedger::create(store, log_key.clone(), &entry, options.clock_skew_ms)?
        .keep_head_in(ledger::anchor::HeadFile::new(data.signed_head()), false)?;
    Ok(Initialised {
        verifier_key: log_key.verifier().to_string(),
        operator_kid: hex::encode(ledger::keys::kid(operator.verifier().key())),
    })
}

/// Encodes an event canonically and signs it as a COSE_Sign1 entry for the
/// log whose origin is `log_origin` (its checkpoint origin line, which is
/// also its genesis `origin`): the origin goes into the entry's signed
/// `cupass-log` header, and every other log refuses the entry.
///
/// # Errors
///
/// [`Error::BadPayload`] if the event does not encode; [`Error::BadEntry`]
/// if `log_origin` cannot name a log ([`ledger::cose::check_log_origin`]);
/// a ledger error if the entry cannot be built.
pub fn sign_event(key: &NoteSigner, log_origin: &str, event: &Event) -> Result<Vec<u8>> {
    let payload = passport_schema::encode(event).map_err(Error::BadPayload)?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&key.seed());
    let entry = Entry::sign(&signing, log_origin, &payload).map_err(|e| match e {
        e @ ledger::Error::UnsupportedHeader(_) => Error::BadEntry(e),
        other => Error::from(other),
    })?;
    Ok(entry.to_bytes()?)
}

/// The log origin named by a signed checkpoint note: its first line.
///
/// # Errors
///
/// [`Error::BadRequest`] if the note has no origin line.
pub fn checkpoint_origin(note: &str) -> Result<String> {
    note.lines()
        .next()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::BadRequest("the checkpoint has no origin line".into()))
}

/// Opens the ledger in a data directory, refusing a store that does not
/// match its signed checkpoint or whose views are not what its entries
/// derive (see [`PassportLedger::open`]).
///
/// # Errors
///
/// [`Error::Config`] if `dir` holds no ledger or its log key is unreadable,
/// [`Error::StoreMismatch`] or [`Error::ViewMismatch`] if the store was
/// edited or damaged.
pub fn open(
    dir: &Path,
    options: &Options,
    perms: keyfile::Permissions,
) -> Result<PassportLedger<SledStore>> {
    let data = DataDir(dir.to_path_buf());
    if !data.holds_ledger() {
        return Err(Error::Config(format!(
            "{} holds no ledger; create one with `cupass-node init --dir {} --origin NAME`",
            dir.display(),
            dir.display()
        )));
    }
    let log_key = keyfile::read_key_file(&data.log_key(), perms)?;
    let store = SledStore::open(data.store(), &options.sled())?;
    PassportLedger::open(store, log_key, OpenCheck::Full, options.clock_skew_ms)?
        .keep_head_in(ledger::anchor::HeadFile::new(data.signed_head()), true)
}
