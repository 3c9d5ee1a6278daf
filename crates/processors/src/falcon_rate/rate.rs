//! Counter → per-second rate with Open-Falcon's rules (seed-systems §1.6): Δv/Δt between a
//! series' consecutive points, nothing for its first point, and nothing — never a
//! negative spike — when the counter went down (a reset).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::{Attributes, AttributesMut};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, Gauge, Metric, NumberDataPoint,
};

use super::Config;
use crate::falcon_series::{series_key, step_of};

/// Why a counter point gave no rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoRate {
    /// The series' first point (or first after it was forgotten): nothing to compare with.
    First,
    /// The counter went down: Falcon's RRD `DERIVE` with `min=0` makes this unknown.
    Reset,
    /// The points are further apart than the heartbeat (`heartbeat_steps` × step).
    Gap,
    /// The point is not newer than the series' last one.
    OutOfOrder,
    /// The point has no value (or is flagged as having none): the series starts over.
    NoValue,
    /// `max_series` series are remembered already.
    Limit,
}

impl NoRate {
    pub(crate) fn label(self) -> &'static str {
        match self {
            NoRate::First => "first",
            NoRate::Reset => "reset",
            NoRate::Gap => "gap",
            NoRate::OutOfOrder => "out_of_order",
            NoRate::NoValue => "no_value",
            NoRate::Limit => "series_limit",
        }
    }
}

/// A series' last point.
#[derive(Clone, Copy, Debug)]
struct Last {
    time_unix_nano: u64,
    value: f64,
    seen: Instant,
}

/// The last point of each series, bounded by `max_series` and `max_stale`.
#[derive(Debug)]
pub(crate) struct RateState {
    series: HashMap<String, Last>,
    max_series: usize,
    max_stale: Duration,
    last_sweep: Option<Instant>,
}

impl RateState {
    pub(crate) fn new(max_series: usize, max_stale: Duration) -> Self {
        RateState {
            series: HashMap::new(),
            max_series,
            max_stale,
            last_sweep: None,
        }
    }

    /// Takes a new configuration's bounds (on a reload that carried the state over).
    pub(crate) fn set_limits(&mut self, max_series: usize, max_stale: Duration) {
        self.max_series = max_series;
        self.max_stale = max_stale;
    }

    /// How many series are remembered.
    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }

    /// The rate a point of series `key` gives, and the state it leaves. `heartbeat` is
    /// the longest gap between points that still gives a rate (`None`: no limit).
    pub(crate) fn observe(
        &mut self,
        key: &str,
        time_unix_nano: u64,
        value: Option<f64>,
        heartbeat: Option<Duration>,
        now: Instant,
    ) -> Result<f64, NoRate> {
        let Some(value) = value else {
            self.series.remove(key);
            return Err(NoRate::NoValue);
        };
        let next = Last {
            time_unix_nano,
            value,
            seen: now,
        };
        let Some(last) = self.series.get_mut(key) else {
            self.sweep(now);
            if self.series.len() >= self.max_series {
                return Err(NoRate::Limit);
            }
            self.series.insert(key.to_string(), next);
            return Err(NoRate::First);
        };
        if time_unix_nano <= last.time_unix_nano {
            // Keep the newer point: an old one arriving late must not rewind the series.
            last.seen = now;
            return Err(NoRate::OutOfOrder);
        }
        let previous = std::mem::replace(last, next);
        let elapsed = Duration::from_nanos(time_unix_nano - previous.time_unix_nano);
        if heartbeat.is_some_and(|heartbeat| elapsed > heartbeat) {
            return Err(NoRate::Gap);
        }
        if value < previous.value {
            return Err(NoRate::Reset);
        }
        Ok((value - previous.value) / elapsed.as_secs_f64())
    }

    /// Forgets series not seen for `max_stale`; at most once per `max_stale / 2`, so a
    /// busy processor does not walk its state for every new series.
    fn sweep(&mut self, now: Instant) {
        if self.max_stale.is_zero() {
            return;
        }
        let due = self
            .last_sweep
            .is_none_or(|last| now.duration_since(last) >= self.max_stale / 2);
        if !due && self.series.len() < self.max_series {
            return;
        }
        self.last_sweep = Some(now);
        let max_stale = self.max_stale;
        self.series
            .retain(|_, last| now.duration_since(last.seen) < max_stale);
    }
}

/// Which metrics are counters, and how to read their steps: the config, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    cumulative_sums: bool,
    metrics: Vec<String>,
    counter_type_attribute: String,
    step_attribute: String,
    default_step: u64,
    heartbeat_steps: u32,
    truncate_to_int: bool,
}

impl Rules {
    pub(crate) fn new(config: &Config) -> Self {
        Rules {
            cumulative_sums: config.cumulative_sums,
            metrics: config.metrics.clone(),
            counter_type_attribute: config.counter_type_attribute.clone(),
            step_attribute: config.step_attribute.clone(),
            default_step: config.default_step.as_secs().max(1),
            heartbeat_steps: config.heartbeat_steps,
            truncate_to_int: config.truncate_to_int,
        }
    }

    /// Whether `metric` holds counters to turn into rates. Only gauges and cumulative
    /// sums can: the difference of two deltas means nothing.
    fn selects(&self, metric: &Metric) -> bool {
        let points = match &metric.data {
            Some(Data::Sum(sum))
                if sum.aggregation_temporality == AggregationTemporality::Cumulative as i32 =>
            {
                if self.cumulative_sums && sum.is_monotonic {
                    return true;
                }
                &sum.data_points
            }
            Some(Data::Gauge(gauge)) => &gauge.data_points,
            _ => return false,
        };
        self.metrics.contains(&metric.name)
            || (!self.counter_type_attribute.is_empty()
                && points.iter().any(|point| {
                    matches!(
                        point.attributes.get_str(&self.counter_type_attribute),
                        Some("COUNTER" | "DERIVE")
                    )
                }))
    }

    fn heartbeat(&self, point: &[KeyValue]) -> Option<Duration> {
        if self.heartbeat_steps == 0 {
            return None;
        }
        let step = step_of(point, &self.step_attribute).unwrap_or(self.default_step);
        Some(Duration::from_secs(step * u64::from(self.heartbeat_steps)))
    }

    fn value(&self, point: &NumberDataPoint) -> Option<f64> {
        if point.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
            return None;
        }
        let value = match point.value? {
            Value::AsDouble(d) if d.is_finite() => d,
            Value::AsDouble(_) => return None,
            Value::AsInt(i) => i as f64,
        };
        // Go's int(value) truncates toward zero.
        Some(if self.truncate_to_int {
            value.trunc()
        } else {
            value
        })
    }
}

/// Turns the counters of `metrics` into gauges of per-second rates, dropping the points
/// that give none; `dropped` is told why each was dropped.
pub(crate) fn convert(
    rules: &Rules,
    state: &mut RateState,
    metrics: &mut Metrics,
    now: Instant,
    mut dropped: impl FnMut(NoRate),
) {
    let any = metrics.records().any(|(_, metric)| rules.selects(metric));
    if !any {
        return;
    }
    let request = metrics.make_mut();
    // Only what this processor emptied is removed; an empty metric a peer sent stays.
    request.resource_metrics.retain_mut(|rm| {
        let resource: &[KeyValue] = rm.resource.as_ref().map_or(&[], |r| &r.attributes);
        let had_scopes = !rm.scope_metrics.is_empty();
        rm.scope_metrics.retain_mut(|sm| {
            let had_metrics = !sm.metrics.is_empty();
            sm.metrics.retain_mut(|metric| {
                if !rules.selects(metric) {
                    return true;
                }
                let points = match metric.data.take() {
                    Some(Data::Sum(sum)) => sum.data_points,
                    Some(Data::Gauge(gauge)) => gauge.data_points,
                    _ => Vec::new(),
                };
                let had_points = !points.is_empty();
                let mut rates = Vec::with_capacity(points.len());
                for mut point in points {
                    let key = series_key(resource, &metric.name, &point.attributes);
                    let heartbeat = rules.heartbeat(&point.attributes);
                    let value = rules.value(&point);
                    match state.observe(&key, point.time_unix_nano, value, heartbeat, now) {
                        Ok(rate) => {
                            point.value = Some(Value::AsDouble(rate));
                            point.start_time_unix_nano = 0;
                            if !rules.counter_type_attribute.is_empty() {
                                point
                                    .attributes
                                    .update_attribute(&rules.counter_type_attribute, "GAUGE");
                            }
                            rates.push(point);
                        }
                        Err(why) => dropped(why),
                    }
                }
                let keep = !had_points || !rates.is_empty();
                metric.data = Some(Data::Gauge(Gauge { data_points: rates }));
                keep
            });
            !had_metrics || !sm.metrics.is_empty()
        });
        !had_scopes || !rm.scope_metrics.is_empty()
    });
}
