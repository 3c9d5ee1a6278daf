//! StatsD / DogStatsD datagrams: parsing never panics, whatever the bytes, and yields at
//! most one result per line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::statsd::{ParseOptions, parse_packet};

fuzz_target!(|data: &[u8]| {
    let options = ParseOptions {
        enable_metric_type: true,
        enable_simple_tags: true,
    };
    let lines = parse_packet(data, &options);
    assert!(lines.len() <= data.iter().filter(|b| **b == b'\n').count() + 1);
});
