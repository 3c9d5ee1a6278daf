//! The `metricstransform`, `groupbyattrs` and `interval` processors end to end: the Python
//! OTel SDK sends host metrics over OTLP/HTTP (cumulative, three exports) through the
//! gateway, and the file exporter's output shows the metrics renamed and aggregated, the
//! points regrouped under one resource per host, and only the latest point of each
//! cumulative stream sent, once per interval (or at shutdown).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn config(http: u16, held: &Path, ticking: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http}
processors:
  metricstransform:
    transforms:
      - include: system.cpu.time
        action: update
        new_name: system.cpu.seconds
        operations:
          - action: aggregate_labels
            label_set: [state, host.name]
            aggregation_type: sum
      - include: system.memory.usage
        action: update
        operations:
          - action: aggregate_label_values
            label: state
            aggregated_values: [slab_reclaimable, slab_unreclaimable]
            new_value: slab
            aggregation_type: sum
      - include: ^http\.server\.(.*)$$
        match_type: regexp
        action: insert
        new_name: web.$${{1}}
  groupbyattrs:
    keys: [host.name]
  interval/held:
    interval: 1h
  interval/ticking:
    interval: 1s
exporters:
  file/held:
    path: {held}
  file/ticking:
    path: {ticking}
service:
  pipelines:
    metrics/held:
      receivers: [otlp]
      processors: [metricstransform, groupbyattrs, interval/held]
      exporters: [file/held]
    metrics/ticking:
      receivers: [otlp]
      processors: [metricstransform, groupbyattrs, interval/ticking]
      exporters: [file/ticking]
"#,
        held = held.display(),
        ticking = ticking.display(),
    )
}

/// A data point as the file shows it: its metric, resource `host.name`, attributes and
/// value (a number's value, a histogram's count).
#[derive(Debug, Clone, PartialEq)]
struct Point {
    metric: String,
    host: String,
    service: String,
    attributes: BTreeMap<String, String>,
    value: f64,
}

fn string_of(value: &Value) -> String {
    value
        .as_object()
        .and_then(|v| v.values().next())
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .unwrap_or_default()
}

fn attributes(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            (
                kv["key"].as_str().unwrap_or_default().to_string(),
                string_of(&kv["value"]),
            )
        })
        .collect()
}

/// A JSON number, or a 64-bit integer written as a string (OTLP/JSON).
fn number(value: &Value) -> Option<f64> {
    value.as_f64().or_else(|| value.as_str()?.parse().ok())
}

fn points(lines: &[Value]) -> Vec<Point> {
    let mut found = Vec::new();
    for line in lines {
        for rm in line["resourceMetrics"].as_array().into_iter().flatten() {
            let resource = attributes(&rm["resource"]["attributes"]);
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in sm["metrics"].as_array().into_iter().flatten() {
                    for kind in ["sum", "gauge", "histogram"] {
                        for point in metric[kind]["dataPoints"].as_array().into_iter().flatten() {
                            let value = if kind == "histogram" {
                                number(&point["count"])
                            } else {
                                number(&point["asInt"]).or_else(|| number(&point["asDouble"]))
                            };
                            found.push(Point {
                                metric: metric["name"].as_str().unwrap_or_default().to_string(),
                                host: resource.get("host.name").cloned().unwrap_or_default(),
                                service: resource.get("service.name").cloned().unwrap_or_default(),
                                attributes: attributes(&point["attributes"]),
                                value: value.unwrap_or(f64::NAN),
                            });
                        }
                    }
                }
            }
        }
    }
    found
}

fn of<'a>(points: &'a [Point], metric: &str, host: &str) -> Vec<&'a Point> {
    points
        .iter()
        .filter(|p| p.metric == metric && p.host == host)
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the sender reported: the final values it sent.
struct Sent {
    report: Value,
}

impl Sent {
    /// The CPU seconds of `host` in `state`, summed over its cpus.
    fn cpu(&self, host: &str, state: &str) -> f64 {
        ["0", "1"]
            .iter()
            .map(|cpu| number(&self.report["cpu"][format!("{host}|{cpu}|{state}")]).unwrap())
            .sum()
    }

    fn memory(&self, host: &str, state: &str) -> f64 {
        number(&self.report["memory"][format!("{host}|{state}")]).unwrap()
    }

    fn durations(&self, host: &str) -> f64 {
        number(&self.report["durations"][host]).unwrap()
    }
}

/// Checks the latest points of the held streams of one host against what was sent.
fn check_host(points: &[Point], sent: &Sent, host: &str, exactly_one_point: bool) {
    let cpu = of(points, "system.cpu.seconds", host);
    for state in ["idle", "user"] {
        let series: Vec<_> = cpu
            .iter()
            .filter(|p| p.attributes == labels(&[("state", state)]))
            .collect();
        assert!(
            !series.is_empty(),
            "{host} {state}: no cpu point in {points:#?}"
        );
        if exactly_one_point {
            assert_eq!(series.len(), 1, "{host} {state}: {series:#?}");
        }
        let latest = series.last().unwrap();
        assert_eq!(latest.value, sent.cpu(host, state), "{host} {state}");
        assert_eq!(latest.service, "hosts");
    }
    assert!(
        cpu.iter().all(|p| p.attributes.len() == 1),
        "cpu and host.name are gone from the points: {cpu:#?}"
    );
    let memory = of(points, "system.memory.usage", host);
    let latest = |state: &str| {
        memory
            .iter()
            .rfind(|p| p.attributes == labels(&[("state", state)]))
            .unwrap_or_else(|| panic!("{host}: no memory {state} in {memory:#?}"))
            .value
    };
    assert_eq!(
        latest("slab"),
        sent.memory(host, "slab_reclaimable") + sent.memory(host, "slab_unreclaimable")
    );
    assert_eq!(latest("used"), sent.memory(host, "used"));
    for name in ["http.server.duration", "web.duration"] {
        let histogram = of(points, name, host);
        assert!(!histogram.is_empty(), "{host}: no {name}");
        assert_eq!(
            histogram.last().unwrap().value,
            sent.durations(host),
            "{name}"
        );
        assert!(histogram.iter().all(|p| p.attributes.is_empty()));
    }
}

const HOSTS: [&str; 2] = ["web-1", "web-2"];

/// The metrics the interval processor holds (the up-down counter passes through).
const HELD: [&str; 4] = [
    "system.cpu.seconds",
    "system.memory.usage",
    "http.server.duration",
    "web.duration",
];

#[test]
fn the_sdks_host_metrics_come_out_renamed_aggregated_regrouped_and_once_per_interval() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let held = dir.path().join("held.jsonl");
    let ticking = dir.path().join("ticking.jsonl");
    let http = free_port();
    let path = dir.path().join("gateway.yaml");
    std::fs::write(&path, config(http, &held, &ticking)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    );
    let addr = format!("127.0.0.1:{http}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));

    let sent = Sent {
        report: run_python(
            &python,
            "send_host_metrics.py",
            &["--endpoint", &addr.to_string(), "--run-id", "hosts"],
        )
        .report,
    };

    // The 1s interval sends the latest values without waiting for shutdown.
    eventually(
        "the ticking pipeline's latest values",
        Duration::from_secs(60),
        || {
            let points = points(&read_json_lines(&ticking));
            let done = HOSTS.iter().all(|host| {
                of(&points, "system.cpu.seconds", host).iter().any(|p| {
                    p.attributes == labels(&[("state", "idle")])
                        && p.value == sent.cpu(host, "idle")
                })
            });
            done.then(|| {
                for host in HOSTS {
                    check_host(&points, &sent, host, false);
                }
            })
        },
    );

    // The up-down counter (not monotonic) passes straight through: once the held pipeline
    // has written it from all three exports, everything was received, and the held
    // streams are still held.
    let before = eventually(
        "the pass-through metric of every export",
        Duration::from_secs(60),
        || {
            let points = points(&read_json_lines(&held));
            HOSTS
                .iter()
                .all(|host| of(&points, "queue.depth", host).len() == 3)
                .then_some(points)
        },
    );
    for host in HOSTS {
        let depth: Vec<f64> = of(&before, "queue.depth", host)
            .iter()
            .map(|p| p.value)
            .collect();
        assert_eq!(depth, [1.0, 3.0, 3.0], "{host}");
    }
    assert!(
        before.iter().all(|p| !HELD.contains(&p.metric.as_str())),
        "nothing held is sent before the interval: {before:#?}"
    );
    assert!(before.iter().all(|p| p.metric != "system.cpu.time"));

    // Shutdown sends what is held: one point per stream, the latest.
    gateway.signal("TERM");
    assert!(gateway.wait_exit(Duration::from_secs(30)).success());
    let after = points(&read_json_lines(&held));
    for host in HOSTS {
        check_host(&after, &sent, host, true);
        for name in HELD {
            let series = of(&after, name, host);
            let mut streams: Vec<_> = series.iter().map(|p| &p.attributes).collect();
            let count = streams.len();
            streams.sort();
            streams.dedup();
            assert_eq!(streams.len(), count, "{host} {name}: one point per stream");
        }
    }
    assert!(
        after.iter().all(|p| HOSTS.contains(&p.host.as_str())),
        "every point moved to its host's resource"
    );
}
