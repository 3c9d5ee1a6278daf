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

// ---------------------------------------------------------------------------------------
// Payloads kept as bytes (lazy decoding) and merged as ropes
// ---------------------------------------------------------------------------------------

/// `t` as a receiver gets it: decoded from its encoding, still only bytes.
fn received(t: &Traces) -> Traces {
    let payload = Traces::decode(Traces::new(t.request().clone()).encoded()).unwrap();
    assert!(!payload.is_decoded());
    payload
}

/// Spans of `shape`, received as one request per resource and merged (a rope of parts).
fn received_in_parts(shape: &[Vec<usize>]) -> Traces {
    let whole = traces(shape);
    if shape.is_empty() {
        return received(&whole);
    }
    let parts = whole
        .request()
        .resource_spans
        .iter()
        .map(|rs| {
            received(&Traces::new(ExportTraceServiceRequest {
                resource_spans: vec![rs.clone()],
            }))
        })
        .collect::<Vec<_>>();
    let merged = Traces::concat(parts);
    assert!(!merged.is_decoded());
    merged
}

#[test]
fn decode_checks_and_counts_without_decoding() {
    let t = traces(&[vec![2, 3], vec![4]]);
    let bytes = t.encoded();
    let payload = Traces::decode(bytes.clone()).unwrap();
    assert!(!payload.is_decoded());
    assert_eq!(payload.item_count(), 9);
    assert_eq!(payload.encoded_len(), bytes.len());
    assert_eq!(
        payload.encoded().as_ptr(),
        bytes.as_ptr(),
        "the bytes as received"
    );
    assert_eq!(payload.encoded_parts().len(), 1);
    assert!(format!("{payload:?}").contains("encoded_len"));
    assert!(
        !payload.is_decoded(),
        "counting, sizing, encoding and Debug do not decode"
    );

    let reader = payload.clone();
    assert_eq!(payload.request(), t.request());
    assert!(reader.is_decoded(), "one decode, shared by every clone");
    assert!(std::ptr::eq(reader.request(), payload.request()));
    assert_eq!(
        reader.encoded().as_ptr(),
        bytes.as_ptr(),
        "still the bytes as received"
    );
}

#[test]
fn concurrent_first_reads_decode_once() {
    let payload = received(&traces(&[vec![50]]));
    let clones: Vec<Traces> = (0..8).map(|_| payload.clone()).collect();
    let addresses: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = clones
            .iter()
            .map(|p| scope.spawn(move || p.request() as *const _ as usize))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(addresses.iter().all(|&a| a == addresses[0]));
    assert_eq!(
        payload.request().resource_spans[0].scope_spans[0]
            .spans
            .len(),
        50
    );
}

#[test]
fn merging_payloads_kept_as_bytes_decodes_nothing() {
    let (ta, tb) = (traces(&[vec![1]]), traces(&[vec![2], vec![3]]));
    let (a, b) = (received(&ta), received(&tb));
    let (ea, eb) = (a.encoded(), b.encoded());
    let mut merged = a;
    merged.merge(b);
    assert!(!merged.is_decoded());
    assert_eq!(merged.item_count(), 6);
    assert_eq!(merged.encoded_len(), ea.len() + eb.len());
    assert_eq!(merged.encoded_parts(), [ea.clone(), eb.clone()]);
    assert_eq!(merged.encoded(), [ea, eb].concat());
    assert_eq!(
        merged.encoded().as_ptr(),
        merged.encoded().as_ptr(),
        "joined once"
    );

    let mut expected = ta.request().clone();
    expected.append(tb.request().clone());
    assert_eq!(merged.request(), &expected);
}

#[test]
fn concat_of_many_received_payloads_joins_parts_once() {
    let pieces: Vec<Traces> = (0..82).map(|i| received(&traces(&[vec![i % 5]]))).collect();
    let bytes: Vec<u8> = pieces.iter().flat_map(|p| p.encoded().to_vec()).collect();
    let items: usize = pieces.iter().map(Traces::item_count).sum();
    let batch = Traces::concat(pieces);
    assert!(!batch.is_decoded());
    assert_eq!(batch.item_count(), items);
    assert_eq!(batch.encoded_len(), bytes.len());
    assert_eq!(batch.encoded(), bytes);
    // Merging more after a join keeps the join as one part.
    let mut more = batch.clone();
    more.merge(received(&traces(&[vec![1]])));
    assert_eq!(more.encoded_parts().len(), 2);
    assert_eq!(more.item_count(), items + 1);
    assert_eq!(
        batch.item_count(),
        items,
        "the shared original is untouched"
    );
}

#[test]
fn merge_mixes_built_and_received_payloads() {
    let (built, bytes) = (traces(&[vec![2]]), traces(&[vec![3]]));
    let mut expected = built.request().clone();
    expected.append(bytes.request().clone());

    // Built into received and received into built: the built side is encoded.
    let mut merged = Traces::new(built.request().clone());
    merged.merge(received(&bytes));
    assert!(!merged.is_decoded(), "the received side was not decoded");
    assert_eq!(merged.item_count(), 5);
    assert_eq!(
        merged.encoded(),
        [built.encoded(), bytes.encoded()].concat()
    );
    assert_eq!(merged.request(), &expected);

    let mut merged = received(&built);
    merged.merge(Traces::new(bytes.request().clone()));
    assert!(!merged.is_decoded());
    assert_eq!(merged.request(), &expected);

    // Two built payloads: the requests are appended, nothing is encoded.
    let mut merged = Traces::new(built.request().clone());
    merged.merge(Traces::new(bytes.request().clone()));
    assert!(merged.is_decoded());
    assert_eq!(merged.request(), &expected);

    // Two received payloads that were both read (and are not shared) stay decoded.
    let (a, b) = (received(&built), received(&bytes));
    a.request();
    b.request();
    let mut merged = a;
    merged.merge(b);
    assert!(merged.is_decoded());
    assert_eq!(merged.request(), &expected);
    assert_eq!(
        merged.encoded(),
        [built.encoded(), bytes.encoded()].concat()
    );
}

#[test]
fn merging_into_or_from_blank_payloads() {
    let t = received(&traces(&[vec![2]]));
    let metadata = std::sync::Arc::new(ClientMetadata::new());
    let mut blank = Traces::default().with_metadata(metadata.clone());
    blank.merge(t.clone());
    assert!(
        blank.shares_request_with(&t),
        "nothing copied into a blank payload"
    );
    assert!(std::sync::Arc::ptr_eq(blank.metadata().unwrap(), &metadata));
    let mut same = t.clone();
    same.merge(Traces::decode(bytes::Bytes::new()).unwrap());
    assert!(same.shares_request_with(&t));
}

#[test]
fn make_mut_decodes_a_private_copy() {
    let original = received(&traces(&[vec![3]]));
    let reader = original.clone();
    let mut writer = original;
    writer.make_mut().resource_spans[0].scope_spans[0]
        .spans
        .pop();
    assert!(
        !reader.is_decoded(),
        "the reader's payload is still only bytes"
    );
    assert_eq!(reader.item_count(), 3);
    assert_eq!(writer.item_count(), 2);
    assert_eq!(Traces::decode(writer.encoded()).unwrap(), writer);

    let mut unique = received(&traces(&[vec![1]]));
    unique.make_mut().resource_spans.clear();
    assert!(unique.is_empty());
    assert_eq!(unique.encoded_len(), 0);
}

#[test]
fn into_request_decodes_a_payload_kept_as_bytes() {
    let t = traces(&[vec![2], vec![1]]);
    assert_eq!(received(&t).into_request(), *t.request());
    let shared = received(&t);
    let keep = shared.clone();
    assert_eq!(shared.into_request(), *t.request());
    assert_eq!(
        received_in_parts(&[vec![2], vec![1]]).into_request(),
        *t.request()
    );
    assert_eq!(keep.item_count(), 3);
}

#[test]
fn a_failed_lazy_decode_reads_as_empty_and_is_counted() {
    // Not reachable through `decode` (the walker refuses these bytes); built directly.
    let before = lazy_decode_failures();
    let bad = Traces::from_unchecked_bytes(bytes::Bytes::from_static(b"\x0a\xff\xff"), 4);
    assert_eq!(bad.request(), &ExportTraceServiceRequest::default());
    assert_eq!(lazy_decode_failures(), before + 1);
    assert_eq!(bad.request(), &ExportTraceServiceRequest::default(), "once");
    assert_eq!(lazy_decode_failures(), before + 1);
    let mut edited = Traces::from_unchecked_bytes(bytes::Bytes::from_static(b"\x0a\xff"), 1);
    edited
        .make_mut()
        .resource_spans
        .push(ResourceSpans::default());
    assert_eq!(edited.item_count(), 0);
    assert_eq!(
        Traces::from_unchecked_bytes(bytes::Bytes::from_static(b"\xff"), 1).into_request(),
        ExportTraceServiceRequest::default()
    );
}

#[test]
fn split_front_of_a_received_payload_cuts_its_bytes() {
    let original = traces(&[vec![2, 3], vec![4]]);
    let mut rest = received(&original);
    let front = rest.split_front(3);
    assert!(!front.is_decoded() && !rest.is_decoded());
    assert_eq!((front.item_count(), rest.item_count()), (3, 6));
    let mut joined = flatten(&front);
    joined.extend(flatten(&rest));
    assert_eq!(joined, flatten(&original));

    // At a resource boundary the bytes are sliced, not re-encoded.
    let mut rest = received(&original);
    let bytes = rest.encoded();
    let front = rest.split_front(5);
    assert_eq!(front.encoded(), bytes.slice(..front.encoded_len()));
    assert_eq!(rest.encoded(), bytes.slice(front.encoded_len()..));
}

#[test]
fn split_of_received_metrics_divides_a_metric_like_the_decoded_path() {
    let built = metrics_with(&[5, 0, 7, 1]);
    for max in 1..=14 {
        let lazy = Metrics::decode(built.encoded()).unwrap().split(max);
        let eager = Metrics::new(built.request().clone()).split(max);
        assert!(lazy.iter().all(|p| !p.is_decoded()));
        let counts =
            |pieces: &[Metrics]| pieces.iter().map(Metrics::item_count).collect::<Vec<_>>();
        assert_eq!(counts(&lazy), counts(&eager), "max {max}");
        let points = |pieces: &[Metrics]| {
            pieces
                .iter()
                .flat_map(|p| p.request().resource_metrics.clone())
                .flat_map(|rm| rm.scope_metrics)
                .flat_map(|sm| sm.metrics)
                .map(|m| (m.name.clone(), data_point_count(&m)))
                .filter(|(_, n)| *n > 0)
                .collect::<Vec<_>>()
        };
        assert_eq!(points(&lazy), points(&eager), "max {max}");
        for piece in &lazy {
            assert_eq!(
                Metrics::decode(piece.encoded()).unwrap().item_count(),
                piece.item_count()
            );
        }
    }
}

/// A shape, and whether to receive it as one request per resource (merged) or as one.
fn shape_and_parts() -> impl Strategy<Value = (Vec<Vec<usize>>, bool)> {
    (shape(), any::<bool>())
}

proptest! {
    #[test]
    fn lazy_split_front_matches_the_decoded_one((shape, in_parts) in shape_and_parts(), cut in 0usize..40) {
        let original = traces(&shape);
        let mut lazy = if in_parts { received_in_parts(&shape) } else { received(&original) };
        let mut eager = original.clone();
        let (lazy_front, eager_front) = (lazy.split_front(cut), eager.split_front(cut));
        prop_assert_eq!(lazy_front.item_count(), eager_front.item_count());
        prop_assert_eq!(lazy.item_count(), eager.item_count());
        prop_assert_eq!(flatten(&lazy_front), flatten(&eager_front));
        prop_assert_eq!(flatten(&lazy), flatten(&eager));
        for piece in [&lazy_front, &lazy] {
            let decoded = Traces::decode(piece.encoded()).unwrap();
            prop_assert_eq!(decoded.item_count(), piece.item_count());
            prop_assert_eq!(decoded.request(), piece.request());
        }
    }

    #[test]
    fn lazy_split_matches_the_decoded_one((shape, in_parts) in shape_and_parts(), max in 1usize..8) {
        let original = traces(&shape);
        let lazy = if in_parts { received_in_parts(&shape) } else { received(&original) };
        let lazy_pieces = lazy.split(max);
        let eager_pieces = original.clone().split(max);
        let counts = |pieces: &[Traces]| pieces.iter().map(Traces::item_count).collect::<Vec<_>>();
        prop_assert_eq!(counts(&lazy_pieces), counts(&eager_pieces));
        let joined: Vec<_> = lazy_pieces.iter().flat_map(flatten).collect();
        prop_assert_eq!(joined, flatten(&original));
        for piece in &lazy_pieces {
            prop_assert_eq!(Traces::decode(piece.encoded()).unwrap().item_count(), piece.item_count());
        }
    }

    #[test]
    fn concat_of_received_payloads_equals_the_appended_requests(shapes in prop::collection::vec(shape(), 0..6)) {
        let mut expected = ExportTraceServiceRequest::default();
        let mut pieces = Vec::new();
        for shape in &shapes {
            let t = traces(shape);
            expected.append(t.request().clone());
            pieces.push(received(&t));
        }
        let batch = Traces::concat(pieces);
        prop_assert_eq!(batch.item_count(), expected.item_count());
        prop_assert_eq!(batch.request(), &expected);
        let decoded = Traces::decode(batch.encoded()).unwrap();
        prop_assert_eq!(decoded.request(), &expected);
    }
}

proptest! {
    /// A resource of spans cut on its bytes gives the pieces the decoding cut gives,
    /// scope descriptions and empty scopes included.
    #[test]
    fn a_resource_cut_on_its_bytes_matches_the_decoded_cut(
        scopes in prop::collection::vec(0usize..6, 1..4),
        first in 1usize..12,
        then in prop_oneof![1usize..6, Just(usize::MAX)],
    ) {
        let request = traces(&[scopes]).request().clone();
        let resource = prost::Message::encode_to_vec(&request.resource_spans[0]);
        let items = request.item_count();
        prop_assume!(first < items);
        let decode = |pieces: Vec<(bytes::Bytes, usize)>| {
            pieces
                .into_iter()
                .map(|(bytes, items)| {
                    let piece = <ExportTraceServiceRequest as prost::Message>::decode(bytes).unwrap();
                    assert_eq!(piece.item_count(), items);
                    piece
                })
                .collect::<Vec<_>>()
        };
        let on_bytes = decode(crate::pdata::split::cut_encoded_leaves(&resource, first, then).unwrap());
        let decoded = decode(
            crate::pdata::split::cut_encoded::<ResourceSpans, _, _>(&resource, first, then).unwrap(),
        );
        prop_assert_eq!(on_bytes, decoded);
    }
}

#[test]
fn a_received_resource_of_log_records_is_cut_without_decoding() {
    let mut builder = crate::pdata::builder::LogsBuilder::new();
    builder.resource(vec![]).scope("s", "");
    for i in 0..100 {
        builder.record(format!("line {i}"));
    }
    let mut received = Logs::decode(builder.build().encoded()).unwrap();
    let front = received.split_front(30);
    assert_eq!((front.item_count(), received.item_count()), (30, 70));
    assert!(
        !front.is_decoded() && !received.is_decoded(),
        "cut on the bytes"
    );
    let pieces = received.split(25);
    assert!(pieces.iter().all(|p| !p.is_decoded()));
    assert_eq!(
        pieces.iter().map(Logs::item_count).collect::<Vec<_>>(),
        [25, 25, 20]
    );
}

proptest! {
    /// Encoding with each length computed once writes prost's own bytes.
    #[test]
    fn encode_once_writes_what_prost_writes(
        shape in shape(),
        points in prop::collection::vec(0usize..5, 0..4),
        urls in prop::collection::vec(prop_oneof![Just(""), Just("https://schema/1")], 4),
        with_descriptions in any::<bool>(),
    ) {
        let mut traces_request = traces(&shape).request().clone();
        for (i, rs) in traces_request.resource_spans.iter_mut().enumerate() {
            rs.schema_url = urls[i % 4].into();
            if !with_descriptions {
                rs.resource = None;
            }
            for (j, ss) in rs.scope_spans.iter_mut().enumerate() {
                ss.schema_url = urls[(i + j + 1) % 4].into();
                if !with_descriptions {
                    ss.scope = None;
                }
            }
        }
        prop_assert_eq!(traces_request.encode_once(), prost::Message::encode_to_vec(&traces_request));
        let metrics_request = metrics_with(&points).request().clone();
        prop_assert_eq!(metrics_request.encode_once(), prost::Message::encode_to_vec(&metrics_request));
        let logs_request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: with_descriptions.then(Resource::default),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope { name: "s".into(), ..Default::default() }),
                    log_records: (0..points.len()).map(|i| LogRecord {
                        severity_number: i as i32,
                        ..Default::default()
                    }).collect(),
                    schema_url: urls[0].into(),
                }],
                schema_url: urls[1].into(),
            }],
        };
        prop_assert_eq!(logs_request.encode_once(), prost::Message::encode_to_vec(&logs_request));
    }
}
