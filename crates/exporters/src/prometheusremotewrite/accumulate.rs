//! Delta monotonic sums made cumulative, so remote write (cumulative series only) can carry
//! them instead of dropping them as the Go exporter does.
//!
//! Each series (resource, scope, metric name, point attributes) keeps its running total
//! and the start time of its first point. A batch is converted against the totals as they
//! stand, and the new totals are kept only once the batch is done (sent, or refused for
//! good): a retried batch is converted again to the same values, never counted twice.
//! Series unseen for an hour are forgotten (their next point starts a new run, which
//! Prometheus reads as a counter reset); at most [`MAX_SERIES`] are kept, and the points of
//! further series are dropped and counted.

use std::collections::HashMap;

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, metric, number_data_point,
};

/// The most delta series whose totals are kept.
pub(crate) const MAX_SERIES: usize = 100_000;

/// How long a series' total is kept after its last point.
const IDLE_NS: u64 = 3600 * 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Total {
    start_ns: u64,
    value: f64,
    last_ns: u64,
}

/// The running totals of delta monotonic sums.
#[derive(Debug, Default)]
pub(crate) struct DeltaAccumulator {
    totals: HashMap<String, Total>,
    swept_ns: u64,
}

/// The totals a converted batch would leave, kept by [`DeltaAccumulator::commit`].
#[derive(Debug, Default)]
pub(crate) struct Pending {
    totals: HashMap<String, Total>,
    /// Names of the metrics converted.
    pub(crate) converted: Vec<String>,
    /// Points of series beyond [`MAX_SERIES`], left out.
    pub(crate) skipped: usize,
}

/// Whether `request` holds a delta monotonic sum.
pub(crate) fn has_delta_counters(request: &ExportMetricsServiceRequest) -> bool {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .any(|m| is_delta_counter(m.data.as_ref()))
}

fn is_delta_counter(data: Option<&metric::Data>) -> bool {
    matches!(data, Some(metric::Data::Sum(s))
        if s.is_monotonic && s.aggregation_temporality == AggregationTemporality::Delta as i32)
}

fn key_part(key: &mut String, attributes: &[KeyValue]) {
    let mut pairs: Vec<String> = attributes
        .iter()
        .map(|kv| format!("{}={:?}", kv.key, kv.value))
        .collect();
    pairs.sort();
    for pair in pairs {
        key.push_str(&pair);
        key.push('\u{1}');
    }
    key.push('\u{0}');
}

impl DeltaAccumulator {
    /// `request` with its delta monotonic sums made cumulative against the totals as they
    /// stand, and the totals that would leave. Series beyond [`MAX_SERIES`] stay delta
    /// (and are dropped by the translation).
    pub(crate) fn convert(
        &self,
        request: &ExportMetricsServiceRequest,
    ) -> (ExportMetricsServiceRequest, Pending) {
        let mut out = request.clone();
        let mut pending = Pending::default();
        for resource in &mut out.resource_metrics {
            let mut resource_key = String::new();
            if let Some(r) = &resource.resource {
                key_part(&mut resource_key, &r.attributes);
            }
            for scope in &mut resource.scope_metrics {
                let mut scope_key = resource_key.clone();
                if let Some(s) = &scope.scope {
                    scope_key.push_str(&s.name);
                    scope_key.push('\u{1}');
                    scope_key.push_str(&s.version);
                    scope_key.push('\u{0}');
                }
                for m in &mut scope.metrics {
                    if !is_delta_counter(m.data.as_ref()) {
                        continue;
                    }
                    let Some(metric::Data::Sum(sum)) = &mut m.data else {
                        continue;
                    };
                    let mut points = std::mem::take(&mut sum.data_points);
                    points.sort_by_key(|p| p.time_unix_nano);
                    let mut kept = Vec::with_capacity(points.len());
                    for mut point in points {
                        let mut key = scope_key.clone();
                        key.push_str(&m.name);
                        key.push('\u{0}');
                        key_part(&mut key, &point.attributes);
                        let known = pending
                            .totals
                            .get(&key)
                            .or_else(|| self.totals.get(&key))
                            .copied();
                        if known.is_none() && self.totals.len() + pending.totals.len() >= MAX_SERIES
                        {
                            pending.skipped += 1;
                            continue;
                        }
                        let delta = match point.value {
                            Some(number_data_point::Value::AsDouble(d)) => d,
                            Some(number_data_point::Value::AsInt(i)) => i as f64,
                            None => 0.0,
                        };
                        let total = match known {
                            Some(t) => Total {
                                start_ns: t.start_ns,
                                value: t.value + delta,
                                last_ns: point.time_unix_nano,
                            },
                            None => Total {
                                start_ns: point.start_time_unix_nano,
                                value: delta,
                                last_ns: point.time_unix_nano,
                            },
                        };
                        point.start_time_unix_nano = total.start_ns;
                        point.value = Some(number_data_point::Value::AsDouble(total.value));
                        pending.totals.insert(key, total);
                        kept.push(point);
                    }
                    if !kept.is_empty() {
                        pending.converted.push(m.name.clone());
                    }
                    sum.data_points = kept;
                    sum.aggregation_temporality = AggregationTemporality::Cumulative as i32;
                }
            }
        }
        (out, pending)
    }

    /// Keeps the totals of a batch that is done; forgets idle series (once a minute of
    /// data time).
    pub(crate) fn commit(&mut self, pending: Pending) {
        let latest = pending
            .totals
            .values()
            .map(|t| t.last_ns)
            .max()
            .unwrap_or(0);
        self.totals.extend(pending.totals);
        if latest.saturating_sub(self.swept_ns) >= 60 * 1_000_000_000 {
            let horizon = latest.saturating_sub(IDLE_NS);
            self.totals.retain(|_, t| t.last_ns >= horizon);
            self.swept_ns = latest;
        }
    }

    /// How many series it keeps.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.totals.len()
    }
}
