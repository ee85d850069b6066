//! Fuzz target `signed_note`; the body is `cupass_tests::fuzz::signed_note`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::signed_note(data));
