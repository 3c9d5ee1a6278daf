//! What the `interval` processor holds between emissions: the latest point of each
//! stream, already laid out as the request it will send.

use std::collections::HashMap;

use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

/// The attributes as a key that ignores their order.
fn attributes_key(attributes: &[KeyValue]) -> String {
    let mut pairs: Vec<_> = attributes
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    format!("{pairs:?}")
}

/// A metric's identity, as Go's `identity.OfMetric`: name, unit, kind, temporality and
/// monotonicity (not the description).
fn metric_key(metric: &Metric) -> String {
    let (kind, temporality, monotonic) = match &metric.data {
        Some(Data::Gauge(_)) => ("gauge", 0, false),
        Some(Data::Sum(s)) => ("sum", s.aggregation_temporality, s.is_monotonic),
        Some(Data::Histogram(h)) => ("histogram", h.aggregation_temporality, false),
        Some(Data::ExponentialHistogram(e)) => ("exponential", e.aggregation_temporality, false),
        Some(Data::Summary(_)) => ("summary", 0, false),
        None => ("empty", 0, false),
    };
    format!(
        "{}|{}|{kind}|{temporality}|{monotonic}",
        metric.name, metric.unit
    )
}

fn scope_key(scope: Option<&InstrumentationScope>) -> String {
    scope.map_or_else(String::new, |s| {
        format!("{}|{}|{}", s.name, s.version, attributes_key(&s.attributes))
    })
}

/// The pending request and indexes into it.
#[derive(Default)]
pub(crate) struct Pending {
    request: ExportMetricsServiceRequest,
    resources: HashMap<String, usize>,
    scopes: HashMap<(usize, String), usize>,
    metrics: HashMap<(usize, usize, String), usize>,
    /// Each stream's point, by its metric's place and its attributes.
    streams: HashMap<(usize, usize, usize, String), usize>,
}

/// A data point whose latest value is kept.
pub(crate) trait Point: Clone {
    fn attributes(&self) -> &[KeyValue];
    fn time_unix_nano(&self) -> u64;
    /// The points of `data`, if it is of this point's kind.
    fn points_mut(data: &mut Option<Data>) -> Option<&mut Vec<Self>>;
}

macro_rules! point {
    ($point:ty, $($variant:ident)|+) => {
        impl Point for $point {
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn time_unix_nano(&self) -> u64 {
                self.time_unix_nano
            }
            fn points_mut(data: &mut Option<Data>) -> Option<&mut Vec<Self>> {
                match data {
                    $(Some(Data::$variant(d)) => Some(&mut d.data_points),)+
                    _ => None,
                }
            }
        }
    };
}

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
};
point!(NumberDataPoint, Gauge | Sum);
point!(HistogramDataPoint, Histogram);
point!(ExponentialHistogramDataPoint, ExponentialHistogram);
point!(SummaryDataPoint, Summary);

/// The metric without its points.
fn shell(metric: &Metric) -> Metric {
    let data = match &metric.data {
        Some(Data::Gauge(_)) => Data::Gauge(Gauge::default()),
        Some(Data::Sum(s)) => Data::Sum(Sum {
            data_points: Vec::new(),
            ..*s
        }),
        Some(Data::Histogram(h)) => Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: h.aggregation_temporality,
        }),
        Some(Data::ExponentialHistogram(e)) => Data::ExponentialHistogram(ExponentialHistogram {
            data_points: Vec::new(),
            aggregation_temporality: e.aggregation_temporality,
        }),
        Some(Data::Summary(_)) => Data::Summary(Summary::default()),
        None => return Metric::default(),
    };
    Metric {
        name: metric.name.clone(),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        metadata: metric.metadata.clone(),
        data: Some(data),
    }
}

impl Pending {
    /// Takes the pending request, leaving nothing.
    pub fn take(&mut self) -> ExportMetricsServiceRequest {
        std::mem::take(self).request
    }

    /// Keeps `points` of `metric` (of resource `resource` with schema `resource_schema`,
    /// scope `scope` with schema `scope_schema`): a stream's point replaces the one held
    /// only if it is newer. A point of a new stream is handed back, not kept, once
    /// `max_streams` streams are held.
    #[allow(clippy::too_many_arguments)]
    pub fn keep<P: Point>(
        &mut self,
        resource: Option<&Resource>,
        resource_schema: &str,
        scope: Option<&InstrumentationScope>,
        scope_schema: &str,
        metric: &Metric,
        points: Vec<P>,
        max_streams: usize,
    ) -> Vec<P> {
        let mut refused = Vec::new();
        let r = self.resource(resource, resource_schema);
        let s = self.scope(r, scope, scope_schema);
        let m = self.metric(r, s, metric);
        for point in points {
            let key = (r, s, m, attributes_key(point.attributes()));
            let target = &mut self.request.resource_metrics[r].scope_metrics[s].metrics[m];
            let Some(held) = P::points_mut(&mut target.data) else {
                continue;
            };
            match self.streams.get(&key) {
                Some(&index) => {
                    let existing = &mut held[index];
                    if point.time_unix_nano() > existing.time_unix_nano() {
                        *existing = point;
                    }
                }
                None if self.streams.len() >= max_streams => refused.push(point),
                None => {
                    held.push(point);
                    self.streams.insert(key, held.len() - 1);
                }
            }
        }
        refused
    }

    fn resource(&mut self, resource: Option<&Resource>, schema_url: &str) -> usize {
        let key = attributes_key(resource.map_or(&[][..], |r| &r.attributes));
        let resources = &mut self.request.resource_metrics;
        *self.resources.entry(key).or_insert_with(|| {
            resources.push(ResourceMetrics {
                resource: resource.cloned(),
                scope_metrics: Vec::new(),
                schema_url: schema_url.to_string(),
            });
            resources.len() - 1
        })
    }

    fn scope(&mut self, r: usize, scope: Option<&InstrumentationScope>, schema_url: &str) -> usize {
        let scopes = &mut self.request.resource_metrics[r].scope_metrics;
        *self.scopes.entry((r, scope_key(scope))).or_insert_with(|| {
            scopes.push(ScopeMetrics {
                scope: scope.cloned(),
                metrics: Vec::new(),
                schema_url: schema_url.to_string(),
            });
            scopes.len() - 1
        })
    }

    fn metric(&mut self, r: usize, s: usize, metric: &Metric) -> usize {
        let metrics = &mut self.request.resource_metrics[r].scope_metrics[s].metrics;
        *self
            .metrics
            .entry((r, s, metric_key(metric)))
            .or_insert_with(|| {
                metrics.push(shell(metric));
                metrics.len() - 1
            })
    }
}
