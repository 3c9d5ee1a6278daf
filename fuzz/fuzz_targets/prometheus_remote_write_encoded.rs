#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/prometheus_remote_write_encoded.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
