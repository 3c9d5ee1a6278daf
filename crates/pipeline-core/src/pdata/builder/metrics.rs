//! The metrics builder: gauges, sums, histograms, exponential histograms and summaries.

use std::marker::PhantomData;

use super::{Batch, ExponentialHistogramValue, HistogramValue, PointError, SummaryValue};
use crate::pdata::Metrics;
use crate::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::pdata::proto::common::v1::KeyValue;
use crate::pdata::proto::metrics::v1::metric::Data;
use crate::pdata::proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, Gauge, Histogram, Metric, NumberDataPoint, Sum,
    Summary, number_data_point,
};

/// How a sum or histogram aggregates over time: each point covers the time since the
/// previous one (`Delta`, StatsD counters) or since a fixed start (`Cumulative`,
/// Prometheus counters).
pub type Temporality = AggregationTemporality;

/// Builds a [`Metrics`] batch; see the [module docs](super).
///
/// ```
/// use tributary_pipeline_core::pdata::attributes::key_value;
/// use tributary_pipeline_core::pdata::builder::{
///     ExponentialHistogramValue, HistogramValue, MetricsBuilder, SummaryValue, Temporality,
/// };
///
/// let (start, now) = (1_700_000_000_000_000_000, 1_700_000_010_000_000_000);
/// let mut builder = MetricsBuilder::new();
/// builder
///     .resource(vec![key_value("service.name", "checkout")])
///     .scope("tributary/statsd", "0.1.0");
/// builder.gauge("queue.depth", "{item}").int(vec![key_value("queue", "a")], now, 7);
/// builder
///     .sum("http.requests", "{request}", Temporality::Delta, true)
///     .description("Requests served")
///     .int(vec![key_value("code", 200)], start, now, 120)
///     .int(vec![key_value("code", 500)], start, now, 3);
/// builder
///     .histogram("http.duration", "ms", Temporality::Delta)
///     .point(vec![], start, now, HistogramValue::new(vec![10.0, 100.0], vec![5, 3, 1]).sum(420.0))?;
/// builder
///     .exponential_histogram("rpc.duration", "ms", Temporality::Delta)
///     .point(vec![], start, now, ExponentialHistogramValue::new(0).positive(0, vec![1, 2]))?;
/// builder
///     .summary("gc.pause", "s")
///     .point(vec![], start, now, SummaryValue::new(10, 0.5).quantile(0.99, 0.2))?;
/// let metrics = builder.build();
/// assert_eq!(metrics.item_count(), 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MetricsBuilder {
    batch: Batch<ExportMetricsServiceRequest>,
}

impl MetricsBuilder {
    /// An empty batch.
    pub fn new() -> Self {
        MetricsBuilder::default()
    }

    /// Starts a resource with these attributes; what follows goes into it.
    pub fn resource(&mut self, attributes: Vec<KeyValue>) -> &mut Self {
        self.batch.resource(attributes);
        self
    }

    /// Starts an instrumentation scope (name and version, either may be empty) in the
    /// current resource; what follows goes into it.
    pub fn scope(&mut self, name: &str, version: &str) -> &mut Self {
        self.batch.scope(name, version);
        self
    }

    /// Adds a gauge (a value sampled at a time) to the current scope.
    pub fn gauge(&mut self, name: &str, unit: &str) -> GaugeBuilder<'_> {
        let data = Data::Gauge(Gauge::default());
        GaugeBuilder(self.push_metric(name, unit, data))
    }

    /// Adds a sum (a counter or up-down counter) to the current scope.
    pub fn sum(
        &mut self,
        name: &str,
        unit: &str,
        temporality: Temporality,
        is_monotonic: bool,
    ) -> SumBuilder<'_> {
        let data = Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: temporality as i32,
            is_monotonic,
        });
        SumBuilder(self.push_metric(name, unit, data))
    }

    /// Adds a histogram with explicit bucket bounds to the current scope.
    pub fn histogram(
        &mut self,
        name: &str,
        unit: &str,
        temporality: Temporality,
    ) -> HistogramBuilder<'_> {
        let data = Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: temporality as i32,
        });
        PointBuilder::new(self.push_metric(name, unit, data))
    }

    /// Adds an exponential (base-2) histogram to the current scope.
    pub fn exponential_histogram(
        &mut self,
        name: &str,
        unit: &str,
        temporality: Temporality,
    ) -> ExponentialHistogramBuilder<'_> {
        let data = Data::ExponentialHistogram(ExponentialHistogram {
            data_points: Vec::new(),
            aggregation_temporality: temporality as i32,
        });
        PointBuilder::new(self.push_metric(name, unit, data))
    }

    /// Adds a summary (quantiles, as Prometheus summaries report) to the current scope.
    pub fn summary(&mut self, name: &str, unit: &str) -> SummaryBuilder<'_> {
        let data = Data::Summary(Summary::default());
        PointBuilder::new(self.push_metric(name, unit, data))
    }

    /// Number of data points added so far.
    pub fn data_point_count(&self) -> usize {
        self.batch.item_count()
    }

    /// The batch.
    pub fn build(self) -> Metrics {
        self.batch.build()
    }

    fn push_metric(&mut self, name: &str, unit: &str, data: Data) -> &mut Metric {
        self.batch.push(Metric {
            name: name.to_owned(),
            unit: unit.to_owned(),
            data: Some(data),
            ..Default::default()
        })
    }
}

fn number_point(
    attributes: Vec<KeyValue>,
    start_time_unix_nano: u64,
    time_unix_nano: u64,
    value: number_data_point::Value,
) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano,
        time_unix_nano,
        value: Some(value),
        ..Default::default()
    }
}

/// Adds points to a gauge; see [`MetricsBuilder::gauge`]. Times are nanoseconds since the
/// Unix epoch.
#[derive(Debug)]
pub struct GaugeBuilder<'a>(&'a mut Metric);

impl GaugeBuilder<'_> {
    /// Sets the metric's description.
    pub fn description(&mut self, description: &str) -> &mut Self {
        self.0.description = description.to_owned();
        self
    }

    /// Adds a floating-point sample.
    pub fn double(
        &mut self,
        attributes: Vec<KeyValue>,
        time_unix_nano: u64,
        value: f64,
    ) -> &mut Self {
        let value = number_data_point::Value::AsDouble(value);
        self.push(number_point(attributes, 0, time_unix_nano, value))
    }

    /// Adds an integer sample.
    pub fn int(&mut self, attributes: Vec<KeyValue>, time_unix_nano: u64, value: i64) -> &mut Self {
        let value = number_data_point::Value::AsInt(value);
        self.push(number_point(attributes, 0, time_unix_nano, value))
    }

    /// Adds a point as given (for exemplars, flags or a start time).
    pub fn push(&mut self, point: NumberDataPoint) -> &mut Self {
        if let Some(Data::Gauge(gauge)) = &mut self.0.data {
            gauge.data_points.push(point);
        }
        self
    }
}

/// Adds points to a sum; see [`MetricsBuilder::sum`]. Times are nanoseconds since the
/// Unix epoch; `start` is when the aggregation began (the previous report for a delta sum,
/// the process or counter start for a cumulative one).
#[derive(Debug)]
pub struct SumBuilder<'a>(&'a mut Metric);

impl SumBuilder<'_> {
    /// Sets the metric's description.
    pub fn description(&mut self, description: &str) -> &mut Self {
        self.0.description = description.to_owned();
        self
    }

    /// Adds a floating-point total.
    pub fn double(
        &mut self,
        attributes: Vec<KeyValue>,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
        value: f64,
    ) -> &mut Self {
        let value = number_data_point::Value::AsDouble(value);
        self.push(number_point(
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            value,
        ))
    }

    /// Adds an integer total.
    pub fn int(
        &mut self,
        attributes: Vec<KeyValue>,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
        value: i64,
    ) -> &mut Self {
        let value = number_data_point::Value::AsInt(value);
        self.push(number_point(
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            value,
        ))
    }

    /// Adds a point as given (for exemplars or flags).
    pub fn push(&mut self, point: NumberDataPoint) -> &mut Self {
        if let Some(Data::Sum(sum)) = &mut self.0.data {
            sum.data_points.push(point);
        }
        self
    }
}

/// Adds points to a histogram, an exponential histogram or a summary (`V` is the point
/// value: [`HistogramValue`], [`ExponentialHistogramValue`] or [`SummaryValue`]); see
/// [`MetricsBuilder::histogram`].
#[derive(Debug)]
pub struct PointBuilder<'a, V>(&'a mut Metric, PhantomData<fn(V)>);

/// Adds points to a histogram; see [`MetricsBuilder::histogram`].
pub type HistogramBuilder<'a> = PointBuilder<'a, HistogramValue>;

/// Adds points to an exponential histogram; see [`MetricsBuilder::exponential_histogram`].
pub type ExponentialHistogramBuilder<'a> = PointBuilder<'a, ExponentialHistogramValue>;

/// Adds points to a summary; see [`MetricsBuilder::summary`].
pub type SummaryBuilder<'a> = PointBuilder<'a, SummaryValue>;

impl<'a, V: PointValue> PointBuilder<'a, V> {
    fn new(metric: &'a mut Metric) -> Self {
        PointBuilder(metric, PhantomData)
    }

    /// Sets the metric's description.
    pub fn description(&mut self, description: &str) -> &mut Self {
        self.0.description = description.to_owned();
        self
    }

    /// Adds a point, after checking it: a histogram's buckets, an exponential histogram's
    /// scale, a summary's quantiles ([`PointError`]).
    pub fn point(
        &mut self,
        attributes: Vec<KeyValue>,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
        value: V,
    ) -> Result<&mut Self, PointError> {
        value.add_to(self.0, attributes, start_time_unix_nano, time_unix_nano)?;
        Ok(self)
    }
}

/// The value of one point of a histogram, exponential histogram or summary. Implemented
/// by [`HistogramValue`], [`ExponentialHistogramValue`] and [`SummaryValue`] only.
pub trait PointValue: sealed::AddTo {}

impl PointValue for HistogramValue {}
impl PointValue for ExponentialHistogramValue {}
impl PointValue for SummaryValue {}

mod sealed {
    use super::*;

    /// Checks a point value and adds it to its metric.
    pub trait AddTo {
        fn add_to(
            self,
            metric: &mut Metric,
            attributes: Vec<KeyValue>,
            start_time_unix_nano: u64,
            time_unix_nano: u64,
        ) -> Result<(), PointError>;
    }

    macro_rules! add_to {
        ($value:ty, $variant:ident) => {
            impl AddTo for $value {
                fn add_to(
                    self,
                    metric: &mut Metric,
                    attributes: Vec<KeyValue>,
                    start_time_unix_nano: u64,
                    time_unix_nano: u64,
                ) -> Result<(), PointError> {
                    let point =
                        self.into_point(attributes, start_time_unix_nano, time_unix_nano)?;
                    if let Some(Data::$variant(data)) = &mut metric.data {
                        data.data_points.push(point);
                    }
                    Ok(())
                }
            }
        };
    }

    add_to!(HistogramValue, Histogram);
    add_to!(ExponentialHistogramValue, ExponentialHistogram);
    add_to!(SummaryValue, Summary);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::attributes::key_value;

    #[test]
    fn points_land_in_the_scope_started_last() {
        let mut builder = MetricsBuilder::new();
        builder.gauge("orphan", "").double(vec![], 1, 1.0);
        builder
            .resource(vec![key_value("host", "a")])
            .scope("s1", "1");
        builder
            .gauge("g", "1")
            .double(vec![], 1, 2.0)
            .int(vec![], 2, 3);
        builder.scope("s2", "");
        builder
            .sum("c", "1", Temporality::Cumulative, true)
            .double(vec![], 1, 2, 4.0);
        assert_eq!(builder.data_point_count(), 4);
        let request = builder.build().into_request();
        assert_eq!(request.resource_metrics.len(), 2);
        assert_eq!(
            request.resource_metrics[0].resource, None,
            "the default resource"
        );
        let named = &request.resource_metrics[1];
        let scopes: Vec<&str> = named
            .scope_metrics
            .iter()
            .map(|s| s.scope.as_ref().map_or("", |s| s.name.as_str()))
            .collect();
        assert_eq!(scopes, ["s1", "s2"]);
        let Some(Data::Sum(sum)) = &named.scope_metrics[1].metrics[0].data else {
            panic!("a sum");
        };
        assert_eq!(sum.aggregation_temporality, Temporality::Cumulative as i32);
        assert!(sum.is_monotonic);
        assert_eq!(sum.data_points[0].start_time_unix_nano, 1);
    }

    #[test]
    fn histogram_points_follow_the_data_model() {
        let mut builder = MetricsBuilder::new();
        let mut histogram = builder.histogram("h", "ms", Temporality::Delta);
        assert_eq!(
            histogram
                .point(vec![], 0, 1, HistogramValue::new(vec![1.0], vec![1]))
                .map(|_| ()),
            Err(PointError::BucketCounts {
                bounds: 1,
                bucket_counts: 1
            })
        );
        assert!(matches!(
            histogram.point(
                vec![],
                0,
                1,
                HistogramValue::new(vec![2.0, 1.0], vec![0, 0, 0])
            ),
            Err(PointError::Bounds(_))
        ));
        assert!(matches!(
            histogram.point(
                vec![],
                0,
                1,
                HistogramValue::new(vec![f64::NAN], vec![0, 0])
            ),
            Err(PointError::Bounds(_))
        ));
        histogram
            .point(
                vec![],
                0,
                1,
                HistogramValue::new(vec![1.0, f64::INFINITY], vec![2, 3, 0])
                    .sum(9.0)
                    .min_max(0.5, 4.0),
            )
            .unwrap();
        let request = builder.build().into_request();
        let Some(Data::Histogram(h)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("a histogram");
        };
        assert_eq!(h.data_points.len(), 1, "refused points are not added");
        assert_eq!(h.data_points[0].count, 5);
        assert_eq!(h.data_points[0].sum, Some(9.0));
    }

    #[test]
    fn exponential_and_summary_points_are_counted_and_checked() {
        let mut builder = MetricsBuilder::new();
        let mut exponential = builder.exponential_histogram("e", "", Temporality::Delta);
        assert_eq!(
            exponential
                .point(vec![], 0, 1, ExponentialHistogramValue::new(21))
                .map(|_| ()),
            Err(PointError::Scale(21))
        );
        exponential
            .point(
                vec![],
                0,
                1,
                ExponentialHistogramValue::new(3)
                    .zero_count(1, 0.0)
                    .positive(-2, vec![1, 2])
                    .negative(0, vec![4]),
            )
            .unwrap();
        let mut summary = builder.summary("s", "");
        assert_eq!(
            summary
                .point(vec![], 0, 1, SummaryValue::new(1, 1.0).quantile(1.5, 0.0))
                .map(|_| ()),
            Err(PointError::Quantile(1.5))
        );
        summary
            .point(vec![], 0, 1, SummaryValue::new(3, 6.0).quantile(0.5, 2.0))
            .unwrap();
        let metrics = builder.build();
        assert_eq!(metrics.item_count(), 2);
        let request = metrics.request();
        let Some(Data::ExponentialHistogram(e)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("an exponential histogram");
        };
        assert_eq!(e.data_points[0].count, 8);
    }
}
