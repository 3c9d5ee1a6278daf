//! OTLP/JSON trace requests: decoding never panics, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_pipeline_core::pdata::otlp_json;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

fuzz_target!(|data: &[u8]| {
    let _ = otlp_json::decode::<ExportTraceServiceRequest>(data);
});
