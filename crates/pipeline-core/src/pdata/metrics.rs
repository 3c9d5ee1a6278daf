//! Metrics: data point counting and splitting for `ExportMetricsServiceRequest`.
//!
//! A metric's items are its data points; a metric with more points than fit in a piece is
//! divided, its name, description, unit, metadata and aggregation settings copied into each
//! part.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
};

use super::Signal;
use super::payload::{OtlpRequest, Payload, sealed};
use super::split::{self, Part, impl_branch};

/// A batch of metric data points, shared copy-on-write. See [`Payload`].
pub type Metrics = Payload<ExportMetricsServiceRequest>;

impl_branch!(ResourceMetrics { resource, schema_url } => scope_metrics: ScopeMetrics);
impl_branch!(ScopeMetrics { scope, schema_url } => metrics: Metric);

/// Number of data points in a metric (0 for a metric without data).
pub fn data_point_count(metric: &Metric) -> usize {
    match &metric.data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(e)) => e.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

impl Part for Metric {
    fn weight(&self) -> usize {
        data_point_count(self)
    }

    fn split_front(&mut self, count: usize) -> Self {
        let data = self.data.as_mut().map(|data| match data {
            Data::Gauge(g) => Data::Gauge(Gauge {
                data_points: g.data_points.drain(..count).collect(),
            }),
            Data::Sum(s) => Data::Sum(Sum {
                data_points: s.data_points.drain(..count).collect(),
                aggregation_temporality: s.aggregation_temporality,
                is_monotonic: s.is_monotonic,
            }),
            Data::Histogram(h) => Data::Histogram(Histogram {
                data_points: h.data_points.drain(..count).collect(),
                aggregation_temporality: h.aggregation_temporality,
            }),
            Data::ExponentialHistogram(e) => Data::ExponentialHistogram(ExponentialHistogram {
                data_points: e.data_points.drain(..count).collect(),
                aggregation_temporality: e.aggregation_temporality,
            }),
            Data::Summary(s) => Data::Summary(Summary {
                data_points: s.data_points.drain(..count).collect(),
            }),
        });
        Metric {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            metadata: self.metadata.clone(),
            data,
        }
    }
}

impl sealed::Sealed for ExportMetricsServiceRequest {}

impl OtlpRequest for ExportMetricsServiceRequest {
    const SIGNAL: Signal = Signal::Metrics;

    fn item_count(&self) -> usize {
        self.resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(data_point_count)
            .sum()
    }

    fn split_into(self, max_items: usize) -> Vec<Self> {
        split::chunk(self.resource_metrics, max_items)
            .into_iter()
            .map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
            .collect()
    }

    fn split_front(&mut self, count: usize) -> Self {
        ExportMetricsServiceRequest {
            resource_metrics: split::take_front(&mut self.resource_metrics, count),
        }
    }

    fn partition<K: Ord + Default>(
        self,
        keys: impl IntoIterator<Item = K>,
    ) -> std::collections::BTreeMap<K, Self> {
        split::partition(self.resource_metrics, keys)
            .into_iter()
            .map(|(key, resource_metrics)| (key, ExportMetricsServiceRequest { resource_metrics }))
            .collect()
    }

    fn append(&mut self, other: Self) {
        self.resource_metrics.extend(other.resource_metrics);
    }

    fn encode_once(&self) -> Vec<u8> {
        super::encode::encode_request(&self.resource_metrics)
    }

    fn cut_resource(
        resource: &[u8],
        first: usize,
        then: usize,
    ) -> Result<Vec<(bytes::Bytes, usize)>, prost::DecodeError> {
        split::cut_encoded::<ResourceMetrics, _, _>(resource, first, then)
    }
}
