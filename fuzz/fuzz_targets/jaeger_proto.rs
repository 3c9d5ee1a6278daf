//! Jaeger api_v2 `PostSpansRequest` messages: decoding and translating never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use tributary_receivers::jaeger::model::PostSpansRequest;
use tributary_receivers::jaeger::translate;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = PostSpansRequest::decode(data) {
        let _ = translate::batches_to_otlp(request.batch);
    }
});
