//! RFC 5424 syslog messages: parsing never panics, with or without a required PRI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::syslog::parse_rfc5424;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_rfc5424(&text, false);
    let _ = parse_rfc5424(&text, true);
});
