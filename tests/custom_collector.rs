//! The custom collector (built-in components plus the third-party `add_attributes`
//! processor from `examples/plugin-crate`) runs a pipeline through the plugin.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn the_plugin_processor_stamps_every_span() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let (grpc, http_port) = (free_port(), free_port());
    let args = [
        format!("--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"),
        format!("--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{http_port}"),
        format!("--set=exporters.file.path={}", out.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut collector = Proc::spawn(
        &example("custom_collector"),
        &args,
        &[("DEPLOYMENT_ENV", "staging")],
    );
    let addr = format!("127.0.0.1:{http_port}").parse().unwrap();
    wait_listening(addr, Duration::from_secs(20));

    let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
        "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"checkout"}]}]}]}"#;
    let response = http(
        "POST",
        addr,
        "/v1/traces",
        &[("Content-Type", "application/json")],
        body,
    );
    assert_eq!(response.status, 200, "{}", response.text());

    let lines = eventually("the span in the file", Duration::from_secs(10), || {
        let lines = read_json_lines(&out);
        (!lines.is_empty()).then_some(lines)
    });
    let resource = &lines[0]["resourceSpans"][0]["resource"]["attributes"];
    let span = &lines[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    let has = |attributes: &serde_json::Value, key: &str, value: &str| {
        attributes.as_array().is_some_and(|a| {
            a.iter()
                .any(|kv| kv["key"] == key && kv["value"]["stringValue"] == value)
        })
    };
    assert!(
        has(resource, "deployment.environment", "staging"),
        "{resource}"
    );
    assert!(has(resource, "service.name", "shop"), "{resource}");
    assert!(
        has(&span["attributes"], "collected.by", "custom-collector"),
        "{span}"
    );
    assert_eq!(span["name"], "checkout");
    assert!(collector.is_running());
}
