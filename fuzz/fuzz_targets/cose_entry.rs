//! Fuzz target `cose_entry`; the body is `cupass_tests::fuzz::cose_entry`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::cose_entry(data));
