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

/// Ten policies that keep about 1 % of traces, as a gateway would run them.
const TEN_POLICIES: &str = r#"
    policies:
      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
      - { name: slow, type: latency, latency: { threshold_ms: 5000 } }
      - { name: big, type: span_count, span_count: { min_spans: 100 } }
      - { name: vip, type: string_attribute, string_attribute: { key: customer, values: [vip] } }
      - { name: regex, type: string_attribute, string_attribute: { key: http.route, values: ["^/admin"], enabled_regex_matching: true } }
      - { name: retries, type: numeric_attribute, numeric_attribute: { key: retries, min_value: 3 } }
      - { name: debug, type: boolean_attribute, boolean_attribute: { key: debug, value: true } }
      - { name: state, type: trace_state, trace_state: { key: vendor, values: [keep] } }
      - { name: some, type: probabilistic, probabilistic: { sampling_percentage: 1 } }
      - name: no-health
        type: drop
        drop: { drop_sub_policy: [ { name: h, type: string_attribute, string_attribute: { key: http.route, values: [/health] } } ] }
"#;

/// Runs a gateway (with `processors` in its traces pipeline), sends `traces` one-span
/// traces in requests of 500 spans, and returns (peak RSS in KiB, its metrics page).
fn load(processors: &str, tail_sampling: &str, traces: u64) -> (u64, String) {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let grpc = free_port();
    let metrics = free_port();
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
processors:
  tail_sampling:
{tail_sampling}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    traces: {{ receivers: [otlp], processors: [{processors}], exporters: [file] }}
"#,
            out.display()
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let addr = format!("127.0.0.1:{grpc}").parse().unwrap();
    wait_listening(addr, Duration::from_secs(20));
    let mut client = OtlpClient::new(addr);
    for batch in 0..traces / 500 {
        let first = batch * 500;
        client.export(spans_request(first..first + 500, 0)).unwrap();
    }
    let page = get(format!("127.0.0.1:{metrics}").parse().unwrap(), "/metrics").text();
    let peak = gateway.peak_rss_kib().expect("peak RSS");
    assert!(gateway.is_running());
    (peak, page)
}

/// `num_traces` bounds what the processor holds: 100,000 new traces through a gateway
/// holding at most 1,000 leave 1,000 on memory and 99,000 decided early. Prints the
/// peak RSS next to a pass-through gateway's under the same load (not asserted: RSS
/// depends on the allocator and the machine).
#[test]
fn num_traces_bounds_memory_under_a_stream_of_new_traces() {
    let traces = 100_000;
    let config = format!("    decision_wait: 1h\n    num_traces: 1000\n{TEN_POLICIES}");
    let (bounded, page) = load("tail_sampling", &config, traces);
    let on_memory = metric(
        &page,
        "otelcol_processor_tail_sampling_sampling_traces_on_memory",
        &[],
    );
    let early = metric(
        &page,
        "otelcol_processor_tail_sampling_sampling_traces_decided_early",
        &[],
    );
    assert_eq!(on_memory, 1000.0, "{page}");
    assert_eq!(early, (traces - 1000) as f64, "{page}");
    let (plain, _) = load("", &config, traces);
    // For contrast: a bound above the load holds every trace.
    let unbounded = format!("    decision_wait: 1h\n    num_traces: 1000000\n{TEN_POLICIES}");
    let (holding_all, _) = load("tail_sampling", &unbounded, traces);
    eprintln!(
        "peak RSS, {traces} one-span traces: tail_sampling (num_traces 1000, 10 policies) {bounded} KiB, pass-through {plain} KiB (ratio {:.2}); holding all {traces} traces {holding_all} KiB",
        bounded as f64 / plain as f64
    );
}
