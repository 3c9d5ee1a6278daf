//! The `json_lines` exporter, tested through the public `testing` module only.

use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing::{check_exporter, settings};
use tributary_plugin_example::json_lines::{Config, factory};

#[tokio::test]
async fn passes_the_conformance_suite() {
    check_exporter(factory(), "path: \"{dir}/out.jsonl\"").await;
}

#[tokio::test]
async fn each_batch_is_one_otlp_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let config = load_config::<Config>(&format!(
        "path: {}\nsending_queue: {{ enabled: false }}",
        path.display()
    ))
    .unwrap();
    let exporter = factory()
        .create::<Logs>(&settings::<Logs>(Kind::Exporter, "json_lines"), &config)
        .unwrap();
    exporter.start(&Host::default()).await.unwrap();
    for body in ["first", "second"] {
        let mut logs = LogsBuilder::new();
        logs.record(body);
        exporter.consume(logs.build()).await.unwrap();
    }
    exporter.shutdown().await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains("\"stringValue\":\"first\"") && lines[1].contains("second"),
        "{text}"
    );
}

#[test]
fn the_helper_keys_sit_at_the_top_and_unknown_ones_are_refused_with_their_path() {
    let config =
        load_config::<Config>("path: x\ntimeout: 2s\nsending_queue: { queue_size: 7 }").unwrap();
    assert_eq!(config.helper.timeout, std::time::Duration::from_secs(2));
    assert_eq!(config.helper.sending_queue.queue_size, 7);
    let error = load_config::<Config>("path: x\nsending_queue: { queue_sise: 7 }").unwrap_err();
    assert!(
        error.to_string().contains("sending_queue::queue_sise"),
        "{error}"
    );
    let error = load_config::<Config>("path: x\ntimeuot: 2s").unwrap_err();
    assert!(error.to_string().contains("timeuot"), "{error}");
}
