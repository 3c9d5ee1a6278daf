#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/otlp_proto_retain.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
