#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/lookout_tagged_routes.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
