//! StatsD / DogStatsD datagrams: parsing never panics, whatever the bytes, and yields at
//! most one result per line.

use tributary_receivers::statsd::{ParseOptions, parse_packet};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let options = ParseOptions {
        enable_metric_type: true,
        enable_simple_tags: true,
    };
    let lines = parse_packet(data, &options);
    assert!(lines.len() <= data.iter().filter(|b| **b == b'\n').count() + 1);
}
