//! The bytes path must write exactly what the general path writes.

use proptest::prelude::*;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum, Summary, SummaryDataPoint, metric, number_data_point,
    summary_data_point::ValueAtQuantile,
};

use super::*;
use crate::normalize::TranslationStrategy;
use crate::prompb::WriteRequest;
use crate::remote_write::from_otlp;
use std::time::{Duration, Instant};

/// What the general path writes, as unframed bodies, and what it drops.
fn general(
    request: &ExportMetricsServiceRequest,
    settings: &FromOtlpSettings,
    parallelism: usize,
    max_bytes: usize,
) -> EncodedWrite {
    let written = from_otlp(request, settings);
    assert!(written.metadata.is_empty());
    (
        shard_bodies(written.timeseries, parallelism, max_bytes),
        written.dropped,
    )
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    let keys = prop::sample::select(vec![
        "host", "a.b", "a_b", "code", "job", "instance", "__name__", "_x", "9z", "le", "ü",
    ]);
    let values = prop::sample::select(vec!["", "1", "two", "x;y", "ü"]);
    prop::collection::vec((keys, values).prop_map(|(k, v)| key_value(k, v)), 0..4)
}

fn point() -> impl Strategy<Value = NumberDataPoint> {
    let value = prop_oneof![
        prop::sample::select(vec![0.0, -0.0, 1.5, -2.0, f64::NAN, 1e300])
            .prop_map(number_data_point::Value::AsDouble),
        prop::sample::select(vec![0i64, 7, -3, i64::MAX]).prop_map(number_data_point::Value::AsInt),
    ];
    (
        attributes(),
        prop::sample::select(vec![
            0u64,
            1_000_000,
            1_700_000_000_123_456_789,
            1_700_000_001_000_000_000,
        ]),
        prop::option::weighted(0.9, value),
        prop::sample::select(vec![0u32, 1]),
        prop::bool::weighted(0.03),
    )
        .prop_map(
            |(attributes, time, value, flags, exemplar)| NumberDataPoint {
                attributes,
                time_unix_nano: time,
                start_time_unix_nano: time / 2,
                value,
                flags,
                exemplars: if exemplar {
                    vec![Exemplar::default()]
                } else {
                    Vec::new()
                },
            },
        )
}

fn summary_point() -> impl Strategy<Value = SummaryDataPoint> {
    let quantile = (
        prop::sample::select(vec![0.0, 0.5, 0.99, 1.0, 0.5000000001, f64::NAN]),
        prop::sample::select(vec![0.0, 1.25, f64::NAN, -3.0]),
    )
        .prop_map(|(quantile, value)| ValueAtQuantile { quantile, value });
    (
        attributes(),
        prop::sample::select(vec![0u64, 1_700_000_000_123_456_789]),
        prop::collection::vec(quantile, 0..3),
        prop::sample::select(vec![0.0, 12.5, f64::NAN]),
        prop::sample::select(vec![0u64, 3, u64::MAX]),
        prop::sample::select(vec![0u32, 1]),
    )
        .prop_map(
            |(attributes, time, quantile_values, sum, count, flags)| SummaryDataPoint {
                attributes,
                time_unix_nano: time,
                start_time_unix_nano: time / 2,
                quantile_values,
                sum,
                count,
                flags,
            },
        )
}

fn metric() -> impl Strategy<Value = Metric> {
    let names = prop::sample::select(vec![
        "up",
        "http.requests",
        "x_total",
        "node_cpu_seconds",
        "ratio",
        "9bad",
        "",
    ]);
    let units = prop::sample::select(vec!["", "s", "By", "1", "{requests}"]);
    let points = || prop::collection::vec(point(), 0..4);
    let data = prop_oneof![
        8 => points().prop_map(|data_points| Some(metric::Data::Gauge(Gauge { data_points }))),
        8 => (points(), prop::sample::select(vec![0i32, 1, 2, 2, 2]), any::<bool>()).prop_map(
            |(data_points, temporality, monotonic)| Some(metric::Data::Sum(Sum {
                data_points,
                aggregation_temporality: temporality,
                is_monotonic: monotonic,
            }))
        ),
        1 => Just(Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint::default()],
            aggregation_temporality: 2,
        }))),
        3 => prop::collection::vec(summary_point(), 0..3)
            .prop_map(|data_points| Some(metric::Data::Summary(Summary { data_points }))),
        1 => Just(None),
    ];
    (names, units, data).prop_map(|(name, unit, data)| Metric {
        name: name.into(),
        unit: unit.into(),
        description: "help".into(),
        data,
        ..Default::default()
    })
}

fn request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let resource_attributes = prop::collection::vec(
        prop::sample::select(vec![
            key_value("service.name", "api"),
            key_value("service.namespace", "shop"),
            key_value("service.instance.id", "pod-1"),
            key_value("service.instance.id", "pod-2"),
            key_value("host.name", "h1"),
            key_value("a.b", "r"),
        ]),
        0..4,
    );
    let scope = prop::option::of((
        prop::sample::select(vec!["", "io.lib", "otel"]),
        prop::sample::select(vec!["", "1.2"]),
        attributes(),
    ));
    let scope_metrics = (
        scope,
        prop::sample::select(vec!["", "https://schema"]),
        prop::collection::vec(metric(), 0..4),
    )
        .prop_map(|(scope, schema_url, metrics)| ScopeMetrics {
            scope: scope.map(|(name, version, attributes)| InstrumentationScope {
                name: name.into(),
                version: version.into(),
                attributes,
                ..Default::default()
            }),
            metrics,
            schema_url: schema_url.into(),
        });
    let resource = (
        prop::option::of(resource_attributes),
        prop::collection::vec(scope_metrics, 0..3),
    )
        .prop_map(|(resource, scope_metrics)| ResourceMetrics {
            resource: resource.map(|attributes| Resource {
                attributes,
                ..Default::default()
            }),
            scope_metrics,
            ..Default::default()
        });
    prop::collection::vec(resource, 0..4)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}

fn settings() -> impl Strategy<Value = FromOtlpSettings> {
    (
        prop::sample::select(vec!["", "ns"]),
        prop::sample::select(TranslationStrategy::ALL.to_vec()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(namespace, strategy, external, target_info, no_scope)| FromOtlpSettings {
                namespace: namespace.into(),
                strategy,
                external_labels: if external {
                    vec![("job".into(), "ext".into()), ("region".into(), "eu".into())]
                } else {
                    Vec::new()
                },
                target_info,
                disable_scope_info: no_scope,
                ..Default::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whenever the bytes path takes a request, its bodies are the general path's, byte
    /// for byte: from a fresh cache, from one that saw the request, from one that saw
    /// another request, and with the request given in parts (a merged batch).
    #[test]
    fn the_bytes_path_writes_what_the_general_path_writes(
        request in request(),
        other in request(),
        settings in settings(),
        parallelism in 1usize..4,
        max_bytes in prop::sample::select(vec![1usize, 150, 1 << 20]),
    ) {
        let write = |parts: &[Vec<u8>], cache: &mut SeriesCache| {
            write_encoded(parts, &settings, cache, parallelism, max_bytes)
        };
        let encoded = vec![request.encode_to_vec()];
        let mut cache = SeriesCache::default();
        let Some(fast) = write(&encoded, &mut cache) else {
            return Ok(());
        };
        prop_assert_eq!(&fast, &general(&request, &settings, parallelism, max_bytes));
        // Both paths frame the bodies with `encode_bodies`: hold that to prost's encoding.
        for body in fast.0.iter().flatten() {
            let decoded = WriteRequest::decode(body.as_slice()).expect("a WriteRequest");
            prop_assert_eq!(&decoded.encode_to_vec(), body);
            prop_assert!(decoded.timeseries.len() == 1 || body.len() <= max_bytes);
        }
        prop_assert_eq!(write(&encoded, &mut cache), Some(fast.clone()));
        let mut seen_other = SeriesCache::default();
        let _ = write(&[other.encode_to_vec()], &mut seen_other);
        prop_assert_eq!(write(&encoded, &mut seen_other), Some(fast.clone()));
        let parts: Vec<Vec<u8>> = request
            .resource_metrics
            .iter()
            .map(|r| {
                let one = ExportMetricsServiceRequest { resource_metrics: vec![r.clone()] };
                one.encode_to_vec()
            })
            .collect();
        let in_parts = write(&parts, &mut cache);
        prop_assert_eq!(in_parts.as_ref(), Some(&fast));
        // Scopes' trails: after another request, in another order (a trail that no longer
        // fits), and twice in one batch (every series met again in the batch).
        let _ = write(&[other.encode_to_vec()], &mut cache);
        prop_assert_eq!(write(&encoded, &mut cache), Some(fast.clone()));
        let reversed = reversed(&request);
        if let Some(written) = write(&[reversed.encode_to_vec()], &mut cache) {
            prop_assert_eq!(written, general(&reversed, &settings, parallelism, max_bytes));
        }
        prop_assert_eq!(write(&encoded, &mut cache), Some(fast.clone()));
        let twice = ExportMetricsServiceRequest {
            resource_metrics: [request.resource_metrics.clone(), request.resource_metrics.clone()]
                .concat(),
        };
        if let Some(written) = write(&[encoded[0].clone(), encoded[0].clone()], &mut cache) {
            prop_assert_eq!(written, general(&twice, &settings, parallelism, max_bytes));
        }
    }
}

/// `request` with its resources, scopes, metrics and points each in reverse order.
fn reversed(request: &ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
    let mut request = request.clone();
    request.resource_metrics.reverse();
    for resource in &mut request.resource_metrics {
        resource.scope_metrics.reverse();
        for scope in &mut resource.scope_metrics {
            scope.metrics.reverse();
            for metric in &mut scope.metrics {
                match &mut metric.data {
                    Some(metric::Data::Gauge(gauge)) => gauge.data_points.reverse(),
                    Some(metric::Data::Sum(sum)) => sum.data_points.reverse(),
                    _ => {}
                }
            }
        }
    }
    request
}

fn gauge_request(points: Vec<NumberDataPoint>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.name", "node"),
                    key_value("service.instance.id", "h:9100"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "node_load1".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn gauge_point(host: &str, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![key_value("host", host)],
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

#[test]
fn what_the_bytes_path_leaves_to_the_general_one() {
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    // Exemplars are written the general way, inside the bytes path.
    let mut with_exemplar = gauge_point("a", 1.0);
    with_exemplar.exemplars.push(Exemplar {
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(
            tributary_pipeline_core::pdata::proto::metrics::v1::exemplar::Value::AsDouble(0.5),
        ),
        trace_id: vec![1; 16],
        ..Default::default()
    });
    let request = gauge_request(vec![with_exemplar, gauge_point("b", 2.0)]);
    let written = write_encoded(
        &[request.encode_to_vec()],
        &settings,
        &mut cache,
        1,
        1 << 20,
    );
    assert_eq!(written, Some(general(&request, &settings, 1, 1 << 20)));
    // Delta monotonic sums are made cumulative by the exporter over the whole request.
    let mut delta = gauge_request(vec![gauge_point("a", 1.0)]);
    let metric = &mut delta.resource_metrics[0].scope_metrics[0].metrics[0];
    let Some(metric::Data::Gauge(gauge)) = metric.data.take() else {
        unreachable!("a gauge")
    };
    metric.data = Some(metric::Data::Sum(Sum {
        data_points: gauge.data_points,
        aggregation_temporality: 1,
        is_monotonic: true,
    }));
    assert!(write_encoded(&[delta.encode_to_vec()], &settings, &mut cache, 1, 1 << 20).is_none());
    for options in [
        FromOtlpSettings {
            resource_to_telemetry: true,
            ..Default::default()
        },
        FromOtlpSettings {
            send_metadata: true,
            ..Default::default()
        },
        FromOtlpSettings {
            export_created: true,
            ..Default::default()
        },
    ] {
        let plain = gauge_request(vec![gauge_point("a", 1.0)]);
        assert!(
            write_encoded(&[plain.encode_to_vec()], &options, &mut cache, 1, 1 << 20).is_none()
        );
    }
}

#[test]
fn series_that_stop_are_forgotten() {
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    let first = gauge_request(vec![gauge_point("a", 1.0), gauge_point("b", 2.0)]);
    let later = gauge_request(vec![gauge_point("a", 1.0)]);
    let start = Instant::now();
    let at = |seconds: u64| start + Duration::from_secs(seconds);
    let write = |cache: &mut SeriesCache, request: &ExportMetricsServiceRequest, now| {
        write_encoded_at(
            &[request.encode_to_vec()],
            &settings,
            cache,
            1,
            1 << 20,
            now,
        )
    };
    assert!(write(&mut cache, &first, at(0)).is_some());
    assert_eq!(cache.len(), 2);
    // Host b's series stop; host a's go on every minute.
    for minute in 1..=9 {
        assert!(write(&mut cache, &later, at(60 * minute)).is_some());
        assert_eq!(
            cache.len(),
            2,
            "kept at least one sweep interval (minute {minute})"
        );
    }
    assert!(write(&mut cache, &later, at(600)).is_some());
    assert_eq!(
        cache.len(),
        1,
        "the series of host b stopped and was dropped"
    );
    assert_eq!(cache.misses(), 2, "host a's series was never built again");
    // Other options start afresh.
    let namespaced = FromOtlpSettings {
        namespace: "ns".into(),
        ..Default::default()
    };
    let bodies = write_encoded(
        &[later.encode_to_vec()],
        &namespaced,
        &mut cache,
        1,
        1 << 20,
    )
    .unwrap();
    assert_eq!(bodies, general(&later, &namespaced, 1, 1 << 20));
    assert!(!bodies.0.is_empty());
}

/// The property above says nothing if the bytes path refuses every generated request.
#[test]
fn the_generated_requests_mostly_take_the_bytes_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut taken, mut with_series) = (0, 0);
    for _ in 0..400 {
        let request = request().new_tree(&mut runner).unwrap().current();
        let settings = settings().new_tree(&mut runner).unwrap().current();
        let mut cache = SeriesCache::default();
        if let Some((bodies, _)) =
            write_encoded(&[request.encode_to_vec()], &settings, &mut cache, 2, 150)
        {
            taken += 1;
            if bodies.iter().flatten().count() > 0 {
                with_series += 1;
            }
        }
    }
    assert!(
        taken >= 100 && with_series >= 50,
        "taken {taken}, with series {with_series}"
    );
}

/// Scrapes of many targets, each target once per "second" in one of a dozen batches:
/// after the first second every series is found in the cache.
#[test]
fn a_steady_scrape_load_builds_each_series_once() {
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    let target = |n: usize| ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![
                key_value("service.name", "node"),
                key_value("service.instance.id", format!("h{n}:9100")),
            ],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            metrics: (0..20)
                .map(|m| Metric {
                    name: format!("node_metric_{m}"),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: (0..5).map(|p| gauge_point(&format!("{p}"), 1.0)).collect(),
                    })),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let targets: Vec<Vec<u8>> = (0..200)
        .map(|n| {
            ExportMetricsServiceRequest {
                resource_metrics: vec![target(n)],
            }
            .encode_to_vec()
        })
        .collect();
    for _second in 0..30 {
        for batch in targets.chunks(17) {
            assert!(write_encoded(batch, &settings, &mut cache, 5, 1 << 20).is_some());
        }
    }
    assert_eq!(cache.misses(), 200 * 20 * 5);
    assert_eq!(cache.len(), 200 * 20 * 5);
    // From the second second on, every point's series is the next on its scope's trail.
    assert_eq!(cache.trail_hits, 29 * 200 * 20 * 5);
}

/// A summary is written from its bytes: its quantiles, `_sum` and `_count` are cached
/// series (the general way caches none), found along the trail the next time.
#[test]
fn summaries_are_written_from_their_bytes() {
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    let point = |host: &str| SummaryDataPoint {
        attributes: vec![key_value("host", host)],
        time_unix_nano: 1_700_000_000_000_000_000,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 1.0,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 2.0,
            },
        ],
        sum: 3.0,
        count: 4,
        ..Default::default()
    };
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "rpc_seconds".into(),
                    data: Some(metric::Data::Summary(Summary {
                        data_points: vec![point("a"), point("b")],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let encoded = [request.encode_to_vec()];
    for _ in 0..2 {
        let written = write_encoded(&encoded, &settings, &mut cache, 1, 1 << 20);
        assert_eq!(written, Some(general(&request, &settings, 1, 1 << 20)));
    }
    assert_eq!(
        cache.len(),
        2 * 4,
        "two quantiles, _sum and _count per point"
    );
    assert_eq!(cache.misses(), 8);
    assert_eq!(cache.trail_hits, 8);
}
