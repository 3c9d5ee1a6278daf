//! The Jaeger → OTLP translation, field by field (the OpenTelemetry specification's
//! mapping, as Go's `jaeger.ProtoToTraces`).

use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use tributary_pipeline_core::pdata::proto::trace::v1::span::SpanKind;
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;

use super::{sample_batch, tag_str};
use crate::jaeger::model::{self, Batch, Process, Span};
use crate::jaeger::translate::batches_to_otlp;

fn get(attributes: &[KeyValue], key: &str) -> Option<Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.clone())
}

fn str_value(value: &str) -> Option<Value> {
    Some(Value::StringValue(value.into()))
}

#[test]
fn the_process_becomes_the_resource() {
    let request = batches_to_otlp([sample_batch()]).unwrap();
    assert_eq!(request.resource_spans.len(), 1);
    let attributes = &request.resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert_eq!(get(attributes, "service.name"), str_value("checkout"));
    // `hostname` and `jaeger.version` are renamed as Go renames them.
    assert_eq!(get(attributes, "host.name"), str_value("web-1"));
    assert_eq!(get(attributes, "hostname"), None);
    assert_eq!(
        get(attributes, "opencensus.exporterversion"),
        str_value("Jaeger-Go-2.30")
    );
    assert_eq!(get(attributes, "jaeger.version"), None);
}

#[test]
fn spans_keep_ids_times_kind_scope_attributes_and_events() {
    let request = batches_to_otlp([sample_batch()]).unwrap();
    let scopes = &request.resource_spans[0].scope_spans;
    // The first span names a scope, the second none: two scopes, in order.
    assert_eq!(scopes.len(), 2);
    let scope = scopes[0].scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("shop", "1.2")
    );
    let span = &scopes[0].spans[0];
    assert_eq!(span.trace_id, [[0x11u8; 8], [0x22; 8]].concat());
    assert_eq!(span.span_id, [0, 0, 0, 0, 0, 0, 0, 1]);
    assert!(span.parent_span_id.is_empty());
    assert_eq!(span.name, "GET /cart");
    assert_eq!(span.flags, 1);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_005_000);
    assert_eq!(span.end_time_unix_nano, 1_700_000_000_000_255_000);
    assert_eq!(span.kind, SpanKind::Server as i32);
    // The scope and kind tags are gone; the others keep their types.
    for gone in ["span.kind", "otel.scope.name", "otel.scope.version"] {
        assert_eq!(get(&span.attributes, gone), None, "{gone}");
    }
    assert_eq!(
        get(&span.attributes, "ratio"),
        Some(Value::DoubleValue(0.5))
    );
    assert_eq!(
        get(&span.attributes, "cached"),
        Some(Value::BoolValue(true))
    );
    assert_eq!(
        get(&span.attributes, "blob"),
        Some(Value::BytesValue(vec![1, 2, 3]))
    );
    assert_eq!(
        get(&span.attributes, "http.status_code"),
        Some(Value::IntValue(503))
    );
    // 503 on a server span: an error status, from the HTTP status code.
    let status = span.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    // The log is an event named by its `event` field.
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "retry");
    assert_eq!(span.events[0].time_unix_nano, 1_700_000_000_000_100_000);
    assert_eq!(get(&span.events[0].attributes, "event"), None);
    assert_eq!(get(&span.events[0].attributes, "attempt"), str_value("2"));
}

#[test]
fn child_of_is_the_parent_and_follows_from_a_link() {
    let request = batches_to_otlp([sample_batch()]).unwrap();
    let span = &request.resource_spans[0].scope_spans[1].spans[0];
    assert_eq!(span.parent_span_id, [0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(span.links.len(), 1);
    let link = &span.links[0];
    assert_eq!(link.trace_id, [[0x33u8; 8], [0x44; 8]].concat());
    assert_eq!(link.span_id, [9; 8]);
    assert_eq!(
        get(&link.attributes, "opentracing.ref_type"),
        str_value("follows_from")
    );
    assert_eq!(span.kind, SpanKind::Client as i32);
    // `error: true` wins, with `otel.status_description` as the message; both removed.
    let status = span.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "timeout");
    assert_eq!(get(&span.attributes, "error"), None);
    assert_eq!(get(&span.attributes, "otel.status_description"), None);
}

fn one_span(tags: Vec<model::KeyValue>) -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        tags,
        ..Span::default()
    }
}

fn translate_one(span: Span) -> tributary_pipeline_core::pdata::proto::trace::v1::Span {
    let batch = Batch {
        spans: vec![span],
        process: None,
    };
    let mut request = batches_to_otlp([batch]).unwrap();
    request.resource_spans[0].scope_spans[0].spans.remove(0)
}

#[test]
fn otel_status_code_and_trace_state_tags_are_read_and_removed() {
    let span = translate_one(one_span(vec![
        tag_str("otel.status_code", "ok"),
        tag_str("w3c.tracestate", "vendor=1"),
        tag_str("keep", "me"),
    ]));
    assert_eq!(span.status.unwrap().code, StatusCode::Ok as i32);
    assert_eq!(span.trace_state, "vendor=1");
    assert_eq!(span.attributes.len(), 1);
    // No status tag at all: no status.
    assert_eq!(translate_one(one_span(vec![])).status, None);
}

#[test]
fn a_4xx_is_an_error_for_clients_only() {
    let code = |kind: &str| {
        let span = translate_one(one_span(vec![
            tag_str("span.kind", kind),
            tag_str("http.status_code", "404"),
        ]));
        span.status.map(|s| s.code)
    };
    assert_eq!(code("client"), Some(StatusCode::Error as i32));
    assert_eq!(code("server"), None);
}

#[test]
fn a_later_tag_replaces_an_earlier_one_and_unknown_types_are_named() {
    let unknown = model::KeyValue {
        key: "odd".into(),
        v_type: 9,
        ..model::KeyValue::default()
    };
    let span = translate_one(one_span(vec![
        tag_str("k", "first"),
        tag_str("k", "second"),
        unknown,
    ]));
    assert_eq!(span.attributes.len(), 2);
    assert_eq!(get(&span.attributes, "k"), str_value("second"));
    assert_eq!(
        get(&span.attributes, "odd"),
        str_value("<Unknown Jaeger TagType \"9\">")
    );
}

#[test]
fn spans_with_their_own_process_get_their_own_resource() {
    let mut batch = sample_batch();
    batch.spans[1].process = Some(Process {
        service_name: "db".into(),
        tags: vec![],
    });
    let request = batches_to_otlp([batch]).unwrap();
    assert_eq!(request.resource_spans.len(), 2);
    let service = |i: usize| {
        get(
            &request.resource_spans[i]
                .resource
                .as_ref()
                .unwrap()
                .attributes,
            "service.name",
        )
    };
    assert_eq!(service(0), str_value("checkout"));
    assert_eq!(service(1), str_value("db"));
}

#[test]
fn ids_of_the_wrong_length_are_refused() {
    let mut span = one_span(vec![]);
    span.trace_id = vec![1; 5];
    let batch = Batch {
        spans: vec![span],
        process: None,
    };
    let error = batches_to_otlp([batch]).unwrap_err().to_string();
    assert!(error.contains("trace ID of 5 bytes"), "{error}");
}

#[test]
fn blank_spans_and_empty_batches_are_skipped() {
    let batch = Batch {
        spans: vec![Span::default()],
        process: Some(Process {
            service_name: "svc".into(),
            tags: vec![],
        }),
    };
    let request = batches_to_otlp([batch, Batch::default()]).unwrap();
    assert_eq!(request.resource_spans.len(), 1);
    assert!(request.resource_spans[0].scope_spans.is_empty());
}
