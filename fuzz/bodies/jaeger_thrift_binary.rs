//! Jaeger Thrift binary: agent datagrams and `/api/traces` bodies; decoding and
//! translating never panic, and a decoded batch never holds more spans than the input
//! could carry.

use tributary_receivers::jaeger::{decode_agent_binary, decode_batch_binary, translate};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let decoded = [decode_agent_binary(data), decode_batch_binary(data)];
    for batch in decoded.into_iter().flatten() {
        assert!(batch.spans.len() * 16 <= data.len());
        let _ = translate::batches_to_otlp([batch]);
    }
}
