//! collectd `write_http` JSON bodies (the collectd receiver's decoder): decoding never
//! panics, whatever the bytes.

use tributary_receivers::collectd::decode;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let _ = decode(data, &[("run".to_string(), "fuzz".to_string())]);
}
