//! The mapping both ways, the round trip, and hostile input.

use proptest::prelude::*;
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::{Event, Link, SpanKind};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::*;

const TRACE: [u8; 16] = [
    0x46, 0x3a, 0xc3, 0x5c, 0x9f, 0x64, 0x13, 0xad, 0x48, 0x48, 0x5a, 0x39, 0x53, 0xbb, 0x61, 0x24,
];

fn spans(request: &ExportTraceServiceRequest) -> Vec<&Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect()
}

#[test]
fn v2_json_maps_every_field_by_the_specification() {
    let body = br#"[{
        "traceId": "463ac35c9f6413ad48485a3953bb6124",
        "id": "a2fb4a1d1a96d312",
        "parentId": "0020000000000001",
        "name": "get /api",
        "kind": "CLIENT",
        "timestamp": 1700000000000001,
        "duration": 250,
        "debug": true,
        "localEndpoint": {"serviceName": "frontend", "ipv4": "10.0.0.1", "port": 8080},
        "remoteEndpoint": {"serviceName": "backend", "ipv6": "2001:db8::1", "port": 9000},
        "annotations": [{"timestamp": 1700000000000100, "value": "wire.send"}],
        "tags": {
            "http.path": "/api", "retries": "3", "ratio": "1.5", "cached": "true",
            "otel.status_code": "ERROR", "otel.status_description": "boom", "error": "boom",
            "otel.scope.name": "io.lib", "otel.scope.version": "1.2",
            "host.name": "web-1", "w3c.tracestate": "k=v"
        }
    }]"#;
    let traces = decode_v2_json(body, true).unwrap();
    let request = traces.request();
    assert_eq!(request.resource_spans.len(), 1);
    let resource = &request.resource_spans[0];
    let attrs = &resource.resource.as_ref().unwrap().attributes;
    assert_eq!(attrs.get_str("service.name"), Some("frontend"));
    assert_eq!(attrs.get_str("host.name"), Some("web-1"));
    let scope = resource.scope_spans[0].scope.as_ref().unwrap();
    assert_eq!(
        (scope.name.as_str(), scope.version.as_str()),
        ("io.lib", "1.2")
    );

    let span = &resource.scope_spans[0].spans[0];
    assert_eq!(span.trace_id, TRACE);
    assert_eq!(
        span.span_id,
        [0xa2, 0xfb, 0x4a, 0x1d, 0x1a, 0x96, 0xd3, 0x12]
    );
    assert_eq!(span.parent_span_id, [0, 0x20, 0, 0, 0, 0, 0, 1]);
    assert_eq!(span.kind, SpanKind::Client as i32);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_001_000);
    assert_eq!(span.end_time_unix_nano, 1_700_000_000_000_251_000);
    assert_eq!(span.trace_state, "k=v");
    let status = span.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "boom");
    let a = &span.attributes;
    assert_eq!(a.get_str("http.path"), Some("/api"));
    assert_eq!(a.get_int("retries"), Some(3));
    assert_eq!(a.get_double("ratio"), Some(1.5));
    assert_eq!(a.get_bool("cached"), Some(true));
    assert_eq!(a.get_str("net.host.ip"), Some("10.0.0.1"));
    assert_eq!(a.get_int("net.host.port"), Some(8080));
    assert_eq!(a.get_str("peer.service"), Some("backend"));
    assert_eq!(a.get_str("net.peer.ip"), Some("2001:db8::1"));
    assert_eq!(a.get_int("net.peer.port"), Some(9000));
    for moved in [
        "error",
        "otel.status_code",
        "otel.scope.name",
        "host.name",
        "w3c.tracestate",
    ] {
        assert!(
            !a.contains_key(moved),
            "{moved} should not stay a span attribute"
        );
    }
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "wire.send");
    assert_eq!(span.events[0].time_unix_nano, 1_700_000_000_000_100_000);

    // Without parse_string_tags every tag stays a string.
    let traces = decode_v2_json(body, false).unwrap();
    let span = spans(traces.request())[0];
    assert_eq!(span.attributes.get_str("retries"), Some("3"));
}

#[test]
fn v2_json_fills_what_zipkin_leaves_out() {
    let body = br#"[{"traceId":"48485a3953bb6124","id":"1","tags":{"span.kind":"internal"}},
                    {"traceId":"48485a3953bb6124","id":"2","parentId":"2","kind":"NOPE",
                     "tags":{"error":"true"}}]"#;
    let traces = decode_v2_json(body, false).unwrap();
    let all = spans(traces.request());
    assert_eq!(all[0].trace_id[..8], [0; 8]);
    assert_eq!(all[0].kind, SpanKind::Internal as i32);
    assert_eq!(all[0].start_time_unix_nano, 0);
    assert_eq!(
        all[0]
            .attributes
            .get_bool("otel.zipkin.absentField.startTime"),
        Some(true)
    );
    // A parent equal to the span itself is no parent; an unknown kind is unspecified.
    assert!(all[1].parent_span_id.is_empty());
    assert_eq!(all[1].kind, SpanKind::Unspecified as i32);
    let status = all[1].status.as_ref().unwrap();
    assert_eq!(
        (status.code, status.message.as_str()),
        (StatusCode::Error as i32, "")
    );
    // No service: a resource without service.name.
    let resource = traces.request().resource_spans[0]
        .resource
        .as_ref()
        .unwrap();
    assert!(!resource.attributes.contains_key("service.name"));
}

#[test]
fn spans_of_one_service_share_a_resource_and_scopes_split_it() {
    let body = br#"[
        {"traceId":"1","id":"1","localEndpoint":{"serviceName":"a"},"tags":{"otel.library.name":"x"}},
        {"traceId":"1","id":"2","localEndpoint":{"serviceName":"b"}},
        {"traceId":"1","id":"3","localEndpoint":{"serviceName":"a"},"tags":{"otel.library.name":"y"}},
        {"traceId":"1","id":"4","localEndpoint":{"serviceName":"a"},"tags":{"otel.library.name":"x"}}
    ]"#;
    let traces = decode_v2_json(body, false).unwrap();
    let request = traces.request();
    assert_eq!(request.resource_spans.len(), 2);
    let a = &request.resource_spans[0];
    assert_eq!(a.scope_spans.len(), 2);
    assert_eq!(a.scope_spans[0].spans.len(), 2);
    assert_eq!(a.scope_spans[0].scope.as_ref().unwrap().name, "x");
    assert_eq!(traces.item_count(), 4);
}

#[test]
fn malformed_v2_bodies_are_refused_naming_the_problem() {
    for (body, needle) in [
        (&b"{"[..], "invalid Zipkin v2 JSON"),
        (b"{}", "invalid Zipkin v2 JSON"),
        (br#"[{"id":"1"}]"#, "traceId"),
        (br#"[{"traceId":"xyz","id":"1"}]"#, "traceId"),
        (br#"[{"traceId":"1","id":"00000000000000000"}]"#, "id"),
        (br#"[{"traceId":"0","id":"1"}]"#, "zero"),
        (br#"[{"traceId":"1","id":"1","timestamp":-5}]"#, "invalid"),
        (
            br#"[{"traceId":"1","id":"1","localEndpoint":{"ipv4":"1.2.3"}}]"#,
            "ipv4",
        ),
        (
            br#"[{"traceId":"1","id":"1","localEndpoint":{"port":70000}}]"#,
            "port",
        ),
        (
            br#"[{"traceId":"1","id":"1","tags":{"a":[1]}}]"#,
            "tag \"a\"",
        ),
    ] {
        let error = decode_v2_json(body, false).unwrap_err();
        assert!(error.to_string().contains(needle), "{error} lacks {needle}");
    }
    let error = decode_v2_json(
        br#"[{"traceId":"1","id":"1"},{"traceId":"1","id":"0"}]"#,
        false,
    )
    .unwrap_err();
    assert!(error.to_string().starts_with("span 1:"), "{error}");
}

#[test]
fn v2_proto_decodes_what_zipkin_libraries_send() {
    let list = proto::ListOfSpans {
        spans: vec![proto::Span {
            trace_id: TRACE.to_vec(),
            id: vec![0, 0, 0, 0, 0, 0, 0, 7],
            kind: 2,
            name: "recv".into(),
            timestamp: 1_700_000_000_000_000,
            duration: 5,
            local_endpoint: Some(proto::Endpoint {
                service_name: "svc".into(),
                ipv4: vec![127, 0, 0, 1],
                ..Default::default()
            }),
            tags: [("k".to_string(), "v".to_string())].into(),
            shared: true,
            ..Default::default()
        }],
    };
    use prost::Message;
    let traces = decode_v2_proto(&list.encode_to_vec(), false).unwrap();
    let span = spans(traces.request())[0];
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(span.attributes.get_str("net.host.ip"), Some("127.0.0.1"));
    assert_eq!(span.attributes.get_str("k"), Some("v"));
    assert_eq!(span.end_time_unix_nano - span.start_time_unix_nano, 5000);

    let mut bad = list.clone();
    bad.spans[0].trace_id = vec![1; 5];
    let error = decode_v2_proto(&bad.encode_to_vec(), false).unwrap_err();
    assert!(
        error.to_string().contains("trace_id has 5 bytes"),
        "{error}"
    );
    assert!(decode_v2_proto(b"\x0a\xff", false).is_err());
}

#[test]
fn v1_json_takes_kind_service_and_times_from_the_core_annotations() {
    let body = br#"[{
        "traceId": "463ac35c9f6413ad48485a3953bb6124",
        "id": "a2fb4a1d1a96d312",
        "name": "get",
        "annotations": [
            {"timestamp": 1000, "value": "sr", "endpoint": {"serviceName": "backend", "ipv4": "10.0.0.2", "port": 80}},
            {"timestamp": 1500, "value": "cache.miss", "endpoint": {"serviceName": "backend"}},
            {"timestamp": 3000, "value": "ss", "endpoint": {"serviceName": "backend"}}
        ],
        "binaryAnnotations": [
            {"key": "http.status_code", "value": "500"},
            {"key": "error", "value": "upstream timeout"},
            {"key": "lc", "value": "jdbc"},
            {"key": "sa", "value": true, "endpoint": {"serviceName": "db"}}
        ]
    }, {
        "traceId": "48485a3953bb6124", "id": "0000000000000002", "parentId": "a2fb4a1d1a96d312",
        "timestamp": 2000, "duration": 10,
        "binaryAnnotations": [{"key": "lc", "value": "worker"}]
    }]"#;
    let traces = decode_v1_json(body, true, 42).unwrap();
    let request = traces.request();
    assert_eq!(request.resource_spans.len(), 2);
    let resource = request.resource_spans[0].resource.as_ref().unwrap();
    assert_eq!(resource.attributes.get_str("service.name"), Some("backend"));
    assert_eq!(resource.attributes.get_str("ipv4"), Some("10.0.0.2"));
    assert_eq!(resource.attributes.get_str("port"), Some("80"));
    let span = &request.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(
        (span.start_time_unix_nano, span.end_time_unix_nano),
        (1_000_000, 3_000_000)
    );
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "cache.miss");
    assert_eq!(span.attributes.get_int("http.status_code"), Some(500));
    assert_eq!(span.attributes.get_str("component"), Some("jdbc"));
    assert_eq!(span.attributes.get_bool("sa"), Some(true));
    let status = span.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "upstream timeout");

    // No core annotation: the local component names the service.
    let worker = &request.resource_spans[1];
    let resource = worker.resource.as_ref().unwrap();
    assert_eq!(resource.attributes.get_str("service.name"), Some("worker"));
    let span = &worker.scope_spans[0].spans[0];
    assert_eq!(
        (span.start_time_unix_nano, span.end_time_unix_nano),
        (2_000_000, 2_010_000)
    );

    let bare = decode_v1_json(
        br#"[{"traceId":"48485a3953bb6124","id":"0000000000000003"}]"#,
        false,
        42,
    )
    .unwrap();
    let span = spans(bare.request())[0];
    assert_eq!(span.start_time_unix_nano, 42);
    assert_eq!(
        span.attributes
            .get_bool("otel.zipkin.absentField.startTime"),
        Some(true)
    );

    for bad in [
        &br#"[{"traceId":"123","id":"0000000000000003"}]"#[..],
        br#"[{"traceId":"48485a3953bb6124","id":"3"}]"#,
        br#"[{"traceId":"48485a3953bb6124","id":"0000000000000003","parentId":"1"}]"#,
        br#"{"traceId":"48485a3953bb6124"}"#,
    ] {
        assert!(
            decode_v1_json(bad, false, 0).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// A request using every field the mapping carries.
fn rich_request() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
        parent_span_id: vec![8, 7, 6, 5, 4, 3, 2, 1],
        trace_state: "vendor=a".into(),
        name: "checkout".into(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: 1_700_000_000_123_456_000,
        end_time_unix_nano: 1_700_000_000_223_456_000,
        attributes: vec![
            key_value("http.method", "POST"),
            key_value("http.status_code", 503i64),
            key_value("ratio", 0.25),
            key_value("retry", true),
            key_value("net.host.ip", "10.1.2.3"),
            key_value("net.host.port", 8443i64),
            key_value("peer.service", "payments"),
            key_value("net.peer.ip", "::1"),
            key_value("net.peer.port", 7000i64),
        ],
        events: vec![
            Event {
                time_unix_nano: 1_700_000_000_150_000_000,
                name: "retrying".into(),
                ..Default::default()
            },
            Event {
                time_unix_nano: 1_700_000_000_160_000_000,
                name: "exception".into(),
                attributes: vec![
                    key_value("exception.type", "IOError"),
                    key_value("attempt", 2i64),
                ],
                dropped_attributes_count: 1,
            },
        ],
        links: vec![Link {
            trace_id: vec![9; 16],
            span_id: vec![3; 8],
            trace_state: "x=y".into(),
            attributes: vec![key_value("link.kind", "follows")],
            dropped_attributes_count: 0,
            ..Default::default()
        }],
        status: Some(Status {
            message: "upstream unavailable".into(),
            code: StatusCode::Error as i32,
        }),
        ..Default::default()
    };
    let internal = Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![2; 8],
        parent_span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
        name: "render".into(),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: 1_700_000_000_130_000_000,
        end_time_unix_nano: 1_700_000_000_140_000_000,
        status: Some(Status {
            message: String::new(),
            code: StatusCode::Ok as i32,
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.name", "shop"),
                    key_value("host.name", "node-7"),
                    key_value("telemetry.sdk.language", "rust"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "shop.http".into(),
                    version: "0.9".into(),
                    ..Default::default()
                }),
                spans: vec![span, internal],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn otlp_to_zipkin_json_follows_the_specification() {
    let encoded = encode(&rich_request(), Format::Json, "<missing service name>");
    assert_eq!((encoded.spans, encoded.invalid), (2, 0));
    let json: serde_json::Value = serde_json::from_slice(&encoded.body).unwrap();
    let span = &json[0];
    assert_eq!(span["traceId"], "463ac35c9f6413ad48485a3953bb6124");
    assert_eq!(span["id"], "0102030405060708");
    assert_eq!(span["parentId"], "0807060504030201");
    assert_eq!(span["kind"], "SERVER");
    assert_eq!(span["timestamp"], 1_700_000_000_123_456u64);
    assert_eq!(span["duration"], 100_000);
    assert_eq!(span["localEndpoint"]["serviceName"], "shop");
    assert_eq!(span["localEndpoint"]["ipv4"], "10.1.2.3");
    assert_eq!(span["localEndpoint"]["port"], 8443);
    assert_eq!(span["remoteEndpoint"]["serviceName"], "payments");
    assert_eq!(span["remoteEndpoint"]["ipv6"], "::1");
    let tags = &span["tags"];
    assert_eq!(tags["http.status_code"], "503");
    assert_eq!(tags["ratio"], "0.25");
    assert_eq!(tags["retry"], "true");
    assert_eq!(tags["host.name"], "node-7");
    assert_eq!(tags["otel.scope.name"], "shop.http");
    assert_eq!(tags["otel.status_code"], "ERROR");
    assert_eq!(tags["otel.status_description"], "upstream unavailable");
    assert_eq!(tags["error"], "upstream unavailable");
    assert_eq!(tags["w3c.tracestate"], "vendor=a");
    assert!(tags.get("net.host.ip").is_none() && tags.get("peer.service").is_none());
    assert_eq!(
        tags["otlp.link.0"],
        "09090909090909090909090909090909|0303030303030303|x=y|{\"link.kind\":\"follows\"}|0"
    );
    assert_eq!(span["annotations"][0]["value"], "retrying");
    assert_eq!(
        span["annotations"][1]["value"],
        "exception|{\"attempt\":2,\"exception.type\":\"IOError\"}|1"
    );
    let internal = &json[1];
    assert!(internal.get("kind").is_none());
    assert_eq!(internal["tags"]["span.kind"], "internal");
    assert_eq!(internal["tags"]["otel.status_code"], "OK");
    assert!(internal["tags"].get("error").is_none());
}

#[test]
fn the_default_service_name_stands_in_for_a_missing_one() {
    let mut request = rich_request();
    let resource = request.resource_spans[0].resource.as_mut().unwrap();
    resource.attributes.retain(|kv| kv.key != "service.name");
    let json: serde_json::Value =
        serde_json::from_slice(&encode(&request, Format::Json, "fallback").body).unwrap();
    assert_eq!(json[0]["localEndpoint"]["serviceName"], "fallback");

    let resource = request.resource_spans[0].resource.as_mut().unwrap();
    resource.attributes.push(key_value("faas.name", "fn-1"));
    let encoded = encode(&request, Format::Json, "fallback");
    let json: serde_json::Value = serde_json::from_slice(&encoded.body).unwrap();
    assert_eq!(json[0]["localEndpoint"]["serviceName"], "fn-1");
    assert_eq!(json[0]["tags"]["otlp.service.name.source"], "faas.name");
    // The receiver puts the name back under the attribute it came from.
    let back = decode_v2_json(&encoded.body, false).unwrap();
    let attrs = &back.request().resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert_eq!(attrs.get_str("faas.name"), Some("fn-1"));
    assert!(!attrs.contains_key("service.name"));
}

#[test]
fn spans_without_valid_ids_are_left_out_and_counted() {
    let mut request = rich_request();
    request.resource_spans[0].scope_spans[0].spans[1].span_id = vec![0; 8];
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![1; 3];
    let encoded = encode(&request, Format::Proto, "x");
    assert_eq!((encoded.spans, encoded.invalid), (0, 2));
}

/// What a round trip must keep.
fn comparable(request: &ExportTraceServiceRequest) -> ExportTraceServiceRequest {
    let mut request = request.clone();
    for resource in &mut request.resource_spans {
        if let Some(resource) = &mut resource.resource {
            resource.attributes.sort_by(|a, b| a.key.cmp(&b.key));
        }
        for scope in &mut resource.scope_spans {
            for span in &mut scope.spans {
                span.attributes.sort_by(|a, b| a.key.cmp(&b.key));
                for event in &mut span.events {
                    event.attributes.sort_by(|a, b| a.key.cmp(&b.key));
                }
            }
        }
    }
    request
}

#[test]
fn otlp_survives_a_round_trip_through_both_formats() {
    let original = rich_request();
    for (format, decode) in [
        (
            Format::Json,
            decode_v2_json as fn(&[u8], bool) -> Result<Traces, DecodeError>,
        ),
        (Format::Proto, decode_v2_proto),
    ] {
        let encoded = encode(&original, format, "x");
        // Typed tags come back typed with parse_string_tags.
        let back = decode(&encoded.body, true).unwrap();
        assert_eq!(
            comparable(back.request()),
            comparable(&original),
            "{format:?} round trip"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let decoded = [
            decode_v2_json(&body, true),
            decode_v2_proto(&body, true),
            decode_v1_json(&body, true, 1),
        ];
        for traces in decoded.into_iter().flatten() {
            // Output is bounded by the input: no span comes from nothing.
            prop_assert!(traces.item_count() <= body.len());
        }
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        proto in any::<bool>(),
    ) {
        let format = if proto { Format::Proto } else { Format::Json };
        let mut body = encode(&rich_request(), format, "x").body;
        for (index, byte) in flips {
            let at = index.index(body.len());
            body[at] = byte;
        }
        let decoded = if proto {
            decode_v2_proto(&body, true)
        } else {
            decode_v2_json(&body, true)
        };
        if let Ok(traces) = decoded {
            prop_assert!(traces.item_count() <= body.len());
        }
        let _ = decode_v1_json(&body, true, 1);
    }
}
