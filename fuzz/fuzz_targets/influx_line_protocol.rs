#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/influx_line_protocol.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
