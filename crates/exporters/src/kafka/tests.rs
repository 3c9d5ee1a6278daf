//! The `kafka` exporter's configuration and how batches become records. Producing to a
//! real broker (tansu) is tested end to end in the workspace's `tests/kafka.rs`.

use tributary_confmap::Conf;
use tributary_pipeline_core::component::ComponentConfig;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;

use super::config::{Config, Encoding};
use super::exporter::KafkaExporter;
use super::records::{ItemRecord, KafkaData, RecordPlan};

fn config(yaml: &str) -> Result<Config, String> {
    let config: Config = Conf::from_yaml(yaml)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

/// `traces` traces of `spans_each` spans, each trace under a resource of its own
/// `service.name` (`svc-<trace>`).
fn traces(traces: usize, spans_each: usize, padding: usize) -> Traces {
    let mut builder = TracesBuilder::new();
    for t in 0..traces {
        builder.resource(vec![key_value("service.name", format!("svc-{t}"))]);
        for s in 0..spans_each {
            let trace_id = [t as u8 + 1; 16];
            let span_id = ((t * 1000 + s) as u64 + 1).to_be_bytes();
            builder.span(&format!("s{s}-{}", "x".repeat(padding)), trace_id, span_id);
        }
    }
    builder.build()
}

#[test]
fn defaults_are_gos() {
    let config = config("").unwrap();
    assert_eq!(config.client.brokers, ["localhost:9092"]);
    assert_eq!(config.client.client_id, "otel-collector");
    assert_eq!(config.topic(Signal::Traces), "otlp_spans");
    assert_eq!(config.topic(Signal::Metrics), "otlp_metrics");
    assert_eq!(config.topic(Signal::Logs), "otlp_logs");
    assert_eq!(config.encoding(Signal::Traces), Encoding::OtlpProto);
    assert_eq!(config.producer.max_message_bytes, 1_000_000);
    assert_eq!(config.producer.required_acks.0, 1);
    assert_eq!(config.producer.compression, "none");
    assert_eq!(config.partitioner(), "fnv1a_random");
    assert_eq!(config.helper.timeout, std::time::Duration::from_secs(5));
}

#[test]
fn a_go_configuration_decodes() {
    let config = config(
        "brokers: [k1:9092, k2:9092]\nclient_id: edge\nprotocol_version: 2.1.0\n\
         traces: { topic: spans, encoding: zipkin_json }\nmetrics: { topic: m, encoding: otlp_json }\n\
         logs: { topic: l, encoding: raw, topic_from_metadata_key: tenant }\n\
         partition_traces_by_id: true\npartition_logs_by_resource_attributes: true\n\
         include_metadata_keys: [tenant]\nrecord_headers: { env: prod }\nsignal_header: true\n\
         record_partitioner: { sticky_key: { hasher: murmur2 } }\n\
         producer: { max_message_bytes: 5000, required_acks: all, compression: zstd, compression_params: { level: 3 }, flush_max_messages: 100 }\n\
         auth: { sasl: { mechanism: SCRAM-SHA-256, username: u, password: p } }\n\
         timeout: 9s\nsending_queue: { enabled: false }\nretry_on_failure: { enabled: false }",
    )
    .unwrap();
    assert_eq!(config.encoding(Signal::Traces), Encoding::ZipkinJson);
    assert_eq!(config.topic_from_metadata_key(Signal::Logs), "tenant");
    assert_eq!(config.producer.required_acks.0, -1);
    assert_eq!(config.partitioner(), "murmur2_random");
    assert_eq!(config.record_headers["env"], "prod");
}

#[test]
fn invalid_configurations_are_refused_with_their_path() {
    for (yaml, path) in [
        ("traces: { topic: 'a b' }", "traces::topic"),
        ("topic: ''\nmetrics: { topic: '..' }", "metrics::topic"),
        ("traces: { encoding: raw }", "traces::encoding"),
        ("metrics: { encoding: zipkin_proto }", "metrics::encoding"),
        ("traces: { encoding: zipkin_thrift }", "traces::encoding"),
        ("logs: { encoding: jaeger_json }", "logs::encoding"),
        (
            "producer: { max_message_bytes: 10 }",
            "producer::max_message_bytes",
        ),
        ("producer: { compression: brotli }", "producer::compression"),
        ("producer: { required_acks: 2 }", "producer::required_acks"),
        (
            "record_partitioner: { least_backup: {} }",
            "record_partitioner",
        ),
        (
            "record_partitioner: { sticky_key: { hasher: crc } }",
            "record_partitioner::sticky_key::hasher",
        ),
        (
            "partition_logs_by_trace_id: true\npartition_logs_by_resource_attributes: true",
            "partition_logs_by_trace_id",
        ),
        ("brokers: []", "brokers"),
        (
            "auth: { sasl: { mechanism: GSSAPI, username: u } }",
            "auth::sasl::mechanism",
        ),
        ("unknown_key: 1", "unknown_key"),
    ] {
        let error = config(yaml).unwrap_err();
        assert!(error.contains(path), "{yaml}: {error}");
    }
}

#[test]
fn one_record_per_trace_keyed_by_its_id() {
    let config = config("partition_traces_by_id: true").unwrap();
    let plan = RecordPlan::new(&config, Signal::Traces);
    let parts = plan.divide(traces(3, 4, 0));
    assert_eq!(parts.len(), 3);
    for (topic, key, part) in &parts {
        assert_eq!(&**topic, "otlp_spans");
        assert_eq!(part.item_count(), 4);
        let key = String::from_utf8(key.clone().unwrap()).unwrap();
        let trace_id = &part.request().resource_spans[0].scope_spans[0].spans[0].trace_id;
        assert_eq!(key, hex::encode(trace_id));
    }
    // Without the key, one record.
    let plain = RecordPlan::new(&self::config("").unwrap(), Signal::Traces);
    let parts = plain.divide(traces(3, 4, 0));
    assert_eq!(parts.len(), 1);
    assert!(parts[0].1.is_none());
}

#[test]
fn topics_come_from_metadata_then_attributes_then_config() {
    let config =
        config("topic_from_attribute: service.name\ntraces: { topic_from_metadata_key: tenant }")
            .unwrap();
    let plan = RecordPlan::new(&config, Signal::Traces);
    let mut topics: Vec<String> = plan
        .divide(traces(2, 2, 0))
        .iter()
        .map(|(topic, _, part)| format!("{topic}:{}", part.item_count()))
        .collect();
    topics.sort();
    assert_eq!(topics, ["svc-0:2", "svc-1:2"]);

    let mut metadata = ClientMetadata::new();
    metadata.insert("tenant", "acme");
    let data = traces(2, 2, 0).with_metadata(std::sync::Arc::new(metadata));
    let parts = plan.divide(data);
    assert_eq!(parts.len(), 1);
    assert_eq!(&*parts[0].0, "acme");
    assert_eq!(parts[0].2.item_count(), 4);
}

#[test]
fn metrics_and_logs_are_keyed_by_their_resource() {
    let config = config(
        "partition_metrics_by_resource_attributes: true\npartition_logs_by_resource_attributes: true",
    )
    .unwrap();
    let mut builder = MetricsBuilder::new();
    for host in ["a", "b", "a"] {
        builder.resource(vec![key_value("host.name", host)]);
        builder.gauge("load", "1").double(vec![], 1, 1.0);
    }
    let parts = RecordPlan::new(&config, Signal::Metrics).divide(builder.build());
    // Two resources with the same attributes share a key, hence a record.
    assert_eq!(parts.len(), 2);
    assert_eq!(parts.iter().map(|p| p.2.item_count()).sum::<usize>(), 3);
    assert_ne!(parts[0].1, parts[1].1);

    let mut logs = LogsBuilder::new();
    logs.resource(vec![key_value("host.name", "a")]);
    logs.record("one");
    logs.resource(vec![key_value("host.name", "b")]);
    logs.record("two");
    let parts = RecordPlan::new(&config, Signal::Logs).divide(logs.build());
    assert_eq!(parts.len(), 2);
}

#[test]
fn raw_logs_are_one_record_per_body() {
    let mut logs = LogsBuilder::new();
    logs.record("plain text");
    logs.record("second");
    let values = logs.build().encode_each(Encoding::Raw).unwrap().unwrap();
    assert_eq!(
        values,
        [
            ItemRecord {
                key: None,
                value: bytes::Bytes::from_static(b"plain text")
            },
            ItemRecord {
                key: None,
                value: bytes::Bytes::from_static(b"second")
            },
        ]
    );
    assert!(
        LogsBuilder::new()
            .build()
            .encode_each(Encoding::OtlpProto)
            .unwrap()
            .is_none()
    );
}

#[test]
fn zipkin_records_are_zipkin_v2() {
    let json = traces(1, 2, 0).encode_as(Encoding::ZipkinJson).unwrap();
    let spans: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(spans.as_array().unwrap().len(), 2);
    assert_eq!(spans[0]["localEndpoint"]["serviceName"], "svc-0");
    let proto = traces(1, 2, 0).encode_as(Encoding::ZipkinProto).unwrap();
    assert!(!proto.is_empty());
}

/// A Jaeger record read back as the `kafka` receiver reads it: the span, its process as
/// the batch's, translated to OTLP.
fn read_jaeger(value: &[u8], encoding: Encoding) -> Traces {
    use prost::Message;
    use tributary_translator_jaeger::{batches_to_otlp, model, span_from_json};
    let mut span = match encoding {
        Encoding::JaegerProto => model::Span::decode(value).unwrap(),
        _ => span_from_json(value).unwrap(),
    };
    let batch = model::Batch {
        process: span.process.take(),
        spans: vec![span],
    };
    Traces::new(batches_to_otlp([batch]).unwrap())
}

#[tokio::test]
async fn jaeger_records_are_one_span_each_keyed_by_its_trace_id() {
    for encoding in ["jaeger_proto", "jaeger_json"] {
        let config = config(&format!("traces: {{ encoding: {encoding} }}")).unwrap();
        let encoding = config.encoding(Signal::Traces);
        let exporter = KafkaExporter::<Traces>::new(&config).unwrap();
        let data = traces(2, 3, 0);
        let records = exporter.records_of(data.clone()).unwrap();
        assert_eq!(records.len(), 6, "{encoding:?}");
        let originals = data.request().resource_spans.iter().flat_map(|rs| {
            rs.scope_spans[0]
                .spans
                .iter()
                .map(move |span| (rs.resource.clone(), span))
        });
        for (record, (resource, span)) in records.iter().zip(originals) {
            assert_eq!(&*record.topic, "otlp_spans");
            // Jaeger's `TraceID.String()`: trace `[t; 16]` has both halves non-zero.
            let t = span.trace_id[0];
            let expected_key = format!(
                "{:x}{:016x}",
                u64::from_be_bytes([t; 8]),
                u64::from_be_bytes([t; 8])
            );
            assert_eq!(record.key.as_deref(), Some(expected_key.as_bytes()));
            // Exporter → bytes → the receiver's reading: the same span and resource.
            let back = read_jaeger(&record.value, encoding);
            let rs = &back.request().resource_spans[0];
            assert_eq!(rs.resource, resource);
            assert_eq!(rs.scope_spans[0].spans, std::slice::from_ref(span));
        }
    }
}

#[tokio::test]
async fn jaeger_json_records_are_jsonpb() {
    let config = config("traces: { encoding: jaeger_json }").unwrap();
    let exporter = KafkaExporter::<Traces>::new(&config).unwrap();
    let records = exporter.records_of(traces(1, 1, 0)).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&records[0].value).unwrap();
    assert_eq!(json["traceId"], "AQEBAQEBAQEBAQEBAQEBAQ==");
    assert_eq!(json["spanId"], "AAAAAAAAAAE=");
    assert_eq!(json["operationName"], "s0-");
    assert_eq!(json["process"]["serviceName"], "svc-0");
}

#[tokio::test]
async fn a_jaeger_span_over_max_message_bytes_cannot_be_sent() {
    let config =
        config("traces: { encoding: jaeger_proto }\nproducer: { max_message_bytes: 2048 }")
            .unwrap();
    let exporter = KafkaExporter::<Traces>::new(&config).unwrap();
    // Many spans: one record each, every one within the limit.
    let records = exporter.records_of(traces(2, 50, 40)).unwrap();
    assert_eq!(records.len(), 100);
    assert!(records.iter().all(|r| r.value.len() <= 2048));
    let error = exporter.records_of(traces(1, 1, 4000)).unwrap_err();
    assert!(error.is_permanent());
    assert!(error.to_string().contains("jaeger_proto record"), "{error}");
}

#[tokio::test]
async fn a_batch_over_max_message_bytes_becomes_several_records_within_it() {
    let config = config("producer: { max_message_bytes: 2048 }").unwrap();
    let exporter = KafkaExporter::<Traces>::new(&config).unwrap();
    let data = traces(4, 50, 40);
    let total = data.encoded_len();
    assert!(total > 4 * 2048, "{total}");
    let records = exporter.records_of(data).unwrap();
    assert!(records.len() >= 4, "{}", records.len());
    let mut spans = 0;
    for record in &records {
        assert!(record.value.len() <= 2048, "{}", record.value.len());
        spans += Traces::decode(record.value.clone()).unwrap().item_count();
    }
    assert_eq!(spans, 200);

    // One span larger than the limit cannot be sent.
    let one = traces(1, 1, 4000);
    assert!(exporter.records_of(one).unwrap_err().is_permanent());
}
