#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pullkey_fuzz::docker_config(data));
