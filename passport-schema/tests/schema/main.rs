//! passport-schema integration tests (one binary).
#![allow(unreachable_pub, dead_code, missing_docs)]
// Test helpers outside #[test] fns: a panic here is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod assay;
mod claims;
mod common;
mod copper;
mod custody;
mod encoding;
mod grading;
mod keys;
mod lifecycle;
mod log_time;
mod props;
mod rejections;
mod use_phase;
mod views;
