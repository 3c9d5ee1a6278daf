//! Golden tests of the metric functions that add metrics or regroup data points, with
//! the statements of the upstream README (opentelemetry-collector-contrib
//! `processor/transformprocessor/README.md`, sections `extract_sum_metric`,
//! `extract_count_metric`, `copy_metric`, `aggregate_on_attributes`,
//! `aggregate_on_attribute_value`, `convert_summary_count_val_to_sum`,
//! `convert_summary_sum_val_to_sum`, `convert_summary_quantile_val_to_gauge`).

use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::otlp_json;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric::Data, number_data_point};
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};

pub(super) const INPUT: &str = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
  {"name":"request_duration","description":"how long","unit":"ms","histogram":{"aggregationTemporality":1,"dataPoints":[
    {"startTimeUnixNano":"1","timeUnixNano":"10","count":"3","sum":12.5,"bucketCounts":["1","2"],"explicitBounds":[5.0],
     "attributes":[{"key":"route","value":{"stringValue":"/a"}}]},
    {"startTimeUnixNano":"1","timeUnixNano":"10","count":"2","bucketCounts":["2","0"],"explicitBounds":[5.0],
     "attributes":[{"key":"route","value":{"stringValue":"/b"}}]}]}},
  {"name":"rpc_latency","summary":{"dataPoints":[{"timeUnixNano":"10","count":"4","sum":8.0}]}},
  {"name":"system.memory.usage","unit":"By","sum":{"aggregationTemporality":2,"isMonotonic":false,"dataPoints":[
    {"timeUnixNano":"10","asInt":"100","attributes":[{"key":"attr1","value":{"stringValue":"val1"}},{"key":"attr2","value":{"stringValue":"x"}},{"key":"state","value":{"stringValue":"used"}}]},
    {"timeUnixNano":"10","asInt":"50","attributes":[{"key":"attr1","value":{"stringValue":"val2"}},{"key":"attr2","value":{"stringValue":"x"}},{"key":"state","value":{"stringValue":"free"}}]},
    {"timeUnixNano":"10","asInt":"30","attributes":[{"key":"attr1","value":{"stringValue":"val3"}},{"key":"attr2","value":{"stringValue":"x"}},{"key":"state","value":{"stringValue":"free"}}]}]}},
  {"name":"http.status_code","description":"old desc","gauge":{"dataPoints":[
    {"timeUnixNano":"10","asDouble":1.5},{"timeUnixNano":"10","asDouble":4.5},{"timeUnixNano":"10","asDouble":3.0}]}}]}]}]}"#;

async fn run(statements: &str) -> Result<Vec<Metric>, String> {
    run_on(INPUT, statements).await
}

/// Runs `statements` (metric context) on the metrics of `input` (OTLP JSON).
async fn run_on(input: &str, statements: &str) -> Result<Vec<Metric>, String> {
    run_in("metric", input, statements).await
}

/// Runs `statements` (YAML list lines) in `context` on the metrics of `input` (OTLP JSON);
/// the first scope's metrics after it.
pub(super) async fn run_in(
    context: &str,
    input: &str,
    statements: &str,
) -> Result<Vec<Metric>, String> {
    let yaml = format!("metric_statements:\n  - context: {context}\n    statements:\n{statements}");
    let config = load_config::<Config>(&yaml).map_err(|e| e.to_string())?;
    let sink = Sink::<Metrics>::new();
    let settings =
        tributary_pipeline_core::testing::settings::<Metrics>(Kind::Processor, "transform");
    let p = factory()
        .create(&settings, &config, sink.next())
        .map_err(|e| e.to_string())?;
    let input = otlp_json::decode(input.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    p.consume(Metrics::new(input))
        .await
        .map_err(|e| e.to_string())?;
    Ok(
        sink.accepted()[0].request().resource_metrics[0].scope_metrics[0]
            .metrics
            .clone(),
    )
}

pub(super) fn find<'m>(metrics: &'m [Metric], name: &str) -> &'m Metric {
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name:?} in {:?}", names(metrics)))
}

pub(super) fn names(metrics: &[Metric]) -> Vec<&str> {
    metrics.iter().map(|m| m.name.as_str()).collect()
}

/// (attribute text, value) of a gauge's or sum's points.
pub(super) fn points(m: &Metric) -> Vec<(String, f64)> {
    let dps = match &m.data {
        Some(Data::Sum(s)) => &s.data_points,
        Some(Data::Gauge(g)) => &g.data_points,
        other => panic!("not a number metric: {other:?}"),
    };
    dps.iter()
        .map(|p| {
            let attrs: Vec<String> = p
                .attributes
                .iter()
                .map(|kv| {
                    format!(
                        "{}={}",
                        kv.key,
                        tributary_ottl::Value::from_any(kv.value.as_ref().unwrap()).to_display()
                    )
                })
                .collect();
            let v = match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => f64::NAN,
            };
            (attrs.join(","), v)
        })
        .collect()
}

/// README `extract_sum_metric`: `extract_sum_metric(true)` (a histogram point without a
/// sum is skipped; a summary is cumulative).
#[tokio::test]
async fn extract_sum_metric() {
    let out = run("      - 'extract_sum_metric(true) where name == \"request_duration\" or name == \"rpc_latency\"'\n")
        .await
        .unwrap();
    assert_eq!(
        names(&out),
        [
            "request_duration",
            "rpc_latency",
            "system.memory.usage",
            "http.status_code",
            "request_duration_sum",
            "rpc_latency_sum"
        ]
    );
    let sum = find(&out, "request_duration_sum");
    assert_eq!(
        (sum.unit.as_str(), sum.description.as_str()),
        ("ms", "how long")
    );
    let Some(Data::Sum(s)) = &sum.data else {
        panic!()
    };
    assert_eq!((s.aggregation_temporality, s.is_monotonic), (1, true));
    assert_eq!(points(sum), [("route=/a".to_string(), 12.5)]);
    assert_eq!(s.data_points[0].start_time_unix_nano, 1);
    let Some(Data::Sum(s)) = &find(&out, "rpc_latency_sum").data else {
        panic!()
    };
    assert_eq!(s.aggregation_temporality, 2);
    // The optional suffix.
    let out =
        run("      - 'extract_sum_metric(false, \".total\") where name == \"rpc_latency\"'\n")
            .await
            .unwrap();
    assert_eq!(
        points(find(&out, "rpc_latency.total")),
        [(String::new(), 8.0)]
    );
}

/// README `extract_count_metric`: `extract_count_metric(true)`; on a metric of another
/// type it is an error, as in Go.
#[tokio::test]
async fn extract_count_metric() {
    let out = run("      - 'extract_count_metric(true) where name == \"request_duration\"'\n")
        .await
        .unwrap();
    let count = find(&out, "request_duration_count");
    assert_eq!(count.unit, "1");
    assert_eq!(
        points(count),
        [("route=/a".to_string(), 3.0), ("route=/b".to_string(), 2.0)]
    );
    let Some(Data::Sum(s)) = &count.data else {
        panic!()
    };
    assert!(matches!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsInt(3))
    ));
    let e = run("      - 'extract_count_metric(false) where name == \"http.status_code\"'\n")
        .await
        .unwrap_err();
    assert!(
        e.contains("requires an input metric of type Histogram"),
        "{e}"
    );
}

/// README `copy_metric`: `copy_metric(name="http.request.status_code", unit="s") where
/// name == "http.status_code"` and `copy_metric(description="new desc") where
/// description == "old desc"`. A copy is not run through the same statements again.
#[tokio::test]
async fn copy_metric() {
    let out = run(concat!(
        "      - 'copy_metric(name=\"http.request.status_code\", unit=\"s\") where name == \"http.status_code\"'\n",
        "      - 'copy_metric(description=\"new desc\") where description == \"old desc\"'\n",
        "      - 'copy_metric()'\n",
    ))
    .await
    .unwrap();
    let copy = find(&out, "http.request.status_code");
    assert_eq!(
        (copy.unit.as_str(), copy.description.as_str()),
        ("s", "old desc")
    );
    assert_eq!(points(copy).len(), 3);
    // 4 originals + the renamed copy + the described copy + a copy of each original.
    assert_eq!(out.len(), 4 + 1 + 1 + 4, "{:?}", names(&out));
    assert_eq!(
        out.iter().filter(|m| m.description == "new desc").count(),
        1
    );
}

/// README `aggregate_on_attributes`: `aggregate_on_attributes("sum", ["attr1", "attr2"])
/// where name == "system.memory.usage"` and `aggregate_on_attributes("max") where name
/// == "system.memory.usage"`.
#[tokio::test]
async fn aggregate_on_attributes() {
    let out = run("      - 'aggregate_on_attributes(\"sum\", [\"attr2\"]) where name == \"system.memory.usage\"'\n").await.unwrap();
    assert_eq!(
        points(find(&out, "system.memory.usage")),
        [("attr2=x".to_string(), 180.0)]
    );
    let out = run("      - 'aggregate_on_attributes(\"max\", [\"state\"]) where name == \"system.memory.usage\"'\n").await.unwrap();
    assert_eq!(
        points(find(&out, "system.memory.usage")),
        [
            ("state=used".to_string(), 100.0),
            ("state=free".to_string(), 50.0)
        ]
    );
    // Without a list the attributes stay: only identical sets merge (none here).
    let out =
        run("      - 'aggregate_on_attributes(\"max\") where name == \"system.memory.usage\"'\n")
            .await
            .unwrap();
    assert_eq!(points(find(&out, "system.memory.usage")).len(), 3);
    // `[]` removes every attribute.
    for (f, want) in [
        ("mean", 3.0),
        ("median", 3.0),
        ("min", 1.5),
        ("count", 3.0),
        ("sum", 9.0),
    ] {
        let out = run(&format!(
            "      - 'aggregate_on_attributes(\"{f}\", []) where name == \"http.status_code\"'\n"
        ))
        .await
        .unwrap();
        assert_eq!(
            points(find(&out, "http.status_code")),
            [(String::new(), want)],
            "{f}"
        );
    }
    // Histograms merge counts, sums and buckets.
    let out =
        run("      - 'aggregate_on_attributes(\"sum\", []) where name == \"request_duration\"'\n")
            .await
            .unwrap();
    let Some(Data::Histogram(h)) = &find(&out, "request_duration").data else {
        panic!()
    };
    assert_eq!(h.data_points.len(), 1);
    assert_eq!(
        (h.data_points[0].count, h.data_points[0].sum),
        (5, Some(12.5))
    );
    assert_eq!(h.data_points[0].bucket_counts, [3, 2]);
    let e = run("      - 'aggregate_on_attributes(\"sum\") where name == \"rpc_latency\"'\n")
        .await
        .unwrap_err();
    assert!(e.contains("does not support aggregating Summary"), "{e}");
    let e = run("      - 'aggregate_on_attributes(\"avg\")'\n")
        .await
        .unwrap_err();
    assert!(
        e.contains("invalid aggregation_function") && e.contains("avg"),
        "{e}"
    );
}

/// README `aggregate_on_attribute_value`: `aggregate_on_attribute_value("sum", "attr1",
/// ["val1", "val2"], "new_val") where name == "system.memory.usage"`.
#[tokio::test]
async fn aggregate_on_attribute_value() {
    let out = run("      - 'aggregate_on_attribute_value(\"sum\", \"attr1\", [\"val1\", \"val2\"], \"new_val\") where name == \"system.memory.usage\"'\n").await.unwrap();
    let got = points(find(&out, "system.memory.usage"));
    assert_eq!(got.len(), 3, "{got:?}");
    // val1 and val2 became new_val but their `state` differs: nothing merged yet.
    assert!(
        got.iter()
            .filter(|(a, _)| a.contains("attr1=new_val"))
            .count()
            == 2,
        "{got:?}"
    );
    let out = run(concat!(
        "      - 'aggregate_on_attributes(\"sum\", [\"attr1\"]) where name == \"system.memory.usage\"'\n",
        "      - 'aggregate_on_attribute_value(\"sum\", \"attr1\", [\"val1\", \"val2\"], \"new_val\") where name == \"system.memory.usage\"'\n",
    ))
    .await
    .unwrap();
    assert_eq!(
        points(find(&out, "system.memory.usage")),
        [
            ("attr1=new_val".to_string(), 150.0),
            ("attr1=val3".to_string(), 30.0)
        ]
    );
}

#[test]
fn metric_functions_are_checked_at_validation() {
    for (statement, says) in [
        (
            "extract_sum_metric(true, 3)",
            "suffix must be a string literal",
        ),
        (
            "aggregate_on_attributes(\"sum\", [attributes[\"x\"]])",
            "list of string literals",
        ),
        (
            "aggregate_on_attribute_value(\"sum\", \"a\", [\"b\"])",
            "missing its argument \"new_value\"",
        ),
    ] {
        let yaml =
            format!("metric_statements:\n  - context: metric\n    statements: ['{statement}']\n");
        let e = load_config::<Config>(&yaml).unwrap_err();
        assert!(e.to_string().contains(says), "{statement}: {e}");
    }
    let e = load_config::<Config>(
        "metric_statements:\n  - context: datapoint\n    statements: ['copy_metric()']\n",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("only available in the metric context"),
        "{e}"
    );
    // A bare statement infers the metric context.
    assert!(load_config::<Config>("metric_statements: ['copy_metric(name = \"x\")']\n").is_ok());
}

/// A summary of two points with quantiles, and a gauge the summary functions leave alone.
const SUMMARIES: &str = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
  {"name":"rpc.duration","description":"rpc time","unit":"s","summary":{"dataPoints":[
    {"startTimeUnixNano":"1","timeUnixNano":"10","count":"4","sum":8.5,
     "attributes":[{"key":"method","value":{"stringValue":"get"}}],
     "quantileValues":[{"quantile":0.5,"value":1.5},{"quantile":0.99,"value":4.0}]},
    {"startTimeUnixNano":"1","timeUnixNano":"10","count":"1","sum":0.25,
     "attributes":[{"key":"method","value":{"stringValue":"put"}}],
     "quantileValues":[{"quantile":0.5,"value":0.25}]}]}},
  {"name":"queue.size","gauge":{"dataPoints":[{"timeUnixNano":"10","asInt":"3"}]}}]}]}]}"#;

/// README `convert_summary_count_val_to_sum`: `convert_summary_count_val_to_sum("delta",
/// true, ".count")` and `convert_summary_count_val_to_sum("cumulative", false, ".count")`;
/// README `convert_summary_sum_val_to_sum`: the same two forms with `".sum"`. Counts are
/// ints, sums doubles; other metrics are left alone; the suffix defaults to `_count` and
/// `_sum`.
#[tokio::test]
async fn convert_summary_count_and_sum_val_to_sum() {
    let out = run_on(
        SUMMARIES,
        "      - 'convert_summary_count_val_to_sum(\"delta\", true, \".count\")'\n      - 'convert_summary_sum_val_to_sum(\"cumulative\", false, \".sum\")'\n",
    )
    .await
    .unwrap();
    assert_eq!(
        names(&out),
        [
            "rpc.duration",
            "queue.size",
            "rpc.duration.count",
            "rpc.duration.sum"
        ]
    );
    let count = find(&out, "rpc.duration.count");
    assert_eq!(
        (count.unit.as_str(), count.description.as_str()),
        ("s", "rpc time")
    );
    let Some(Data::Sum(s)) = &count.data else {
        panic!()
    };
    assert_eq!((s.aggregation_temporality, s.is_monotonic), (1, true));
    assert!(matches!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsInt(4))
    ));
    assert_eq!(
        (
            s.data_points[0].start_time_unix_nano,
            s.data_points[0].time_unix_nano
        ),
        (1, 10)
    );
    assert_eq!(
        points(count),
        [
            ("method=get".to_string(), 4.0),
            ("method=put".to_string(), 1.0)
        ]
    );
    let sum = find(&out, "rpc.duration.sum");
    let Some(Data::Sum(s)) = &sum.data else {
        panic!()
    };
    assert_eq!((s.aggregation_temporality, s.is_monotonic), (2, false));
    assert_eq!(
        points(sum),
        [
            ("method=get".to_string(), 8.5),
            ("method=put".to_string(), 0.25)
        ]
    );
    // Default suffixes.
    let out = run_on(
        SUMMARIES,
        "      - 'convert_summary_count_val_to_sum(\"cumulative\", false)'\n      - 'convert_summary_sum_val_to_sum(\"delta\", false)'\n",
    )
    .await
    .unwrap();
    assert_eq!(
        names(&out),
        [
            "rpc.duration",
            "queue.size",
            "rpc.duration_count",
            "rpc.duration_sum"
        ]
    );
    // The temporality is checked when the statement is compiled.
    let error = run_on(
        SUMMARIES,
        "      - 'convert_summary_sum_val_to_sum(\"sometimes\", true)'\n",
    )
    .await
    .unwrap_err();
    assert!(
        error.contains("invalid stringAggTemp \"sometimes\", must be one of cumulative, delta"),
        "{error}"
    );
}

/// README `convert_summary_quantile_val_to_gauge`: `("custom_quantile", "custom_suffix")`,
/// `("custom_quantile")` and `()`: one gauge point per quantile, the quantile in an
/// attribute beside the point's own.
#[tokio::test]
async fn convert_summary_quantile_val_to_gauge() {
    let out = run_on(
        SUMMARIES,
        "      - 'convert_summary_quantile_val_to_gauge(\"custom_quantile\", \"custom_suffix\")'\n",
    )
    .await
    .unwrap();
    let gauge = find(&out, "rpc.durationcustom_suffix");
    assert!(matches!(gauge.data, Some(Data::Gauge(_))));
    assert_eq!(
        (gauge.unit.as_str(), gauge.description.as_str()),
        ("s", "rpc time")
    );
    assert_eq!(
        points(gauge),
        [
            ("method=get,custom_quantile=0.5".to_string(), 1.5),
            ("method=get,custom_quantile=0.99".to_string(), 4.0),
            ("method=put,custom_quantile=0.5".to_string(), 0.25),
        ]
    );
    let out = run_on(
        SUMMARIES,
        "      - 'convert_summary_quantile_val_to_gauge(\"custom_quantile\")'\n",
    )
    .await
    .unwrap();
    assert_eq!(points(find(&out, "rpc.duration.quantiles")).len(), 3);
    let out = run_on(
        SUMMARIES,
        "      - 'convert_summary_quantile_val_to_gauge()'\n",
    )
    .await
    .unwrap();
    assert_eq!(
        names(&out),
        ["rpc.duration", "queue.size", "rpc.duration.quantiles"]
    );
    assert_eq!(
        points(find(&out, "rpc.duration.quantiles"))[1].0,
        "method=get,quantile=0.99"
    );
}
