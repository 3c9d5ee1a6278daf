//! Absence detection with Falcon nodata's rules (seed-systems §1.7): a watched series whose
//! last point is older than `max(3 × step, 180 s)` gets a point two steps back, at most
//! once per step while it stays absent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::Attributes;
use tributary_pipeline_core::pdata::data_point::DataPointRef;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    DataPointFlags, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::Config;
use super::config::SeriesSelector;
use crate::falcon_series::{series_key, step_of, value_text};

const NANOS: u64 = 1_000_000_000;

/// Prometheus' staleness marker, a NaN with this payload; OTLP flags the point as well.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// What the emitted point looks like: the series' last point's resource, metric and
/// attributes.
#[derive(Clone, Debug)]
struct Template {
    resource: Vec<KeyValue>,
    metric: String,
    unit: String,
    description: String,
    /// The sum's temporality and monotonicity, or `None` for a gauge.
    sum: Option<(i32, bool)>,
    attributes: Vec<KeyValue>,
}

/// One watched series.
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    step: u64,
    /// The row's mock value; `None`: a staleness marker.
    mock: Option<f64>,
    /// The newest point's time, in seconds.
    last_seen: u64,
    /// When the last nodata point was emitted, in seconds.
    marked_at: Option<u64>,
    template: Template,
}

/// What one check found: the points to emit.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) metrics: Option<Metrics>,
    pub(crate) points: usize,
}

/// The watched series by key: the state a processor hands to its successor on a reload.
pub(crate) type Series = Mutex<HashMap<String, Watched>>;

/// Every watched series, bounded by `max_series`, and the rows that choose them.
#[derive(Debug)]
pub(crate) struct Absence {
    selectors: Vec<SeriesSelector>,
    step_attribute: String,
    default_step: u64,
    max_series: usize,
    series: Arc<Series>,
}

impl Absence {
    /// Watches the series `config` selects, taking over those of `series` (a previous
    /// configuration's) that it still selects, with its rows' steps and mock values;
    /// the others are dropped.
    pub(crate) fn new(config: &Config, series: Arc<Series>) -> Self {
        let absence = Absence {
            selectors: config.series.clone(),
            step_attribute: config.step_attribute.clone(),
            default_step: config.default_step.as_secs().max(1),
            max_series: config.max_series,
            series,
        };
        {
            let mut series = absence.lock();
            series.retain(|_, watched| {
                let template = &watched.template;
                let Some(selector) = absence.selector_for(
                    &template.metric,
                    &template.resource,
                    &template.attributes,
                ) else {
                    return false;
                };
                watched.step = absence.step(selector, &template.attributes);
                watched.mock = absence.selectors[selector].mock;
                true
            });
            let excess = series.len().saturating_sub(absence.max_series);
            let dropped: Vec<String> = series.keys().take(excess).cloned().collect();
            for key in dropped {
                series.remove(&key);
            }
        }
        absence
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Watched>> {
        // A poisoned lock means a call panicked mid-way; the table is still usable.
        self.series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many series are watched.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// A series' step: its row's, else its points' attribute, else `default_step`.
    fn step(&self, selector: usize, attributes: &[KeyValue]) -> u64 {
        self.selectors[selector]
            .step
            .map(|s| s.as_secs())
            .or_else(|| step_of(attributes, &self.step_attribute))
            .unwrap_or(self.default_step)
    }

    fn selector_for(
        &self,
        metric: &str,
        resource: &[KeyValue],
        point: &[KeyValue],
    ) -> Option<usize> {
        self.selectors.iter().position(|s| {
            s.metric == metric
                && s.attributes.iter().all(|(key, want)| {
                    let value = point.get_value(key).or_else(|| resource.get_value(key));
                    value.and_then(value_text).as_deref() == Some(want.as_str())
                })
        })
    }

    /// Notes the points of `metrics` that belong to watched series; returns how many
    /// points of series past `max_series` went untracked.
    pub(crate) fn observe(&self, metrics: &Metrics) -> usize {
        let mut refused = 0;
        let mut series = self.lock();
        for (origin, metric) in metrics.records() {
            if !self.selectors.iter().any(|s| s.metric == metric.name) {
                continue;
            }
            let sum = match &metric.data {
                Some(Data::Sum(s)) => Some((s.aggregation_temporality, s.is_monotonic)),
                _ => None,
            };
            let resource = origin.resource_attributes();
            for point in tributary_pipeline_core::pdata::data_point::MetricExt::data_points(metric)
            {
                let (DataPointRef::Gauge(point) | DataPointRef::Sum(point)) = point else {
                    continue;
                };
                let Some(selector) = self.selector_for(&metric.name, resource, &point.attributes)
                else {
                    continue;
                };
                // A point without a time (0) was seen now.
                let seconds = if point.time_unix_nano == 0 {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs())
                } else {
                    point.time_unix_nano / NANOS
                };
                let key = series_key(resource, &metric.name, &point.attributes);
                if let Some(watched) = series.get_mut(&key) {
                    if seconds > watched.last_seen {
                        watched.last_seen = seconds;
                        watched.marked_at = None;
                    }
                    continue;
                }
                if series.len() >= self.max_series {
                    refused += 1;
                    continue;
                }
                series.insert(
                    key,
                    Watched {
                        step: self.step(selector, &point.attributes),
                        mock: self.selectors[selector].mock,
                        last_seen: seconds,
                        marked_at: None,
                        template: Template {
                            resource: resource.to_vec(),
                            metric: metric.name.clone(),
                            unit: metric.unit.clone(),
                            description: metric.description.clone(),
                            sum,
                            attributes: point.attributes.clone(),
                        },
                    },
                );
            }
        }
        refused
    }

    /// The nodata points due at `now` (Unix seconds), Falcon's judge: a series is absent
    /// when its last point is older than `now - timeout`, with `timeout = 180` for steps
    /// under 60 s and `3 × step` otherwise; it gets a point at
    /// `now - now % step - 2 × step` unless it got one within the last step.
    pub(crate) fn judge(&self, now: u64) -> Verdict {
        let mut out: Vec<ResourceMetrics> = Vec::new();
        let mut points = 0;
        for watched in self.lock().values_mut() {
            let step = watched.step;
            let timeout = if step < 60 { 180 } else { 3 * step };
            let absent = watched.last_seen < now.saturating_sub(timeout);
            let marked_recently = watched
                .marked_at
                .is_some_and(|at| now.saturating_sub(at) < step);
            if !absent || marked_recently {
                continue;
            }
            watched.marked_at = Some(now);
            let at = (now - now % step).saturating_sub(2 * step);
            out.push(nodata_point(&watched.template, at, watched.mock));
            points += 1;
        }
        Verdict {
            metrics: (!out.is_empty()).then(|| {
                Metrics::new(ExportMetricsServiceRequest {
                    resource_metrics: out,
                })
            }),
            points,
        }
    }
}

/// The point Falcon nodata would push: the mock value, or a staleness marker.
fn nodata_point(template: &Template, at_seconds: u64, mock: Option<f64>) -> ResourceMetrics {
    let (value, flags) = match mock {
        Some(mock) => (mock, 0),
        None => (
            f64::from_bits(STALE_NAN),
            DataPointFlags::NoRecordedValueMask as u32,
        ),
    };
    let point = NumberDataPoint {
        attributes: template.attributes.clone(),
        time_unix_nano: at_seconds * NANOS,
        value: Some(Value::AsDouble(value)),
        flags,
        ..Default::default()
    };
    let data = match template.sum {
        Some((aggregation_temporality, is_monotonic)) => Data::Sum(Sum {
            data_points: vec![point],
            aggregation_temporality,
            is_monotonic,
        }),
        None => Data::Gauge(Gauge {
            data_points: vec![point],
        }),
    };
    ResourceMetrics {
        resource: Some(Resource {
            attributes: template.resource.clone(),
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: "falcon_nodata".into(),
                ..Default::default()
            }),
            metrics: vec![Metric {
                name: template.metric.clone(),
                unit: template.unit.clone(),
                description: template.description.clone(),
                data: Some(data),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}
