use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, TracesBuilder};
use tributary_pipeline_core::pdata::{Logs, Traces};
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "resource".parse().unwrap(), None)
}

// The example of processor/resourceprocessor/README.md.
const README_EXAMPLE: &str = r#"
attributes:
  - key: cloud.availability_zone
    value: "zone-1"
    action: upsert
  - key: k8s.cluster.name
    from_attribute: k8s-cluster
    action: insert
  - key: redundant-attribute
    action: delete
"#;

#[tokio::test]
async fn the_readme_example_edits_resources_of_every_signal() {
    let config: Config = load_config(README_EXAMPLE).unwrap();
    config.validate().unwrap();

    let mut traces = TracesBuilder::new();
    traces.resource(vec![
        key_value("k8s-cluster", "prod-1"),
        key_value("redundant-attribute", "x"),
    ]);
    traces
        .span("s", [1; 16], [1; 8])
        .attribute("redundant-attribute", "kept on spans");
    let sink = Sink::<Traces>::new();
    let processor = factory()
        .create::<Traces>(&settings(), &config, sink.next())
        .unwrap();
    processor.consume(traces.build()).await.unwrap();
    let out = sink.received().pop().unwrap();
    let (origin, span) = out.records().next().unwrap();
    let resource = origin.resource_attributes();
    assert_eq!(resource.get_str("cloud.availability_zone"), Some("zone-1"));
    assert_eq!(resource.get_str("k8s.cluster.name"), Some("prod-1"));
    assert!(!resource.contains_key("redundant-attribute"));
    assert!(span.attributes.contains_key("redundant-attribute"));

    // A batch that came without a resource gets one.
    let mut logs = LogsBuilder::new();
    logs.record("hello");
    let sink = Sink::<Logs>::new();
    let processor = factory()
        .create::<Logs>(&settings(), &config, sink.next())
        .unwrap();
    processor.consume(logs.build()).await.unwrap();
    let out = sink.received().pop().unwrap();
    let (origin, _) = out.records().next().unwrap();
    assert_eq!(
        origin
            .resource_attributes()
            .get_str("cloud.availability_zone"),
        Some("zone-1")
    );
}

#[test]
fn an_empty_or_invalid_list_is_refused() {
    assert_eq!(load_config::<Config>("").unwrap_err().path(), "attributes");
    let error =
        load_config::<Config>("attributes: [{key: a, action: hash, value: 1}]").unwrap_err();
    assert_eq!(error.path(), "attributes::0::value");
    assert!(load_config::<Config>("actions: []").is_err());
}

#[tokio::test]
async fn the_resource_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(
        factory(),
        "attributes: [{key: a, value: b, action: upsert}]",
    )
    .await;
}
