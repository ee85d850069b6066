//! The cupass node: the ledger as an HTTP service.
//!
//! Not built yet (issue 4). It will hold the ingest pipeline, the single
//! sequencer, the views, the axum read API, configuration and graceful
//! shutdown, on top of the `ledger` and `passport-schema` crates.
