//! Sample telemetry that exercises every field kind an exporter must carry.

// Each exporter's tests use their own share of these; a build with only some features
// leaves the rest unused.
#![cfg_attr(
    not(all(
        feature = "otlp",
        feature = "otlp_http",
        feature = "debug",
        feature = "file"
    )),
    allow(dead_code)
)]

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point, metric, number_data_point,
    summary_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

/// A key-value attribute.
pub(crate) fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A string attribute.
pub(crate) fn str_kv(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![str_kv("service.name", "checkout")],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "io.tributary.test".into(),
        version: "1.2.3".into(),
        ..Default::default()
    })
}

/// One attribute of every value kind.
pub(crate) fn rich_attributes() -> Vec<KeyValue> {
    vec![
        str_kv("http.method", "GET"),
        kv("http.status_code", any_value::Value::IntValue(200)),
        kv("ratio", any_value::Value::DoubleValue(0.25)),
        kv("cached", any_value::Value::BoolValue(true)),
        kv("raw", any_value::Value::BytesValue(vec![0, 1, 2, 255])),
        kv(
            "tags",
            any_value::Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(any_value::Value::StringValue("a".into())),
                    },
                    AnyValue {
                        value: Some(any_value::Value::IntValue(7)),
                    },
                ],
            }),
        ),
        kv(
            "nested",
            any_value::Value::KvlistValue(KeyValueList {
                values: vec![str_kv("inner", "value")],
            }),
        ),
    ]
}

/// `spans` spans under one resource and scope, the first with events, links and status.
pub(crate) fn traces(spans: usize) -> Traces {
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: vec![0xab; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            parent_span_id: if i == 0 { Vec::new() } else { vec![1; 8] },
            name: format!("span-{i}"),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_500_000_000 + i as u64,
            attributes: if i == 0 {
                rich_attributes()
            } else {
                vec![str_kv("i", &i.to_string())]
            },
            events: if i == 0 {
                vec![span::Event {
                    time_unix_nano: 1_700_000_000_100_000_000,
                    name: "cache.miss".into(),
                    attributes: vec![str_kv("key", "k1")],
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            links: if i == 0 {
                vec![span::Link {
                    trace_id: vec![0xcd; 16],
                    span_id: vec![9; 8],
                    trace_state: "vendor=1".into(),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            status: Some(Status {
                code: if i == 0 {
                    status::StatusCode::Error as i32
                } else {
                    status::StatusCode::Ok as i32
                },
                message: if i == 0 { "boom".into() } else { String::new() },
            }),
            ..Default::default()
        })
        .collect();
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                schema_url: "https://opentelemetry.io/schemas/1.25.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.25.0".into(),
        }],
    })
}

fn number_point(value: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![str_kv("host", "a")],
        start_time_unix_nano: 1_700_000_000_000_000_000,
        time_unix_nano: 1_700_000_010_000_000_000,
        value: Some(value),
        exemplars: vec![Exemplar {
            time_unix_nano: 1_700_000_005_000_000_000,
            value: Some(exemplar::Value::AsDouble(3.5)),
            span_id: vec![1; 8],
            trace_id: vec![0xab; 16],
            filtered_attributes: vec![str_kv("user", "u1")],
        }],
        ..Default::default()
    }
}

fn metric(name: &str, data: metric::Data) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name} description"),
        unit: "1".into(),
        data: Some(data),
        ..Default::default()
    }
}

/// One metric of each of the five types; nine data points in all.
pub(crate) fn metrics() -> Metrics {
    metrics_from(vec![
        metric(
            "queue.depth",
            metric::Data::Gauge(Gauge {
                data_points: vec![
                    number_point(number_data_point::Value::AsInt(42)),
                    number_point(number_data_point::Value::AsDouble(0.5)),
                ],
            }),
        ),
        metric(
            "requests",
            metric::Data::Sum(Sum {
                data_points: vec![
                    number_point(number_data_point::Value::AsInt(10)),
                    number_point(number_data_point::Value::AsInt(20)),
                ],
                aggregation_temporality: 2,
                is_monotonic: true,
            }),
        ),
        metric(
            "latency",
            metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: vec![str_kv("route", "/a")],
                    start_time_unix_nano: 1_700_000_000_000_000_000,
                    time_unix_nano: 1_700_000_010_000_000_000,
                    count: 6,
                    sum: Some(12.5),
                    bucket_counts: vec![1, 2, 3],
                    explicit_bounds: vec![1.0, 5.0],
                    min: Some(0.5),
                    max: Some(7.25),
                    ..Default::default()
                }],
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "size",
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    count: 5,
                    sum: Some(20.0),
                    scale: 1,
                    zero_count: 1,
                    positive: Some(exponential_histogram_data_point::Buckets {
                        offset: 0,
                        bucket_counts: vec![1, 2],
                    }),
                    negative: Some(exponential_histogram_data_point::Buckets {
                        offset: 0,
                        bucket_counts: vec![1],
                    }),
                    min: Some(-1.0),
                    max: Some(3.0),
                    ..Default::default()
                }],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "rpc.duration",
            metric::Data::Summary(Summary {
                data_points: vec![
                    SummaryDataPoint {
                        count: 4,
                        sum: 10.0,
                        quantile_values: vec![
                            summary_data_point::ValueAtQuantile {
                                quantile: 0.5,
                                value: 2.0,
                            },
                            summary_data_point::ValueAtQuantile {
                                quantile: 0.99,
                                value: 4.0,
                            },
                        ],
                        ..Default::default()
                    },
                    SummaryDataPoint::default(),
                    SummaryDataPoint::default(),
                ],
            }),
        ),
    ])
}

/// Metrics whose doubles include NaN and both infinities in every double-valued field kind.
pub(crate) fn non_finite_metrics() -> Metrics {
    metrics_from(vec![
        metric(
            "stale",
            metric::Data::Gauge(Gauge {
                data_points: vec![
                    number_point(number_data_point::Value::AsDouble(f64::NAN)),
                    number_point(number_data_point::Value::AsDouble(f64::INFINITY)),
                    number_point(number_data_point::Value::AsDouble(f64::NEG_INFINITY)),
                ],
            }),
        ),
        metric(
            "hist",
            metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    count: 1,
                    sum: Some(f64::NAN),
                    bucket_counts: vec![0, 1],
                    explicit_bounds: vec![f64::INFINITY],
                    min: Some(f64::NEG_INFINITY),
                    max: Some(f64::INFINITY),
                    ..Default::default()
                }],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "summary",
            metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    count: 1,
                    sum: f64::INFINITY,
                    quantile_values: vec![summary_data_point::ValueAtQuantile {
                        quantile: 0.5,
                        value: f64::NAN,
                    }],
                    ..Default::default()
                }],
            }),
        ),
    ])
}

fn metrics_from(metrics: Vec<Metric>) -> Metrics {
    Metrics::new(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    })
}

/// `records` log records under one resource and scope.
pub(crate) fn logs(records: usize) -> Logs {
    let log_records = (0..records)
        .map(|i| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            observed_time_unix_nano: 1_700_000_000_000_000_100,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!(
                    "user logged in #{i}"
                ))),
            }),
            attributes: vec![str_kv("user", "alice")],
            trace_id: vec![0xab; 16],
            span_id: vec![1; 8],
            flags: 1,
            ..Default::default()
        })
        .collect();
    Logs::new(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    })
}

/// Traces decoded from the fixture's encoding with an unknown field appended, and those
/// bytes. The payload keeps them as its encoding, while re-encoding the request would drop
/// the unknown field: a backend receiving exactly these bytes proves nothing re-encoded.
pub(crate) fn traces_with_foreign_bytes() -> (Traces, bytes::Bytes) {
    use prost::Message;
    let mut bytes = traces(3).encoded().to_vec();
    // Field 1000, wire type 0 (varint), value 1.
    bytes.extend_from_slice(&[0xc0, 0x3e, 0x01]);
    let bytes = bytes::Bytes::from(bytes);
    let decoded = Traces::decode(bytes.clone()).expect("decodes");
    assert_ne!(
        decoded.request().encode_to_vec(),
        bytes,
        "re-encoding must differ for the bytes to prove anything"
    );
    (decoded, bytes)
}
