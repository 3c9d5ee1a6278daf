//! The spanmetrics connector's behaviour, read off the metrics it emits.

use std::time::Duration;

use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{AggregationTemporality, Metric};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::Event;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing::{self, Sink};

use super::aggregator::Aggregator;
use super::{Config, OVERFLOW_KEY, SCOPE, SpanMetricsConnector, UNLIMITED_CARDINALITY_CEILING};

const MS: u64 = 1_000_000;

fn span(name: &str, kind: i32, status: i32, duration_ms: u64, attributes: Vec<KeyValue>) -> Span {
    Span {
        name: name.into(),
        kind,
        status: Some(Status {
            code: status,
            ..Status::default()
        }),
        start_time_unix_nano: 1_000 * MS,
        end_time_unix_nano: 1_000 * MS + duration_ms * MS,
        attributes,
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        ..Span::default()
    }
}

fn request(resources: Vec<(Vec<KeyValue>, Vec<Span>)>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: resources
            .into_iter()
            .map(|(attributes, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes,
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "lib".into(),
                        version: "1.0".into(),
                        ..InstrumentationScope::default()
                    }),
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            })
            .collect(),
    }
}

fn service(name: &str) -> Vec<KeyValue> {
    vec![key_value("service.name", name)]
}

fn aggregator(yaml: &str) -> Aggregator {
    Aggregator::new(&load_config::<Config>(yaml).unwrap())
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, service: &str, name: &str) -> &'a Metric {
    request
        .resource_metrics
        .iter()
        .filter(|rm| {
            rm.resource
                .as_ref()
                .unwrap()
                .attributes
                .get_str("service.name")
                == Some(service)
        })
        .flat_map(|rm| {
            assert_eq!(rm.scope_metrics[0].scope.as_ref().unwrap().name, SCOPE);
            &rm.scope_metrics[0].metrics
        })
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no {name} for {service} in {request:?}"))
}

/// A data point's attributes as `k=v` text, sorted.
fn label(attributes: &[KeyValue]) -> String {
    let mut parts: Vec<String> = attributes
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().unwrap();
            let text = value
                .as_str()
                .map(str::to_owned)
                .or_else(|| value.as_bool().map(|b| b.to_string()))
                .or_else(|| value.as_int().map(|i| i.to_string()))
                .unwrap_or_else(|| format!("{value:?}"));
            format!("{}={}", kv.key, text)
        })
        .collect();
    parts.sort();
    parts.join(",")
}

/// `label → value` of a sum's points.
fn sums(metric: &Metric) -> Vec<(String, i64)> {
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!("{} is not a sum", metric.name)
    };
    assert!(sum.is_monotonic);
    let mut out: Vec<_> = sum
        .data_points
        .iter()
        .map(|p| {
            let Some(Value::AsInt(v)) = p.value else {
                panic!("not an int")
            };
            (label(&p.attributes), v)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn calls_and_durations_per_service_name_kind_and_status() {
    let mut agg = aggregator("");
    agg.aggregate(
        &request(vec![
            (
                service("checkout"),
                vec![
                    span("GET /cart", 2, 0, 3, vec![]),
                    span("GET /cart", 2, 0, 45, vec![]),
                    span("GET /cart", 2, 2, 900, vec![]),
                    span("db", 3, 1, 20_000, vec![]),
                ],
            ),
            (service("auth"), vec![span("login", 2, 0, 1, vec![])]),
            (
                vec![key_value("host.name", "no-service")],
                vec![span("lost", 2, 0, 1, vec![])],
            ),
        ]),
        5 * MS,
    );
    let out = agg.flush(7 * MS, true).unwrap();
    assert_eq!(
        out.resource_metrics.len(),
        2,
        "the resource without service.name is skipped"
    );

    let calls = metric(&out, "checkout", "traces.span.metrics.calls");
    assert_eq!(
        sums(calls),
        [
            ("service.name=checkout,span.kind=SPAN_KIND_CLIENT,span.name=db,status.code=STATUS_CODE_OK".into(), 1),
            ("service.name=checkout,span.kind=SPAN_KIND_SERVER,span.name=GET /cart,status.code=STATUS_CODE_ERROR".into(), 1),
            ("service.name=checkout,span.kind=SPAN_KIND_SERVER,span.name=GET /cart,status.code=STATUS_CODE_UNSET".into(), 2),
        ]
    );
    let Some(Data::Sum(sum)) = &calls.data else {
        unreachable!()
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(
        (
            sum.data_points[0].start_time_unix_nano,
            sum.data_points[0].time_unix_nano
        ),
        (5 * MS, 7 * MS)
    );

    let duration = metric(&out, "checkout", "traces.span.metrics.duration");
    assert_eq!(duration.unit, "s");
    let Some(Data::Histogram(histogram)) = &duration.data else {
        panic!("not a histogram")
    };
    let unset = histogram
        .data_points
        .iter()
        .find(|p| p.attributes.get_str("status.code") == Some("STATUS_CODE_UNSET"))
        .unwrap();
    assert_eq!(unset.explicit_bounds[..3], [0.002, 0.004, 0.006]);
    // 3ms falls in (2ms, 4ms], 45ms in (10ms, 50ms].
    assert_eq!(
        unset.bucket_counts,
        [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(unset.count, 2);
    assert!((unset.sum.unwrap() - 0.048).abs() < 1e-12);
    let db = histogram
        .data_points
        .iter()
        .find(|p| p.attributes.get_str("span.name") == Some("db"))
        .unwrap();
    assert_eq!(db.bucket_counts[16], 1, "20s is above every bound");
}

#[test]
fn cumulative_keeps_counting_and_delta_starts_where_the_last_flush_ended() {
    let spans = || request(vec![(service("a"), vec![span("op", 2, 0, 5, vec![])])]);
    let mut cumulative = aggregator("histogram: {unit: ms}");
    cumulative.aggregate(&spans(), 10);
    let first = cumulative.flush(20, false).unwrap();
    assert_eq!(
        sums(metric(&first, "a", "traces.span.metrics.calls"))[0].1,
        0,
        "a new cumulative series is first sent as 0, as in Go"
    );
    cumulative.aggregate(&spans(), 30);
    let out = cumulative.flush(40, false).unwrap();
    let calls = metric(&out, "a", "traces.span.metrics.calls");
    assert_eq!(sums(calls)[0].1, 2);
    let Some(Data::Sum(sum)) = &calls.data else {
        unreachable!()
    };
    assert_eq!(
        sum.data_points[0].start_time_unix_nano, 10,
        "a cumulative series keeps its start"
    );
    let Some(Data::Histogram(h)) = &metric(&out, "a", "traces.span.metrics.duration").data else {
        unreachable!()
    };
    assert_eq!(
        (h.data_points[0].count, h.data_points[0].sum),
        (2, Some(10.0))
    );
    assert_eq!(h.data_points[0].explicit_bounds[0], 2.0, "ms bounds");

    let mut delta = aggregator("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA");
    delta.aggregate(&spans(), 10);
    let first = delta.flush(20, false).unwrap();
    assert_eq!(
        sums(metric(&first, "a", "traces.span.metrics.calls"))[0].1,
        1,
        "delta sends counts at once"
    );
    assert!(
        delta.flush(25, false).is_none(),
        "delta forgets what it sent"
    );
    delta.aggregate(&spans(), 30);
    let out = delta.flush(40, false).unwrap();
    let calls = metric(&out, "a", "traces.span.metrics.calls");
    assert_eq!(sums(calls)[0].1, 1);
    let Some(Data::Sum(sum)) = &calls.data else {
        unreachable!()
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    assert_eq!(
        sum.data_points[0].start_time_unix_nano, 20,
        "starts at the series' previous flush"
    );
}

#[test]
fn dimensions_come_from_span_then_resource_then_default() {
    let mut agg = aggregator(
        "dimensions:\n  - name: http.method\n    default: GET\n  - name: region\n  - name: code\ncalls_dimensions:\n  - name: tenant\nexclude_dimensions: [status.code]\nnamespace: ''\n",
    );
    let mut resource = service("a");
    resource.push(key_value("region", "eu"));
    agg.aggregate(
        &request(vec![(
            resource,
            vec![
                span(
                    "op",
                    2,
                    0,
                    1,
                    vec![key_value("http.method", "POST"), key_value("code", 200i64)],
                ),
                span(
                    "op",
                    2,
                    2,
                    1,
                    vec![key_value("region", "us"), key_value("tenant", "t1")],
                ),
            ],
        )]),
        1,
    );
    let out = agg.flush(2, true).unwrap();
    assert_eq!(
        sums(metric(&out, "a", "calls")),
        [
            ("code=200,http.method=POST,region=eu,service.name=a,span.kind=SPAN_KIND_SERVER,span.name=op".into(), 1),
            ("http.method=GET,region=us,service.name=a,span.kind=SPAN_KIND_SERVER,span.name=op,tenant=t1".into(), 1),
        ]
    );
    let Some(Data::Histogram(h)) = &metric(&out, "a", "duration").data else {
        unreachable!()
    };
    assert!(
        h.data_points
            .iter()
            .all(|p| !p.attributes.contains_key("tenant")),
        "calls_dimensions are calls' only"
    );
}

#[test]
fn go_s_unlimited_default_still_has_a_ceiling() {
    // Spans with a unique attribute each (a request ID as span name, say) must not grow the
    // state without bound when the limit is left at Go's "no limit".
    let mut agg = aggregator("{}");
    let spans = (0..UNLIMITED_CARDINALITY_CEILING + 5)
        .map(|i| span(&format!("req-{i}"), 2, 0, 1, vec![]))
        .collect();
    agg.aggregate(&request(vec![(service("a"), spans)]), 1);
    let out = agg.flush(2, true).unwrap();
    let calls = sums(metric(&out, "a", "traces.span.metrics.calls"));
    assert_eq!(calls.len(), UNLIMITED_CARDINALITY_CEILING + 1);
    assert!(calls.contains(&(format!("{OVERFLOW_KEY}=true"), 5)));
}

#[test]
fn past_the_cardinality_limit_spans_count_in_the_overflow_series() {
    let mut agg = aggregator("aggregation_cardinality_limit: 2");
    let spans = (0..5)
        .map(|i| span(&format!("op{i}"), 2, 0, 1, vec![]))
        .chain([span("op0", 2, 0, 1, vec![])]);
    agg.aggregate(&request(vec![(service("a"), spans.collect())]), 1);
    let out = agg.flush(2, true).unwrap();
    let calls = sums(metric(&out, "a", "traces.span.metrics.calls"));
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls.contains(&(format!("{OVERFLOW_KEY}=true"), 3)),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|(label, count)| label.contains("span.name=op0") && *count == 2)
    );
    let Some(Data::Histogram(h)) = &metric(&out, "a", "traces.span.metrics.duration").data else {
        unreachable!()
    };
    let overflow = h
        .data_points
        .iter()
        .find(|p| p.attributes.get_bool(OVERFLOW_KEY) == Some(true))
        .unwrap();
    assert_eq!((overflow.attributes.len(), overflow.count), (1, 3));
}

#[test]
fn exemplars_are_capped_per_point_and_cleared_after_each_flush() {
    let mut agg = aggregator("exemplars: {enabled: true, max_per_data_point: 2}");
    let spans = vec![span("op", 2, 0, 7, vec![]); 3];
    agg.aggregate(&request(vec![(service("a"), spans)]), 1);
    let out = agg.flush(9, true).unwrap();
    let Some(Data::Histogram(h)) = &metric(&out, "a", "traces.span.metrics.duration").data else {
        unreachable!()
    };
    let exemplars = &h.data_points[0].exemplars;
    assert_eq!(exemplars.len(), 2);
    assert_eq!(
        (
            exemplars[0].trace_id.as_slice(),
            exemplars[0].time_unix_nano
        ),
        ([1u8; 16].as_slice(), 9)
    );
    let out = agg.flush(10, true).unwrap();
    let Some(Data::Histogram(h)) = &metric(&out, "a", "traces.span.metrics.duration").data else {
        unreachable!()
    };
    assert!(h.data_points[0].exemplars.is_empty());
}

#[test]
fn events_exponential_histograms_and_scopes() {
    let mut agg = aggregator(
        "events:\n  enabled: true\n  dimensions: [{name: exception.type}]\nhistogram:\n  exponential: {max_size: 10}\ninclude_instrumentation_scope: [lib]\n",
    );
    let mut failing = span("op", 2, 2, 250, vec![]);
    failing.events = vec![
        Event {
            attributes: vec![key_value("exception.type", "Timeout")],
            ..Event::default()
        },
        Event {
            attributes: vec![key_value("exception.type", "Timeout")],
            ..Event::default()
        },
        Event::default(),
    ];
    agg.aggregate(
        &request(vec![(
            service("a"),
            vec![failing, span("op", 2, 2, 1, vec![])],
        )]),
        1,
    );
    let out = agg.flush(2, true).unwrap();
    let events = sums(metric(&out, "a", "traces.span.metrics.events"));
    assert_eq!(
        events.len(),
        2,
        "the event without exception.type leaves the dimension out"
    );
    let (timeouts, count) = &events[0];
    assert!(
        timeouts.contains("exception.type=Timeout") && *count == 2,
        "{events:?}"
    );
    assert!(timeouts.contains("span.instrumentation.scope.name=lib"));
    assert!(timeouts.contains("span.instrumentation.scope.version=1.0"));
    let Some(Data::ExponentialHistogram(e)) =
        &metric(&out, "a", "traces.span.metrics.duration").data
    else {
        panic!("not exponential")
    };
    let point = &e.data_points[0];
    assert_eq!(
        (point.count, point.min, point.max),
        (2, Some(0.001), Some(0.25))
    );
    assert!(point.positive.as_ref().unwrap().bucket_counts.len() <= 10);
}

#[test]
fn idle_series_expire_and_resources_are_bounded() {
    let mut agg = aggregator("metrics_expiration: 1s\nresource_metrics_cache_size: 2");
    agg.aggregate(
        &request(vec![(service("a"), vec![span("op", 2, 0, 1, vec![])])]),
        0,
    );
    agg.aggregate(
        &request(vec![(service("b"), vec![span("op", 2, 0, 1, vec![])])]),
        900 * MS,
    );
    let out = agg.flush(1_000 * MS, true).unwrap();
    assert_eq!(out.resource_metrics.len(), 2);
    let out = agg.flush(1_500 * MS, true).unwrap();
    assert_eq!(out.resource_metrics.len(), 1, "a expired");
    for name in ["c", "d", "e"] {
        agg.aggregate(
            &request(vec![(service(name), vec![span("op", 2, 0, 1, vec![])])]),
            1_600 * MS,
        );
    }
    assert_eq!(
        agg.resource_count(),
        2,
        "the least recently seen resources were dropped"
    );
}

#[test]
fn key_attributes_decide_which_resources_are_one() {
    let mut agg = aggregator("resource_metrics_key_attributes: [service.name]");
    for pid in [1i64, 2] {
        let mut resource = service("a");
        resource.push(key_value("process.pid", pid));
        agg.aggregate(
            &request(vec![(resource, vec![span("op", 2, 0, 1, vec![])])]),
            1,
        );
    }
    let out = agg.flush(2, true).unwrap();
    assert_eq!(out.resource_metrics.len(), 1);
    assert_eq!(sums(metric(&out, "a", "traces.span.metrics.calls"))[0].1, 2);
}

#[tokio::test(start_paused = true)]
async fn the_connector_flushes_on_its_interval_and_at_shutdown() {
    let config: Config = load_config("metrics_flush_interval: 10s").unwrap();
    let sink = Sink::<Metrics>::new();
    let settings = testing::settings::<Traces>(Kind::Exporter, "spanmetrics");
    let connector = SpanMetricsConnector::new(&settings, &config, sink.next());
    connector.start(&Host::default()).await.unwrap();

    let traces = Traces::new(request(vec![(
        service("a"),
        vec![span("op", 2, 0, 1, vec![])],
    )]));
    connector.consume(traces.clone()).await.unwrap();
    assert_eq!(sink.calls(), 0, "nothing before the interval ends");
    tokio::time::sleep(Duration::from_secs(11)).await;
    sink.wait_for_items(1, Duration::from_secs(5)).await;
    assert_eq!(sink.calls(), 1);

    connector.consume(traces).await.unwrap();
    connector.shutdown().await.unwrap();
    let last = sink.accepted().pop().unwrap();
    assert_eq!(sink.calls(), 2, "shutdown sends a last flush");
    assert_eq!(
        sums(metric(last.request(), "a", "traces.span.metrics.calls"))[0].1,
        2
    );
    connector.shutdown().await.unwrap();
    assert_eq!(sink.calls(), 2, "a second shutdown sends nothing");
}

#[tokio::test]
async fn a_connector_never_started_shuts_down_cleanly() {
    let sink = Sink::<Metrics>::new();
    let settings = testing::settings::<Traces>(Kind::Exporter, "spanmetrics");
    let connector = SpanMetricsConnector::new(&settings, &Config::default(), sink.next());
    connector.shutdown().await.unwrap();
    assert_eq!(sink.calls(), 0);
}

#[tokio::test]
async fn conformance() {
    testing::check_connector(super::factory(), "").await;
    testing::check_connector(
        super::factory(),
        "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\nhistogram: {exponential: {max_size: 20}}\nmetrics_flush_interval: 1s\n",
    )
    .await;
}

#[test]
fn a_span_ending_before_it_starts_counts_with_zero_duration() {
    let mut agg = aggregator("");
    let mut backwards = span("op", 2, 0, 0, vec![]);
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 5 * MS;
    agg.aggregate(&request(vec![(service("a"), vec![backwards])]), 1);
    let out = agg.flush(2, true).unwrap();
    let Some(Data::Histogram(h)) = &metric(&out, "a", "traces.span.metrics.duration").data else {
        unreachable!()
    };
    assert_eq!(
        (h.data_points[0].count, h.data_points[0].sum),
        (1, Some(0.0))
    );
    assert_eq!(h.data_points[0].bucket_counts[0], 1);
}
