//! OTLP/protobuf trace requests: the lazy payload's validating walk, then the decode it
//! defers, must agree and never panic.

use tributary_pipeline_core::pdata::Payload;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let bytes = bytes::Bytes::copy_from_slice(data);
    if let Ok(payload) = Payload::<ExportTraceServiceRequest>::decode(bytes) {
        // The walk accepted it: the full decode must accept it too.
        let _ = payload.request();
    }
}
