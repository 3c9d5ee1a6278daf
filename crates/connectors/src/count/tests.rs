//! The count connector's behaviour, as a user sees it in the metrics it emits.

use std::collections::BTreeMap;

use tributary_pipeline_core::component::load_config;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::span::Event;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing::Sink;

use super::{Config, CountConnector, SCOPE_NAME};

fn connector(yaml: &str) -> (CountConnector, std::sync::Arc<Sink<Metrics>>) {
    let config: Config = load_config(yaml).unwrap();
    let sink = Sink::new();
    (CountConnector::new(&config, sink.next()).unwrap(), sink)
}

fn resource(attributes: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes,
        ..Resource::default()
    })
}

fn span(attributes: Vec<KeyValue>, events: usize) -> Span {
    Span {
        name: "op".into(),
        start_time_unix_nano: 1_000,
        end_time_unix_nano: 2_000,
        attributes,
        events: (0..events)
            .map(|i| Event {
                time_unix_nano: 1_500 + i as u64,
                ..Event::default()
            })
            .collect(),
        ..Span::default()
    }
}

fn traces(resources: Vec<(Vec<KeyValue>, Vec<KeyValue>, Vec<Span>)>) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: resources
            .into_iter()
            .map(
                |(resource_attributes, scope_attributes, spans)| ResourceSpans {
                    resource: resource(resource_attributes),
                    scope_spans: vec![ScopeSpans {
                        scope: Some(InstrumentationScope {
                            attributes: scope_attributes,
                            ..InstrumentationScope::default()
                        }),
                        spans,
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                },
            )
            .collect(),
    })
}

/// An attribute value as text: strings as they are, others tagged with their type.
fn render(value: &tributary_pipeline_core::pdata::proto::common::v1::AnyValue) -> String {
    match (value.as_str(), value.as_int()) {
        (Some(s), _) => s.to_owned(),
        (None, Some(i)) => format!("int:{i}"),
        _ => format!("{value:?}"),
    }
}

/// Per resource's `service.name`: metric name → (data point attributes → value).
type Counts = BTreeMap<String, BTreeMap<String, BTreeMap<Vec<(String, String)>, i64>>>;

fn counts(metrics: &[Metrics]) -> Counts {
    let mut out = Counts::new();
    for metrics in metrics {
        for rm in &metrics.request().resource_metrics {
            let service = rm
                .resource
                .as_ref()
                .and_then(|r| r.attributes.get_str("service.name"))
                .unwrap_or("")
                .to_owned();
            for sm in &rm.scope_metrics {
                assert_eq!(sm.scope.as_ref().unwrap().name, SCOPE_NAME);
                for metric in &sm.metrics {
                    let Some(Data::Sum(sum)) = &metric.data else {
                        panic!("{metric:?} is not a sum")
                    };
                    assert!(sum.is_monotonic);
                    assert_eq!(
                        sum.aggregation_temporality,
                        AggregationTemporality::Delta as i32
                    );
                    for point in &sum.data_points {
                        let attributes = point
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.clone(), render(kv.value.as_ref().unwrap())))
                            .collect();
                        let Some(Value::AsInt(value)) = point.value else {
                            panic!("not an int")
                        };
                        *out.entry(service.clone())
                            .or_default()
                            .entry(metric.name.clone())
                            .or_default()
                            .entry(attributes)
                            .or_default() += value;
                    }
                }
            }
        }
    }
    out
}

/// One expected count: service, metric, data point attributes, value.
type Expected<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], i64);

fn expect(entries: &[Expected<'_>]) -> Counts {
    let mut out = Counts::new();
    for (service, metric, attributes, value) in entries {
        out.entry(service.to_string())
            .or_default()
            .entry(metric.to_string())
            .or_default()
            .insert(
                attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                *value,
            );
    }
    out
}

#[tokio::test]
async fn default_config_counts_spans_and_events_per_resource() {
    let (connector, sink) = connector("");
    let data = traces(vec![
        (
            vec![key_value("service.name", "a")],
            vec![],
            vec![span(vec![], 2), span(vec![], 1)],
        ),
        (
            vec![key_value("service.name", "b")],
            vec![],
            vec![span(vec![], 0)],
        ),
    ]);
    Consumer::<Traces>::consume(&connector, data).await.unwrap();

    let received = sink.accepted();
    assert_eq!(received.len(), 1, "one metrics request per traces request");
    assert_eq!(
        counts(&received),
        expect(&[
            ("a", "trace.span.count", &[], 2),
            ("a", "trace.span.event.count", &[], 3),
            ("b", "trace.span.count", &[], 1),
        ])
    );
    let rm = &received[0].request().resource_metrics[0];
    let metric = &rm.scope_metrics[0].metrics[0];
    assert_eq!(metric.description, "The number of spans observed.");
    let Some(Data::Sum(sum)) = &metric.data else {
        unreachable!()
    };
    assert_eq!(
        (
            sum.data_points[0].start_time_unix_nano,
            sum.data_points[0].time_unix_nano
        ),
        (1_000, 2_000),
        "the count spans the counted spans' times"
    );
}

#[tokio::test]
async fn attributes_are_looked_up_on_item_scope_then_resource_with_defaults() {
    let (connector, sink) = connector(
        "spans:\n  span.by_env:\n    attributes:\n      - key: env\n        default_value: none\n  span.with_team:\n    attributes:\n      - key: team\nspanevents: {}\n",
    );
    let data = traces(vec![
        (
            vec![
                key_value("service.name", "a"),
                key_value("env", "resource-env"),
            ],
            vec![key_value("team", "scope-team")],
            vec![
                span(vec![key_value("env", "prod")], 1),
                span(vec![], 0),
                span(
                    vec![key_value("env", "prod"), key_value("team", "span-team")],
                    0,
                ),
            ],
        ),
        (
            vec![key_value("service.name", "b")],
            vec![],
            vec![span(vec![key_value("env", 7i64)], 0), span(vec![], 0)],
        ),
    ]);
    Consumer::<Traces>::consume(&connector, data).await.unwrap();
    assert_eq!(
        counts(&sink.accepted()),
        expect(&[
            ("a", "span.by_env", &[("env", "prod")], 2),
            ("a", "span.by_env", &[("env", "resource-env")], 1),
            ("a", "span.with_team", &[("team", "scope-team")], 2),
            ("a", "span.with_team", &[("team", "span-team")], 1),
            ("b", "span.by_env", &[("env", "int:7")], 1),
            ("b", "span.by_env", &[("env", "none")], 1),
            // b's spans have no team and span.with_team has no default: not counted.
        ])
    );
}

fn number_points(n: usize) -> Vec<NumberDataPoint> {
    (0..n)
        .map(|i| NumberDataPoint {
            attributes: vec![key_value("host", if i % 2 == 0 { "h1" } else { "h2" })],
            time_unix_nano: 10 + i as u64,
            ..NumberDataPoint::default()
        })
        .collect()
}

#[tokio::test]
async fn metrics_and_data_points_of_every_type_are_counted() {
    let (connector, sink) =
        connector("datapoints:\n  points.by_host:\n    attributes: [{key: host}]\n");
    let metric = |name: &str, data| Metric {
        name: name.into(),
        data: Some(data),
        ..Metric::default()
    };
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(vec![key_value("service.name", "a")]),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    metric(
                        "g",
                        Data::Gauge(Gauge {
                            data_points: number_points(3),
                        }),
                    ),
                    metric(
                        "s",
                        Data::Sum(Sum {
                            data_points: number_points(2),
                            ..Sum::default()
                        }),
                    ),
                    metric(
                        "h",
                        Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: vec![key_value("host", "h1")],
                                ..HistogramDataPoint::default()
                            }],
                            ..Histogram::default()
                        }),
                    ),
                    Metric {
                        name: "empty".into(),
                        ..Metric::default()
                    },
                ],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    };
    Consumer::<Metrics>::consume(&connector, Metrics::new(request))
        .await
        .unwrap();
    assert_eq!(
        counts(&sink.accepted()),
        expect(&[
            ("a", "metric.count", &[], 4),
            ("a", "points.by_host", &[("host", "h1")], 4),
            ("a", "points.by_host", &[("host", "h2")], 2),
        ])
    );
}

#[tokio::test]
async fn log_records_are_counted_and_errors_downstream_reach_the_sender() {
    let (connector, sink) = connector("");
    let logs = Logs::new(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(vec![key_value("service.name", "a")]),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord::default(); 5],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    });
    Consumer::<Logs>::consume(&connector, logs.clone())
        .await
        .unwrap();
    assert_eq!(
        counts(&sink.accepted()),
        expect(&[("a", "log.record.count", &[], 5)])
    );

    sink.refuse_with(Some(ConsumeError::retryable("metrics backend down")));
    let error = Consumer::<Logs>::consume(&connector, logs)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("metrics backend down"),
        "{error}"
    );
}

#[tokio::test]
async fn nothing_to_count_sends_nothing() {
    let (connector, sink) = connector("spans: {}\nspanevents: {}\n");
    let data = traces(vec![(
        vec![key_value("service.name", "a")],
        vec![],
        vec![span(vec![], 3)],
    )]);
    Consumer::<Traces>::consume(&connector, data).await.unwrap();
    Consumer::<Traces>::consume(&connector, Traces::default())
        .await
        .unwrap();
    assert_eq!(sink.calls(), 0);
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_connector(super::factory(), "").await;
    tributary_pipeline_core::testing::check_connector(
        super::factory(),
        "logs:\n  my.log.count:\n    attributes: [{key: env, default_value: none}]\n",
    )
    .await;
}

#[tokio::test]
async fn conditions_select_what_each_metric_counts() {
    let (connector, sink) = connector(
        r#"
spans:
  prod.gets:
    conditions:
      - 'name == "GET" and attributes["env"] == "prod"'
      - 'resource.attributes["service.name"] == "b"'
spanevents:
  exceptions:
    conditions: ['name == "exception"']
"#,
    );
    let mut get = span(vec![key_value("env", "prod")], 0);
    get.name = "GET".into();
    get.events = vec![
        Event {
            name: "exception".into(),
            ..Event::default()
        },
        Event {
            name: "log".into(),
            ..Event::default()
        },
    ];
    let data = traces(vec![
        (
            vec![key_value("service.name", "a")],
            vec![],
            vec![get, span(vec![key_value("env", "prod")], 1)],
        ),
        (
            vec![key_value("service.name", "b")],
            vec![],
            vec![span(vec![], 0)],
        ),
    ]);
    Consumer::<Traces>::consume(&connector, data).await.unwrap();
    assert_eq!(
        counts(&sink.accepted()),
        expect(&[
            ("a", "prod.gets", &[], 1),
            ("a", "exceptions", &[], 1),
            ("b", "prod.gets", &[], 1)
        ])
    );
}

#[tokio::test]
async fn numbers_keep_their_type_and_int_defaults_are_ints() {
    let (connector, sink) = connector(
        "logs:\n  by_code:\n    attributes: [{key: code, default_value: 404}]\n  by_flag:\n    attributes: [{key: flag, default_value: 0}]\n  by_missing:\n    attributes: [{key: missing, default_value: 0}]\n",
    );
    let record = |code: Option<KeyValue>| LogRecord {
        attributes: code.into_iter().chain([key_value("flag", true)]).collect(),
        ..LogRecord::default()
    };
    let logs = Logs::new(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(vec![key_value("service.name", "a")]),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record(Some(key_value("code", 1i64))),
                    record(Some(key_value("code", "1"))),
                    record(Some(key_value("code", 1i64))),
                    record(None),
                ],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    });
    Consumer::<Logs>::consume(&connector, logs).await.unwrap();
    assert_eq!(
        counts(&sink.accepted()),
        expect(&[
            ("a", "by_code", &[("code", "int:1")], 2),
            ("a", "by_code", &[("code", "1")], 1),
            ("a", "by_code", &[("code", "int:404")], 1),
            // A boolean is counted as its text, a string, where Go writes "".
            ("a", "by_flag", &[("flag", "true")], 4),
            // A zero default is no default, as in Go: by_missing counts nothing.
        ])
    );
}
