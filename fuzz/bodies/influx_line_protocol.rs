//! The influxdb receiver's decoder: any body, at every precision, must give metrics or a
//! line error, never a panic.

use tributary_receivers::influxdb::{Precision, parse_line_protocol};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    for precision in [Precision::Nanosecond, Precision::Hour] {
        if let Ok(metrics) = parse_line_protocol(data, precision, 1) {
            assert!(metrics.item_count() <= data.len());
        }
    }
}
