//! The `kafka` receiver's configuration and record decoding. Consuming from a real
//! broker (tansu) in a group of two collectors is tested end to end in the workspace's
//! `tests/kafka.rs`.

use prost::Message;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::ComponentConfig;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing;
use tributary_translator_jaeger::model;

use super::config::{Config, Encoding};
use super::decode::{KafkaRecord, add_resource_attributes};

fn config(yaml: &str) -> Result<Config, String> {
    let config: Config = Conf::from_yaml(yaml)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

#[test]
fn defaults_are_gos_but_at_least_once() {
    let config = config("").unwrap();
    assert_eq!(config.group_id, "otel-collector");
    assert_eq!(config.initial_offset, "latest");
    assert_eq!(config.topics(Signal::Traces), ["otlp_spans"]);
    assert_eq!(config.topics(Signal::Metrics), ["otlp_metrics"]);
    assert_eq!(config.topics(Signal::Logs), ["otlp_logs"]);
    assert_eq!(config.encoding(Signal::Logs), Encoding::OtlpProto);
    assert_eq!(config.assignment_strategy(), "range");
    assert!(config.message_marking.after, "marks after delivery");
    assert!(!config.autocommit.enable, "commits each marked record");
    assert_eq!(config.session_timeout, std::time::Duration::from_secs(10));
}

#[test]
fn a_go_configuration_decodes() {
    let config = config(
        "brokers: [k:9092]\nprotocol_version: 3.7.0\ngroup_id: g\ngroup_instance_id: i1\n\
         initial_offset: earliest\nsession_timeout: 30s\nheartbeat_interval: 5s\n\
         group_rebalance_strategy: sticky\nautocommit: { enable: true, interval: 2s }\n\
         min_fetch_size: 10\ndefault_fetch_size: 2048\nmax_fetch_size: 5000000\n\
         max_partition_fetch_size: 4096\nmax_fetch_wait: 1s\n\
         traces: { topics: ['^spans-.*'], exclude_topics: ['^spans-debug$'], encoding: jaeger_proto }\n\
         logs: { topics: [a], encoding: json }\ntopic: legacy\n\
         message_marking: { after: true, on_error: true, on_permanent_error: true }\n\
         error_backoff: { enabled: true, initial_interval: 1s, max_interval: 10s, max_elapsed_time: 1m }\n\
         header_extraction: { extract_headers: true, headers: [tenant] }\n\
         use_leader_epoch: false\ntelemetry: { metrics: { kafka_receiver_records_delay: { enabled: true } } }\n\
         partition_processing: { independent: true }",
    )
    .unwrap();
    assert_eq!(config.assignment_strategy(), "cooperative-sticky");
    assert_eq!(config.topics(Signal::Metrics), ["legacy"]);
    assert_eq!(config.encoding(Signal::Traces), Encoding::JaegerProto);
    assert_eq!(config.exclude_topics(Signal::Traces), ["^spans-debug$"]);
}

#[test]
fn invalid_configurations_are_refused_with_their_path() {
    for (yaml, path) in [
        ("group_id: ''", "group_id"),
        ("initial_offset: oldest", "initial_offset"),
        ("heartbeat_interval: 20s", "heartbeat_interval"),
        (
            "group_rebalance_strategies: [range, sticky]",
            "group_rebalance_strategies",
        ),
        (
            "group_rebalance_strategies: [best]",
            "group_rebalance_strategies",
        ),
        ("traces: { topics: ['bad topic'] }", "traces::topics::0"),
        ("logs: { topics: ['^(unclosed'] }", "logs::topics::0"),
        ("logs: { exclude_topics: ['('] }", "logs::exclude_topics::0"),
        ("metrics: { encoding: raw }", "metrics::encoding"),
        ("traces: { encoding: zipkin_thrift }", "traces::encoding"),
        ("logs: { encoding: zipkin_json }", "logs::encoding"),
        ("metrics: { encoding: jaeger_json }", "metrics::encoding"),
        (
            "error_backoff: { initial_interval: 0s }",
            "error_backoff::initial_interval",
        ),
        ("max_partition_fetch_size: 0", "max_partition_fetch_size"),
        ("brokers: ['no-port']", "brokers::0"),
        (
            "autocommit: { enable: true, interval: 0s }",
            "autocommit::interval",
        ),
        ("what: 1", "what"),
    ] {
        let error = config(yaml).unwrap_err();
        assert!(error.contains(path), "{yaml}: {error}");
    }
}

#[test]
fn otlp_records_decode_in_both_encodings() {
    let mut builder = TracesBuilder::new();
    builder.span("one", [1; 16], [2; 8]);
    let traces = builder.build();
    let proto = Traces::decode_record(&traces.encoded(), Encoding::OtlpProto).unwrap();
    assert_eq!(proto.item_count(), 1);
    let mut json = Vec::new();
    traces.write_otlp_json(&mut json).unwrap();
    let from_json = Traces::decode_record(&json, Encoding::OtlpJson).unwrap();
    assert_eq!(from_json.request(), traces.request());
    assert!(Traces::decode_record(b"\xff\xff\xff", Encoding::OtlpProto).is_err());
    assert!(Metrics::decode_record(b"{", Encoding::OtlpJson).is_err());
}

#[test]
fn zipkin_and_jaeger_records_become_otlp_spans() {
    let zipkin = br#"[{"traceId":"0102030405060708090a0b0c0d0e0f10","id":"0102030405060708","name":"get","timestamp":1700000000000000,"duration":5,"localEndpoint":{"serviceName":"web"}}]"#;
    let traces = Traces::decode_record(zipkin, Encoding::ZipkinJson).unwrap();
    assert_eq!(traces.item_count(), 1);
    let span = &traces.request().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.name, "get");

    let jaeger = model::Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        operation_name: "db".into(),
        process: Some(model::Process {
            service_name: "api".into(),
            tags: Vec::new(),
        }),
        ..Default::default()
    };
    let traces = Traces::decode_record(&jaeger.encode_to_vec(), Encoding::JaegerProto).unwrap();
    let rs = &traces.request().resource_spans[0];
    assert_eq!(rs.scope_spans[0].spans[0].name, "db");
    let service = rs
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name");
    assert!(service.is_some());
}

/// Spans as the `kafka` exporter writes them in `jaeger_proto` and `jaeger_json` (the
/// translator's writers, which it calls), read back by the receiver's decoder.
#[test]
fn jaeger_records_of_both_encodings_read_back_as_the_spans_written() {
    use tributary_pipeline_core::pdata::proto::trace::v1::span::SpanKind;
    use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
    let mut builder = TracesBuilder::new();
    builder.resource(vec![
        key_value("service.name", "checkout"),
        key_value("host.name", "web-1"),
    ]);
    builder.scope("lib", "1.0");
    builder
        .span("GET /cart", [7; 16], [1; 8])
        .kind(SpanKind::Server)
        .times(1_700_000_000_000_000_000, 1_700_000_000_250_000_000)
        .attribute("http.status_code", 503i64)
        .event(
            "retry",
            1_700_000_000_100_000_000,
            vec![key_value("attempt", 2i64)],
        )
        .status(StatusCode::Error, "unavailable");
    builder
        .span("SELECT", [7; 16], [2; 8])
        .parent([1; 8])
        .kind(SpanKind::Client)
        .times(1_700_000_000_010_000_000, 1_700_000_000_020_000_000);
    let traces = builder.build();
    let expected = &traces.request().resource_spans[0];
    let spans = tributary_translator_jaeger::traces_to_spans(traces.request());
    for (encoding, encode) in [
        (
            Encoding::JaegerProto,
            (|span: &model::Span| span.encode_to_vec()) as fn(&model::Span) -> Vec<u8>,
        ),
        (
            Encoding::JaegerJson,
            tributary_translator_jaeger::span_to_json,
        ),
    ] {
        for (span, original) in spans.iter().zip(&expected.scope_spans[0].spans) {
            let back = Traces::decode_record(&encode(span), encoding).unwrap();
            let rs = &back.request().resource_spans[0];
            assert_eq!(rs.resource, expected.resource, "{encoding:?}");
            let scope = rs.scope_spans[0].scope.as_ref().unwrap();
            assert_eq!(
                (scope.name.as_str(), scope.version.as_str()),
                ("lib", "1.0")
            );
            assert_eq!(
                rs.scope_spans[0].spans,
                std::slice::from_ref(original),
                "{encoding:?}"
            );
        }
    }
}

#[test]
fn a_jaeger_json_record_as_go_writes_it_is_read() {
    // gogo jsonpb's form of a `model.Span`, with its process.
    let record = br#"{"traceId":"AAAAAAAAAAEAAAAAAAAAAg==","spanId":"AAAAAAAAAAM=","operationName":"GET /cart","references":[{"traceId":"AAAAAAAAAAEAAAAAAAAAAg==","spanId":"AAAAAAAAAAQ="}],"flags":1,"startTime":"2023-11-14T22:13:20.000005Z","duration":"0.250s","tags":[{"key":"span.kind","vStr":"server"},{"key":"http.status_code","vType":"INT64","vInt64":"200"}],"process":{"serviceName":"checkout"}}"#;
    let traces = Traces::decode_record(record, Encoding::JaegerJson).unwrap();
    let rs = &traces.request().resource_spans[0];
    let span = &rs.scope_spans[0].spans[0];
    assert_eq!(span.name, "GET /cart");
    assert_eq!(span.parent_span_id, [0, 0, 0, 0, 0, 0, 0, 4]);
    assert_eq!(span.flags, 1);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_005_000);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        250_000_000
    );
    assert_eq!(span.attributes, [key_value("http.status_code", 200i64)]);
    assert_eq!(
        rs.resource.as_ref().unwrap().attributes,
        [key_value("service.name", "checkout")]
    );
    let error = Traces::decode_record(br#"{"traceId":7}"#, Encoding::JaegerJson).unwrap_err();
    assert!(error.contains("traceId"), "{error}");
}

#[test]
fn log_records_take_the_value_as_their_body() {
    use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value;
    let body = |logs: &Logs| {
        logs.request().resource_logs[0].scope_logs[0].log_records[0]
            .body
            .clone()
            .unwrap()
            .value
            .unwrap()
    };
    let raw = Logs::decode_record(b"\x00\x01", Encoding::Raw).unwrap();
    assert_eq!(body(&raw), Value::BytesValue(vec![0, 1]));
    let text = Logs::decode_record("héllo".as_bytes(), Encoding::Text).unwrap();
    assert_eq!(body(&text), Value::StringValue("héllo".into()));
    assert!(Logs::decode_record(b"\xff", Encoding::Text).is_err());
    let json =
        Logs::decode_record(br#"{"level":"warn","n":3,"tags":["a"]}"#, Encoding::Json).unwrap();
    let Value::KvlistValue(map) = body(&json) else {
        panic!("a map body");
    };
    assert_eq!(map.values.len(), 3);
    assert!(Logs::decode_record(b"{", Encoding::Json).is_err());
}

#[test]
fn extracted_headers_become_resource_attributes() {
    let mut builder = LogsBuilder::new();
    builder.record("x");
    let mut logs = builder.build();
    add_resource_attributes(&mut logs, &[key_value("kafka.header.tenant", "acme")]);
    let resource = logs.request().resource_logs[0].resource.clone().unwrap();
    assert_eq!(resource.attributes[0].key, "kafka.header.tenant");
}

#[tokio::test]
async fn conformance() {
    // librdkafka connects in the background: starting needs no broker.
    testing::check_receiver(super::factory(), "brokers: [\"127.0.0.1:{port}\"]").await;
}
