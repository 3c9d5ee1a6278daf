//! Native histogram samples of a remote-write request → OTLP exponential histograms, for
//! the `prometheusremotewrite` receiver (metric families, which carry its float series,
//! have no native histograms).
//!
//! The schema is the scale; Prometheus indexes a bucket by its upper bound and OTLP by
//! its lower bound, so indexes shift by one; spans and deltas (or float counts) become
//! dense buckets. A histogram whose buckets do not add up, or whose gaps would expand to
//! more than 8 empty buckets per bucket sent (plus 32), is dropped and counted. `job` and
//! `instance` give the resource as for float series
//! ([`resource_attributes`](crate::to_otlp::resource_attributes)),
//! `otel_scope_name`/`otel_scope_version` the scope, the other labels the attributes; the
//! staleness marker as the sum flags the point "no recorded value"; exemplars of the same
//! timestamp, `trace_id`/`span_id` as span context.

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, Exemplar as OtlpExemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics, exemplar,
    exponential_histogram_data_point, metric,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use crate::prompb::{self, HistogramCount, HistogramZeroCount, WriteRequest};
use crate::to_otlp::resource_attributes;

/// The name of the scope of data without `otel_scope_name`.
pub const DEFAULT_SCOPE_NAME: &str = "tributary/prometheusremotewrite";

/// What [`natives_to_otlp`] made of a request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Natives {
    /// The exponential histograms, one `ResourceMetrics` per job and instance.
    pub resource_metrics: Vec<ResourceMetrics>,
    /// Native histogram samples left out: buckets that do not add up, or gaps that would
    /// expand far beyond what was sent, or series without `__name__`.
    pub dropped_histograms: usize,
}

type ByMetric = BTreeMap<String, Vec<ExponentialHistogramDataPoint>>;

/// The native histogram samples of `request` as OTLP exponential histograms (float
/// samples are left out: see [`families`](super::families)).
pub fn natives_to_otlp(request: &WriteRequest) -> Natives {
    let mut out = Natives::default();
    let mut resources: BTreeMap<(String, String), BTreeMap<(String, String), ByMetric>> =
        BTreeMap::new();
    let help: BTreeMap<&str, (&str, &str)> = request
        .metadata
        .iter()
        .map(|m| {
            (
                m.metric_family_name.as_str(),
                (m.help.as_str(), m.unit.as_str()),
            )
        })
        .collect();
    for series in request
        .timeseries
        .iter()
        .filter(|s| !s.histograms.is_empty())
    {
        let name = series.name();
        if name.is_empty() {
            out.dropped_histograms += series.histograms.len();
            continue;
        }
        let (mut job, mut instance, mut scope_name, mut scope_version) =
            (String::new(), String::new(), String::new(), String::new());
        let mut attributes = Vec::new();
        for label in &series.labels {
            match label.name.as_str() {
                "__name__" => {}
                "job" => job = label.value.clone(),
                "instance" => instance = label.value.clone(),
                "otel_scope_name" => scope_name = label.value.clone(),
                "otel_scope_version" => scope_version = label.value.clone(),
                _ => attributes.push(key_value(label.name.clone(), label.value.clone())),
            }
        }
        let points = resources
            .entry((job, instance))
            .or_default()
            .entry((scope_name, scope_version))
            .or_default()
            .entry(name.to_string())
            .or_default();
        for histogram in &series.histograms {
            match native_point(attributes.clone(), histogram) {
                Some(mut point) => {
                    point.exemplars = series
                        .exemplars
                        .iter()
                        .filter(|e| e.timestamp == histogram.timestamp)
                        .map(exemplar_of)
                        .collect();
                    points.push(point);
                }
                None => out.dropped_histograms += 1,
            }
        }
    }
    for ((job, instance), scopes) in resources {
        let attributes = resource_attributes(
            Some(job.as_str()).filter(|j| !j.is_empty()),
            Some(instance.as_str()).filter(|i| !i.is_empty()),
            None,
        );
        let scope_metrics = scopes
            .into_iter()
            .map(|((name, version), metrics)| ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: if name.is_empty() {
                        DEFAULT_SCOPE_NAME.to_string()
                    } else {
                        name
                    },
                    version,
                    ..Default::default()
                }),
                metrics: metrics
                    .into_iter()
                    .map(|(name, data_points)| {
                        let (description, unit) =
                            help.get(name.as_str()).copied().unwrap_or_default();
                        Metric {
                            description: description.to_string(),
                            unit: unit.to_string(),
                            metadata: Vec::new(),
                            data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                                data_points,
                                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            })),
                            name,
                        }
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect();
        out.resource_metrics.push(ResourceMetrics {
            resource: Some(Resource {
                attributes,
                ..Default::default()
            }),
            scope_metrics,
            schema_url: String::new(),
        });
    }
    out
}

fn exemplar_of(e: &prompb::Exemplar) -> OtlpExemplar {
    let mut out = OtlpExemplar {
        time_unix_nano: ms_to_ns(e.timestamp),
        value: Some(exemplar::Value::AsDouble(e.value)),
        ..Default::default()
    };
    for label in &e.labels {
        match label.name.as_str() {
            "trace_id" => out.trace_id = hex_bytes(&label.value, 16).unwrap_or_default(),
            "span_id" => out.span_id = hex_bytes(&label.value, 8).unwrap_or_default(),
            _ => out
                .filtered_attributes
                .push(string_kv(&label.name, &label.value)),
        }
    }
    out
}

fn hex_bytes(text: &str, len: usize) -> Option<Vec<u8>> {
    if text.len() != len * 2 || !text.is_ascii() {
        return None;
    }
    (0..len)
        .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok())
        .collect()
}

/// One native histogram sample as an OTLP point; `None` when its buckets do not add up
/// (see [`native_buckets`]).
fn native_point(
    attributes: Vec<KeyValue>,
    h: &prompb::Histogram,
) -> Option<ExponentialHistogramDataPoint> {
    let count = match h.count {
        Some(HistogramCount::CountInt(n)) => n,
        Some(HistogramCount::CountFloat(f)) => float_count(f),
        None => 0,
    };
    let zero_count = match h.zero_count {
        Some(HistogramZeroCount::ZeroCountInt(n)) => n,
        Some(HistogramZeroCount::ZeroCountFloat(f)) => float_count(f),
        None => 0,
    };
    let stale = prompb::is_stale_nan(h.sum);
    let positive = native_buckets(&h.positive_spans, &h.positive_deltas, &h.positive_counts)?;
    let negative = native_buckets(&h.negative_spans, &h.negative_deltas, &h.negative_counts)?;
    Some(ExponentialHistogramDataPoint {
        attributes,
        start_time_unix_nano: 0,
        time_unix_nano: ms_to_ns(h.timestamp),
        count,
        sum: (!stale).then_some(h.sum),
        scale: h.schema,
        zero_count,
        positive: Some(positive),
        negative: Some(negative),
        flags: flags(stale),
        exemplars: Vec::new(),
        min: None,
        max: None,
        zero_threshold: h.zero_threshold,
    })
}

fn float_count(f: f64) -> u64 {
    if f.is_finite() && f > 0.0 {
        f.round() as u64
    } else {
        0
    }
}

/// Spans and deltas (or absolute counts) → OTLP's dense buckets. Prometheus indexes a
/// bucket by its upper bound, OTLP by its lower bound: OTLP offset = first index - 1.
///
/// `None` for buckets that do not add up (spans longer than the counts sent) or whose gaps
/// would expand to more than 8 empty buckets per bucket sent (plus 32): a few bytes must
/// not become megabytes of zeros. Real histograms are far denser than that.
fn native_buckets(
    spans: &[prompb::BucketSpan],
    deltas: &[i64],
    counts: &[f64],
) -> Option<exponential_histogram_data_point::Buckets> {
    let values = if deltas.is_empty() {
        counts.len()
    } else {
        deltas.len()
    };
    let budget = values.saturating_mul(8).saturating_add(32);
    let mut absolute: Vec<u64> = Vec::new();
    let mut running: i64 = 0;
    let (mut index, mut first, mut k) = (0i64, None, 0usize);
    for (n, span) in spans.iter().enumerate() {
        index += i64::from(span.offset);
        if n > 0 && first.is_some() {
            // The gap between spans, as empty buckets.
            let gap = usize::try_from(span.offset).ok()?;
            if absolute.len().saturating_add(gap) > budget {
                return None;
            }
            absolute.extend(std::iter::repeat_n(0, gap));
        }
        let length = usize::try_from(span.length).ok()?;
        if k.saturating_add(length) > values || absolute.len().saturating_add(length) > budget {
            return None;
        }
        for _ in 0..length {
            first.get_or_insert(index);
            let value = if deltas.is_empty() {
                float_count(counts[k])
            } else {
                running = running.saturating_add(deltas[k]);
                u64::try_from(running).unwrap_or(0)
            };
            absolute.push(value);
            k += 1;
            index += 1;
        }
    }
    Some(exponential_histogram_data_point::Buckets {
        offset: first
            .map(|f| i32::try_from(f - 1).unwrap_or(i32::MIN))
            .unwrap_or(0),
        bucket_counts: absolute,
    })
}

fn flags(stale: bool) -> u32 {
    if stale {
        DataPointFlags::NoRecordedValueMask as u32
    } else {
        0
    }
}

/// Milliseconds (which may be negative, before 1970) → nanoseconds, clamped to OTLP's range.
fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    key_value(key, value)
}
