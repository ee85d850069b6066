//! Fuzz target `readings_csv`; the body is `cupass_tests::fuzz::readings_csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::readings_csv(data));
