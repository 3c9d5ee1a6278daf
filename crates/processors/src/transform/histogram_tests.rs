//! Golden tests of the metric functions that read or reshape histogram buckets, with the
//! statements of the upstream README (opentelemetry-collector-contrib
//! `processor/transformprocessor/README.md`, sections `extract_percentile_metric`,
//! `convert_exponential_histogram_to_histogram` and `merge_histogram_buckets`) and
//! `extract_avg_metric`, which the README does not show yet.

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    HistogramDataPoint, Metric, metric::Data,
};

use super::metric_tests::{INPUT, find, names, points, run_in};

fn histogram(metrics: &[Metric], name: &str) -> HistogramDataPoint {
    match &find(metrics, name).data {
        Some(Data::Histogram(h)) => h.data_points[0].clone(),
        other => panic!("{name} is not a histogram: {other:?}"),
    }
}

/// A histogram metric `name` of one point, as OTLP JSON.
fn histogram_json(name: &str, bounds: &str, counts: &str, count: u64) -> String {
    format!(
        r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[
  {{"name":"{name}","histogram":{{"aggregationTemporality":2,"dataPoints":[
    {{"timeUnixNano":"10","count":"{count}","sum":1.0,"max":45.0,"bucketCounts":{counts},"explicitBounds":{bounds}}}]}}}}]}}]}}]}}"#
    )
}

/// README `extract_percentile_metric`: `extract_percentile_metric(50.0)`,
/// `extract_percentile_metric(95.0, "_p95_custom")` and `extract_percentile_metric(99.9)
/// where metric.name == "http.server.duration"`.
#[tokio::test]
async fn extract_percentile_metric() {
    let out = run_in(
        "metric",
        INPUT,
        "      - 'extract_percentile_metric(50.0)'\n      - 'extract_percentile_metric(95.0, \"_p95_custom\")'\n",
    )
    .await
    .unwrap();
    // Only the histogram gets percentiles; the summary, sum and gauge are left alone.
    assert_eq!(
        names(&out)[4..],
        ["request_duration_p50", "request_duration_p95_custom"]
    );
    let p50 = find(&out, "request_duration_p50");
    assert_eq!(
        (p50.description.as_str(), p50.unit.as_str()),
        ("how long (p50)", "ms")
    );
    // /a: rank 2 of 3 is in (5, +Inf) with no max: 5. /b: rank 1 of 2 is half-way
    // through [0, 5].
    assert_eq!(
        points(p50),
        [("route=/a".to_string(), 5.0), ("route=/b".to_string(), 2.5)]
    );
    assert_eq!(
        points(find(&out, "request_duration_p95_custom")),
        [("route=/a".to_string(), 5.0), ("route=/b".to_string(), 5.0)]
    );
    let input = histogram_json(
        "http.server.duration",
        "[0.1, 0.5, 1.0]",
        "[5, 8, 3, 1]",
        17,
    );
    let statement =
        "      - 'extract_percentile_metric(99.9) where metric.name == \"http.server.duration\"'\n";
    let out = run_in("metric", &input, statement).await.unwrap();
    // Rank 17 of 17 is the last, up to max.
    assert_eq!(
        points(find(&out, "http.server.duration_p99.9")),
        [(String::new(), 45.0)]
    );
}

/// `extract_avg_metric()`: each point's sum over its count, as a gauge (a histogram point
/// without a sum is skipped).
#[tokio::test]
async fn extract_avg_metric() {
    let out = run_in(
        "metric",
        INPUT,
        "      - 'extract_avg_metric() where name == \"request_duration\" or name == \"rpc_latency\"'\n",
    )
    .await
    .unwrap();
    let avg = find(&out, "request_duration_avg");
    assert!(matches!(avg.data, Some(Data::Gauge(_))));
    assert_eq!(points(avg), [("route=/a".to_string(), 12.5 / 3.0)]);
    assert_eq!(
        points(find(&out, "rpc_latency_avg")),
        [(String::new(), 2.0)]
    );
}

/// README `merge_histogram_buckets`: both examples, with their histograms.
#[tokio::test]
async fn merge_histogram_buckets() {
    let input = histogram_json(
        "http_request_duration",
        "[0.1, 0.5, 1.0]",
        "[5, 8, 3, 1]",
        17,
    );
    let statement =
        "      - 'merge_histogram_buckets(0.5) where metric.name == \"http_request_duration\"'\n";
    let out = run_in("datapoint", &input, statement).await.unwrap();
    let p = histogram(&out, "http_request_duration");
    assert_eq!(
        (p.explicit_bounds, p.bucket_counts),
        (vec![0.1, 1.0], vec![5, 11, 1])
    );
    let input = histogram_json(
        "http_request_duration",
        "[0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]",
        "[80, 4, 6, 120, 3, 2, 40, 10, 1]",
        266,
    );
    let yaml_list = "      - 'merge_histogram_buckets(5, method=\"limit_buckets\") where metric.name == \"http_request_duration\"'\n";
    let out = run_in("datapoint", &input, yaml_list).await.unwrap();
    let p = histogram(&out, "http_request_duration");
    assert_eq!(
        (p.explicit_bounds, p.bucket_counts),
        (vec![0.2, 1.0, 5.0, 30.0], vec![84, 126, 5, 50, 1])
    );
    let e = run_in("metric", &input, "      - 'merge_histogram_buckets(0.5)'\n")
        .await
        .unwrap_err();
    assert!(e.contains("only available in the datapoint context"), "{e}");
}

/// README `convert_exponential_histogram_to_histogram`: `("random", [0.0, 10.0, 100.0,
/// 1000.0, 10000.0])`. The zero count goes to the bucket of bound 0, a bucket inside one
/// explicit bucket goes there, and only the one across 100 is split at random.
#[tokio::test]
async fn convert_exponential_histogram_to_histogram() {
    let input = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
  {"name":"latency","unit":"ms","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[
    {"timeUnixNano":"10","count":"49","sum":999.0,"scale":0,"zeroCount":"5",
     "positive":{"offset":5,"bucketCounts":["10","22","12"]}}]}}]}]}]}"#;
    let statement = "      - 'convert_exponential_histogram_to_histogram(\"random\", [0.0, 10.0, 100.0, 1000.0, 10000.0])'\n";
    for _ in 0..10 {
        let out = run_in("metric", input, statement).await.unwrap();
        let p = histogram(&out, "latency");
        assert_eq!(p.explicit_bounds, [0.0, 10.0, 100.0, 1000.0, 10000.0]);
        // As Go: as many counts as bounds.
        let c = &p.bucket_counts;
        assert_eq!(c.len(), 5);
        assert_eq!((c[0], c[1], c[2] + c[3], c[4]), (5, 10, 34, 0), "{c:?}");
        assert_eq!((p.count, p.sum), (49, Some(999.0)));
    }
    let e = run_in(
        "metric",
        input,
        "      - 'convert_exponential_histogram_to_histogram(\"upper\", [])'\n",
    )
    .await
    .unwrap_err();
    assert!(e.contains("non-empty list of numbers"), "{e}");
}
