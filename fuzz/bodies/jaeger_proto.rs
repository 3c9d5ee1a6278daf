//! Jaeger api_v2 `PostSpansRequest` messages: decoding and translating never panic.

use prost::Message;
use tributary_receivers::jaeger::model::PostSpansRequest;
use tributary_receivers::jaeger::translate;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    if let Ok(request) = PostSpansRequest::decode(data) {
        let _ = translate::batches_to_otlp(request.batch);
    }
}
