//! The prometheusremotewrite receiver's decoder: any body (snappy block, then a protobuf
//! WriteRequest, then the mapping to metrics) must give metrics or an error, never a panic,
//! and never more points than the decompressed body could describe.

use tributary_receivers::prometheusremotewrite::decode_write_request;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    const LIMIT: usize = 1 << 20;
    if let Ok(decoded) = decode_write_request(data, LIMIT, i64::MIN) {
        assert!(decoded.metrics.item_count() <= LIMIT);
    }
}
