//! The translator's tests: OTLP → Jaeger rule by rule, the round trip back through the
//! Jaeger → OTLP translation (directly, and through each span's protobuf and JSON record),
//! and the jsonpb form.

mod from_otlp;
mod json;
mod round_trip;

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue as OtlpKeyValue, any_value::Value,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan,
};

use crate::model::{KeyValue, Span, ValueType};
use crate::traces_to_spans;

const TRACE: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
const START: u64 = 1_700_000_000_000_005_000;

fn request(resource: Vec<OtlpKeyValue>, scopes: Vec<ScopeSpans>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Resource::default()
            }),
            scope_spans: scopes,
            ..ResourceSpans::default()
        }],
    }
}

fn scope(name: &str, version: &str, spans: Vec<OtlpSpan>) -> ScopeSpans {
    ScopeSpans {
        scope: Some(InstrumentationScope {
            name: name.into(),
            version: version.into(),
            ..InstrumentationScope::default()
        }),
        spans,
        ..ScopeSpans::default()
    }
}

fn span(name: &str, span_id: u8) -> OtlpSpan {
    OtlpSpan {
        trace_id: TRACE.to_vec(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, span_id],
        name: name.into(),
        start_time_unix_nano: START,
        end_time_unix_nano: START + 250_000_000,
        ..OtlpSpan::default()
    }
}

fn bytes(value: &[u8]) -> AnyValue {
    AnyValue {
        value: Some(Value::BytesValue(value.to_vec())),
    }
}

/// The one Jaeger span `otlp` becomes, with its batch's process.
fn one(otlp: OtlpSpan) -> Span {
    let spans = traces_to_spans(&request(
        vec![key_value("service.name", "svc")],
        vec![scope("", "", vec![otlp])],
    ));
    assert_eq!(spans.len(), 1);
    spans.into_iter().next().unwrap()
}

fn string_tag(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        v_type: ValueType::String as i32,
        v_str: value.into(),
        ..KeyValue::default()
    }
}

fn int_tag(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        v_type: ValueType::Int64 as i32,
        v_int64: value,
        ..KeyValue::default()
    }
}

fn bool_tag(key: &str, value: bool) -> KeyValue {
    KeyValue {
        key: key.into(),
        v_type: ValueType::Bool as i32,
        v_bool: value,
        ..KeyValue::default()
    }
}

fn keys(tags: &[KeyValue]) -> Vec<&str> {
    tags.iter().map(|t| t.key.as_str()).collect()
}
