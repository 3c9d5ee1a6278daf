use proptest::prelude::*;

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use super::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use super::proto::metrics::v1::{
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data,
};
use super::proto::resource::v1::Resource;
use super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use super::*;

fn resource(name: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(name.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        ..Default::default()
    })
}

/// Traces with `shape[r][s]` spans in scope `s` of resource `r`; span names number them in
/// order, so order can be checked after a split.
fn traces(shape: &[Vec<usize>]) -> Traces {
    let mut n = 0;
    let resource_spans = shape
        .iter()
        .enumerate()
        .map(|(r, scopes)| ResourceSpans {
            resource: resource(&format!("r{r}")),
            scope_spans: scopes
                .iter()
                .enumerate()
                .map(|(s, &count)| ScopeSpans {
                    scope: scope(&format!("s{s}")),
                    spans: (0..count)
                        .map(|_| {
                            n += 1;
                            Span {
                                name: format!("span{n}"),
                                ..Default::default()
                            }
                        })
                        .collect(),
                    schema_url: format!("scope-url-{s}"),
                })
                .collect(),
            schema_url: format!("resource-url-{r}"),
        })
        .collect();
    Traces::new(ExportTraceServiceRequest { resource_spans })
}

/// Every span as (resource name, scope name, span name), in order.
fn flatten(traces: &Traces) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rs in &traces.request().resource_spans {
        let r = format!("{:?}{}", rs.resource, rs.schema_url);
        for ss in &rs.scope_spans {
            let s = format!("{:?}{}", ss.scope, ss.schema_url);
            for span in &ss.spans {
                out.push((r.clone(), s.clone(), span.name.clone()));
            }
        }
    }
    out
}

#[test]
fn item_counts_per_signal() {
    assert_eq!(traces(&[vec![2, 3], vec![4]]).item_count(), 9);

    let logs = Logs::new(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord::default(); 7],
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    assert_eq!(logs.item_count(), 7);

    let metrics = metrics_with(&[3, 0, 5]);
    assert_eq!(metrics.item_count(), 8);
}

fn metrics_with(points: &[usize]) -> Metrics {
    let metrics = points
        .iter()
        .enumerate()
        .map(|(i, &n)| Metric {
            name: format!("m{i}"),
            unit: "1".into(),
            data: Some(if i % 2 == 0 {
                Data::Sum(Sum {
                    data_points: (0..n)
                        .map(|p| NumberDataPoint {
                            time_unix_nano: p as u64,
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: 2,
                    is_monotonic: true,
                })
            } else {
                Data::Histogram(Histogram {
                    data_points: (0..n)
                        .map(|p| HistogramDataPoint {
                            time_unix_nano: p as u64,
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: 1,
                })
            }),
            ..Default::default()
        })
        .collect();
    Metrics::new(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("svc"),
            scope_metrics: vec![ScopeMetrics {
                scope: scope("meter"),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

#[test]
fn split_within_limit_returns_the_same_payload() {
    let t = traces(&[vec![3]]);
    let keep = t.clone();
    let pieces = t.split(3);
    assert_eq!(pieces.len(), 1);
    assert!(pieces[0].shares_request_with(&keep));
}

#[test]
fn split_copies_resource_and_scope_into_every_piece() {
    let t = traces(&[vec![5]]);
    let pieces = t.clone().split(2);
    assert_eq!(pieces.len(), 3);
    for piece in &pieces {
        let rs = &piece.request().resource_spans[0];
        assert_eq!(rs.resource, resource("r0"));
        assert_eq!(rs.schema_url, "resource-url-0");
        assert_eq!(rs.scope_spans[0].scope, scope("s0"));
        assert_eq!(rs.scope_spans[0].schema_url, "scope-url-0");
    }
    let joined: Vec<_> = pieces.iter().flat_map(flatten).collect();
    assert_eq!(joined, flatten(&t));
}

#[test]
fn split_divides_a_metric_by_data_points() {
    let m = metrics_with(&[5]);
    let pieces = m.split(2);
    assert_eq!(
        pieces.iter().map(|p| p.item_count()).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    for piece in &pieces {
        let metric = &piece.request().resource_metrics[0].scope_metrics[0].metrics[0];
        assert_eq!(metric.name, "m0");
        assert_eq!(metric.unit, "1");
        let Some(Data::Sum(sum)) = &metric.data else {
            panic!("sum expected")
        };
        assert_eq!(sum.aggregation_temporality, 2);
        assert!(sum.is_monotonic);
    }
}

#[test]
fn split_keeps_metrics_without_points() {
    let m = metrics_with(&[2, 0, 2]);
    let pieces = m.split(2);
    let names: Vec<Vec<String>> = pieces
        .iter()
        .map(|p| {
            p.request().resource_metrics[0].scope_metrics[0]
                .metrics
                .iter()
                .map(|m| m.name.clone())
                .collect()
        })
        .collect();
    assert_eq!(
        names,
        [vec!["m0".to_string(), "m1".into()], vec!["m2".into()]]
    );
}

#[test]
fn make_mut_copies_only_shared_data() {
    let original = traces(&[vec![1]]);
    let mut unique = traces(&[vec![1]]);
    let before = unique.request() as *const _;
    unique.make_mut().resource_spans.clear();
    assert_eq!(
        before,
        unique.request() as *const _,
        "a unique payload is edited in place"
    );

    let reader = original.clone();
    let mut writer = original;
    writer.make_mut().resource_spans.clear();
    assert!(!writer.shares_request_with(&reader));
    assert_eq!(
        reader.item_count(),
        1,
        "the reader never sees the writer's edit"
    );
    assert_eq!(writer.item_count(), 0);
}

#[test]
fn decoded_bytes_are_reused_until_an_edit() {
    let t = traces(&[vec![2]]);
    let bytes = t.encoded();
    let decoded = Traces::decode(bytes.clone()).unwrap();
    assert_eq!(decoded, t);
    assert_eq!(decoded.encoded().as_ptr(), bytes.as_ptr(), "no re-encoding");

    let mut edited = decoded.clone();
    edited.make_mut().resource_spans[0].scope_spans[0]
        .spans
        .pop();
    assert_eq!(edited.item_count(), 1);
    assert_ne!(edited.encoded(), bytes);
    assert_eq!(Traces::decode(edited.encoded()).unwrap(), edited);
}

#[test]
fn decode_rejects_garbage() {
    let err = Traces::decode(bytes::Bytes::from_static(b"\x0a\xff\xff")).unwrap_err();
    assert!(
        err.to_string().contains("invalid OTLP traces protobuf"),
        "{err}"
    );
}

#[test]
fn merge_concatenates_known_encodings() {
    let a = Traces::decode(traces(&[vec![1]]).encoded()).unwrap();
    let b = Traces::decode(traces(&[vec![2]]).encoded()).unwrap();
    let (ea, eb) = (a.encoded(), b.encoded());
    let mut merged = a;
    merged.merge(b);
    assert_eq!(merged.item_count(), 3);
    assert_eq!(merged.encoded(), [ea, eb].concat());
    assert_eq!(Traces::decode(merged.encoded()).unwrap(), merged);
}

#[test]
fn split_front_keeps_the_first_items_and_their_descriptions() {
    let original = traces(&[vec![2, 3], vec![4]]);
    let mut rest = original.clone();
    let front = rest.split_front(3);
    assert_eq!(front.item_count(), 3);
    assert_eq!(rest.item_count(), 6);
    assert_eq!(
        original.item_count(),
        9,
        "the original is untouched (copy-on-write)"
    );
    let front_rs = &front.request().resource_spans[0];
    assert_eq!(front_rs.schema_url, "resource-url-0");
    assert_eq!(front_rs.scope_spans[1].schema_url, "scope-url-1");
    assert_eq!(
        rest.request().resource_spans[0].scope_spans[0].scope,
        front_rs.scope_spans[1].scope,
        "the divided scope's description is in both halves"
    );
    let mut joined = flatten(&front);
    joined.extend(flatten(&rest));
    assert_eq!(joined, flatten(&original));
}

#[test]
fn split_front_divides_a_metric_and_moves_empty_parts_with_the_front() {
    let mut m = metrics_with(&[5, 0, 2]);
    let front = m.split_front(3);
    assert_eq!((front.item_count(), m.item_count()), (3, 4));
    let front_metric = &front.request().resource_metrics[0].scope_metrics[0].metrics[0];
    let Some(Data::Sum(sum)) = &front_metric.data else {
        panic!("a sum")
    };
    assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (2, true));
    assert_eq!(sum.data_points[2].time_unix_nano, 2);

    let mut t = traces(&[vec![2], vec![], vec![0], vec![1]]);
    let front = t.split_front(2);
    assert_eq!(
        front.request().resource_spans.len(),
        3,
        "empty parts right after the cut"
    );
    assert_eq!(t.request().resource_spans.len(), 1);
}

#[test]
fn split_front_of_everything_moves_the_payload_whole() {
    let metadata = std::sync::Arc::new(ClientMetadata::new());
    let original = traces(&[vec![2]]).with_metadata(metadata.clone());
    let mut rest = original.clone();
    let front = rest.split_front(5);
    assert!(front.shares_request_with(&original), "no copy");
    assert!(rest.is_empty());
    assert!(std::sync::Arc::ptr_eq(rest.metadata().unwrap(), &metadata));
    assert!(std::sync::Arc::ptr_eq(front.metadata().unwrap(), &metadata));
}

fn shape() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(0usize..6, 0..4), 0..4)
}

proptest! {
    #[test]
    fn split_preserves_every_span_in_order(shape in shape(), max in 1usize..8) {
        let t = traces(&shape);
        let pieces = t.clone().split(max);
        for piece in &pieces {
            prop_assert!(piece.item_count() <= max);
        }
        if t.item_count() > 0 {
            prop_assert!(pieces.iter().all(|p| p.item_count() > 0), "no empty pieces");
            prop_assert_eq!(pieces.len(), t.item_count().div_ceil(max));
        }
        let joined: Vec<_> = pieces.iter().flat_map(flatten).collect();
        prop_assert_eq!(joined, flatten(&t));
    }

    #[test]
    fn split_then_merge_round_trips_items(points in prop::collection::vec(0usize..7, 0..6), max in 1usize..9) {
        let m = metrics_with(&points);
        let total = m.item_count();
        let merged = Metrics::concat(m.split(max));
        prop_assert_eq!(merged.item_count(), total);
    }

    #[test]
    fn split_front_keeps_every_item_once_and_in_order(shape in shape(), cut in 0usize..40) {
        let original = traces(&shape);
        let mut rest = original.clone();
        let front = rest.split_front(cut);
        prop_assert_eq!(front.item_count(), cut.min(original.item_count()));
        let mut joined = flatten(&front);
        joined.extend(flatten(&rest));
        prop_assert_eq!(joined, flatten(&original));
    }

    #[test]
    fn merging_an_empty_payload_is_the_identity(shape in shape()) {
        let t = traces(&shape);
        let mut merged = t.clone();
        merged.merge(Traces::default());
        prop_assert_eq!(merged, t);
    }
}
