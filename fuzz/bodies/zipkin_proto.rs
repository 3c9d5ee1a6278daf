//! The zipkin receiver's decoder (V2Proto bodies): never panics, whatever the bytes.

use tributary_receivers::zipkin::{Format, decode};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let _ = decode(Format::V2Proto, data, true);
}
