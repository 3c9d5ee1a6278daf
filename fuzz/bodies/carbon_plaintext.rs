//! Graphite plaintext lines (the carbon receiver's decoder, plaintext and regex parsers):
//! parsing never panics, whatever the bytes, and never makes more points than lines.

use tributary_receivers::carbon::parse_plaintext;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (metrics, malformed) = parse_plaintext(&text);
    assert!(metrics.item_count() + malformed <= text.split('\n').count());
}
