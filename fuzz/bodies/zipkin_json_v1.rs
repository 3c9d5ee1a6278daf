//! The zipkin receiver's decoder (V1Json bodies): never panics, whatever the bytes.

use tributary_receivers::zipkin::{Format, decode};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let _ = decode(Format::V1Json, data, true);
}
