#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/otel_resource_attributes.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
