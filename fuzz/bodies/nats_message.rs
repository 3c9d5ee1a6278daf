//! The `nats` receiver's message decoding: any payload, under any `Content-Type` header
//! and default encoding, is decoded or refused as undecodable, for every signal; never a
//! panic.

use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_receivers::nats::{Encoding, decode_message};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let content_type = match selector % 4 {
        0 => None,
        1 => Some("application/x-protobuf"),
        2 => Some("application/json"),
        _ => Some("text/plain"),
    };
    let encoding = if selector & 0x80 == 0 {
        Encoding::OtlpProto
    } else {
        Encoding::OtlpJson
    };
    let _ = decode_message::<Traces>(payload, content_type, encoding);
    let _ = decode_message::<Metrics>(payload, content_type, encoding);
    let _ = decode_message::<Logs>(payload, content_type, encoding);
}
