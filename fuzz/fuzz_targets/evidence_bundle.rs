//! Fuzz target `evidence_bundle`; the body is `cupass_tests::fuzz::evidence_bundle`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::evidence_bundle(data));
