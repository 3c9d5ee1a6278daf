#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/syslog_rfc3164.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
