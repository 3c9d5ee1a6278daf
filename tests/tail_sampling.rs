//! The tail_sampling processor end to end: the OpenTelemetry Python SDK sends traces
//! whose spans arrive in three export batches, the gateway holds them for
//! `decision_wait`, and the file exporter shows exactly the kept traces, whole.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::*;

fn gateway_config(grpc: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
processors:
  tail_sampling:
    decision_wait: 2s
    num_traces: 1000
    policies:
      - name: errors
        type: status_code
        status_code: {{ status_codes: [ERROR] }}
      - name: gold
        type: string_attribute
        string_attribute: {{ key: tier, values: [gold] }}
      - name: no-health-checks
        type: drop
        drop:
          drop_sub_policy:
            - name: health
              type: boolean_attribute
              boolean_attribute: {{ key: health, value: true }}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [tail_sampling], exporters: [file] }}
"#,
        out.display()
    )
}

/// Hex trace ID → spans in the file.
fn spans_by_trace(out: &Path) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    for line in read_json_lines(out) {
        for rs in line["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    let id = span["traceId"].as_str().unwrap_or_default().to_lowercase();
                    *found.entry(id).or_insert(0) += 1;
                }
            }
        }
    }
    found
}

#[test]
fn python_sdk_traces_are_kept_or_dropped_whole_by_policies() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let grpc = free_port();
    std::fs::write(&config, gateway_config(grpc, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );
    let endpoint = format!("127.0.0.1:{grpc}");
    let PythonRun { report, stderr } = run_python(
        &python,
        "send_trace_waves.py",
        &["--endpoint", &endpoint, "--traces", "12"],
    );
    assert!(!stderr.contains("Failed to export"), "{stderr}");
    let ids = |names: &[usize]| -> BTreeSet<String> {
        names
            .iter()
            .map(|i| {
                report["traces"][format!("t{i}")]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    // Errors (t0, t4; t8 is an error but a health check, dropped) and gold (t1, t5, t9).
    let want = ids(&[0, 1, 4, 5, 9]);

    // The timer decides them after decision_wait, with all three waves' spans.
    let kept = eventually(
        "the kept traces in the file",
        Duration::from_secs(30),
        || {
            let found = spans_by_trace(&out);
            (found.keys().cloned().collect::<BTreeSet<_>>() == want
                && found.values().all(|n| *n == 3))
            .then_some(found)
        },
    );
    assert_eq!(kept.len(), 5);

    // Shutdown decides whatever is still pending: nothing else may appear.
    gateway.signal("TERM");
    assert!(gateway.wait_exit(Duration::from_secs(30)).success());
    let found = spans_by_trace(&out);
    assert_eq!(
        found.keys().cloned().collect::<BTreeSet<_>>(),
        want,
        "{found:?}"
    );
    assert!(found.values().all(|n| *n == 3), "{found:?}");
}
