//! OTLP/JSON trace requests: decoding never panics, whatever the bytes.

use tributary_pipeline_core::pdata::otlp_json;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let _ = otlp_json::decode::<ExportTraceServiceRequest>(data);
}
