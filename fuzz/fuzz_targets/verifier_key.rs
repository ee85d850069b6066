//! Fuzz target `verifier_key`; the body is `cupass_tests::fuzz::verifier_key`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::verifier_key(data));
