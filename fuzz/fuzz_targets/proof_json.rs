//! Fuzz target `proof_json`; the body is `cupass_tests::fuzz::proof_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::proof_json(data));
