#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pullkey_fuzz::exec_request(data));
