//! The examples of the Go README (processor/groupbyattrsprocessor/README.md: "Grouping
//! metrics" and "Compaction"), and the same on logs.

use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{
    LogsBuilder, MetricsBuilder, Temporality, TracesBuilder,
};
use tributary_pipeline_core::pdata::data_point::MetricExt;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::{Logs, Metrics, SignalData, Traces};
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "groupbyattrs".parse().unwrap(), None)
}

async fn run<T: SignalData>(yaml: &str, data: T) -> T {
    let config: Config = load_config(yaml).unwrap();
    config.validate().unwrap();
    let sink = Sink::<T>::new();
    let processor = factory()
        .create::<T>(&settings(), &config, sink.next())
        .unwrap();
    processor.consume(data).await.unwrap();
    sink.received().pop().unwrap()
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs.iter().map(|(k, v)| key_value(*k, *v)).collect()
}

/// The input of "Grouping metrics".
fn readme_metrics() -> Metrics {
    let mut b = MetricsBuilder::new();
    b.resource(attrs(&[("host.name", "localhost"), ("source", "prom")]));
    let a = || attrs(&[("host.name", "host-A"), ("id", "eth0")]);
    let bb = || attrs(&[("host.name", "host-B"), ("id", "eth0")]);
    for _ in 0..2 {
        b.gauge("gauge-1", "")
            .int(a(), 1, 1)
            .int(a(), 2, 2)
            .int(bb(), 1, 3);
    }
    b.gauge("mixed-type", "")
        .int(a(), 1, 1)
        .int(a(), 2, 2)
        .int(bb(), 1, 3);
    b.sum("mixed-type", "", Temporality::Cumulative, true)
        .int(a(), 0, 1, 1)
        .int(a(), 0, 2, 2);
    b.gauge("dont-move", "").int(attrs(&[("id", "eth0")]), 1, 1);
    b.build()
}

#[tokio::test]
async fn the_readme_grouping_metrics_example() {
    let out = run("keys: [host.name]", readme_metrics())
        .await
        .into_request();
    assert_eq!(out.resource_metrics.len(), 3);
    let by_host = |host: &str| {
        out.resource_metrics
            .iter()
            .find(|rm| {
                rm.resource
                    .as_ref()
                    .unwrap()
                    .attributes
                    .get_str("host.name")
                    == Some(host)
            })
            .unwrap()
    };
    // name, kind, points
    let shape = |host: &str| -> Vec<(String, &'static str, usize)> {
        let rm = by_host(host);
        assert_eq!(
            rm.resource.as_ref().unwrap().attributes.get_str("source"),
            Some("prom")
        );
        assert_eq!(rm.scope_metrics.len(), 1);
        rm.scope_metrics[0]
            .metrics
            .iter()
            .map(|m| {
                for point in m.data_points() {
                    assert_eq!(point.attributes(), attrs(&[("id", "eth0")]).as_slice());
                }
                let kind = match m.data {
                    Some(Data::Gauge(_)) => "gauge",
                    Some(Data::Sum(_)) => "sum",
                    _ => "other",
                };
                (m.name.clone(), kind, m.data_points().count())
            })
            .collect()
    };
    assert_eq!(shape("localhost"), [("dont-move".to_string(), "gauge", 1)]);
    assert_eq!(
        shape("host-A"),
        [
            ("gauge-1".to_string(), "gauge", 4),
            ("mixed-type".to_string(), "gauge", 2),
            ("mixed-type".to_string(), "sum", 2)
        ]
    );
    assert_eq!(
        shape("host-B"),
        [
            ("gauge-1".to_string(), "gauge", 2),
            ("mixed-type".to_string(), "gauge", 1)
        ]
    );
}

/// A scope's name and the names of its spans.
type ScopeSpanNames = (String, Vec<String>);

/// The input of "Compaction": spans 1..=5 under four resources.
fn readme_spans() -> Traces {
    let mut b = TracesBuilder::new();
    b.resource(attrs(&[("host.name", "localhost")]));
    b.scope("MyLibrary", "");
    b.span("1", [1; 16], [1; 8]);
    b.scope("OtherLibrary", "");
    b.span("2", [1; 16], [2; 8]);
    for (span, host) in [("3", "localhost"), ("4", "localhost"), ("5", "otherhost")] {
        b.resource(attrs(&[("host.name", host)]));
        b.scope("MyLibrary", "");
        b.span(span, [1; 16], [span.as_bytes()[0]; 8]);
    }
    b.build()
}

#[tokio::test]
async fn the_readme_compaction_example() {
    let out = run("{}", readme_spans()).await.into_request();
    let layout: Vec<(String, Vec<ScopeSpanNames>)> = out
        .resource_spans
        .iter()
        .map(|rs| {
            let host = rs
                .resource
                .as_ref()
                .unwrap()
                .attributes
                .get_str("host.name")
                .unwrap()
                .to_string();
            let scopes = rs
                .scope_spans
                .iter()
                .map(|ss| {
                    let name = ss.scope.as_ref().unwrap().name.clone();
                    (name, ss.spans.iter().map(|s| s.name.clone()).collect())
                })
                .collect();
            (host, scopes)
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        layout,
        vec![
            (
                "localhost".to_string(),
                vec![
                    ("MyLibrary".to_string(), s(&["1", "3", "4"])),
                    ("OtherLibrary".to_string(), s(&["2"]))
                ]
            ),
            (
                "otherhost".to_string(),
                vec![("MyLibrary".to_string(), s(&["5"]))]
            ),
        ]
    );
}

#[tokio::test]
async fn log_attributes_move_to_the_resource_and_override_it() {
    let mut b = LogsBuilder::new();
    b.resource(attrs(&[("host.name", "collector"), ("env", "prod")]));
    b.record("a")
        .attributes(attrs(&[("host.name", "web-1"), ("level", "info")]));
    b.record("b").attributes(attrs(&[("host.name", "web-2")]));
    b.record("c").attributes(attrs(&[("host.name", "web-1")]));
    b.record("d").attributes(attrs(&[("level", "debug")]));
    let out = run("keys: [host.name]", b.build()).await.into_request();
    let summary: Vec<(String, usize)> = out
        .resource_logs
        .iter()
        .map(|rl| {
            let resource = &rl.resource.as_ref().unwrap().attributes;
            assert_eq!(resource.get_str("env"), Some("prod"));
            let records = &rl.scope_logs[0].log_records;
            assert!(
                records
                    .iter()
                    .all(|r| !r.attributes.contains_key("host.name"))
            );
            (
                resource.get_str("host.name").unwrap().to_string(),
                records.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("web-1".to_string(), 2),
            ("web-2".to_string(), 1),
            ("collector".to_string(), 1)
        ]
    );
}

#[tokio::test]
async fn resources_with_the_same_attributes_in_another_order_merge() {
    let mut b = LogsBuilder::new();
    b.resource(attrs(&[("a", "1"), ("b", "2")]));
    b.record("x");
    b.resource(attrs(&[("b", "2"), ("a", "1")]));
    b.record("y");
    let out: Logs = run("{}", b.build()).await;
    assert_eq!(out.request().resource_logs.len(), 1);
    assert_eq!(out.item_count(), 2);
}

#[tokio::test]
async fn the_groupbyattrs_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "keys: [host.name]").await;
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::groupbyattrs::group::regroup_records;

    /// Log records under two resources: (resource, [(key, value)]).
    fn records() -> impl Strategy<Value = Vec<(u8, Vec<(u8, u8)>)>> {
        prop::collection::vec(
            (0u8..2, prop::collection::vec((0u8..4, 0u8..3), 0..4)),
            0..30,
        )
    }

    fn build(records: &[(u8, Vec<(u8, u8)>)]) -> Logs {
        let mut b = LogsBuilder::new();
        for (index, (resource, attributes)) in records.iter().enumerate() {
            b.resource(vec![key_value("r", resource.to_string())]);
            let mut kvs: Vec<KeyValue> = Vec::new();
            for (k, v) in attributes {
                let key = format!("k{k}");
                if !kvs.iter().any(|kv| kv.key == key) {
                    kvs.push(key_value(key, v.to_string()));
                }
            }
            b.record(index.to_string()).attributes(kvs);
        }
        b.build()
    }

    proptest! {
        // Every record survives once; it carries no grouping key any more, and its resource
        // holds the values it carried; resources are distinct.
        #[test]
        fn records_move_with_their_keys_and_none_is_lost(records in records()) {
            let keys = vec!["k0".to_string(), "k1".to_string()];
            let original = build(&records);
            let mut request = original.request().clone();
            regroup_records(&mut request, &keys, |r| &mut r.attributes);
            let mut seen = Vec::new();
            let mut resources = Vec::new();
            for rl in &request.resource_logs {
                let resource = &rl.resource.as_ref().unwrap().attributes;
                let mut sorted: Vec<String> = resource.iter().map(|kv| format!("{kv:?}")).collect();
                sorted.sort();
                resources.push(sorted);
                for record in rl.scope_logs.iter().flat_map(|sl| &sl.log_records) {
                    let body = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                        Some(tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::StringValue(s)) => s.parse::<usize>().unwrap(),
                        _ => panic!("a body"),
                    };
                    let (r, attributes) = &records[body];
                    let r = r.to_string();
                    prop_assert_eq!(resource.get_str("r"), Some(r.as_str()));
                    for key in &keys {
                        prop_assert!(!record.attributes.contains_key(key));
                        let carried = attributes.iter().find(|(k, _)| format!("k{k}") == *key).map(|(_, v)| v.to_string());
                        prop_assert_eq!(resource.get_str(key).map(str::to_string), carried);
                    }
                    seen.push(body);
                }
            }
            seen.sort();
            prop_assert_eq!(seen, (0..records.len()).collect::<Vec<_>>());
            let count = resources.len();
            resources.sort();
            resources.dedup();
            prop_assert_eq!(resources.len(), count);
        }
    }
}
