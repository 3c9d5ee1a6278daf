//! The temporality processors end to end, with the OpenTelemetry Python SDK as the sender:
//! - delta counters, up-down counters and histograms → the gateway with
//!   `deltatocumulative` → the `prometheus` exporter, scraped over HTTP: the totals are
//!   what the SDK recorded (the exporter would drop the delta up-down counter itself);
//! - cumulative counters → `cumulativetodelta` → the file exporter: the deltas add up to
//!   what the SDK recorded, each over its own interval.
mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Starts the gateway with `body` (processors, exporters, pipelines) after an OTLP/HTTP
/// receiver on a free port; returns it and the OTLP endpoint.
fn gateway(dir: &Path, body: &str) -> (Proc, String) {
    let otlp = free_port();
    let config = dir.join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{otlp}" }}
{body}
"#
        ),
    )
    .unwrap();
    let mut process = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let endpoint = format!("127.0.0.1:{otlp}");
    wait_serving(
        &mut process,
        endpoint.parse().unwrap(),
        Duration::from_secs(60),
    );
    (process, endpoint)
}

#[test]
fn delta_counters_through_deltatocumulative_reach_prometheus_as_totals() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let port = free_port();
    let (mut gateway, endpoint) = gateway(
        dir.path(),
        &format!(
            r#"
processors:
  deltatocumulative:
    max_stale: 5m
exporters:
  prometheus: {{ endpoint: "127.0.0.1:{port}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [otlp], processors: [deltatocumulative], exporters: [prometheus] }}
"#
        ),
    );
    let scrape: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_serving(&mut gateway, scrape, Duration::from_secs(10));
    let sent = run_python(
        &python,
        "send_temporality.py",
        &["--endpoint", &endpoint, "--temporality", "delta"],
    )
    .report;

    let want_a = sent["requests"]["/a"].as_f64().unwrap();
    let want_b = sent["requests"]["/b"].as_f64().unwrap();
    let want_count = sent["latency_count"].as_f64().unwrap();
    let page = eventually(
        "the totals on the scrape page",
        Duration::from_secs(20),
        || {
            let page = get(scrape, "/metrics").text();
            let a = metric(&page, "t_requests_total", &[("route", "/a")]);
            let b = metric(&page, "t_requests_total", &[("route", "/b")]);
            (a == want_a && b == want_b).then_some(page)
        },
    );
    // The histogram's deltas add up as well: count, sum and every bucket.
    assert_eq!(
        metric(&page, "t_latency_seconds_count", &[]),
        want_count,
        "{page}"
    );
    let sum = metric(&page, "t_latency_seconds_sum", &[]);
    let want_sum = sent["latency_sum"].as_f64().unwrap();
    assert!((sum - want_sum).abs() < 1e-9, "{sum} != {want_sum}\n{page}");
    // Recorded: 0.05 0.3 | 0.7 | 2.0 0.09 0.4 | 0.2.
    for (le, want) in [("0.1", 2.0), ("0.5", 5.0), ("1", 6.0), ("+Inf", 7.0)] {
        assert_eq!(
            metric(&page, "t_latency_seconds_bucket", &[("le", le)]),
            want,
            "le={le}\n{page}"
        );
    }
    // A delta up-down counter has no cumulative meaning to the exporter, which drops it
    // (as Go's does): only deltatocumulative's totals make it a series.
    assert_eq!(
        metric(&page, "t_queue", &[]),
        sent["queue"].as_f64().unwrap(),
        "{page}"
    );
    assert!(gateway.is_running());
}

/// The sum points of `name` in the file, as (start, time, value, temporality), in order.
fn sum_points(out: &Path, name: &str, route: &str) -> Vec<(u64, u64, f64, i64)> {
    let mut points = Vec::new();
    for line in read_json_lines(out) {
        for rm in line["resourceMetrics"].as_array().into_iter().flatten() {
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in sm["metrics"].as_array().into_iter().flatten() {
                    if metric["name"] != name {
                        continue;
                    }
                    let sum = &metric["sum"];
                    for point in sum["dataPoints"].as_array().into_iter().flatten() {
                        if !attribute_is(&point["attributes"], "route", route) {
                            continue;
                        }
                        points.push((
                            number(&point["startTimeUnixNano"]) as u64,
                            number(&point["timeUnixNano"]) as u64,
                            number(point.get("asInt").unwrap_or(&point["asDouble"])),
                            sum["aggregationTemporality"].as_i64().unwrap_or(0),
                        ));
                    }
                }
            }
        }
    }
    points
}

fn attribute_is(attributes: &Value, key: &str, want: &str) -> bool {
    attributes
        .as_array()
        .into_iter()
        .flatten()
        .any(|kv| kv["key"] == key && kv["value"]["stringValue"].as_str() == Some(want))
}

/// OTLP/JSON numbers: 64-bit integers are strings.
fn number(value: &Value) -> f64 {
    match value {
        Value::String(text) => text.parse().unwrap(),
        other => other.as_f64().unwrap_or(f64::NAN),
    }
}

#[test]
fn cumulative_counters_through_cumulativetodelta_reach_the_file_as_deltas() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let (mut gateway, endpoint) = gateway(
        dir.path(),
        &format!(
            r#"
processors:
  cumulativetodelta:
    include:
      match_type: strict
      metrics: [t.requests]
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [otlp], processors: [cumulativetodelta], exporters: [file] }}
"#,
            out.display()
        ),
    );
    let sent = run_python(
        &python,
        "send_temporality.py",
        &["--endpoint", &endpoint, "--temporality", "cumulative"],
    )
    .report;

    for route in ["/a", "/b"] {
        let want = sent["requests"][route].as_f64().unwrap();
        // The SDK's counters started after the gateway did, so `initial_value: auto`
        // sends their first points whole: the deltas add up to the totals.
        let points = eventually(
            &format!("the deltas of {route} adding up to {want}"),
            Duration::from_secs(20),
            || {
                let points = sum_points(&out, "t.requests", route);
                let total: f64 = points.iter().map(|p| p.2).sum();
                (total == want).then_some(points)
            },
        );
        // Delta temporality (1), and intervals that follow one another.
        assert!(points.iter().all(|p| p.3 == 1), "{points:?}");
        for pair in points.windows(2) {
            assert_eq!(
                pair[1].0, pair[0].1,
                "each delta starts where the last ended"
            );
        }
    }
    // The histogram was not included: still cumulative.
    let histogram_temporalities: Vec<i64> = read_json_lines(&out)
        .iter()
        .flat_map(|line| {
            line["resourceMetrics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|rm| rm["scopeMetrics"].as_array().cloned().unwrap_or_default())
        .flat_map(|sm| sm["metrics"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["name"] == "t.latency")
        .map(|m| {
            m["histogram"]["aggregationTemporality"]
                .as_i64()
                .unwrap_or(0)
        })
        .collect();
    assert!(!histogram_temporalities.is_empty());
    assert!(
        histogram_temporalities.iter().all(|&t| t == 2),
        "{histogram_temporalities:?}"
    );
    assert!(gateway.is_running());
}
