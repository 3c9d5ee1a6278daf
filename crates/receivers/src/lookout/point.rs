//! What every importer reads its body into: Lookout's `Metric{name, tags, ts, value|info}`,
//! then the gateway's enrichment on read, its pre-filter limits, and the OTLP metrics a
//! request becomes.

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::MetricsBuilder;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::AggregationTemporality;

/// The instrumentation scope of the metrics this receiver produces.
pub const SCOPE_NAME: &str = "github.com/tributary/receivers/lookout";

/// One measurement as an importer read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The metric name.
    pub name: String,
    /// The tags, in the order read; keys unique.
    pub tags: Vec<(String, String)>,
    /// When it was measured, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The value.
    pub value: PointValue,
}

/// What a [`Point`] holds, which decides the OTLP metric it becomes.
#[derive(Clone, Debug, PartialEq)]
pub enum PointValue {
    /// A sampled value: an OTLP gauge.
    Gauge(f64),
    /// What a Lookout counter or timer counted during one step: a delta monotonic sum.
    Delta(f64),
    /// A running total (Prometheus counters): a cumulative monotonic sum.
    Cumulative(f64),
    /// An info value (`_type_: i`): a gauge of 1 with the text in attribute `value`.
    Info(String),
}

/// The limits of Lookout's `CommonMetricFilter`, applied to every point.
pub(crate) const MAX_NAME_CHARS: usize = 200;
pub(crate) const MAX_TAGS: usize = 20;
pub(crate) const MAX_KEY_CHARS: usize = 100;
pub(crate) const MAX_VALUE_CHARS: usize = 200;
pub(crate) const MAX_AGE_MS: i64 = 2 * 24 * 3600 * 1000;

/// Why the pre-filter dropped a point (the `reason` of the dropped-points counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DropReason {
    /// The name is longer than 200 characters.
    NameTooLong,
    /// No tags, or more than 20.
    TagCount,
    /// A tag key is empty or longer than 100 characters.
    TagKey,
    /// Older than two days.
    TooOld,
}

impl DropReason {
    pub(crate) const ALL: [DropReason; 4] = [
        DropReason::NameTooLong,
        DropReason::TagCount,
        DropReason::TagKey,
        DropReason::TooOld,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            DropReason::NameTooLong => "name_too_long",
            DropReason::TagCount => "tag_count",
            DropReason::TagKey => "tag_key",
            DropReason::TooOld => "too_old",
        }
    }
}

/// Replaces every character of a metric name but `[A-Za-z0-9_:.]` with `_`, and prefixes
/// `m_` when the name does not start with a letter, as Lookout does.
pub fn sanitize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.push_str("m_");
    }
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.') {
            c
        } else {
            '_'
        }
    }));
    out
}

/// Replaces every character of a tag key but `[A-Za-z0-9_]` with `_`, as Lookout does.
pub fn sanitize_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What the request adds to its points (Lookout's `extraTags` and `DefaultReaderManager`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Enrichment {
    /// Tags from the path or headers; a body tag of the same key wins.
    pub(crate) extra_tags: Vec<(String, String)>,
    /// The client's address: `Client-Ip`, else the peer.
    pub(crate) client_ip: Option<String>,
    /// The step in seconds to align timestamps to; `None`: no alignment (the standard
    /// protocol, or `step: -1`).
    pub(crate) align_step_s: Option<i64>,
}

impl Enrichment {
    /// Adds `ip` when absent, aligns the time, merges the extra tags (never overriding).
    pub(crate) fn apply(&self, point: &mut Point) {
        if let Some(ip) = &self.client_ip
            && !point.tags.iter().any(|(k, _)| k == "ip")
        {
            point.tags.push(("ip".to_owned(), ip.clone()));
        }
        if let Some(step) = self.align_step_s.filter(|s| *s > 0) {
            let step_ms = step.saturating_mul(1000);
            point.time_ms = point.time_ms.div_euclid(step_ms) * step_ms;
        }
        for (key, value) in &self.extra_tags {
            if !point.tags.iter().any(|(k, _)| k == key) {
                point.tags.push((key.clone(), value.clone()));
            }
        }
    }
}

/// Lookout's `CommonMetricFilter`: whether the point may pass, after values are
/// truncated to 200 characters.
pub(crate) fn pre_filter(point: &mut Point, now_ms: i64) -> Result<(), DropReason> {
    if point.name.chars().count() > MAX_NAME_CHARS {
        return Err(DropReason::NameTooLong);
    }
    if point.tags.is_empty() || point.tags.len() > MAX_TAGS {
        return Err(DropReason::TagCount);
    }
    if point
        .tags
        .iter()
        .any(|(k, _)| k.is_empty() || k.chars().count() > MAX_KEY_CHARS)
    {
        return Err(DropReason::TagKey);
    }
    if point.time_ms < now_ms.saturating_sub(MAX_AGE_MS) {
        return Err(DropReason::TooOld);
    }
    for (_, value) in &mut point.tags {
        if let Some((cut, _)) = value.char_indices().nth(MAX_VALUE_CHARS) {
            value.truncate(cut);
        }
    }
    Ok(())
}

/// The kind of OTLP metric a point becomes, which with its name groups it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Gauge,
    Delta,
    Cumulative,
}

fn shape(value: &PointValue) -> Shape {
    match value {
        PointValue::Gauge(_) | PointValue::Info(_) => Shape::Gauge,
        PointValue::Delta(_) => Shape::Delta,
        PointValue::Cumulative(_) => Shape::Cumulative,
    }
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    key_value(key, value)
}

/// The points as OTLP metrics: one metric per name and kind, tags as point attributes.
/// A delta point starts `step_s` before its time (the step it counted over).
pub(crate) fn to_metrics(points: Vec<Point>, step_s: i64) -> Metrics {
    let mut groups: BTreeMap<(String, Shape), Vec<Point>> = BTreeMap::new();
    for point in points {
        groups
            .entry((point.name.clone(), shape(&point.value)))
            .or_default()
            .push(point);
    }
    let mut builder = MetricsBuilder::new();
    builder.resource(Vec::new()).scope(SCOPE_NAME, "");
    let nanos = |ms: i64| u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000);
    for ((name, shape), points) in groups {
        match shape {
            Shape::Gauge => {
                let mut gauge = builder.gauge(&name, "");
                for point in points {
                    let mut attributes: Vec<KeyValue> =
                        point.tags.iter().map(|(k, v)| string_kv(k, v)).collect();
                    let value = match point.value {
                        PointValue::Info(text) => {
                            attributes.push(string_kv("value", &text));
                            1.0
                        }
                        PointValue::Gauge(v) | PointValue::Delta(v) | PointValue::Cumulative(v) => {
                            v
                        }
                    };
                    gauge.double(attributes, nanos(point.time_ms), value);
                }
            }
            Shape::Delta | Shape::Cumulative => {
                let temporality = if shape == Shape::Delta {
                    AggregationTemporality::Delta
                } else {
                    AggregationTemporality::Cumulative
                };
                let mut sum = builder.sum(&name, "", temporality, true);
                for point in points {
                    let attributes = point.tags.iter().map(|(k, v)| string_kv(k, v)).collect();
                    let start = if shape == Shape::Delta && step_s > 0 {
                        nanos(point.time_ms.saturating_sub(step_s.saturating_mul(1000)))
                    } else {
                        0
                    };
                    let value = match point.value {
                        PointValue::Delta(v) | PointValue::Cumulative(v) | PointValue::Gauge(v) => {
                            v
                        }
                        PointValue::Info(_) => 1.0,
                    };
                    sum.double(attributes, start, nanos(point.time_ms), value);
                }
            }
        }
    }
    builder.build()
}
