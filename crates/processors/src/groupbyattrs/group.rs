//! Regrouping: each record (span, log record, data point) goes to the resource made of
//! its origin resource's attributes plus the grouping attributes it carried, under the
//! scope of the same name and version; equal resources, scopes and metrics merge.

use std::collections::HashMap;

use tributary_pipeline_core::pdata::attributes::{AttributesMut, key_value};
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, Sum, Summary, SummaryDataPoint,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::visit::layout::{Layout, ResourceEntry, ScopeEntry};

/// How many records were moved to another resource, and how many were not.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub grouped: u64,
    pub not_grouped: u64,
}

/// Removes the grouping attributes from a record's, in `keys` order.
fn extract(attributes: &mut Vec<KeyValue>, keys: &[String]) -> Vec<KeyValue> {
    keys.iter()
        .filter_map(|key| Some(key_value(key.clone(), attributes.remove_attribute(key)?)))
        .collect()
}

/// The attributes as a key that ignores their order (Go hashes the map).
fn attributes_key(attributes: &[KeyValue]) -> String {
    let mut pairs: Vec<_> = attributes
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    format!("{pairs:?}")
}

/// The resources built so far, by their attributes.
struct Resources<E> {
    entries: Vec<E>,
    index: HashMap<String, usize>,
}

impl<E: ResourceEntry> Resources<E>
where
    E::ScopeEntry: ScopeEntry,
{
    fn new() -> Self {
        Resources {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The scope entry for a record of `origin`'s resource and `scope` that carried
    /// `extracted`. `origin_key` is the key of `origin`'s attributes, computed once per
    /// origin.
    fn scope_for(
        &mut self,
        origin: Option<&Resource>,
        origin_key: &str,
        extracted: Vec<KeyValue>,
        scope: Option<&InstrumentationScope>,
    ) -> &mut E::ScopeEntry {
        let (key, attributes) = if extracted.is_empty() {
            (origin_key.to_string(), None)
        } else {
            let mut attributes = origin.map(|r| r.attributes.clone()).unwrap_or_default();
            for kv in extracted {
                attributes.upsert_attribute(&kv.key, kv.value.unwrap_or_default());
            }
            (attributes_key(&attributes), Some(attributes))
        };
        let slot = match self.index.get(&key) {
            Some(slot) => *slot,
            None => {
                let mut resource = origin.cloned().unwrap_or_default();
                if let Some(attributes) = attributes {
                    resource.attributes = attributes;
                }
                let mut entry = E::default();
                *entry.resource_mut() = Some(resource);
                self.entries.push(entry);
                self.index.insert(key, self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        let scopes = self.entries[slot].split_mut().1;
        let same = |candidate: Option<&InstrumentationScope>| {
            name_version(candidate) == name_version(scope)
        };
        let position = match scopes.iter().position(|s| same(s.scope())) {
            Some(position) => position,
            None => {
                let mut entry = E::ScopeEntry::default();
                *entry.scope_mut() = scope.cloned();
                scopes.push(entry);
                scopes.len() - 1
            }
        };
        &mut scopes[position]
    }
}

/// A scope's identity for regrouping, as Go's: its name and version.
fn name_version(scope: Option<&InstrumentationScope>) -> (&str, &str) {
    scope.map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()))
}

/// Regroups the spans or log records of `request`; `attributes` gives a record's.
pub(crate) fn regroup_records<R: Layout>(
    request: &mut R,
    keys: &[String],
    attributes: impl Fn(&mut R::Record) -> &mut Vec<KeyValue>,
) -> Counts {
    let mut counts = Counts::default();
    let mut resources = Resources::<R::ResourceEntry>::new();
    for mut entry in std::mem::take(request.entries_mut()) {
        let (origin, scopes) = entry.split_mut();
        let origin_key = attributes_key(origin.map_or(&[][..], |r| &r.attributes));
        for scope_entry in scopes {
            let (scope, records) = scope_entry.split_mut();
            for mut record in std::mem::take(records) {
                let extracted = extract(attributes(&mut record), keys);
                count(&mut counts, &extracted);
                resources
                    .scope_for(origin, &origin_key, extracted, scope)
                    .split_mut()
                    .1
                    .push(record);
            }
        }
    }
    *request.entries_mut() = resources.entries;
    counts
}

fn count(counts: &mut Counts, extracted: &[KeyValue]) {
    if extracted.is_empty() {
        counts.not_grouped += 1;
    } else {
        counts.grouped += 1;
    }
}

/// A data point of any kind.
enum Point {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    Exponential(ExponentialHistogramDataPoint),
    Summary(SummaryDataPoint),
}

impl Point {
    fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
        match self {
            Point::Number(p) => &mut p.attributes,
            Point::Histogram(p) => &mut p.attributes,
            Point::Exponential(p) => &mut p.attributes,
            Point::Summary(p) => &mut p.attributes,
        }
    }
}

/// The metric without its points (same name, unit, kind, temporality), and its points.
fn split(mut metric: Metric) -> (Metric, Vec<Point>) {
    let (data, points) = match metric.data.take() {
        Some(Data::Gauge(g)) => (
            Data::Gauge(Gauge::default()),
            g.data_points.into_iter().map(Point::Number).collect(),
        ),
        Some(Data::Sum(s)) => (
            Data::Sum(Sum {
                data_points: Vec::new(),
                ..s
            }),
            s.data_points.into_iter().map(Point::Number).collect(),
        ),
        Some(Data::Histogram(h)) => (
            Data::Histogram(Histogram {
                data_points: Vec::new(),
                ..h
            }),
            h.data_points.into_iter().map(Point::Histogram).collect(),
        ),
        Some(Data::ExponentialHistogram(e)) => (
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: Vec::new(),
                ..e
            }),
            e.data_points.into_iter().map(Point::Exponential).collect(),
        ),
        Some(Data::Summary(s)) => (
            Data::Summary(Summary::default()),
            s.data_points.into_iter().map(Point::Summary).collect(),
        ),
        None => return (metric, Vec::new()),
    };
    metric.data = Some(data);
    (metric, points)
}

/// Adds a point to a metric of its kind (as made by [`split`]).
fn push(metric: &mut Metric, point: Point) {
    match (&mut metric.data, point) {
        (Some(Data::Gauge(g)), Point::Number(p)) => g.data_points.push(p),
        (Some(Data::Sum(s)), Point::Number(p)) => s.data_points.push(p),
        (Some(Data::Histogram(h)), Point::Histogram(p)) => h.data_points.push(p),
        (Some(Data::ExponentialHistogram(e)), Point::Exponential(p)) => e.data_points.push(p),
        (Some(Data::Summary(s)), Point::Summary(p)) => s.data_points.push(p),
        _ => {}
    }
}

/// The metric of `shell`'s name and kind in `metrics`, added (without points) if absent.
fn metric_for<'a>(metrics: &'a mut Vec<Metric>, shell: &Metric) -> &'a mut Metric {
    let kind = |m: &Metric| m.data.as_ref().map(std::mem::discriminant);
    match metrics
        .iter()
        .position(|m| m.name == shell.name && kind(m) == kind(shell))
    {
        Some(position) => &mut metrics[position],
        None => {
            metrics.push(shell.clone());
            let last = metrics.len() - 1;
            &mut metrics[last]
        }
    }
}

/// Regroups the data points of `request`, each on its own.
pub(crate) fn regroup_metrics(
    request: &mut ExportMetricsServiceRequest,
    keys: &[String],
) -> Counts {
    let mut counts = Counts::default();
    let mut resources = Resources::<ResourceMetrics>::new();
    for mut entry in std::mem::take(&mut request.resource_metrics) {
        let (origin, scopes) = ResourceEntry::split_mut(&mut entry);
        let origin_key = attributes_key(origin.map_or(&[][..], |r| &r.attributes));
        for scope_entry in scopes {
            let (scope, metrics) = ScopeEntry::split_mut(scope_entry);
            for metric in std::mem::take(metrics) {
                let (shell, points) = split(metric);
                for mut point in points {
                    let extracted = extract(point.attributes_mut(), keys);
                    count(&mut counts, &extracted);
                    let target = resources.scope_for(origin, &origin_key, extracted, scope);
                    push(metric_for(&mut target.metrics, &shell), point);
                }
            }
        }
    }
    request.resource_metrics = resources.entries;
    counts
}
