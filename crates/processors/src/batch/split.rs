//! Moving the first N items of an OTLP request into a request of their own.
//!
//! A batch is cut at exactly `send_batch_max_size` items, so the request that crosses the
//! cut is divided: its first items go with the batch, the rest stay pending. This is the
//! Go Collector's `splittraces.go` / `splitmetrics.go` / `splitlogs.go`. The framework's
//! [`Payload::split`](tributary_pipeline_core::pdata::Payload::split) cuts a whole request
//! into equal pieces; cutting off an arbitrary front with it would make many small pieces
//! when the front is small, so the batcher uses this instead.
//!
//! Resource and scope descriptions are copied into both halves. A metric whose data points
//! straddle the cut is divided too, its name, unit, metadata and aggregation copied.

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{OtlpRequest, data_point_count};

/// An OTLP request whose leading items can be moved out into a request of their own.
pub(crate) trait SplitFront: OtlpRequest {
    /// Moves the first `count` items (spans, data points or log records) into a new request
    /// and leaves the rest in `self`, both in their original order. `count` is less than
    /// [`item_count`](OtlpRequest::item_count); parts holding no items that come right after
    /// the cut go with the front.
    fn split_front(&mut self, count: usize) -> Self;
}

impl SplitFront for ExportTraceServiceRequest {
    fn split_front(&mut self, count: usize) -> Self {
        ExportTraceServiceRequest {
            resource_spans: take_front(&mut self.resource_spans, count),
        }
    }
}

impl SplitFront for ExportMetricsServiceRequest {
    fn split_front(&mut self, count: usize) -> Self {
        ExportMetricsServiceRequest {
            resource_metrics: take_front(&mut self.resource_metrics, count),
        }
    }
}

impl SplitFront for ExportLogsServiceRequest {
    fn split_front(&mut self, count: usize) -> Self {
        ExportLogsServiceRequest {
            resource_logs: take_front(&mut self.resource_logs, count),
        }
    }
}

/// One level of a request's tree: a resource, a scope, or a leaf (span, metric, log record).
trait Part: Sized {
    /// Items inside.
    fn weight(&self) -> usize;
    /// Moves the first `count` items out into a part of their own (`0 < count < weight`).
    fn split_front(&mut self, count: usize) -> Self;
}

/// Moves the first `count` items of `parts` out, dividing the part that crosses the cut.
/// The parts must hold more than `count` items.
fn take_front<P: Part>(parts: &mut Vec<P>, count: usize) -> Vec<P> {
    let mut whole = 0;
    let mut taken = 0;
    for part in parts.iter() {
        let weight = part.weight();
        if taken + weight > count {
            break;
        }
        taken += weight;
        whole += 1;
    }
    let mut front: Vec<P> = parts.drain(..whole).collect();
    if taken < count
        && let Some(crossing) = parts.first_mut()
    {
        front.push(crossing.split_front(count - taken));
    }
    front
}

/// Implements [`Part`] for a resource or scope type: `$children` holds its parts, the other
/// listed fields describe it and are copied into the front.
macro_rules! branch {
    ($ty:ty => $children:ident; $($field:ident),*) => {
        impl Part for $ty {
            fn weight(&self) -> usize {
                self.$children.iter().map(Part::weight).sum()
            }
            fn split_front(&mut self, count: usize) -> Self {
                Self {
                    $($field: self.$field.clone(),)*
                    $children: take_front(&mut self.$children, count),
                }
            }
        }
    };
}

branch!(ResourceSpans => scope_spans; resource, schema_url);
branch!(ScopeSpans => spans; scope, schema_url);
branch!(ResourceMetrics => scope_metrics; resource, schema_url);
branch!(ScopeMetrics => metrics; scope, schema_url);
branch!(ResourceLogs => scope_logs; resource, schema_url);
branch!(ScopeLogs => log_records; scope, schema_url);

/// Implements [`Part`] for a leaf that is exactly one item and so is never divided.
macro_rules! single_item {
    ($ty:ty) => {
        impl Part for $ty {
            fn weight(&self) -> usize {
                1
            }
            /// Never called: `0 < count < 1` has no solution.
            fn split_front(&mut self, _count: usize) -> Self {
                std::mem::take(self)
            }
        }
    };
}

single_item!(Span);
single_item!(LogRecord);

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
    use tributary_pipeline_core::pdata::proto::metrics::v1::{NumberDataPoint, SummaryDataPoint};
    use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

    use super::*;

    /// A trace request: one resource per entry of `shape`, each with one scope per entry,
    /// each with that many spans named by their position in the whole request.
    fn traces(shape: &[Vec<usize>]) -> ExportTraceServiceRequest {
        let mut next = 0;
        let resource_spans = shape
            .iter()
            .enumerate()
            .map(|(r, scopes)| ResourceSpans {
                resource: Some(Resource {
                    dropped_attributes_count: r as u32,
                    ..Default::default()
                }),
                scope_spans: scopes
                    .iter()
                    .enumerate()
                    .map(|(s, &spans)| ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: format!("scope {r}.{s}"),
                            ..Default::default()
                        }),
                        spans: (0..spans)
                            .map(|_| {
                                next += 1;
                                Span {
                                    name: format!("span {}", next - 1),
                                    ..Default::default()
                                }
                            })
                            .collect(),
                        schema_url: format!("schema {r}.{s}"),
                    })
                    .collect(),
                schema_url: format!("schema {r}"),
            })
            .collect();
        ExportTraceServiceRequest { resource_spans }
    }

    /// Every span with the resource and scope it sits in, in order.
    fn flatten(request: &ExportTraceServiceRequest) -> Vec<(u32, String, String)> {
        request
            .resource_spans
            .iter()
            .flat_map(|rs| {
                let resource = rs
                    .resource
                    .as_ref()
                    .map_or(0, |r| r.dropped_attributes_count);
                rs.scope_spans.iter().flat_map(move |ss| {
                    let scope = ss.scope.as_ref().map_or(String::new(), |s| s.name.clone());
                    ss.spans
                        .iter()
                        .map(move |span| (resource, scope.clone(), span.name.clone()))
                })
            })
            .collect()
    }

    #[test]
    fn the_front_keeps_the_first_items_and_their_descriptions() {
        let mut request = traces(&[vec![2, 3], vec![4]]);
        let front = request.split_front(3);
        assert_eq!(
            flatten(&front),
            [
                (0, "scope 0.0".into(), "span 0".into()),
                (0, "scope 0.0".into(), "span 1".into()),
                (0, "scope 0.1".into(), "span 2".into()),
            ]
        );
        assert_eq!(front.resource_spans[0].schema_url, "schema 0");
        assert_eq!(
            front.resource_spans[0].scope_spans[1].schema_url,
            "schema 0.1"
        );
        assert_eq!(request.item_count(), 6);
        assert_eq!(request.resource_spans[0].scope_spans[0].spans.len(), 2);
        assert_eq!(
            request.resource_spans[0].scope_spans[0].scope,
            front.resource_spans[0].scope_spans[1].scope,
            "the divided scope's description is in both halves"
        );
    }

    #[test]
    fn metrics_are_divided_between_data_points() {
        let points = |n: usize| {
            (0..n).map(|i| NumberDataPoint {
                time_unix_nano: i as u64,
                ..Default::default()
            })
        };
        let mut request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        Metric {
                            name: "requests".into(),
                            unit: "1".into(),
                            data: Some(Data::Sum(Sum {
                                data_points: points(5).collect(),
                                aggregation_temporality: 2,
                                is_monotonic: true,
                            })),
                            ..Default::default()
                        },
                        Metric {
                            name: "latency".into(),
                            data: Some(Data::Summary(Summary {
                                data_points: vec![SummaryDataPoint::default(); 2],
                            })),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let front = request.split_front(3);
        assert_eq!(front.item_count(), 3);
        assert_eq!(request.item_count(), 4);
        let front_metric = &front.resource_metrics[0].scope_metrics[0].metrics[0];
        let rest_metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        assert_eq!(
            (front_metric.name.as_str(), front_metric.unit.as_str()),
            ("requests", "1")
        );
        let (Some(Data::Sum(front_sum)), Some(Data::Sum(rest_sum))) =
            (&front_metric.data, &rest_metric.data)
        else {
            panic!("both halves are sums");
        };
        assert_eq!(
            (front_sum.aggregation_temporality, front_sum.is_monotonic),
            (2, true)
        );
        assert_eq!(front_sum.data_points[2].time_unix_nano, 2);
        assert_eq!(rest_sum.data_points[0].time_unix_nano, 3);
    }

    #[test]
    fn empty_parts_right_after_the_cut_go_with_the_front() {
        let mut request = traces(&[vec![2], vec![], vec![0], vec![1]]);
        let front = request.split_front(2);
        assert_eq!(front.resource_spans.len(), 3);
        assert_eq!(request.resource_spans.len(), 1);
        assert_eq!(request.item_count(), 1);
    }

    #[test]
    fn log_records_move_in_order() {
        let mut request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: (0..4)
                        .map(|i| LogRecord {
                            time_unix_nano: i,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let front = request.split_front(1);
        assert_eq!(front.item_count(), 1);
        assert_eq!(
            request.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano,
            1
        );
    }

    fn shape() -> impl Strategy<Value = Vec<Vec<usize>>> {
        prop::collection::vec(prop::collection::vec(0usize..6, 0..4), 1..5)
    }

    proptest! {
        #[test]
        fn splitting_keeps_every_item_once_and_in_order(shape in shape(), cut in 0usize..100) {
            let original = traces(&shape);
            let total = original.item_count();
            prop_assume!(total > 0);
            let count = cut % total;
            prop_assume!(count > 0);
            let mut rest = original.clone();
            let front = rest.split_front(count);
            prop_assert_eq!(front.item_count(), count);
            prop_assert_eq!(rest.item_count(), total - count);
            let mut joined = flatten(&front);
            joined.extend(flatten(&rest));
            prop_assert_eq!(joined, flatten(&original));
        }
    }
}
