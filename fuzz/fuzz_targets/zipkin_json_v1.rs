#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/zipkin_json_v1.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
