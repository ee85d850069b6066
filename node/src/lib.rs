//! # cupass node
//!
//! The cupass ledger as an HTTP service, and only that: the axum API, the
//! single sequencer that batches and commits entries, the accept loop with
//! its header deadline and connection limit, settings and metrics. The
//! ledger itself (ingest pipeline, the one verifier, bundles, key files,
//! data directory) is the `client` crate's, which this crate serves; it
//! sits on `client`, `ledger` and `passport-schema`, and nothing depends on
//! it but its own binary and the tests.
//!
//! ## Protocol
//!
//! * `POST /v1/entries` takes one COSE_Sign1 entry (`application/cose`, at
//!   most 64 KiB). [`client::PassportLedger::check`] decodes it (400 if
//!   malformed), checks that the signer is a registered actor and the
//!   signature verifies (401), and runs the ledger rules against the
//!   current state (403 for a signer that may not sign this event, 422 for
//!   a rule violation, 422 for an event dated beyond the clock skew).
//!   Accepted entries go to the single [`sequencer`], which batches them
//!   (up to `batch_max` or `batch_delay_ms`), re-checks the rules in
//!   sequence order (the later of two conflicting entries loses with 422),
//!   appends the batch together with its state changes in one sled batch
//!   and flush, and signs a checkpoint. Only then does the submitter get
//!   `201 {index, leaf_hash, inclusion_proof, checkpoint}`. Identical bytes
//!   resubmitted get `200` with the original index. Errors are
//!   `{"error": code, "message"}`; a rejected request appends nothing.
//! * Reads: C2SP `/checkpoint` and `/tile/...`, raw and decoded entries,
//!   inclusion and consistency proofs, views of passports, lots,
//!   certificates (with an evidence bundle) and contract audits, published
//!   rule sets and schemes, `/healthz` and `/metrics`. `docs/API.md` lists
//!   every endpoint.

pub mod api;
pub mod config;
mod error;
mod http_server;
pub mod metrics;
pub mod sequencer;
pub mod witnesses;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use client::PassportLedger;
pub use client::{Error, Result};
pub use config::Config;
pub use error::{ApiError, status};
use ledger::Store;

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
    let witnesses = config
        .policy()?
        .map(|p| Arc::new(witnesses::Witnesses::new(p)));
    if let Some(w) = &witnesses {
        // The checkpoint the node opened with, cosigned before it serves.
        w.cosign(&ledger);
    }
    let metrics = Arc::new(metrics::Metrics::default());
    let (sequencer, seq_task) = sequencer::Sequencer::spawn(
        Arc::clone(&ledger),
        config.batch_max,
        Duration::from_millis(config.batch_delay_ms),
        Arc::clone(&metrics),
        witnesses.clone(),
    );
    let app = Arc::new(api::AppState {
        ledger,
        sequencer,
        metrics,
        config,
        witnesses,
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
