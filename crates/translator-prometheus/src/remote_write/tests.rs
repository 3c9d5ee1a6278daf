use tributary_pipeline_core::pdata::proto::common::v1::any_value;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, ResourceMetrics, metric};

use super::*;
use crate::prompb::{
    BucketSpan, Exemplar, Histogram, HistogramCount, HistogramZeroCount, Label, MetricMetadata,
    MetricType, Sample, TimeSeries, WriteRequest, stale_nan,
};

fn series(labels: &[(&str, &str)], samples: &[(f64, i64)]) -> TimeSeries {
    let mut labels: Vec<Label> = labels.iter().map(|(k, v)| Label::new(*k, *v)).collect();
    labels.sort();
    TimeSeries {
        labels,
        samples: samples
            .iter()
            .map(|&(value, timestamp)| Sample { value, timestamp })
            .collect(),
        ..Default::default()
    }
}

/// What the receiver makes of a request: float series through [`families`] and the
/// shared translation, native histograms through [`natives_to_otlp`].
struct Converted {
    resource_metrics: Vec<ResourceMetrics>,
    dropped_series: usize,
    dropped_histograms: usize,
}

fn to_otlp(request: &WriteRequest) -> Converted {
    use crate::to_otlp::{Options, StartTimeAdjuster, to_metrics};
    let grouped = families(request);
    let mut adjuster = StartTimeAdjuster::new();
    let mut out = to_metrics(&grouped.families, &Options::default(), &mut adjuster, 0).unwrap();
    let natives = natives_to_otlp(&grouped.natives);
    out.resource_metrics.extend(natives.resource_metrics);
    Converted {
        resource_metrics: out.resource_metrics,
        dropped_series: grouped.dropped_samples,
        dropped_histograms: natives.dropped_histograms,
    }
}

fn all_metrics(converted: &Converted) -> Vec<&Metric> {
    converted
        .resource_metrics
        .iter()
        .flat_map(metrics)
        .collect()
}

fn metrics(resource: &ResourceMetrics) -> Vec<&Metric> {
    resource
        .scope_metrics
        .iter()
        .flat_map(|s| &s.metrics)
        .collect()
}

fn resource_attr<'a>(resource: &'a ResourceMetrics, key: &str) -> Option<&'a str> {
    resource
        .resource
        .as_ref()?
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

#[test]
fn gauges_counters_and_resources() {
    let request = WriteRequest {
        timeseries: vec![
            series(
                &[
                    ("__name__", "temp"),
                    ("job", "ns/api"),
                    ("instance", "h:1"),
                    ("room", "a"),
                ],
                &[(21.5, 1000), (22.0, 2000)],
            ),
            series(
                &[
                    ("__name__", "requests_total"),
                    ("job", "ns/api"),
                    ("instance", "h:1"),
                ],
                &[(5.0, 1000)],
            ),
            series(
                &[
                    ("__name__", "target_info"),
                    ("job", "ns/api"),
                    ("instance", "h:1"),
                    ("region", "eu"),
                ],
                &[(1.0, 1000)],
            ),
            series(&[("job", "nameless")], &[(1.0, 1000)]),
        ],
        ..Default::default()
    };
    let converted = to_otlp(&request);
    assert_eq!(converted.dropped_series, 1);
    assert_eq!(converted.resource_metrics.len(), 1);
    let resource = &converted.resource_metrics[0];
    assert_eq!(resource_attr(resource, "service.name"), Some("ns/api"));
    assert_eq!(resource_attr(resource, "service.instance.id"), Some("h:1"));
    assert_eq!(resource_attr(resource, "region"), Some("eu"));
    let metrics = metrics(resource);
    assert_eq!(metrics.len(), 2, "target_info is not a metric");
    let Some(metric::Data::Gauge(gauge)) = &metrics[0].data else {
        panic!("temp is a gauge: {:?}", metrics[0]);
    };
    assert_eq!(gauge.data_points.len(), 2);
    assert_eq!(gauge.data_points[1].time_unix_nano, 2_000_000_000);
    assert_eq!(gauge.data_points[0].attributes[0].key, "room");
    let Some(metric::Data::Sum(sum)) = &metrics[1].data else {
        panic!("requests_total is a counter");
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 2);
}

#[test]
fn histograms_gather_buckets_sum_and_count() {
    let labels = |name: &'static str, le: Option<&'static str>| {
        let mut l = vec![("__name__", name), ("path", "/")];
        if let Some(le) = le {
            l.push(("le", le));
        }
        l
    };
    let request = WriteRequest {
        timeseries: vec![
            series(&labels("latency_bucket", Some("0.1")), &[(2.0, 1000)]),
            series(&labels("latency_bucket", Some("1")), &[(5.0, 1000)]),
            series(&labels("latency_bucket", Some("+Inf")), &[(6.0, 1000)]),
            series(&labels("latency_sum", None), &[(3.5, 1000)]),
            series(&labels("latency_count", None), &[(6.0, 1000)]),
        ],
        metadata: vec![MetricMetadata {
            r#type: MetricType::Histogram as i32,
            metric_family_name: "latency".into(),
            help: "how long".into(),
            unit: "seconds".into(),
        }],
    };
    let converted = to_otlp(&request);
    let metrics = metrics(&converted.resource_metrics[0]);
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].name, "latency");
    assert_eq!(metrics[0].description, "how long");
    let Some(metric::Data::Histogram(h)) = &metrics[0].data else {
        panic!("a histogram");
    };
    let point = &h.data_points[0];
    assert_eq!(point.explicit_bounds, vec![0.1, 1.0]);
    assert_eq!(point.bucket_counts, vec![2, 3, 1]);
    assert_eq!(point.count, 6);
    assert_eq!(point.sum, Some(3.5));
    assert_eq!(point.attributes.len(), 1);
}

#[test]
fn summaries_and_staleness() {
    let request = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "rpc"), ("quantile", "0.5")], &[(1.0, 1000)]),
            series(&[("__name__", "rpc"), ("quantile", "0.9")], &[(4.0, 1000)]),
            series(&[("__name__", "rpc_sum")], &[(10.0, 1000)]),
            series(&[("__name__", "rpc_count")], &[(5.0, 1000)]),
            series(&[("__name__", "gone")], &[(stale_nan(), 3000)]),
        ],
        metadata: vec![MetricMetadata {
            r#type: MetricType::Summary as i32,
            metric_family_name: "rpc".into(),
            ..Default::default()
        }],
    };
    let converted = to_otlp(&request);
    let metrics = metrics(&converted.resource_metrics[0]);
    let Some(metric::Data::Summary(s)) = &metrics[0].data else {
        panic!("a summary: {:?}", metrics[0]);
    };
    assert_eq!(s.data_points[0].quantile_values.len(), 2);
    assert_eq!(s.data_points[0].count, 5);
    assert_eq!(s.data_points[0].sum, 10.0);
    let Some(metric::Data::Gauge(g)) = &metrics[1].data else {
        panic!("a gauge");
    };
    assert_eq!(
        g.data_points[0].flags, 1,
        "the stale NaN is no recorded value"
    );
}

#[test]
fn without_metadata_suffixes_decide() {
    let request = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "d_bucket"), ("le", "1")], &[(1.0, 1)]),
            series(&[("__name__", "d_bucket"), ("le", "+Inf")], &[(2.0, 1)]),
            series(&[("__name__", "q"), ("quantile", "0.99")], &[(9.0, 1)]),
            series(&[("__name__", "c_total")], &[(9.0, 1)]),
        ],
        ..Default::default()
    };
    let converted = to_otlp(&request);
    let kinds: Vec<(&str, &str)> = all_metrics(&converted)
        .iter()
        .map(|m| {
            let kind = match m.data.as_ref().unwrap() {
                metric::Data::Histogram(_) => "histogram",
                metric::Data::Summary(_) => "summary",
                metric::Data::Sum(_) => "sum",
                metric::Data::Gauge(_) => "gauge",
                metric::Data::ExponentialHistogram(_) => "exp",
            };
            (m.name.as_str(), kind)
        })
        .collect();
    assert_eq!(
        kinds,
        vec![("d", "histogram"), ("c_total", "sum"), ("q", "gauge")],
        "quantiles without their _count (sent in another request) stay gauges"
    );
}

#[test]
fn native_histograms_and_exemplars() {
    let mut native = series(&[("__name__", "n")], &[]);
    native.histograms.push(Histogram {
        count: Some(HistogramCount::CountInt(6)),
        sum: 12.0,
        schema: 0,
        zero_threshold: 1e-128,
        zero_count: Some(HistogramZeroCount::ZeroCountInt(1)),
        positive_spans: vec![
            BucketSpan {
                offset: 1,
                length: 2,
            },
            BucketSpan {
                offset: 1,
                length: 1,
            },
        ],
        positive_deltas: vec![1, 1, -1],
        timestamp: 5000,
        ..Default::default()
    });
    let mut counter = series(&[("__name__", "c_total")], &[(1.0, 1000)]);
    counter.exemplars.push(Exemplar {
        labels: vec![
            Label::new("trace_id", "0102030405060708090a0b0c0d0e0f10"),
            Label::new("span_id", "0102030405060708"),
        ],
        value: 1.0,
        timestamp: 1000,
    });
    let converted = to_otlp(&WriteRequest {
        timeseries: vec![native, counter],
        ..Default::default()
    });
    let metrics = all_metrics(&converted);
    let Some(metric::Data::ExponentialHistogram(h)) =
        &metrics.iter().find(|m| m.name == "n").unwrap().data
    else {
        panic!("an exponential histogram");
    };
    let point = &h.data_points[0];
    let positive = point.positive.as_ref().unwrap();
    // Prometheus bucket indexes 1, 2, (3 empty), 4 → OTLP offset 0, counts 1, 2, 0, 1.
    assert_eq!(positive.offset, 0);
    assert_eq!(positive.bucket_counts, vec![1, 2, 0, 1]);
    assert_eq!(point.count, 6);
    assert_eq!(point.zero_count, 1);
    let Some(metric::Data::Sum(sum)) = &metrics.iter().find(|m| m.name == "c_total").unwrap().data
    else {
        panic!("a sum");
    };
    let exemplar = &sum.data_points[0].exemplars[0];
    assert_eq!(exemplar.trace_id, (1..=16).collect::<Vec<u8>>());
    assert_eq!(exemplar.span_id, (1..=8).collect::<Vec<u8>>());
}

#[test]
fn native_histograms_that_do_not_add_up_are_dropped() {
    let mut gaps = series(&[("__name__", "n")], &[]);
    gaps.histograms.push(Histogram {
        count: Some(HistogramCount::CountInt(2)),
        positive_spans: vec![
            BucketSpan {
                offset: 0,
                length: 1,
            },
            BucketSpan {
                offset: 1_000_000,
                length: 1,
            },
        ],
        positive_deltas: vec![1, 0],
        ..Default::default()
    });
    let mut short = series(&[("__name__", "m")], &[]);
    short.histograms.push(Histogram {
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: u32::MAX,
        }],
        positive_deltas: vec![1],
        ..Default::default()
    });
    let converted = to_otlp(&WriteRequest {
        timeseries: vec![gaps, short],
        ..Default::default()
    });
    assert_eq!(converted.dropped_histograms, 2);
}

#[test]
fn from_otlp_and_back() {
    use tributary_pipeline_core::pdata::attributes::key_value;
    use tributary_pipeline_core::pdata::builder::{
        ExponentialHistogramValue, HistogramValue, MetricsBuilder, Temporality,
    };
    let t = 1_700_000_000_000_000_000u64;
    let mut b = MetricsBuilder::new();
    b.resource(vec![
        key_value("service.name", "api"),
        key_value("service.instance.id", "i"),
    ]);
    b.histogram("latency", "s", Temporality::Cumulative)
        .point(
            vec![],
            t - 1,
            t,
            HistogramValue::new(vec![1.0], vec![3, 1]).sum(2.0),
        )
        .unwrap();
    b.exponential_histogram("sizes", "By", Temporality::Cumulative)
        .point(
            vec![],
            t - 1,
            t,
            ExponentialHistogramValue::new(10)
                .positive(1, vec![1, 0, 2])
                .sum(9.0),
        )
        .unwrap();
    b.sum("delta", "", Temporality::Delta, true)
        .int(vec![], t - 1, t, 1);
    let metrics = b.build();
    let written = from_otlp(metrics.request(), &FromOtlpSettings::default());
    assert_eq!(written.dropped.len(), 1);
    assert_eq!(written.dropped[0].metric, "delta");
    let native = written
        .timeseries
        .iter()
        .find(|s| s.name() == "sizes_bytes")
        .expect("the exponential histogram as a native histogram");
    let h = &native.histograms[0];
    assert_eq!(h.schema, 8, "scale 10 is downscaled to 8");
    // Scale 10 offset 1: indexes 1, 2, 3 → at scale 8 (>> 2) all index 0 → upper-bound index 1.
    assert_eq!(
        h.positive_spans,
        vec![BucketSpan {
            offset: 1,
            length: 1
        }]
    );
    assert_eq!(h.positive_deltas, vec![3]);
    // Back: the classic histogram and the native one come out as they went in.
    let back = to_otlp(&WriteRequest {
        timeseries: written.timeseries,
        ..Default::default()
    });
    let metrics: Vec<Metric> = all_metrics(&back).into_iter().cloned().collect();
    let Some(metric::Data::Histogram(h)) = &metrics
        .iter()
        .find(|m| m.name == "latency_seconds")
        .unwrap()
        .data
    else {
        panic!("a histogram");
    };
    assert_eq!(h.data_points[0].bucket_counts, vec![3, 1]);
    assert_eq!(h.data_points[0].explicit_bounds, vec![1.0]);
    let Some(metric::Data::ExponentialHistogram(e)) = &metrics
        .iter()
        .find(|m| m.name == "sizes_bytes")
        .unwrap()
        .data
    else {
        panic!("an exponential histogram");
    };
    let positive = e.data_points[0].positive.as_ref().unwrap();
    assert_eq!(
        (positive.offset, positive.bucket_counts.clone()),
        (0, vec![3])
    );
}

fn metrics_of(resource: &ResourceMetrics) -> Vec<Metric> {
    metrics(resource).into_iter().cloned().collect()
}

#[test]
fn families_feed_the_shared_translation() {
    use crate::to_otlp::{Options, StartTimeAdjuster, to_metrics};
    // Buckets without their `_count` (Prometheus sends it in another request) and a
    // counter typed by its name.
    let request = WriteRequest {
        timeseries: vec![
            series(
                &[("__name__", "d_bucket"), ("le", "1"), ("job", "j")],
                &[(1.0, 1000)],
            ),
            series(
                &[("__name__", "d_bucket"), ("le", "+Inf"), ("job", "j")],
                &[(4.0, 1000)],
            ),
            series(
                &[("__name__", "c_total"), ("job", "j")],
                &[(2.0, 1000), (5.0, 2000)],
            ),
            series(&[("job", "j")], &[(1.0, 1000)]),
        ],
        ..Default::default()
    };
    let grouped = families(&request);
    assert_eq!(grouped.dropped_samples, 1);
    let mut adjuster = StartTimeAdjuster::new();
    let out = to_metrics(&grouped.families, &Options::default(), &mut adjuster, 0).unwrap();
    let metrics = metrics_of(&out.resource_metrics[0]);
    let Some(metric::Data::Histogram(h)) = &metrics.iter().find(|m| m.name == "d").unwrap().data
    else {
        panic!("a histogram: {metrics:?}");
    };
    assert_eq!(
        h.data_points[0].count, 4,
        "the count comes from the +Inf bucket"
    );
    assert_eq!(h.data_points[0].bucket_counts, vec![1, 3]);
    let Some(metric::Data::Sum(sum)) = &metrics.iter().find(|m| m.name == "c_total").unwrap().data
    else {
        panic!("a counter");
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.data_points.len(), 2);
    assert_eq!(
        sum.data_points[1].start_time_unix_nano, 1_000_000_000,
        "the first point starts the series"
    );
}
