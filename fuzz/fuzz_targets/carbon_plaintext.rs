//! Graphite plaintext lines (the carbon receiver's decoder, plaintext and regex parsers):
//! parsing never panics, whatever the bytes, and never makes more points than lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::carbon::parse_plaintext;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (metrics, malformed) = parse_plaintext(&text);
    assert!(metrics.item_count() + malformed <= text.split('\n').count());
});
