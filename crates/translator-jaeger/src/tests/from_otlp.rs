//! OTLP → Jaeger, rule by rule.

use tributary_pipeline_core::pdata::attributes::{any_value, key_value};
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue as OtlpKeyValue, KeyValueList, any_value::Value,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, Status};

use super::*;
use crate::model::{Duration, Log, Process, SpanRef, SpanRefType, Timestamp};
use crate::{trace_id_string, traces_to_batches};

#[test]
fn a_resource_becomes_a_batch_its_service_name_the_process_name() {
    let batches = traces_to_batches(&request(
        vec![
            key_value("host.name", "web-1"),
            key_value("service.name", "checkout"),
            key_value("pid", 42i64),
        ],
        vec![scope("", "", vec![span("a", 1), span("b", 2)])],
    ));
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].spans.len(), 2);
    assert_eq!(
        batches[0].process,
        Some(Process {
            service_name: "checkout".into(),
            tags: vec![string_tag("host.name", "web-1"), int_tag("pid", 42)],
        })
    );
}

#[test]
fn a_resource_without_attributes_is_named_otlp_resource_no_service_name() {
    let batches = traces_to_batches(&request(vec![], vec![scope("", "", vec![span("a", 1)])]));
    let process = batches[0].process.as_ref().unwrap();
    assert_eq!(process.service_name, "OTLPResourceNoServiceName");
    assert!(process.tags.is_empty());

    // Attributes but no (string) service.name: no name, as in Go.
    let batches = traces_to_batches(&request(
        vec![key_value("service.name", 7i64), key_value("k", "v")],
        vec![],
    ));
    let process = batches[0].process.as_ref().unwrap();
    assert_eq!(process.service_name, "");
    assert_eq!(process.tags, [string_tag("k", "v")]);
    assert!(batches[0].spans.is_empty());

    // Neither attributes nor scopes: no batch.
    assert!(traces_to_batches(&request(vec![], vec![])).is_empty());
}

#[test]
fn ids_are_the_same_bytes_and_the_parent_the_first_child_of_reference() {
    let mut otlp = span("a", 1);
    otlp.parent_span_id = vec![0, 0, 0, 0, 0, 0, 0, 9];
    otlp.links = vec![
        Link {
            trace_id: vec![7; 16],
            span_id: vec![8; 8],
            ..Link::default()
        },
        Link {
            trace_id: vec![7; 16],
            span_id: vec![6; 8],
            attributes: vec![key_value("opentracing.ref_type", "child_of")],
            ..Link::default()
        },
    ];
    let jaeger = one(otlp);
    assert_eq!(jaeger.trace_id, TRACE);
    assert_eq!(jaeger.span_id, [0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(
        jaeger.references,
        [
            SpanRef {
                trace_id: TRACE.to_vec(),
                span_id: vec![0, 0, 0, 0, 0, 0, 0, 9],
                ref_type: SpanRefType::ChildOf as i32,
            },
            SpanRef {
                trace_id: vec![7; 16],
                span_id: vec![8; 8],
                ref_type: SpanRefType::FollowsFrom as i32,
            },
            SpanRef {
                trace_id: vec![7; 16],
                span_id: vec![6; 8],
                ref_type: SpanRefType::ChildOf as i32,
            },
        ]
    );
    // No parent, no links: no references.
    assert!(one(span("b", 2)).references.is_empty());
}

#[test]
fn a_link_to_the_parent_sets_the_parent_references_type() {
    let mut otlp = span("a", 1);
    otlp.parent_span_id = vec![9; 8];
    otlp.links = vec![Link {
        trace_id: TRACE.to_vec(),
        span_id: vec![9; 8],
        attributes: vec![key_value("opentracing.ref_type", "follows_from")],
        ..Link::default()
    }];
    let references = one(otlp).references;
    assert_eq!(references.len(), 1);
    assert_eq!(references[0].ref_type, SpanRefType::FollowsFrom as i32);
}

#[test]
fn only_the_sampled_flag_is_kept() {
    let mut otlp = span("a", 1);
    otlp.flags = 0x301;
    assert_eq!(one(otlp.clone()).flags, 1);
    otlp.flags = 0x300;
    assert_eq!(one(otlp).flags, 0);
}

#[test]
fn start_and_end_become_start_time_and_duration() {
    let jaeger = one(span("a", 1));
    assert_eq!(
        jaeger.start_time,
        Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000,
        })
    );
    assert_eq!(
        jaeger.duration,
        Some(Duration {
            seconds: 0,
            nanos: 250_000_000,
        })
    );
    // An end before the start: a negative duration, both parts of one sign.
    let mut backwards = span("b", 2);
    backwards.end_time_unix_nano = START - 1_500_000_000;
    assert_eq!(
        one(backwards).duration,
        Some(Duration {
            seconds: -1,
            nanos: -500_000_000,
        })
    );
}

#[test]
fn tags_come_in_gos_order() {
    let mut otlp = span("a", 1);
    otlp.attributes = vec![key_value("http.method", "GET")];
    otlp.kind = SpanKind::Server as i32;
    otlp.status = Some(Status {
        message: "boom".into(),
        code: StatusCode::Error as i32,
    });
    otlp.trace_state = "vendor=x".into();
    otlp.dropped_attributes_count = 3;
    let spans = traces_to_spans(&request(
        vec![key_value("service.name", "svc")],
        vec![scope("lib", "1.2", vec![otlp])],
    ));
    let tags = &spans[0].tags;
    assert_eq!(
        keys(tags),
        [
            "otel.scope.name",
            "otel.scope.version",
            "http.method",
            "span.kind",
            "otel.status_code",
            "error",
            "otel.status_description",
            "w3c.tracestate",
            "otel.dropped_attributes_count",
        ]
    );
    assert_eq!(tags[0], string_tag("otel.scope.name", "lib"));
    assert_eq!(tags[1], string_tag("otel.scope.version", "1.2"));
    assert_eq!(tags[3], string_tag("span.kind", "server"));
    assert_eq!(tags[4], string_tag("otel.status_code", "ERROR"));
    assert_eq!(tags[5], bool_tag("error", true));
    assert_eq!(tags[6], string_tag("otel.status_description", "boom"));
    assert_eq!(tags[7], string_tag("w3c.tracestate", "vendor=x"));
    assert_eq!(tags[8], int_tag("otel.dropped_attributes_count", 3));
}

#[test]
fn span_kinds_are_written_by_their_opentracing_names() {
    for (kind, name) in [
        (SpanKind::Client, Some("client")),
        (SpanKind::Server, Some("server")),
        (SpanKind::Producer, Some("producer")),
        (SpanKind::Consumer, Some("consumer")),
        (SpanKind::Internal, Some("internal")),
        (SpanKind::Unspecified, None),
    ] {
        let mut otlp = span("a", 1);
        otlp.kind = kind as i32;
        let tags = one(otlp).tags;
        let written = tags.iter().find(|t| t.key == "span.kind");
        assert_eq!(written.map(|t| t.v_str.as_str()), name, "{kind:?}");
    }
}

#[test]
fn an_ok_status_has_no_error_tag_and_an_unset_one_only_its_message() {
    let mut ok = span("a", 1);
    ok.status = Some(Status {
        message: String::new(),
        code: StatusCode::Ok as i32,
    });
    assert_eq!(one(ok).tags, [string_tag("otel.status_code", "OK")]);

    let mut unset = span("b", 2);
    unset.status = Some(Status {
        message: "why".into(),
        code: StatusCode::Unset as i32,
    });
    assert_eq!(
        one(unset).tags,
        [string_tag("otel.status_description", "why")]
    );
    assert!(one(span("c", 3)).tags.is_empty());
}

#[test]
fn attributes_keep_their_type_and_arrays_and_maps_become_json() {
    let mut otlp = span("a", 1);
    let array = AnyValue {
        value: Some(Value::ArrayValue(ArrayValue {
            values: vec![any_value("x"), any_value(2i64)],
        })),
    };
    let map = AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: vec![key_value("z", true), key_value("a", 1.5)],
        })),
    };
    otlp.attributes = vec![
        key_value("s", "text"),
        key_value("b", true),
        key_value("i", -7i64),
        key_value("d", 0.25),
        key_value("raw", bytes(&[1, 2, 3])),
        key_value("list", array),
        key_value("map", map),
        OtlpKeyValue {
            key: "empty".into(),
            value: None,
            ..OtlpKeyValue::default()
        },
    ];
    let tags = one(otlp).tags;
    assert_eq!(tags[0], string_tag("s", "text"));
    assert_eq!(tags[1], bool_tag("b", true));
    assert_eq!(tags[2], int_tag("i", -7));
    assert_eq!(
        tags[3],
        KeyValue {
            key: "d".into(),
            v_type: ValueType::Float64 as i32,
            v_float64: 0.25,
            ..KeyValue::default()
        }
    );
    assert_eq!(
        tags[4],
        KeyValue {
            key: "raw".into(),
            v_type: ValueType::Binary as i32,
            v_binary: vec![1, 2, 3],
            ..KeyValue::default()
        }
    );
    assert_eq!(tags[5], string_tag("list", r#"["x",2]"#));
    assert_eq!(tags[6], string_tag("map", r#"{"a":1.5,"z":true}"#));
    assert_eq!(tags[7], string_tag("empty", ""));
}

#[test]
fn events_become_logs_named_by_their_event_field() {
    let mut otlp = span("a", 1);
    otlp.events = vec![
        Event {
            time_unix_nano: START + 1_000,
            name: "retry".into(),
            attributes: vec![key_value("attempt", 2i64)],
            dropped_attributes_count: 0,
        },
        Event {
            time_unix_nano: START,
            name: "ignored".into(),
            attributes: vec![key_value("event", "named by attribute")],
            dropped_attributes_count: 4,
        },
        Event {
            time_unix_nano: START,
            ..Event::default()
        },
    ];
    let logs = one(otlp).logs;
    assert_eq!(
        logs[0],
        Log {
            timestamp: Some(Timestamp {
                seconds: 1_700_000_000,
                nanos: 6_000,
            }),
            fields: vec![string_tag("event", "retry"), int_tag("attempt", 2)],
        }
    );
    assert_eq!(
        logs[1].fields,
        [
            string_tag("event", "named by attribute"),
            int_tag("otel.event.dropped_attributes_count", 4),
        ]
    );
    assert!(logs[2].fields.is_empty());
}

#[test]
fn dropped_counts_are_tags_only_when_not_zero() {
    let mut otlp = span("a", 1);
    otlp.dropped_events_count = 5;
    otlp.dropped_links_count = 6;
    assert_eq!(
        one(otlp).tags,
        [
            int_tag("otel.dropped_events_count", 5),
            int_tag("otel.dropped_links_count", 6),
        ]
    );
    assert!(one(span("b", 2)).tags.is_empty());
}

#[test]
fn every_span_carries_its_batchs_process() {
    let mut request = request(
        vec![key_value("service.name", "a")],
        vec![scope("", "", vec![span("one", 1)])],
    );
    request.resource_spans.push(ResourceSpans {
        resource: Some(Resource {
            attributes: vec![key_value("service.name", "b")],
            ..Resource::default()
        }),
        scope_spans: vec![scope("", "", vec![span("two", 2), span("three", 3)])],
        ..ResourceSpans::default()
    });
    let services: Vec<(String, String)> = traces_to_spans(&request)
        .into_iter()
        .map(|s| (s.operation_name, s.process.unwrap().service_name))
        .collect();
    assert_eq!(
        services,
        [
            ("one".into(), "a".into()),
            ("two".into(), "b".into()),
            ("three".into(), "b".into())
        ]
    );
}

#[test]
fn trace_id_strings_are_jaegers() {
    assert_eq!(trace_id_string(&TRACE), "10000000000000002");
    assert_eq!(
        trace_id_string(&[[0; 8], [0, 0, 0, 0, 0, 0, 0, 0xab]].concat()),
        "ab"
    );
    assert_eq!(
        trace_id_string(&[0xff; 16]),
        "ffffffffffffffffffffffffffffffff"
    );
    assert_eq!(trace_id_string(&[0; 16]), "0");
    assert_eq!(trace_id_string(&[1; 3]), "0");
}
