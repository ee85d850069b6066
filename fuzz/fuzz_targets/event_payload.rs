//! Fuzz target `event_payload`; the body is `cupass_tests::fuzz::event_payload`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cupass_tests::fuzz::event_payload(data));
