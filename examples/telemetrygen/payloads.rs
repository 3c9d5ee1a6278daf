//! Realistic OTLP export requests: what an instrumented HTTP service sends.
//!
//! Every request carries one resource (`service.name` and five more attributes) and one
//! instrumentation scope. Spans come in traces of up to ten spans (a server root and its
//! children) with ten attributes each, mixed string, int and bool, random trace and span
//! IDs; metrics are a mix of gauges, cumulative sums and histograms with a few attribute
//! sets each; log records carry a formatted message, five attributes and trace context.
//!
//! The pipeline-core micro-benchmarks include this file too, so they measure the same
//! shapes the load generator sends; it therefore names the protobuf types through the
//! including crate's `proto` alias.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use crate::proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

/// A small, fast pseudo-random generator (SplitMix64): IDs and attribute values need to
/// look random, not be unpredictable.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator seeded from the clock, so two runs send different IDs.
    pub fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Rng::new(nanos ^ u64::from(std::process::id()).rotate_left(32))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// One of `choices`.
    pub fn pick<'a, T: ?Sized>(&mut self, choices: &[&'a T]) -> &'a T {
        choices[self.below(choices.len() as u64) as usize]
    }

    /// `len` random bytes, never all zero (an all-zero trace or span ID is invalid).
    fn id(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len);
        while bytes.len() < len {
            bytes.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        bytes.truncate(len);
        if bytes.iter().all(|b| *b == 0) {
            bytes[0] = 1;
        }
        bytes
    }

    fn hex(&mut self, len: usize) -> String {
        self.id(len).iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn string(key: &str, value: impl Into<String>) -> KeyValue {
    attribute(key, Value::StringValue(value.into()))
}

fn int(key: &str, value: i64) -> KeyValue {
    attribute(key, Value::IntValue(value))
}

fn boolean(key: &str, value: bool) -> KeyValue {
    attribute(key, Value::BoolValue(value))
}

fn attribute(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// `service.name` and five more attributes, as an SDK's resource detectors report them.
fn resource(rng: &mut Rng) -> Resource {
    Resource {
        attributes: vec![
            string("service.name", "telemetrygen"),
            string("service.version", "1.4.2"),
            string("service.instance.id", rng.hex(16)),
            string("host.name", format!("bench-host-{}", rng.below(16))),
            string("deployment.environment.name", "benchmark"),
            string("telemetry.sdk.language", "rust"),
        ],
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "tributary-telemetrygen".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

const METHODS: [&str; 4] = ["GET", "GET", "POST", "PUT"];
const ROUTES: [&str; 6] = [
    "/api/v1/users/{id}",
    "/api/v1/orders",
    "/api/v1/orders/{id}/items",
    "/api/v1/cart",
    "/api/v1/search",
    "/healthz",
];
const CHILD_NAMES: [&str; 5] = [
    "SELECT orders",
    "redis GET",
    "POST payments.internal/charge",
    "render template",
    "kafka publish order-events",
];
const USER_AGENTS: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0",
    "okhttp/4.12.0",
    "python-requests/2.32.3",
];

/// Ten attributes: five strings, three ints, two bools.
fn span_attributes(rng: &mut Rng, method: &str, route: &str, status_code: i64) -> Vec<KeyValue> {
    vec![
        string("http.request.method", method),
        string("http.route", route),
        string("url.scheme", "https"),
        string("server.address", "api.example.com"),
        string("user_agent.original", rng.pick(&USER_AGENTS)),
        int("http.response.status_code", status_code),
        int("server.port", 443),
        int("http.request.body.size", rng.below(16_384) as i64),
        boolean("app.cache_hit", rng.below(4) == 0),
        boolean("app.retried", rng.below(20) == 0),
    ]
}

/// Spans per trace when not told otherwise: a server root and up to nine children.
pub const MAX_SPANS_PER_TRACE: usize = 10;

/// A request of `spans` spans: traces of 1 to `max_per_trace` spans each (at least one), a
/// server root and its children.
pub fn traces(rng: &mut Rng, spans: usize, max_per_trace: usize) -> ExportTraceServiceRequest {
    let now = now_nanos();
    let mut out = Vec::with_capacity(spans);
    while out.len() < spans {
        let trace_id = rng.id(16);
        let root_id = rng.id(8);
        let in_trace = (1 + rng.below(max_per_trace.max(1) as u64) as usize).min(spans - out.len());
        let root_start = now - 1_000_000_000 - rng.below(1_000_000_000);
        let root_duration = 5_000_000 + rng.below(300_000_000);
        let method = rng.pick(&METHODS);
        let route = rng.pick(&ROUTES);
        let failed = rng.below(50) == 0;
        let status_code = if failed { 500 } else { 200 };
        for index in 0..in_trace {
            let (name, kind, parent, start, duration) = if index == 0 {
                (
                    format!("{method} {route}"),
                    span::SpanKind::Server,
                    Vec::new(),
                    root_start,
                    root_duration,
                )
            } else {
                let offset = rng.below(root_duration / 2);
                (
                    rng.pick(&CHILD_NAMES).to_string(),
                    span::SpanKind::Client,
                    root_id.clone(),
                    root_start + offset,
                    rng.below(root_duration / 2).max(1),
                )
            };
            out.push(Span {
                trace_id: trace_id.clone(),
                span_id: if index == 0 {
                    root_id.clone()
                } else {
                    rng.id(8)
                },
                parent_span_id: parent,
                flags: 0x101,
                name,
                kind: kind as i32,
                start_time_unix_nano: start,
                end_time_unix_nano: start + duration,
                attributes: span_attributes(rng, method, route, status_code),
                status: Some(Status {
                    code: if failed {
                        status::StatusCode::Error
                    } else {
                        status::StatusCode::Unset
                    } as i32,
                    message: if failed {
                        "upstream timed out".into()
                    } else {
                        String::new()
                    },
                }),
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(rng)),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans: out,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// How many data points one metric carries at most (its attribute sets).
const POINTS_PER_METRIC: usize = 5;

/// A request of `points` data points: gauges, cumulative sums and histograms in turn, each
/// with up to five attribute sets.
pub fn metrics(rng: &mut Rng, points: usize) -> ExportMetricsServiceRequest {
    let now = now_nanos();
    let start = now - 3_600_000_000_000;
    let mut out = Vec::new();
    let mut made = 0;
    while made < points {
        let count = POINTS_PER_METRIC.min(points - made);
        let attributes = |rng: &mut Rng, i: usize| {
            vec![
                string("http.request.method", rng.pick(&METHODS)),
                string("http.route", ROUTES[i % ROUTES.len()]),
                int("http.response.status_code", 200),
            ]
        };
        let data = match out.len() % 3 {
            0 => metric::Data::Gauge(Gauge {
                data_points: (0..count)
                    .map(|i| NumberDataPoint {
                        attributes: attributes(rng, i),
                        time_unix_nano: now,
                        value: Some(number_data_point::Value::AsDouble(
                            rng.below(10_000) as f64 / 100.0,
                        )),
                        ..Default::default()
                    })
                    .collect(),
            }),
            1 => metric::Data::Sum(Sum {
                data_points: (0..count)
                    .map(|i| NumberDataPoint {
                        attributes: attributes(rng, i),
                        start_time_unix_nano: start,
                        time_unix_nano: now,
                        value: Some(number_data_point::Value::AsInt(rng.below(1_000_000) as i64)),
                        ..Default::default()
                    })
                    .collect(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            }),
            _ => metric::Data::Histogram(Histogram {
                data_points: (0..count)
                    .map(|i| {
                        let bucket_counts: Vec<u64> = (0..11).map(|_| rng.below(100)).collect();
                        let total: u64 = bucket_counts.iter().sum();
                        HistogramDataPoint {
                            attributes: attributes(rng, i),
                            start_time_unix_nano: start,
                            time_unix_nano: now,
                            count: total,
                            sum: Some(total as f64 * 0.042),
                            bucket_counts,
                            explicit_bounds: vec![
                                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0,
                            ],
                            ..Default::default()
                        }
                    })
                    .collect(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            }),
        };
        let (name, unit) = match &data {
            metric::Data::Gauge(_) => ("process.cpu.utilization", "1"),
            metric::Data::Sum(_) => ("http.server.request.count", "{request}"),
            _ => ("http.server.request.duration", "s"),
        };
        out.push(Metric {
            name: name.to_string(),
            unit: unit.to_string(),
            description: String::new(),
            data: Some(data),
            ..Default::default()
        });
        made += count;
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource(rng)),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics: out,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A request of `records` log records: access-log lines with trace context.
pub fn logs(rng: &mut Rng, records: usize) -> ExportLogsServiceRequest {
    let now = now_nanos();
    let log_records = (0..records)
        .map(|_| {
            let method = rng.pick(&METHODS);
            let route = rng.pick(&ROUTES);
            let failed = rng.below(50) == 0;
            let status_code: i64 = if failed { 500 } else { 200 };
            let millis = rng.below(800);
            let user = rng.below(100_000);
            let time = now - rng.below(1_000_000_000);
            let (severity, text) = if failed {
                (SeverityNumber::Error, "ERROR")
            } else {
                (SeverityNumber::Info, "INFO")
            };
            LogRecord {
                time_unix_nano: time,
                observed_time_unix_nano: time + 1_000_000,
                severity_number: severity as i32,
                severity_text: text.to_string(),
                body: Some(AnyValue {
                    value: Some(Value::StringValue(format!(
                        "{method} {route} {status_code} {millis}ms user={user} agent=\"{}\"",
                        rng.pick(&USER_AGENTS)
                    ))),
                }),
                attributes: vec![
                    string("http.request.method", method),
                    string("http.route", route),
                    int("http.response.status_code", status_code),
                    int("http.server.duration_ms", millis as i64),
                    string("enduser.id", format!("user-{user}")),
                ],
                flags: 1,
                trace_id: rng.id(16),
                span_id: rng.id(8),
                ..Default::default()
            }
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource(rng)),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
