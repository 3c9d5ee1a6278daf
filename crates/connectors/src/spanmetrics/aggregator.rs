//! The spanmetrics state: series per resource, aggregated from spans and turned into
//! metrics at each flush.

use std::sync::Arc;

use prost::Message;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::exemplar;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;
use tributary_pipeline_core::prelude::Attributes;

use super::config::{Config, DEFAULT_EXPONENTIAL_MAX_SIZE, Dimension, SERVICE_NAME};
use super::histogram::{self, Distribution, ExplicitHistogram};
use super::identity::SpanSeries;
use super::series::{LruMap, SeriesMap};
use tributary_pipeline_core::pdata::value_text::as_string;

/// Most series per metric and resource when `aggregation_cardinality_limit` is `0`. Go
/// means "no limit" by 0; we keep a ceiling so that what peers send can never grow the
/// state without bound (a house rule), high enough that a configuration Go runs within
/// its memory never reaches it.
pub const UNLIMITED_CARDINALITY_CEILING: usize = 10_000;

/// The per-metric, per-resource series limit the aggregator applies.
fn effective_cardinality_limit(configured: i64) -> usize {
    match usize::try_from(configured) {
        Ok(0) | Err(_) => UNLIMITED_CARDINALITY_CEILING,
        Ok(limit) => limit,
    }
}

/// The attribute marking the series that holds what exceeded the cardinality limit.
pub const OVERFLOW_KEY: &str = "otel.metric.overflow";
/// The attribute naming the span's instrumentation scope, for included scopes.
pub const SCOPE_NAME_KEY: &str = "span.instrumentation.scope.name";
/// The attribute with the span's instrumentation scope version, for included scopes.
pub const SCOPE_VERSION_KEY: &str = "span.instrumentation.scope.version";
/// The instrumentation scope of the generated metrics (Go's).
pub const SCOPE: &str = "spanmetricsconnector";

/// What the spans of one resource add up to.
struct ResourceState {
    attributes: Vec<KeyValue>,
    calls: SeriesMap<u64>,
    durations: SeriesMap<Distribution>,
    events: SeriesMap<u64>,
}

/// The aggregated series of every resource, and what turns them into metrics.
pub(crate) struct Aggregator {
    config: Config,
    bounds: Arc<[f64]>,
    exponential_max_size: Option<usize>,
    limit: usize,
    max_exemplars: usize,
    call_dimensions: Vec<Dimension>,
    duration_dimensions: Vec<Dimension>,
    event_dimensions: Vec<Dimension>,
    resources: LruMap<Vec<u8>, ResourceState>,
    /// Delta only: the last flush time of each series, the start of its next point.
    delta_starts: LruMap<Vec<u8>, u64>,
}

/// Which metric a series belongs to, for the delta start-time cache.
#[derive(Clone, Copy)]
enum MetricKind {
    Calls = 0,
    Durations = 1,
    Events = 2,
}

impl Aggregator {
    pub(crate) fn new(config: &Config) -> Self {
        let exponential_max_size = config.histogram.exponential.as_ref().map(|e| {
            if e.max_size == 0 {
                DEFAULT_EXPONENTIAL_MAX_SIZE as usize
            } else {
                e.max_size as usize
            }
        });
        let extended = |extra: &[Dimension]| -> Vec<Dimension> {
            config.dimensions.iter().chain(extra).cloned().collect()
        };
        Aggregator {
            bounds: config.bounds().into(),
            exponential_max_size,
            limit: effective_cardinality_limit(config.aggregation_cardinality_limit),
            max_exemplars: if config.exemplars.enabled {
                usize::try_from(config.exemplars.max_per_data_point).unwrap_or(0)
            } else {
                0
            },
            call_dimensions: extended(&config.calls_dimensions),
            duration_dimensions: extended(&config.histogram.dimensions),
            event_dimensions: extended(&config.events.dimensions),
            resources: LruMap::new(config.resource_metrics_cache_size),
            delta_starts: LruMap::new(usize::try_from(config.timestamp_cache_size()).unwrap_or(1)),
            config: config.clone(),
        }
    }

    /// Adds the spans of `request`, seen at `now` (Unix nanoseconds).
    pub(crate) fn aggregate(&mut self, request: &ExportTraceServiceRequest, now: u64) {
        for rs in &request.resource_spans {
            let resource: &[KeyValue] = rs.resource.as_ref().map_or(&[], |r| &r.attributes);
            // Go skips resources without a service name.
            let Some(service) = resource.get_value(SERVICE_NAME) else {
                continue;
            };
            let service = as_string(Some(service));
            let key = self.resource_key(resource);
            let config = &self.config;
            let state = self.resources.get_or_insert_with(key, || ResourceState {
                attributes: resource.to_vec(),
                calls: SeriesMap::default(),
                durations: SeriesMap::default(),
                events: SeriesMap::default(),
            });
            for ss in &rs.scope_spans {
                let scope = ss.scope.as_ref().filter(|s| {
                    !s.name.is_empty() && config.include_instrumentation_scope.contains(&s.name)
                });
                for span in &ss.spans {
                    let series = SpanSeries {
                        config,
                        service: &service,
                        span,
                        scope,
                    };
                    let duration = if span.end_time_unix_nano > span.start_time_unix_nano {
                        (span.end_time_unix_nano - span.start_time_unix_nano) as f64
                            / config.histogram.unit.nanos()
                    } else {
                        0.0
                    };
                    let exemplar = (self.max_exemplars > 0 && has_trace_id(span))
                        .then(|| span_exemplar(span, duration));

                    let span_then_resource: [&[KeyValue]; 2] = [&span.attributes, resource];
                    let (key, attributes) = series.key(&self.call_dimensions, &span_then_resource);
                    let point = state
                        .calls
                        .get_or_insert(key, self.limit, now, attributes, || 0);
                    point.value += 1;
                    point.add_exemplar(exemplar.clone(), self.max_exemplars);

                    if !config.histogram.disable {
                        let (key, attributes) =
                            series.key(&self.duration_dimensions, &span_then_resource);
                        let (bounds, max_size) = (&self.bounds, self.exponential_max_size);
                        let point =
                            state
                                .durations
                                .get_or_insert(
                                    key,
                                    self.limit,
                                    now,
                                    attributes,
                                    || match max_size {
                                        Some(max_size) => Distribution::Exponential(
                                            histogram::ExponentialHistogram::new(max_size),
                                        ),
                                        None => Distribution::Explicit(ExplicitHistogram::new(
                                            bounds.clone(),
                                        )),
                                    },
                                );
                        point.value.record(duration);
                        point.add_exemplar(exemplar.clone(), self.max_exemplars);
                    }

                    if config.events.enabled {
                        for event in &span.events {
                            let lookup: [&[KeyValue]; 3] =
                                [&span.attributes, &event.attributes, resource];
                            let (key, attributes) = series.key(&self.event_dimensions, &lookup);
                            let point =
                                state
                                    .events
                                    .get_or_insert(key, self.limit, now, attributes, || 0);
                            point.value += 1;
                            point.add_exemplar(exemplar.clone(), self.max_exemplars);
                        }
                    }
                }
            }
        }
    }

    /// The identity of a resource: its attributes (those of `resource_metrics_key_attributes`
    /// if set), sorted, encoded.
    fn resource_key(&self, resource: &[KeyValue]) -> Vec<u8> {
        let keys = &self.config.resource_metrics_key_attributes;
        let mut attributes: Vec<KeyValue> = resource
            .iter()
            .filter(|kv| keys.is_empty() || keys.contains(&kv.key))
            .cloned()
            .collect();
        attributes.sort_by(|a, b| a.key.cmp(&b.key));
        Resource {
            attributes,
            ..Resource::default()
        }
        .encode_to_vec()
    }

    /// The metrics of every series at `now`, then resets what the temporality says: delta
    /// forgets everything, cumulative only exemplars and expired series. `None` if there is
    /// nothing to send.
    ///
    /// As in Go, a new cumulative calls or events series is first sent as 0 and with its
    /// count from the next flush on, so that a backend such as Prometheus sees the series
    /// rise from 0 rather than appear at its first value. The `last` flush (at shutdown)
    /// has no next one, so it sends the counts.
    pub(crate) fn flush(&mut self, now: u64, last: bool) -> Option<ExportMetricsServiceRequest> {
        let temporality = if self.config.is_delta() {
            AggregationTemporality::Delta
        } else {
            AggregationTemporality::Cumulative
        } as i32;
        let namespace = &self.config.namespace;
        let name = |metric: &str| {
            if namespace.is_empty() {
                metric.to_owned()
            } else {
                format!("{namespace}.{metric}")
            }
        };
        let delta = self.config.is_delta();
        let mut resource_metrics = Vec::new();
        for (resource_key, state) in self.resources.iter_mut() {
            let mut start_of = |kind: MetricKind, key: &[u8], start: u64| -> u64 {
                if !delta {
                    return start;
                }
                let mut cache_key = Vec::with_capacity(resource_key.len() + key.len() + 1);
                cache_key.push(kind as u8);
                cache_key.extend_from_slice(resource_key);
                cache_key.extend_from_slice(key);
                let previous = self.delta_starts.get(&cache_key).copied();
                self.delta_starts.insert(cache_key, now);
                previous.unwrap_or(start)
            };
            let mut metrics = Vec::new();
            if !state.calls.is_empty() {
                metrics.push(Metric {
                    name: name("calls"),
                    data: Some(Data::Sum(Sum {
                        data_points: sum_points(
                            &mut state.calls,
                            MetricKind::Calls,
                            now,
                            !delta && !last,
                            &mut start_of,
                        ),
                        aggregation_temporality: temporality,
                        is_monotonic: true,
                    })),
                    ..Metric::default()
                });
            }
            if !self.config.histogram.disable && !state.durations.is_empty() {
                let unit = self.config.histogram.unit.as_str().to_owned();
                let data = if self.exponential_max_size.is_some() {
                    Data::ExponentialHistogram(ExponentialHistogram {
                        data_points: state
                            .durations
                            .iter()
                            .map(|(key, point)| {
                                let mut dp = ExponentialHistogramDataPoint {
                                    attributes: point.attributes.clone(),
                                    start_time_unix_nano: start_of(
                                        MetricKind::Durations,
                                        key,
                                        point.start,
                                    ),
                                    time_unix_nano: now,
                                    exemplars: stamped(&point.exemplars, now),
                                    ..ExponentialHistogramDataPoint::default()
                                };
                                if let Distribution::Exponential(h) = &point.value {
                                    h.fill(&mut dp);
                                }
                                dp
                            })
                            .collect(),
                        aggregation_temporality: temporality,
                    })
                } else {
                    Data::Histogram(Histogram {
                        data_points: state
                            .durations
                            .iter()
                            .map(|(key, point)| {
                                let mut dp = HistogramDataPoint {
                                    attributes: point.attributes.clone(),
                                    start_time_unix_nano: start_of(
                                        MetricKind::Durations,
                                        key,
                                        point.start,
                                    ),
                                    time_unix_nano: now,
                                    exemplars: stamped(&point.exemplars, now),
                                    ..HistogramDataPoint::default()
                                };
                                if let Distribution::Explicit(h) = &point.value {
                                    h.fill(&mut dp);
                                }
                                dp
                            })
                            .collect(),
                        aggregation_temporality: temporality,
                    })
                };
                metrics.push(Metric {
                    name: name("duration"),
                    unit,
                    data: Some(data),
                    ..Metric::default()
                });
            }
            if self.config.events.enabled && !state.events.is_empty() {
                metrics.push(Metric {
                    name: name("events"),
                    data: Some(Data::Sum(Sum {
                        data_points: sum_points(
                            &mut state.events,
                            MetricKind::Events,
                            now,
                            !delta && !last,
                            &mut start_of,
                        ),
                        aggregation_temporality: temporality,
                        is_monotonic: true,
                    })),
                    ..Metric::default()
                });
            }
            if metrics.is_empty() {
                continue;
            }
            resource_metrics.push(ResourceMetrics {
                resource: Some(Resource {
                    attributes: state.attributes.clone(),
                    ..Resource::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: SCOPE.to_owned(),
                        ..InstrumentationScope::default()
                    }),
                    metrics,
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            });
        }
        self.reset(now);
        (!resource_metrics.is_empty()).then_some(ExportMetricsServiceRequest { resource_metrics })
    }

    fn reset(&mut self, now: u64) {
        if self.config.is_delta() {
            self.resources.clear();
            return;
        }
        let expiration =
            u64::try_from(self.config.metrics_expiration.as_nanos()).unwrap_or(u64::MAX);
        for (_, state) in self.resources.iter_mut() {
            for series in [&mut state.calls, &mut state.events] {
                series.clear_exemplars();
                if expiration > 0 {
                    series.expire(now, expiration);
                }
            }
            state.durations.clear_exemplars();
            if expiration > 0 {
                state.durations.expire(now, expiration);
            }
        }
        self.resources.retain(|_, state| {
            !(state.calls.is_empty() && state.durations.is_empty() && state.events.is_empty())
        });
    }

    /// Number of resources held.
    #[cfg(test)]
    pub(crate) fn resource_count(&self) -> usize {
        self.resources.len()
    }
}

/// The points of a sum; with `zero_first`, a series never sent before is sent as 0.
fn sum_points(
    series: &mut SeriesMap<u64>,
    kind: MetricKind,
    now: u64,
    zero_first: bool,
    start_of: &mut impl FnMut(MetricKind, &[u8], u64) -> u64,
) -> Vec<NumberDataPoint> {
    series
        .iter_mut()
        .map(|(key, point)| {
            let value = if zero_first && !point.sent {
                0
            } else {
                point.value
            };
            point.sent = true;
            NumberDataPoint {
                attributes: point.attributes.clone(),
                start_time_unix_nano: start_of(kind, key, point.start),
                time_unix_nano: now,
                exemplars: stamped(&point.exemplars, now),
                value: Some(number_data_point::Value::AsInt(
                    i64::try_from(value).unwrap_or(i64::MAX),
                )),
                ..NumberDataPoint::default()
            }
        })
        .collect()
}

fn stamped(exemplars: &[Exemplar], now: u64) -> Vec<Exemplar> {
    exemplars
        .iter()
        .cloned()
        .map(|mut e| {
            e.time_unix_nano = now;
            e
        })
        .collect()
}

fn has_trace_id(span: &Span) -> bool {
    span.trace_id.iter().any(|b| *b != 0)
}

fn span_exemplar(span: &Span, duration: f64) -> Exemplar {
    Exemplar {
        trace_id: span.trace_id.clone(),
        span_id: span.span_id.clone(),
        value: Some(exemplar::Value::AsDouble(duration)),
        ..Exemplar::default()
    }
}
