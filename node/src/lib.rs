//! The cupass node: the copper passport ledger as an HTTP service.
//!
//! # Protocol
//!
//! * `POST /v1/entries` takes one COSE_Sign1 entry (`application/cose`, at
//!   most 64 KiB). The handler decodes it (400 if malformed), checks that the
//!   signer is a registered actor and the signature verifies (401), and runs
//!   the ledger rules against the current state (403 for a signer that may
//!   not sign this event, 422 for a rule violation, 422 for an event dated
//!   beyond the clock skew). Accepted entries go to the single
//!   [`sequencer`], which batches them (up to `batch_max` or
//!   `batch_delay_ms`), re-checks the rules in sequence order (the later of
//!   two conflicting entries loses with 422), appends the batch together
//!   with its state changes in one sled batch and flush, and signs a
//!   checkpoint. Only then does the submitter get `201 {index, leaf_hash,
//!   inclusion_proof, checkpoint}`. Identical bytes resubmitted get `200`
//!   with the original index. Errors are `{"error": code, "message"}`; a
//!   rejected request appends nothing.
//! * Reads: C2SP `/checkpoint` and `/tile/...`, raw and decoded entries,
//!   inclusion and consistency proofs, views of passports, lots,
//!   certificates (with an evidence bundle) and contract audits,
//!   `/healthz` and `/metrics`. `docs/API.md` lists every endpoint.
//!
//! The same [`PassportLedger`] pipeline runs without HTTP in the CLI's local
//! mode, so both modes accept and reject exactly the same entries.

pub mod api;
pub mod bundle;
pub mod config;
mod error;
mod http_server;
pub mod keyfile;
pub mod metrics;
pub mod pipeline;
pub mod sequencer;
pub mod state;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use config::Config;
pub use error::{Error, Result};
use ledger::{Entry, NoteSigner, OpenCheck, SledConfig, SledStore, Store};
use passport_schema::{Event, EventBody, Genesis, RegisterActor};
pub use pipeline::{PassportLedger, Receipt};

/// Where a node keeps its files inside its data directory.
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
    /// The log's verifier key string, for auditors.
    pub fn log_pub(&self) -> PathBuf {
        self.0.join("log.pub")
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
pub fn init(
    dir: &Path,
    origin: &str,
    operator_name: &str,
    operator_country: &str,
    config: &Config,
) -> Result<Initialised> {
    let data = DataDir(dir.to_path_buf());
    if data.store().exists() || data.log_key().exists() {
        return Err(Error::Config(format!(
            "{} already holds a ledger; refusing to overwrite it",
            dir.display()
        )));
    }
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
        pipeline::now_ms(),
        EventBody::Genesis(Genesis {
            origin: origin.to_string(),
            operator: RegisterActor {
                name: operator_name.to_string(),
                country: operator_country.to_string(),
                public_key: passport_schema::Bytes32(*operator.verifier().key().as_bytes()),
            },
        }),
    );
    let entry = sign_event(&operator, &genesis)?;
    let store = SledStore::open(
        data.store(),
        &SledConfig {
            cache_capacity: config.cache_capacity,
        },
    )?;
    PassportLedger::create(store, log_key.clone(), &entry, config.clock_skew_ms)?;
    Ok(Initialised {
        verifier_key: log_key.verifier().to_string(),
        operator_kid: hex::encode(ledger::keys::kid(operator.verifier().key())),
    })
}

/// Encodes an event canonically and signs it as a COSE_Sign1 entry.
pub fn sign_event(key: &NoteSigner, event: &Event) -> Result<Vec<u8>> {
    let payload = passport_schema::encode(event).map_err(Error::BadPayload)?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&key.seed());
    Ok(Entry::sign(&signing, &payload)?.to_bytes()?)
}

/// Opens the ledger in a data directory, refusing a store that does not
/// match its signed checkpoint.
pub fn open(
    dir: &Path,
    config: &Config,
    perms: keyfile::Permissions,
) -> Result<PassportLedger<SledStore>> {
    let data = DataDir(dir.to_path_buf());
    if !data.store().exists() {
        return Err(Error::Config(format!(
            "{} holds no ledger; create one with `cupass-node init --dir {} --origin NAME`",
            dir.display(),
            dir.display()
        )));
    }
    let log_key = keyfile::read_key_file(&data.log_key(), perms)?;
    let store = SledStore::open(
        data.store(),
        &SledConfig {
            cache_capacity: config.cache_capacity,
        },
    )?;
    PassportLedger::open(store, log_key, OpenCheck::Full, config.clock_skew_ms)
}

/// Serves `ledger` on `listener` until `shutdown` resolves, then stops
/// taking requests, lets the batch in flight commit and be answered, and
/// returns.
pub async fn serve<S: Store + 'static>(
    ledger: Arc<PassportLedger<S>>,
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    config.validate()?;
    let metrics = Arc::new(metrics::Metrics::default());
    let (sequencer, seq_task) = sequencer::Sequencer::spawn(
        Arc::clone(&ledger),
        config.batch_max,
        Duration::from_millis(config.batch_delay_ms),
        Arc::clone(&metrics),
    );
    let app = Arc::new(api::AppState {
        ledger,
        sequencer,
        metrics,
        config,
    });
    let limits = http_server::Limits {
        max_connections: app.config.max_connections,
        header_timeout: Duration::from_millis(app.config.header_timeout_ms),
    };
    let router = api::router(Arc::clone(&app));
    drop(app);
    http_server::serve(listener, router, limits, shutdown).await?;
    // Every request is answered and the router (with the last sequencer
    // handle) is gone: the sequencer drains its queue and stops.
    seq_task
        .await
        .map_err(|e| Error::State(format!("sequencer task failed: {e}")))?;
    Ok(())
}
