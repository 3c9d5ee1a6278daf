//! The examples of the Go README (processor/metricstransformprocessor/README.md, "Examples"
//! section), one test each, and the processor's edge cases.

use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{HistogramValue, MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::data_point::{DataPointRef, MetricExt};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::Metric;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "metricstransform".parse().unwrap(), None)
}

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    config
}

/// Runs one transform (the README's examples are single transforms) over `metrics`.
async fn run(transform: &str, metrics: Metrics) -> Vec<Metric> {
    let yaml = format!(
        "transforms:\n{}",
        transform
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 {
                format!("  - {l}\n")
            } else {
                format!("    {l}\n")
            })
            .collect::<String>()
    );
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(&settings(), &config(&yaml), sink.next())
        .unwrap();
    processor.consume(metrics).await.unwrap();
    sink.received()
        .into_iter()
        .flat_map(|m| m.into_request().resource_metrics)
        .flat_map(|rm| rm.scope_metrics)
        .flat_map(|sm| sm.metrics)
        .collect()
}

fn names(metrics: &[Metric]) -> Vec<&str> {
    metrics.iter().map(|m| m.name.as_str()).collect()
}

fn named<'a>(metrics: &'a [Metric], name: &str) -> &'a Metric {
    metrics.iter().find(|m| m.name == name).unwrap()
}

/// (labels as sorted "k=v" pairs, value) of a gauge's or sum's points.
fn points(metric: &Metric) -> Vec<(Vec<String>, f64)> {
    let mut out: Vec<_> = metric
        .data_points()
        .map(|p| {
            let (DataPointRef::Gauge(p) | DataPointRef::Sum(p)) = p else {
                panic!("not a number point");
            };
            let mut labels: Vec<String> = p
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value.as_ref().map_or(String::new(), |v| {
                    match &v.value {
                        Some(tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::StringValue(s)) => s.clone(),
                        other => format!("{other:?}"),
                    }
                })))
                .collect();
            labels.sort();
            let value = match p.value {
                Some(Value::AsDouble(v)) => v,
                Some(Value::AsInt(v)) => v as f64,
                None => f64::NAN,
            };
            (labels, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn labels(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| key_value(*k, *v)).collect()
}

/// `system.cpu.usage` (int gauge) per cpu and state, and `system.memory.usage`.
fn host_metrics() -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("host.name", "h1")]);
    b.gauge("system.cpu.usage", "s")
        .int(labels(&[("cpu", "0"), ("state", "idle")]), 10, 5)
        .int(labels(&[("cpu", "0"), ("state", "user")]), 10, 3)
        .int(labels(&[("cpu", "1"), ("state", "idle")]), 10, 7)
        .int(labels(&[("cpu", "1"), ("state", "user")]), 10, 1);
    b.sum("system.memory.usage", "By", Temporality::Cumulative, false)
        .double(labels(&[("state", "slab_reclaimable")]), 1, 10, 100.0)
        .double(labels(&[("state", "slab_unreclaimable")]), 1, 10, 50.0)
        .double(labels(&[("state", "used")]), 1, 10, 1000.0);
    b.build()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

// "Create a new metric from an existing metric"
#[tokio::test]
async fn insert_creates_a_copy_under_the_new_name() {
    let out = run(
        "include: system.cpu.usage\naction: insert\nnew_name: host.cpu.utilization",
        host_metrics(),
    )
    .await;
    assert_eq!(
        names(&out),
        [
            "system.cpu.usage",
            "system.memory.usage",
            "host.cpu.utilization"
        ]
    );
    assert_eq!(
        points(named(&out, "host.cpu.utilization")),
        points(named(&out, "system.cpu.usage"))
    );
}

// "Create a new metric from an existing metric with matching label values"
#[tokio::test]
async fn insert_with_match_labels_copies_only_matching_points() {
    let out = run(
        "include: system.cpu.usage\naction: insert\nnew_name: host.cpu.utilization\nmatch_type: strict\nexperimental_match_labels: {\"cpu\": \"1\"}",
        host_metrics(),
    )
    .await;
    let copy = points(named(&out, "host.cpu.utilization"));
    assert_eq!(
        copy,
        vec![
            (s(&["cpu=1", "state=idle"]), 7.0),
            (s(&["cpu=1", "state=user"]), 1.0)
        ]
    );
    assert_eq!(points(named(&out, "system.cpu.usage")).len(), 4);
}

// "... with matching label values with regexp": label pod with non-empty values.
#[tokio::test]
async fn regexp_match_labels_select_points_by_pattern() {
    let mut b = MetricsBuilder::new();
    b.gauge("host.cpu.usage", "")
        .double(labels(&[("pod", "p1")]), 1, 1.0)
        .double(labels(&[("pod", "")]), 1, 2.0)
        .double(vec![], 1, 3.0);
    let out = run(
        "include: host.cpu.usage\naction: insert\nnew_name: host.cpu.utilization\nmatch_type: regexp\nexperimental_match_labels: {\"pod\": \"(.|\\\\s)*\\\\S(.|\\\\s)*\"}",
        b.build(),
    )
    .await;
    assert_eq!(
        points(named(&out, "host.cpu.utilization")),
        vec![(s(&["pod=p1"]), 1.0)]
    );
}

// "Rename metric"
#[tokio::test]
async fn update_renames() {
    let out = run(
        "include: system.cpu.usage\naction: update\nnew_name: system.cpu.usage_time",
        host_metrics(),
    )
    .await;
    assert_eq!(
        names(&out),
        ["system.cpu.usage_time", "system.memory.usage"]
    );
}

// "Rename multiple metrics using Substitution" (`$$` is the config's escape of `$`).
#[tokio::test]
async fn regexp_captures_expand_in_the_new_name() {
    let mut b = MetricsBuilder::new();
    b.gauge("system.cpu.usage", "").int(vec![], 1, 1);
    b.gauge("system.cpu.time", "").int(vec![], 1, 1);
    b.gauge("system.memory.usage", "").int(vec![], 1, 1);
    let out = run(
        "include: ^system\\.cpu\\.(.*)$\nmatch_type: regexp\naction: update\nnew_name: system.processor.${1}.stat",
        b.build(),
    )
    .await;
    assert_eq!(
        names(&out),
        [
            "system.processor.usage.stat",
            "system.processor.time.stat",
            "system.memory.usage"
        ]
    );
}

// "Add a label" with {{version}}.
#[tokio::test]
async fn add_label_puts_the_label_on_every_point_with_the_version() {
    let out = run(
        "include: system.cpu.usage\naction: update\noperations:\n  - action: add_label\n    new_label: version\n    new_value: opentelemetry collector {{version}}",
        host_metrics(),
    )
    .await;
    let expected = format!(
        "opentelemetry collector {}",
        settings().build_info().version
    );
    for point in named(&out, "system.cpu.usage").data_points() {
        assert_eq!(
            point.attributes().get_str("version"),
            Some(expected.as_str())
        );
    }
    assert!(
        named(&out, "system.memory.usage")
            .data_points()
            .all(|p| !p.attributes().contains_key("version"))
    );
}

// "Rename labels for multiple metrics"
#[tokio::test]
async fn update_label_renames_the_label() {
    let out = run(
        "include: ^system\\.\nmatch_type: regexp\naction: update\noperations:\n  - action: update_label\n    label: state\n    new_label: cpu_state",
        host_metrics(),
    )
    .await;
    for metric in &out {
        for point in metric.data_points() {
            assert!(point.attributes().contains_key("cpu_state"));
            assert!(!point.attributes().contains_key("state"));
        }
    }
}

// "Rename label values"
#[tokio::test]
async fn value_actions_rename_label_values() {
    let out = run(
        "include: system.memory.usage\naction: update\noperations:\n  - action: update_label\n    label: state\n    value_actions:\n      - value: slab_reclaimable\n        new_value: sreclaimable\n      - value: slab_unreclaimable\n        new_value: sunreclaimable",
        host_metrics(),
    )
    .await;
    assert_eq!(
        points(named(&out, "system.memory.usage")),
        vec![
            (s(&["state=sreclaimable"]), 100.0),
            (s(&["state=sunreclaimable"]), 50.0),
            (s(&["state=used"]), 1000.0)
        ]
    );
}

// "Delete by label value"
#[tokio::test]
async fn delete_label_value_drops_the_points() {
    let out = run(
        "include: system.cpu.usage\naction: update\noperations:\n  - action: delete_label_value\n    label: state\n    label_value: idle",
        host_metrics(),
    )
    .await;
    assert_eq!(
        points(named(&out, "system.cpu.usage")),
        vec![
            (s(&["cpu=0", "state=user"]), 3.0),
            (s(&["cpu=1", "state=user"]), 1.0)
        ]
    );
}

#[tokio::test]
async fn a_metric_whose_points_are_all_deleted_goes() {
    let out = run(
        "include: system.memory.usage\naction: update\noperations:\n  - {action: delete_label_value, label: state, label_value: used}\n  - {action: delete_label_value, label: state, label_value: slab_reclaimable}\n  - {action: delete_label_value, label: state, label_value: slab_unreclaimable}",
        host_metrics(),
    )
    .await;
    assert_eq!(names(&out), ["system.cpu.usage"]);
}

// "Toggle datatype"
#[tokio::test]
async fn toggle_scalar_data_type_turns_ints_into_doubles() {
    let out = run("include: system.cpu.usage\naction: update\noperations:\n  - action: toggle_scalar_data_type", host_metrics()).await;
    for point in named(&out, "system.cpu.usage").data_points() {
        let DataPointRef::Gauge(p) = point else {
            panic!()
        };
        assert!(matches!(p.value, Some(Value::AsDouble(_))));
    }
}

// "Scale value"
#[tokio::test]
async fn scale_value_multiplies() {
    let out = run("include: system.cpu.usage\naction: update\noperations:\n  - action: experimental_scale_value\n    experimental_scale: 1000", host_metrics()).await;
    let values: Vec<f64> = points(named(&out, "system.cpu.usage"))
        .into_iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(values, [5000.0, 3000.0, 7000.0, 1000.0]);
}

#[tokio::test]
async fn scale_value_scales_histogram_sums_and_bounds() {
    let mut b = MetricsBuilder::new();
    b.histogram("latency", "s", Temporality::Cumulative)
        .point(
            vec![],
            1,
            2,
            HistogramValue::new(vec![0.5, 1.0], vec![1, 2, 3]).sum(4.0),
        )
        .unwrap();
    let out = run("include: latency\naction: update\noperations:\n  - {action: experimental_scale_value, experimental_scale: 1000}", b.build()).await;
    let DataPointRef::Histogram(p) = out[0].data_points().next().unwrap() else {
        panic!()
    };
    assert_eq!(p.explicit_bounds, [500.0, 1000.0]);
    assert_eq!(p.sum, Some(4000.0));
    assert_eq!(p.bucket_counts, [1, 2, 3]);
}

// "Aggregate labels"
#[tokio::test]
async fn aggregate_labels_sums_away_the_other_labels() {
    let out = run(
        "include: system.cpu.usage\naction: update\noperations:\n  - action: aggregate_labels\n    label_set: [ state ]\n    aggregation_type: sum",
        host_metrics(),
    )
    .await;
    assert_eq!(
        points(named(&out, "system.cpu.usage")),
        vec![(s(&["state=idle"]), 12.0), (s(&["state=user"]), 4.0)]
    );
}

#[tokio::test]
async fn every_aggregation_type_merges_as_go() {
    for (how, idle, user) in [
        ("mean", 6.0, 2.0),
        ("min", 5.0, 1.0),
        ("max", 7.0, 3.0),
        ("median", 6.0, 2.0),
        ("count", 2.0, 2.0),
    ] {
        let out = run(
            &format!("include: system.cpu.usage\naction: update\noperations:\n  - {{action: aggregate_labels, label_set: [state], aggregation_type: {how}}}"),
            host_metrics(),
        )
        .await;
        assert_eq!(
            points(named(&out, "system.cpu.usage")),
            vec![(s(&["state=idle"]), idle), (s(&["state=user"]), user)],
            "{how}"
        );
    }
}

// "Aggregate label values"
#[tokio::test]
async fn aggregate_label_values_merges_values_into_one() {
    let out = run(
        "include: system.memory.usage\naction: update\noperations:\n  - action: aggregate_label_values\n    label: state\n    aggregated_values: [ slab_reclaimable, slab_unreclaimable ]\n    new_value: slab \n    aggregation_type: sum",
        host_metrics(),
    )
    .await;
    assert_eq!(
        points(named(&out, "system.memory.usage")),
        vec![(s(&["state=slab"]), 150.0), (s(&["state=used"]), 1000.0)]
    );
}

#[tokio::test]
async fn histograms_aggregate_by_adding_buckets() {
    let mut b = MetricsBuilder::new();
    b.histogram("latency", "s", Temporality::Cumulative)
        .point(
            labels(&[("host", "a")]),
            1,
            2,
            HistogramValue::new(vec![1.0], vec![1, 2]).sum(3.0),
        )
        .unwrap()
        .point(
            labels(&[("host", "b")]),
            1,
            2,
            HistogramValue::new(vec![1.0], vec![4, 5]).sum(6.0),
        )
        .unwrap();
    let out = run("include: latency\naction: update\noperations:\n  - {action: aggregate_labels, label_set: [], aggregation_type: sum}", b.build()).await;
    let all: Vec<_> = out[0].data_points().collect();
    assert_eq!(all.len(), 1);
    let DataPointRef::Histogram(p) = all[0] else {
        panic!()
    };
    assert_eq!(
        (p.count, p.sum, p.bucket_counts.clone()),
        (12, Some(9.0), vec![5, 7])
    );
    assert!(p.attributes.is_empty());
}

// "Combine metrics"
#[tokio::test]
async fn combine_turns_metrics_into_one_labelled_by_the_captures() {
    let mut b = MetricsBuilder::new();
    for (method, value) in [("Delete", 1), ("Get", 20), ("Post", 5)] {
        b.sum(
            &format!("Web Service (*)/Total {method} Requests"),
            "1",
            Temporality::Cumulative,
            true,
        )
        .int(vec![], 1, 2, value);
    }
    b.gauge("other", "").int(vec![], 2, 9);
    let out = run(
        "include: ^Web Service \\(\\*\\)/Total (?P<http_method>.*) Requests$\nmatch_type: regexp\naction: combine\nnew_name: iis.requests\nsubmatch_case: lower\naggregation_type: sum",
        b.build(),
    )
    .await;
    assert_eq!(names(&out), ["other", "iis.requests"]);
    let combined = named(&out, "iis.requests");
    assert!(matches!(&combined.data, Some(Data::Sum(s)) if s.is_monotonic));
    assert_eq!(
        points(combined),
        vec![
            (s(&["http_method=delete"]), 1.0),
            (s(&["http_method=get"]), 20.0),
            (s(&["http_method=post"]), 5.0)
        ]
    );
}

// Go's testdata/config_full.yaml combines without an aggregation_type: merged points keep
// the first point's value.
#[tokio::test]
async fn without_an_aggregation_type_merged_points_keep_the_first_value() {
    let out = run(
        "include: system.cpu.usage\naction: update\noperations:\n  - {action: aggregate_labels, label_set: [state]}",
        host_metrics(),
    )
    .await;
    assert_eq!(
        points(named(&out, "system.cpu.usage")),
        vec![(s(&["state=idle"]), 5.0), (s(&["state=user"]), 3.0)]
    );
}

#[tokio::test]
async fn metrics_of_different_kinds_are_not_combined() {
    let mut b = MetricsBuilder::new();
    b.gauge("a.x", "").int(vec![], 1, 1);
    b.sum("a.y", "", Temporality::Cumulative, true)
        .int(vec![], 0, 1, 1);
    let out = run("include: ^a\\.(.*)$\nmatch_type: regexp\naction: combine\nnew_name: a\naggregation_type: sum", b.build()).await;
    assert_eq!(names(&out), ["a.x", "a.y"]);
}

// "Group Metrics"
#[tokio::test]
async fn group_moves_metrics_to_a_resource_of_their_own() {
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("host.name", "h1")]);
    b.gauge("k8s.pod.cpu", "").int(vec![], 1, 1);
    b.gauge("container.cpu", "").int(vec![], 1, 2);
    let yaml = "transforms:\n  - include: ^k8s\\.pod\\.(.*)$\n    match_type: regexp\n    action: group\n    group_resource_labels: {\"resouce.type\": \"k8s.pod\", \"source\": \"kubelet\"}\n  - include: ^container\\.(.*)$\n    match_type: regexp\n    action: group\n    group_resource_labels: {\"resouce.type\": \"container\", \"source\": \"kubelet\"}\n";
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(&settings(), &config(yaml), sink.next())
        .unwrap();
    processor.consume(b.build()).await.unwrap();
    let request = sink.received().pop().unwrap().into_request();
    assert_eq!(
        request.resource_metrics.len(),
        2,
        "the emptied original resource goes"
    );
    for (rm, kind, metric) in [
        (&request.resource_metrics[0], "k8s.pod", "k8s.pod.cpu"),
        (&request.resource_metrics[1], "container", "container.cpu"),
    ] {
        let attributes = &rm.resource.as_ref().unwrap().attributes;
        assert_eq!(attributes.get_str("host.name"), Some("h1"));
        assert_eq!(attributes.get_str("resouce.type"), Some(kind));
        assert_eq!(attributes.get_str("source"), Some("kubelet"));
        assert_eq!(rm.scope_metrics[0].metrics[0].name, metric);
    }
}

#[tokio::test]
async fn an_update_of_some_points_only_edits_them_and_does_not_reshape() {
    let out = run(
        "include: system.cpu.usage\naction: update\nnew_name: renamed\nexperimental_match_labels: {cpu: \"0\"}\noperations:\n  - {action: update_label, label: state, new_label: s}\n  - {action: aggregate_labels, label_set: [], aggregation_type: sum}",
        host_metrics(),
    )
    .await;
    let cpu = named(&out, "system.cpu.usage");
    assert_eq!(
        points(cpu),
        vec![
            (s(&["cpu=0", "s=idle"]), 5.0),
            (s(&["cpu=0", "s=user"]), 3.0),
            (s(&["cpu=1", "state=idle"]), 7.0),
            (s(&["cpu=1", "state=user"]), 1.0)
        ]
    );
}

#[tokio::test]
async fn unselected_data_is_passed_on_without_a_copy() {
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(
            &settings(),
            &config("transforms:\n  - {include: nothing, action: update, new_name: x}"),
            sink.next(),
        )
        .unwrap();
    let shared = host_metrics();
    processor.consume(shared.clone()).await.unwrap();
    assert!(sink.received()[0].shares_request_with(&shared));
}

#[test]
fn invalid_configs_are_refused_with_their_path() {
    for (yaml, path, words) in [
        (
            "transforms: [{action: update}]",
            "transforms::0::include",
            "missing required field \"include\"",
        ),
        (
            "transforms: [{include: a, action: rename}]",
            "transforms::0::action",
            "not an action",
        ),
        (
            "transforms: [{include: a, action: insert}]",
            "transforms::0::new_name",
            "new_name",
        ),
        (
            "transforms: [{include: a, action: group}]",
            "transforms::0::group_resource_labels",
            "group_resource_labels",
        ),
        (
            "transforms: [{include: '(', match_type: regexp, action: update}]",
            "transforms::0::include",
            "",
        ),
        (
            "transforms: [{include: a, match_type: glob, action: update}]",
            "transforms::0::match_type",
            "strict or regexp",
        ),
        (
            "transforms: [{include: a, action: update, submatch_case: title}]",
            "transforms::0::submatch_case",
            "lower or upper",
        ),
        (
            "transforms: [{include: a, action: update, aggregation_type: avg}]",
            "transforms::0::aggregation_type",
            "median",
        ),
        (
            "transforms: [{include: a, action: update, operations: [{action: drop}]}]",
            "transforms::0::operations::0::action",
            "not an operation",
        ),
        (
            "transforms: [{include: a, action: update, operations: [{action: add_label, new_label: x}]}]",
            "transforms::0::operations::0::new_value",
            "new_value",
        ),
        (
            "transforms: [{include: a, action: update, operations: [{action: experimental_scale_value}]}]",
            "transforms::0::operations::0::experimental_scale",
            "experimental_scale",
        ),
        (
            "transforms: [{include: a, action: combine}]",
            "transforms::0::new_name",
            "new_name",
        ),
        (
            "transforms: [{include: a, action: update, operations: [{action: aggregate_labels}]}]",
            "transforms::0::operations::0::label_set",
            "label_set",
        ),
    ] {
        let error = load_config::<Config>(yaml).unwrap_err();
        assert_eq!(error.path(), path, "{yaml}");
        assert!(error.message().contains(words), "{yaml}: {error}");
    }
    let error = load_config::<Config>("transforms: [{include: a, action: update, metric_name: b}]")
        .unwrap_err();
    assert!(error.to_string().contains("metric_name"), "{error}");
}

#[tokio::test]
async fn the_metricstransform_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(
        factory(),
        "transforms: [{include: a, action: update, new_name: b}]",
    )
    .await;
}

mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::metricstransform::processor::Transforms;

    /// Points of one int gauge: (cpu, state, time, value).
    fn gauge_points() -> impl Strategy<Value = Vec<(u8, u8, u64, i64)>> {
        prop::collection::vec((0u8..3, 0u8..2, 1u64..3, -1000i64..1000), 0..40)
    }

    fn build(points: &[(u8, u8, u64, i64)]) -> Metrics {
        let mut b = MetricsBuilder::new();
        let mut gauge = b.gauge("g", "");
        for (cpu, state, time, value) in points {
            gauge.int(
                vec![
                    key_value("cpu", cpu.to_string()),
                    key_value("state", state.to_string()),
                ],
                *time,
                *value,
            );
        }
        b.build()
    }

    fn aggregated(points: &[(u8, u8, u64, i64)], how: &str) -> BTreeMap<(String, u64), i64> {
        let yaml = format!(
            "transforms: [{{include: g, action: update, operations: [{{action: aggregate_labels, label_set: [state], aggregation_type: {how}}}]}}]"
        );
        let transforms = Transforms::compile(&config(&yaml), "v").unwrap();
        let mut metrics = build(points);
        transforms.process(&mut metrics);
        let mut out = BTreeMap::new();
        for (_, point) in metrics.data_points() {
            let DataPointRef::Gauge(p) = point else {
                panic!()
            };
            assert_eq!(p.attributes.len(), 1, "only the label set is left");
            let state = p.attributes.get_str("state").unwrap().to_string();
            let Some(Value::AsInt(v)) = p.value else {
                panic!()
            };
            let previous = out.insert((state, p.time_unix_nano), v);
            assert!(previous.is_none(), "one point per label set and time");
        }
        out
    }

    proptest! {
        // Summing away a label keeps every (label set, time) total; counting counts the points.
        #[test]
        fn aggregation_keeps_totals_and_counts(points in gauge_points()) {
            let mut totals: BTreeMap<(String, u64), (i64, i64)> = BTreeMap::new();
            for (_, state, time, value) in &points {
                let entry = totals.entry((state.to_string(), *time)).or_default();
                entry.0 += value;
                entry.1 += 1;
            }
            let sums = aggregated(&points, "sum");
            let counts = aggregated(&points, "count");
            prop_assert_eq!(sums, totals.iter().map(|(k, v)| (k.clone(), v.0)).collect::<BTreeMap<_, _>>());
            prop_assert_eq!(counts, totals.iter().map(|(k, v)| (k.clone(), v.1)).collect::<BTreeMap<_, _>>());
        }

        // min <= mean, median <= max for every group.
        #[test]
        fn mean_and_median_lie_between_min_and_max(points in gauge_points()) {
            let min = aggregated(&points, "min");
            let max = aggregated(&points, "max");
            for how in ["mean", "median"] {
                for (key, value) in aggregated(&points, how) {
                    prop_assert!(min[&key] <= value && value <= max[&key], "{} {:?}", how, key);
                }
            }
        }
    }
}
