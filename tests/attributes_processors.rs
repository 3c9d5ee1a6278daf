//! The `attributes`, `resource` and `redaction` processors end to end: the Python OTel SDK
//! sends spans and logs over OTLP/HTTP (with an `x-tenant` header) through the gateway,
//! and the file exporter's output shows each processor's work.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn config(http: u16, out: &std::path::Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http}
        include_metadata: true
processors:
  attributes:
    include:
      match_type: strict
      resources: [{{key: service.name, value: checkout}}]
    actions:
      - {{key: tenant, from_context: metadata.x-tenant, action: insert}}
      - {{key: user.email, action: hash}}
      - {{key: db.statement, action: delete}}
      - {{key: http.url, pattern: '^(?P<http_scheme>[a-z]+)://(?P<http_host>[^/]+)', action: extract}}
      - {{key: http.status_code, converted_type: int, action: convert}}
  resource:
    attributes:
      - {{key: deployment.environment, value: e2e, action: upsert}}
      - {{key: host.secret, action: delete}}
  redaction:
    allow_all_keys: true
    blocked_values: ["4[0-9]{{12}}(?:[0-9]{{3}})?", "5[1-5][0-9]{{14}}"]
    summary: debug
exporters:
  file:
    path: {out}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [resource, attributes, redaction]
      exporters: [file]
    logs:
      receivers: [otlp]
      processors: [resource, attributes, redaction]
      exporters: [file]
"#,
        out = out.display()
    )
}

/// `[{key, value: {stringValue|intValue: ...}}]` as (key, value) pairs.
fn attributes(list: &Value) -> Vec<(String, Value)> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|kv| {
                    let value = kv["value"]
                        .as_object()
                        .and_then(|v| v.values().next().cloned())
                        .unwrap_or(Value::Null);
                    (kv["key"].as_str().unwrap_or_default().to_string(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn get<'a>(attributes: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Every (resource attributes, item) in the file, for `resource_key` / `scope_key` /
/// `items_key` (`resourceSpans`, `scopeSpans`, `spans` or the logs' equivalents).
fn items(lines: &[Value], keys: [&str; 3]) -> Vec<(Vec<(String, Value)>, Value)> {
    let mut found = Vec::new();
    for line in lines {
        for resource in line[keys[0]].as_array().into_iter().flatten() {
            let resource_attributes = attributes(&resource["resource"]["attributes"]);
            for scope in resource[keys[1]].as_array().into_iter().flatten() {
                for item in scope[keys[2]].as_array().into_iter().flatten() {
                    found.push((resource_attributes.clone(), item.clone()));
                }
            }
        }
    }
    found
}

#[test]
fn the_sdks_spans_and_logs_come_out_edited_hashed_and_redacted() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let http = free_port();
    let path = dir.path().join("gateway.yaml");
    std::fs::write(&path, config(http, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    );
    let addr = format!("127.0.0.1:{http}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));

    let sent = run_python(
        &python,
        "send_attributes.py",
        &["--endpoint", &addr.to_string(), "--run-id", "attrs"],
    )
    .report;
    let span_name = sent["spans"][0].as_str().unwrap().to_string();
    let body = sent["logs"][0].as_str().unwrap().to_string();

    let (spans, logs) = eventually(
        "the span and the log in the file",
        Duration::from_secs(60),
        || {
            let lines = read_json_lines(&out);
            let spans = items(&lines, ["resourceSpans", "scopeSpans", "spans"]);
            let logs = items(&lines, ["resourceLogs", "scopeLogs", "logRecords"]);
            (!spans.is_empty() && !logs.is_empty()).then_some((spans, logs))
        },
    );

    let (resource, span) = &spans[0];
    assert_eq!(span["name"], span_name.as_str());
    let span_attributes = attributes(&span["attributes"]);
    // resource: upserted and deleted.
    assert_eq!(
        get(resource, "deployment.environment"),
        Some(&Value::from("e2e"))
    );
    assert_eq!(get(resource, "host.secret"), None);
    // attributes: from the request's metadata, hashed (SHA-256 of the address), deleted,
    // extracted, converted (OTLP/JSON writes 64-bit integers as strings).
    assert_eq!(get(&span_attributes, "tenant"), Some(&Value::from("acme")));
    assert_eq!(
        get(&span_attributes, "user.email"),
        Some(&Value::from(
            "72497f475e4f76d0b28f57c73a084ece576d170874eba3ee2609d9afe4b71aab"
        ))
    );
    assert_eq!(get(&span_attributes, "db.statement"), None);
    assert_eq!(
        get(&span_attributes, "http_scheme"),
        Some(&Value::from("https"))
    );
    assert_eq!(
        get(&span_attributes, "http_host"),
        Some(&Value::from("shop.example.com"))
    );
    let status = get(&span_attributes, "http.status_code").unwrap();
    assert!(
        status == &Value::from("200") || status == &Value::from(200),
        "{status}"
    );
    assert!(
        span["attributes"].to_string().contains("intValue"),
        "{}",
        span["attributes"]
    );
    // redaction: the card number masked, with its summary.
    assert_eq!(
        get(&span_attributes, "note"),
        Some(&Value::from("paid with ****"))
    );
    assert_eq!(
        get(&span_attributes, "redaction.masked.keys"),
        Some(&Value::from("note"))
    );

    let (resource, log) = &logs[0];
    assert_eq!(log["body"]["stringValue"], body.as_str());
    assert_eq!(
        get(resource, "deployment.environment"),
        Some(&Value::from("e2e"))
    );
    let log_attributes = attributes(&log["attributes"]);
    assert_eq!(get(&log_attributes, "tenant"), Some(&Value::from("acme")));
    assert_eq!(
        get(&log_attributes, "user.email"),
        Some(&Value::from(
            "72497f475e4f76d0b28f57c73a084ece576d170874eba3ee2609d9afe4b71aab"
        ))
    );
    assert_eq!(get(&log_attributes, "card"), Some(&Value::from("****")));
    assert_eq!(
        get(&log_attributes, "redaction.masked.count")
            .map(Value::to_string)
            .as_deref(),
        Some("\"1\"")
    );
}
