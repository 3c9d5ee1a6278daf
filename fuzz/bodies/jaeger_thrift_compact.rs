//! Jaeger agent datagrams in the Thrift compact protocol: decoding and translating never
//! panic, and a decoded batch never holds more spans than the datagram could carry.

use tributary_receivers::jaeger::{decode_agent_compact, translate};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    if let Ok(batch) = decode_agent_compact(data) {
        assert!(batch.spans.len() * 16 <= data.len());
        let _ = translate::batches_to_otlp([batch]);
    }
}
