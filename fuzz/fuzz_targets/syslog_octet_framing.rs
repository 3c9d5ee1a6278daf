#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/syslog_octet_framing.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
