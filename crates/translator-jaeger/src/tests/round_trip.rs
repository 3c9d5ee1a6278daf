//! OTLP → Jaeger → OTLP: what Jaeger carries comes back as it was, directly and through
//! each span's `jaeger_proto` and `jaeger_json` record.

use prost::Message;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, Span as OtlpSpan, Status};

use super::*;
use crate::model::Batch;
use crate::{batches_to_otlp, span_from_json, span_to_json, traces_to_batches};

/// Everything Jaeger can carry, written the way the Jaeger → OTLP translation writes it
/// (a link says `opentracing.ref_type`; no dropped counts; no status means none).
fn round_trippable() -> ExportTraceServiceRequest {
    let mut server = span("GET /cart", 1);
    server.parent_span_id = vec![9; 8];
    server.kind = SpanKind::Server as i32;
    server.flags = 1;
    server.trace_state = "vendor=x".into();
    server.attributes = vec![
        key_value("http.method", "GET"),
        key_value("cached", false),
        key_value("http.status_code", 500i64),
        key_value("ratio", 0.1),
        key_value("raw", bytes(&[0, 255])),
    ];
    server.events = vec![Event {
        time_unix_nano: START + 7,
        name: "retry".into(),
        attributes: vec![key_value("attempt", 2i64)],
        dropped_attributes_count: 0,
    }];
    server.links = vec![Link {
        trace_id: vec![7; 16],
        span_id: vec![8; 8],
        attributes: vec![key_value("opentracing.ref_type", "follows_from")],
        ..Link::default()
    }];
    server.status = Some(Status {
        message: "boom".into(),
        code: StatusCode::Error as i32,
    });
    let mut client = span("SELECT", 2);
    client.kind = SpanKind::Client as i32;
    client.status = Some(Status {
        message: String::new(),
        code: StatusCode::Ok as i32,
    });
    let mut request = request(
        vec![
            key_value("service.name", "checkout"),
            key_value("host.name", "web-1"),
            key_value("pid", 42i64),
        ],
        vec![
            scope("lib", "1.2", vec![server]),
            scope("db", "", vec![client]),
        ],
    );
    // A resource without attributes comes back as one.
    request.resource_spans.push(ResourceSpans {
        resource: Some(Resource::default()),
        scope_spans: vec![scope("", "", vec![span("anonymous", 3)])],
        ..ResourceSpans::default()
    });
    request
}

#[test]
fn otlp_to_jaeger_and_back_keeps_what_jaeger_carries() {
    let original = round_trippable();
    let back = batches_to_otlp(traces_to_batches(&original)).unwrap();
    assert_eq!(back, original);
}

#[test]
fn each_span_record_reads_back_as_its_span_and_resource() {
    let original = round_trippable();
    let spans = traces_to_spans(&original);
    assert_eq!(spans.len(), 3);
    let expected: Vec<(Option<Resource>, InstrumentationScope, OtlpSpan)> = original
        .resource_spans
        .iter()
        .flat_map(|rs| {
            rs.scope_spans.iter().flat_map(move |ss| {
                ss.spans
                    .iter()
                    .map(move |s| (rs.resource.clone(), ss.scope.clone().unwrap(), s.clone()))
            })
        })
        .collect();
    for (span, (resource, scope, otlp)) in spans.iter().zip(expected) {
        let protobuf = Span::decode(span.encode_to_vec().as_slice()).unwrap();
        let json = span_from_json(&span_to_json(span)).unwrap();
        assert_eq!(
            &json,
            span,
            "{}",
            String::from_utf8_lossy(&span_to_json(span))
        );
        for mut record in [protobuf, json] {
            let batch = Batch {
                process: record.process.take(),
                spans: vec![record],
            };
            let back = batches_to_otlp([batch]).unwrap();
            assert_eq!(back.resource_spans.len(), 1);
            assert_eq!(back.resource_spans[0].resource, resource);
            let scope_spans = &back.resource_spans[0].scope_spans[0];
            assert_eq!(scope_spans.scope.as_ref(), Some(&scope));
            assert_eq!(scope_spans.spans, std::slice::from_ref(&otlp));
        }
    }
}

#[test]
fn what_jaeger_cannot_carry_comes_back_as_attributes_or_not_at_all() {
    let mut otlp = span("a", 1);
    otlp.dropped_attributes_count = 2;
    otlp.links = vec![Link {
        trace_id: vec![7; 16],
        span_id: vec![8; 8],
        trace_state: "lost=1".into(),
        attributes: vec![key_value("lost", true)],
        ..Link::default()
    }];
    let request = request(
        vec![key_value("service.name", "svc")],
        vec![scope("", "", vec![otlp])],
    );
    let back = batches_to_otlp(traces_to_batches(&request)).unwrap();
    let span = &back.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.dropped_attributes_count, 0);
    assert_eq!(
        span.attributes,
        [key_value("otel.dropped_attributes_count", 2i64)]
    );
    assert_eq!(span.links[0].trace_state, "");
    assert_eq!(
        span.links[0].attributes,
        [key_value("opentracing.ref_type", "follows_from")]
    );
}
