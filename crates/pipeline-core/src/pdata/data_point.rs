//! Metric data points of every kind behind one type, so one closure reaches them all.
//!
//! A metric holds its points in one of five shapes (gauge, sum, histogram, exponential
//! histogram, summary) with four point types. [`DataPointRef`] and [`DataPointMut`] name a
//! point of any kind; [`MetricExt`] walks a metric's points, and the [`Metrics`] methods
//! walk every point of a payload with its [`Origin`], copy-on-write as described in
//! [`visit`](super::visit).
//!
//! Redacting an attribute on every data point of every kind:
//!
//! ```
//! use tributary_pipeline_core::pdata::attributes::{Attributes, AttributesMut, key_value};
//! use tributary_pipeline_core::pdata::builder::{
//!     ExponentialHistogramValue, HistogramValue, MetricsBuilder, SummaryValue, Temporality,
//! };
//! use tributary_pipeline_core::pdata::data_point::DataPointRef;
//!
//! let mut builder = MetricsBuilder::new();
//! builder.resource(vec![]).scope("app", "1.0");
//! let secret = || vec![key_value("user.email", "ana@example.com"), key_value("route", "/a")];
//! builder.gauge("temperature", "Cel").double(secret(), 10, 21.5);
//! builder.sum("requests", "1", Temporality::Cumulative, true).int(secret(), 0, 10, 7);
//! builder
//!     .histogram("latency", "ms", Temporality::Delta)
//!     .point(secret(), 0, 10, HistogramValue::new(vec![10.0], vec![3, 1]).sum(42.0))?;
//! builder
//!     .exponential_histogram("size", "By", Temporality::Delta)
//!     .point(secret(), 0, 10, ExponentialHistogramValue::new(2).positive(4, vec![1, 1]))?;
//! builder
//!     .summary("gc.pause", "s")
//!     .point(secret(), 0, 10, SummaryValue::new(4, 2.0).quantile(0.5, 0.4))?;
//! let mut metrics = builder.build();
//!
//! let redacted = metrics.update_data_points(
//!     |_, point| point.attributes().contains_key("user.email"),
//!     |_, mut point| {
//!         point.attributes_mut().remove_attribute("user.email");
//!     },
//! );
//! assert_eq!(redacted, 5);
//! assert!(metrics.data_points().all(|(_, point)| !point.attributes().contains_key("user.email")));
//! assert!(matches!(metrics.data_points().last(), Some((_, DataPointRef::Summary(_)))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::Metrics;
use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::common::v1::KeyValue;
use super::proto::metrics::v1::metric::Data;
use super::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
};
use super::visit::layout::Items;
use super::visit::{HasAttributes, Marks, Origin, for_each_record_mut, retain_records_in};

/// A data point of any kind, to read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DataPointRef<'a> {
    /// A point of a gauge.
    Gauge(&'a NumberDataPoint),
    /// A point of a sum.
    Sum(&'a NumberDataPoint),
    /// A point of an explicit-bucket histogram.
    Histogram(&'a HistogramDataPoint),
    /// A point of an exponential histogram.
    ExponentialHistogram(&'a ExponentialHistogramDataPoint),
    /// A point of a summary.
    Summary(&'a SummaryDataPoint),
}

/// A data point of any kind, to edit.
#[derive(Debug)]
pub enum DataPointMut<'a> {
    /// A point of a gauge.
    Gauge(&'a mut NumberDataPoint),
    /// A point of a sum.
    Sum(&'a mut NumberDataPoint),
    /// A point of an explicit-bucket histogram.
    Histogram(&'a mut HistogramDataPoint),
    /// A point of an exponential histogram.
    ExponentialHistogram(&'a mut ExponentialHistogramDataPoint),
    /// A point of a summary.
    Summary(&'a mut SummaryDataPoint),
}

impl<'a> DataPointRef<'a> {
    /// The point's attributes.
    pub fn attributes(&self) -> &'a [KeyValue] {
        match *self {
            DataPointRef::Gauge(p) | DataPointRef::Sum(p) => &p.attributes,
            DataPointRef::Histogram(p) => &p.attributes,
            DataPointRef::ExponentialHistogram(p) => &p.attributes,
            DataPointRef::Summary(p) => &p.attributes,
        }
    }

    /// When the point was recorded, in nanoseconds since the Unix epoch.
    pub fn time_unix_nano(&self) -> u64 {
        match *self {
            DataPointRef::Gauge(p) | DataPointRef::Sum(p) => p.time_unix_nano,
            DataPointRef::Histogram(p) => p.time_unix_nano,
            DataPointRef::ExponentialHistogram(p) => p.time_unix_nano,
            DataPointRef::Summary(p) => p.time_unix_nano,
        }
    }

    /// When the point's aggregation started, in nanoseconds since the Unix epoch (0: unset).
    pub fn start_time_unix_nano(&self) -> u64 {
        match *self {
            DataPointRef::Gauge(p) | DataPointRef::Sum(p) => p.start_time_unix_nano,
            DataPointRef::Histogram(p) => p.start_time_unix_nano,
            DataPointRef::ExponentialHistogram(p) => p.start_time_unix_nano,
            DataPointRef::Summary(p) => p.start_time_unix_nano,
        }
    }
}

impl DataPointMut<'_> {
    /// The point, to read.
    pub fn as_ref(&self) -> DataPointRef<'_> {
        match self {
            DataPointMut::Gauge(p) => DataPointRef::Gauge(p),
            DataPointMut::Sum(p) => DataPointRef::Sum(p),
            DataPointMut::Histogram(p) => DataPointRef::Histogram(p),
            DataPointMut::ExponentialHistogram(p) => DataPointRef::ExponentialHistogram(p),
            DataPointMut::Summary(p) => DataPointRef::Summary(p),
        }
    }

    /// The point's attributes.
    pub fn attributes(&self) -> &[KeyValue] {
        self.as_ref().attributes()
    }

    /// Sets when the point's aggregation started (nanoseconds since the Unix epoch).
    pub fn set_start_time_unix_nano(&mut self, nanos: u64) {
        match self {
            DataPointMut::Gauge(p) | DataPointMut::Sum(p) => p.start_time_unix_nano = nanos,
            DataPointMut::Histogram(p) => p.start_time_unix_nano = nanos,
            DataPointMut::ExponentialHistogram(p) => p.start_time_unix_nano = nanos,
            DataPointMut::Summary(p) => p.start_time_unix_nano = nanos,
        }
    }

    /// Sets when the point was recorded (nanoseconds since the Unix epoch).
    pub fn set_time_unix_nano(&mut self, nanos: u64) {
        match self {
            DataPointMut::Gauge(p) | DataPointMut::Sum(p) => p.time_unix_nano = nanos,
            DataPointMut::Histogram(p) => p.time_unix_nano = nanos,
            DataPointMut::ExponentialHistogram(p) => p.time_unix_nano = nanos,
            DataPointMut::Summary(p) => p.time_unix_nano = nanos,
        }
    }

    /// Sets the point's flags (`FLAG_NO_RECORDED_VALUE`).
    pub fn set_flags(&mut self, flags: u32) {
        match self {
            DataPointMut::Gauge(p) | DataPointMut::Sum(p) => p.flags = flags,
            DataPointMut::Histogram(p) => p.flags = flags,
            DataPointMut::ExponentialHistogram(p) => p.flags = flags,
            DataPointMut::Summary(p) => p.flags = flags,
        }
    }

    /// The point's attributes, for editing.
    pub fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
        match self {
            DataPointMut::Gauge(p) | DataPointMut::Sum(p) => p.attributes_mut(),
            DataPointMut::Histogram(p) => p.attributes_mut(),
            DataPointMut::ExponentialHistogram(p) => p.attributes_mut(),
            DataPointMut::Summary(p) => p.attributes_mut(),
        }
    }
}

/// Walks a metric's data points whatever their kind.
pub trait MetricExt {
    /// The data points, in order.
    fn data_points(&self) -> impl Iterator<Item = DataPointRef<'_>>;
    /// The data points, in order, for editing.
    fn data_points_mut(&mut self) -> impl Iterator<Item = DataPointMut<'_>>;
    /// Keeps only the data points for which `keep` holds (called once per point, in order).
    fn retain_data_points(&mut self, keep: impl FnMut(DataPointRef<'_>) -> bool);
}

impl MetricExt for Metric {
    fn data_points(&self) -> impl Iterator<Item = DataPointRef<'_>> {
        // One iterator type whatever the kind: every kind but one yields nothing.
        let (gauge, sum, histogram, exponential, summary) = match &self.data {
            Some(Data::Gauge(g)) => (&g.data_points[..], &[][..], &[][..], &[][..], &[][..]),
            Some(Data::Sum(s)) => (&[][..], &s.data_points[..], &[][..], &[][..], &[][..]),
            Some(Data::Histogram(h)) => (&[][..], &[][..], &h.data_points[..], &[][..], &[][..]),
            Some(Data::ExponentialHistogram(e)) => {
                (&[][..], &[][..], &[][..], &e.data_points[..], &[][..])
            }
            Some(Data::Summary(s)) => (&[][..], &[][..], &[][..], &[][..], &s.data_points[..]),
            None => (&[][..], &[][..], &[][..], &[][..], &[][..]),
        };
        gauge
            .iter()
            .map(DataPointRef::Gauge)
            .chain(sum.iter().map(DataPointRef::Sum))
            .chain(histogram.iter().map(DataPointRef::Histogram))
            .chain(exponential.iter().map(DataPointRef::ExponentialHistogram))
            .chain(summary.iter().map(DataPointRef::Summary))
    }

    fn data_points_mut(&mut self) -> impl Iterator<Item = DataPointMut<'_>> {
        points_mut(&mut self.data)
    }

    fn retain_data_points(&mut self, mut keep: impl FnMut(DataPointRef<'_>) -> bool) {
        match &mut self.data {
            Some(Data::Gauge(g)) => g.data_points.retain(|p| keep(DataPointRef::Gauge(p))),
            Some(Data::Sum(s)) => s.data_points.retain(|p| keep(DataPointRef::Sum(p))),
            Some(Data::Histogram(h)) => h.data_points.retain(|p| keep(DataPointRef::Histogram(p))),
            Some(Data::ExponentialHistogram(e)) => e
                .data_points
                .retain(|p| keep(DataPointRef::ExponentialHistogram(p))),
            Some(Data::Summary(s)) => s.data_points.retain(|p| keep(DataPointRef::Summary(p))),
            None => {}
        }
    }
}

/// The data points of a metric's `data`, for editing. One iterator type whatever the kind:
/// every kind but one yields nothing.
fn points_mut(data: &mut Option<Data>) -> impl Iterator<Item = DataPointMut<'_>> {
    let (gauge, sum, histogram, exponential, summary) = match data {
        Some(Data::Gauge(g)) => (
            &mut g.data_points[..],
            &mut [][..],
            &mut [][..],
            &mut [][..],
            &mut [][..],
        ),
        Some(Data::Sum(s)) => (
            &mut [][..],
            &mut s.data_points[..],
            &mut [][..],
            &mut [][..],
            &mut [][..],
        ),
        Some(Data::Histogram(h)) => (
            &mut [][..],
            &mut [][..],
            &mut h.data_points[..],
            &mut [][..],
            &mut [][..],
        ),
        Some(Data::ExponentialHistogram(e)) => (
            &mut [][..],
            &mut [][..],
            &mut [][..],
            &mut e.data_points[..],
            &mut [][..],
        ),
        Some(Data::Summary(s)) => (
            &mut [][..],
            &mut [][..],
            &mut [][..],
            &mut [][..],
            &mut s.data_points[..],
        ),
        None => (
            &mut [][..],
            &mut [][..],
            &mut [][..],
            &mut [][..],
            &mut [][..],
        ),
    };
    gauge
        .iter_mut()
        .map(DataPointMut::Gauge)
        .chain(sum.iter_mut().map(DataPointMut::Sum))
        .chain(histogram.iter_mut().map(DataPointMut::Histogram))
        .chain(
            exponential
                .iter_mut()
                .map(DataPointMut::ExponentialHistogram),
        )
        .chain(summary.iter_mut().map(DataPointMut::Summary))
}

impl Items for ExportMetricsServiceRequest {
    fn for_each_item_attributes<'a>(&'a self, mut visit: impl FnMut(Origin<'a>, &'a [KeyValue])) {
        for entry in &self.resource_metrics {
            for scope_entry in &entry.scope_metrics {
                let origin = Origin::new(entry.resource.as_ref(), scope_entry.scope.as_ref());
                for metric in &scope_entry.metrics {
                    let origin = metric_origin(origin, metric);
                    for point in metric.data_points() {
                        visit(origin, point.attributes());
                    }
                }
            }
        }
    }

    fn for_each_item_attributes_mut(
        &mut self,
        mut visit: impl FnMut(Origin<'_>, &mut Vec<KeyValue>),
    ) {
        for_each_point_mut(self, |origin, mut point| {
            visit(origin, point.attributes_mut())
        });
    }
}

/// Calls `visit` on every data point of `request`, in order, with its origin.
fn for_each_point_mut(
    request: &mut ExportMetricsServiceRequest,
    mut visit: impl FnMut(Origin<'_>, DataPointMut<'_>),
) {
    for_each_record_mut(request, |origin, metric| {
        // The metric's identity is read while its data is edited: disjoint fields.
        let Metric {
            name,
            unit,
            description,
            data,
            ..
        } = metric;
        let origin = origin.with_metric(name, unit, description);
        for point in points_mut(data) {
            visit(origin, point);
        }
    });
}

/// The origin of a metric's data points: the metric's scope and resource, and the metric.
fn metric_origin<'a>(origin: Origin<'a>, metric: &'a Metric) -> Origin<'a> {
    origin.with_metric(&metric.name, &metric.unit, &metric.description)
}

impl Metrics {
    /// Every data point, of every metric and kind, with its origin (including its metric's
    /// name and unit), in order. Never copies.
    pub fn data_points(&self) -> impl Iterator<Item = (Origin<'_>, DataPointRef<'_>)> {
        self.records().flat_map(|(origin, metric)| {
            let origin = metric_origin(origin, metric);
            metric.data_points().map(move |point| (origin, point))
        })
    }

    /// Edits the data points for which `wants` holds with `edit`; returns how many.
    ///
    /// Copies the request (if shared) only when some point is wanted; see
    /// [`visit`](super::visit) for the cost.
    pub fn update_data_points(
        &mut self,
        mut wants: impl FnMut(Origin<'_>, DataPointRef<'_>) -> bool,
        mut edit: impl FnMut(Origin<'_>, DataPointMut<'_>),
    ) -> usize {
        let marks = Marks::collect(
            self.data_points()
                .map(|(origin, point)| wants(origin, point)),
        );
        let edited = marks.marked();
        if edited == 0 {
            return 0;
        }
        let mut wanted = marks.into_answers();
        for_each_point_mut(self.make_mut(), |origin, point| {
            if wanted() {
                edit(origin, point);
            }
        });
        edited
    }

    /// Keeps only the data points for which `keep` holds, dropping the metrics, scopes and
    /// resources left empty; returns how many points were removed. Use
    /// [`is_empty`](super::Payload::is_empty) to see whether anything is left.
    ///
    /// Copies the request (if shared) only when some point is removed.
    pub fn retain_data_points(
        &mut self,
        mut keep: impl FnMut(Origin<'_>, DataPointRef<'_>) -> bool,
    ) -> usize {
        let marks = Marks::collect(
            self.data_points()
                .map(|(origin, point)| keep(origin, point)),
        );
        let removed = marks.unmarked();
        if removed == 0 {
            return 0;
        }
        let mut kept = marks.into_answers();
        retain_records_in(self.make_mut(), |metric: &mut Metric| {
            let had_points = metric.data_points().next().is_some();
            metric.retain_data_points(|_| kept());
            !had_points || metric.data_points().next().is_some()
        });
        removed
    }
}
