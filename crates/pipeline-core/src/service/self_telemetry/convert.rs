//! The collector's own telemetry as OTLP requests: metrics from the registry's snapshot,
//! spans from the tracer, log records from the log layer.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::pdata::attributes::{any_value, key_value};
use crate::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use crate::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::pdata::proto::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use crate::pdata::proto::resource::v1::Resource;
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use crate::telemetry::{FinishedSpan, MetricKind, MetricSnapshot, SpanValue};

/// Go's instrumentation scope of the collector's own logs.
const LOGS_SCOPE: &str = "go.opentelemetry.io/collector/service";

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The collector's resource as OTLP.
pub(crate) fn resource(attributes: &BTreeMap<String, String>) -> Resource {
    Resource {
        attributes: attributes
            .iter()
            .map(|(k, v)| key_value(k.as_str(), v.as_str()))
            .collect(),
        ..Default::default()
    }
}

fn scope(name: &str, version: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_string(),
        version: version.to_string(),
        ..Default::default()
    }
}

/// The metrics of `snapshot` as one request: counters as cumulative monotonic sums since
/// `start`, gauges as gauges, grouped by the Go Collector's instrumentation scopes.
pub(crate) fn metrics_request(
    snapshot: Vec<MetricSnapshot>,
    resource: &Resource,
    version: &str,
    start: SystemTime,
    now: SystemTime,
) -> ExportMetricsServiceRequest {
    let mut scopes: BTreeMap<&'static str, Vec<Metric>> = BTreeMap::new();
    for family in snapshot {
        let points = family
            .series
            .into_iter()
            .map(|(labels, value)| NumberDataPoint {
                attributes: labels.into_iter().map(|(k, v)| key_value(k, v)).collect(),
                start_time_unix_nano: if family.kind == MetricKind::Counter {
                    nanos(start)
                } else {
                    0
                },
                time_unix_nano: nanos(now),
                value: Some(
                    if family.kind == MetricKind::Counter && value.fract() == 0.0 {
                        number_data_point::Value::AsInt(value as i64)
                    } else {
                        number_data_point::Value::AsDouble(value)
                    },
                ),
                ..Default::default()
            })
            .collect();
        let data = match family.kind {
            MetricKind::Counter => metric::Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            }),
            MetricKind::Gauge => metric::Data::Gauge(Gauge {
                data_points: points,
            }),
        };
        scopes
            .entry(crate::telemetry::scope_name(&family.name))
            .or_default()
            .push(Metric {
                name: family.name,
                description: family.help,
                data: Some(data),
                ..Default::default()
            });
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource.clone()),
            scope_metrics: scopes
                .into_iter()
                .map(|(name, metrics)| ScopeMetrics {
                    scope: Some(scope(name, version)),
                    metrics,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
    }
}

fn span_scope(name: &str) -> &'static str {
    if name.starts_with("receiver/") {
        "go.opentelemetry.io/collector/receiver/receiverhelper"
    } else if name.starts_with("exporter/") {
        "go.opentelemetry.io/collector/exporter/exporterhelper"
    } else {
        "go.opentelemetry.io/collector/service"
    }
}

/// Spans as one request, grouped by the Go Collector's instrumentation scopes.
pub(crate) fn spans_request(
    spans: Vec<FinishedSpan>,
    resource: &Resource,
    version: &str,
) -> ExportTraceServiceRequest {
    let mut scopes: BTreeMap<&'static str, Vec<Span>> = BTreeMap::new();
    for finished in spans {
        let kind = if finished.name.starts_with("receiver/") {
            span::SpanKind::Server
        } else if finished.name.starts_with("exporter/") {
            span::SpanKind::Client
        } else {
            span::SpanKind::Internal
        };
        let status = match &finished.error {
            Some(message) => Status {
                message: message.clone(),
                code: status::StatusCode::Error as i32,
            },
            None => Status::default(),
        };
        scopes
            .entry(span_scope(&finished.name))
            .or_default()
            .push(Span {
                trace_id: finished.trace_id.to_vec(),
                span_id: finished.span_id.to_vec(),
                name: finished.name,
                kind: kind as i32,
                start_time_unix_nano: nanos(finished.start),
                end_time_unix_nano: nanos(finished.end),
                attributes: finished
                    .attributes
                    .into_iter()
                    .map(|(k, v)| match v {
                        SpanValue::Str(s) => key_value(k, s),
                        SpanValue::Int(i) => key_value(k, i),
                    })
                    .collect(),
                status: Some(status),
                ..Default::default()
            });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource.clone()),
            scope_spans: scopes
                .into_iter()
                .map(|(name, spans)| ScopeSpans {
                    scope: Some(scope(name, version)),
                    spans,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
    }
}

/// One log entry of the collector, as the log layer saw it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SelfLogRecord {
    pub time: SystemTime,
    /// OTLP severity number (DEBUG 5, INFO 9, WARN 13, ERROR 17).
    pub severity_number: i32,
    /// `debug`, `info`, `warn`, `error` (zap's level names).
    pub severity_text: &'static str,
    pub message: String,
    /// The entry's fields, the initial fields and `caller`.
    pub attributes: Vec<(String, serde_json::Value)>,
}

fn json_value(value: serde_json::Value) -> AnyValue {
    match value {
        serde_json::Value::String(s) => any_value(s),
        serde_json::Value::Bool(b) => any_value(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => any_value(i),
            None => any_value(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::Null => AnyValue { value: None },
        other => AnyValue {
            value: Some(any_value::Value::StringValue(other.to_string())),
        },
    }
}

/// Log records as one request.
pub(crate) fn logs_request(
    records: Vec<SelfLogRecord>,
    resource: &Resource,
    version: &str,
) -> ExportLogsServiceRequest {
    let log_records = records
        .into_iter()
        .map(|r| LogRecord {
            time_unix_nano: nanos(r.time),
            observed_time_unix_nano: nanos(r.time),
            severity_number: r.severity_number,
            severity_text: r.severity_text.to_string(),
            body: Some(any_value(r.message)),
            attributes: r
                .attributes
                .into_iter()
                .map(|(key, value)| KeyValue {
                    key,
                    value: Some(json_value(value)),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource.clone()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope(LOGS_SCOPE, version)),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
