//! The single integration-test binary for the workspace.

// Everything here is test code: helpers may unwrap and index, like the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod bundle_forgeries;
mod cli_assay;
mod cli_demo;
mod cli_logverify;
mod cli_modes;
mod cli_readings;
mod cli_support;
mod cli_tamper;
mod fuzz_corpus;
mod ledger_bad_input;
mod ledger_cose_interop;
mod ledger_merkle_oracle;
mod ledger_note;
mod ledger_store;
mod ledger_tamper;
mod ledger_tiles;
mod ledger_vectors;
mod log_binding;
mod node_abuse;
mod node_crash;
mod node_harness;
mod node_http;
mod node_tamper_10k;
mod node_witnesses;
mod store_edited_views;
mod store_rollback;
mod tlog_proof;
mod workspace_layout;
