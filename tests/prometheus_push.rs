//! The `prometheus_push` receiver against real clients: the Python `prometheus_client`
//! package's `push_to_gateway`, `pushadd_to_gateway` and `delete_from_gateway` (what batch
//! jobs call), delimited protobuf written by the protobuf runtime from Prometheus's schema
//! (what Go's `client_golang` pushes; no Go toolchain here), and curl in SOFALookout's
//! `/prom/metrics` form. The gateway binary runs the
//! receiver into the file exporter, whose output shows what each push forwarded: samples,
//! staleness markers and push times.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// One forwarded point: `name{attrs}` and its value (`None` for a staleness marker).
#[derive(Debug, Clone, PartialEq)]
struct Point {
    series: String,
    value: Option<f64>,
    service: String,
    instance: String,
}

fn resource_attr(resource: &Value, key: &str) -> String {
    resource["resource"]["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The points of the file exporter's lines from `from` on.
fn points(out: &Path, from: usize) -> (usize, Vec<Point>) {
    let lines = read_json_lines(out);
    let mut points = Vec::new();
    for line in lines.iter().skip(from) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            let service = resource_attr(resource, "service.name");
            let instance = resource_attr(resource, "service.instance.id");
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    let name = metric["name"].as_str().unwrap_or_default();
                    let (data, value_key) = ["gauge", "sum", "histogram", "summary"]
                        .iter()
                        .find(|k| metric.get(**k).is_some())
                        .map(|k| {
                            let key = if *k == "histogram" || *k == "summary" {
                                "count"
                            } else {
                                "value"
                            };
                            (&metric[*k], key)
                        })
                        .expect("a known metric type");
                    for point in data["dataPoints"].as_array().into_iter().flatten() {
                        let mut attrs: Vec<String> = point["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|kv| {
                                format!(
                                    "{}={}",
                                    kv["key"].as_str().unwrap_or_default(),
                                    kv["value"]["stringValue"].as_str().unwrap_or_default()
                                )
                            })
                            .collect();
                        attrs.sort();
                        let stale = point["flags"].as_u64().unwrap_or(0) & 1 == 1;
                        let value = if value_key == "count" {
                            number(&point["count"])
                        } else {
                            number(&point["asDouble"]).or_else(|| number(&point["asInt"]))
                        };
                        points.push(Point {
                            series: format!("{name}{{{}}}", attrs.join(",")),
                            value: if stale { None } else { value },
                            service: service.clone(),
                            instance: instance.clone(),
                        });
                    }
                }
            }
        }
    }
    (lines.len(), points)
}

/// Waits for the batch a push forwarded (it carries `push_time_seconds`) after line
/// `*seen`, and returns its points by series, the push time left out.
fn next_push(out: &Path, seen: &mut usize) -> BTreeMap<String, Option<f64>> {
    let (lines, points) = eventually(
        "a push in the file exporter's output",
        Duration::from_secs(20),
        || {
            let (lines, points) = points(out, *seen);
            points
                .iter()
                .any(|p| p.series.starts_with("push_time_seconds"))
                .then_some((lines, points))
        },
    );
    *seen = lines;
    for point in &points {
        assert_eq!(point.service, "nightly", "{point:?}");
        assert_eq!(point.instance, "db/1", "{point:?}");
    }
    points
        .into_iter()
        .filter(|p| !p.series.starts_with("push_time_seconds"))
        .map(|p| (p.series, p.value))
        .collect()
}

fn push(python: &Path, gateway: &str, action: &str) -> Value {
    run_python(
        python,
        "push_gateway.py",
        &["--gateway", gateway, "--action", action],
    )
    .report
}

fn config(pushgateway: u16, lookout: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  prometheus_push:
    endpoint: "127.0.0.1:{pushgateway}"
  prometheus_push/lookout:
    endpoint: "127.0.0.1:{lookout}"
    path_prefix: /prom/metrics
    required_labels: [app, step]
    success_status: 202
exporters:
  file: {{ path: "{out}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [prometheus_push, prometheus_push/lookout], exporters: [file] }}
"#,
        out = out.display()
    )
}

fn start_gateway(dir: &Path) -> (Proc, String, String, std::path::PathBuf) {
    let out = dir.join("out.jsonl");
    let config_path = dir.join("gateway.yaml");
    let (pushgateway, lookout) = (free_port(), free_port());
    std::fs::write(&config_path, config(pushgateway, lookout, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config_path.to_str().unwrap()],
        &[],
    );
    for port in [pushgateway, lookout] {
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_serving(&mut gateway, addr, Duration::from_secs(30));
    }
    (
        gateway,
        format!("127.0.0.1:{pushgateway}"),
        format!("127.0.0.1:{lookout}"),
        out,
    )
}

#[test]
fn prometheus_client_pushes_replace_add_and_delete_groups() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let (mut gateway, endpoint, _, out) = start_gateway(dir.path());
    let mut seen = 0;

    // PUT: everything pushed, once, with the grouping labels.
    assert_eq!(
        push(&python, &endpoint, "push"),
        serde_json::json!({"ok": true})
    );
    let first = next_push(&out, &mut seen);
    assert_eq!(first["backup_rows{table=a}"], Some(10.0), "{first:?}");
    assert_eq!(first["backup_rows{table=b}"], Some(20.0));
    assert_eq!(first["backup_runs_total{}"], Some(3.0));
    assert_eq!(first["backup_seconds{}"], Some(1.0));
    assert!(first.values().all(Option::is_some), "{first:?}");

    // POST: only backup_rows is replaced; rows{b} is gone, the others untouched.
    assert_eq!(
        push(&python, &endpoint, "pushadd"),
        serde_json::json!({"ok": true})
    );
    let added = next_push(&out, &mut seen);
    assert_eq!(
        added,
        BTreeMap::from([
            ("backup_rows{table=a}".to_string(), Some(11.0)),
            ("backup_rows{table=b}".to_string(), None),
        ])
    );

    // A push the gateway refuses: 400 with the reason, and push_failure_time_seconds.
    let refused = push(&python, &endpoint, "reserved");
    assert_eq!(refused["status"], 400, "{refused}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("push_time_seconds"),
        "{refused}"
    );
    let failure = eventually("push_failure_time_seconds", Duration::from_secs(20), || {
        let (lines, points) = points(&out, seen);
        points
            .iter()
            .find(|p| p.series == "push_failure_time_seconds{}" && p.value.is_some())
            .map(|_| lines)
    });
    seen = failure;

    // PUT again: the group now holds backup_done alone; everything else goes stale.
    assert_eq!(
        push(&python, &endpoint, "replace"),
        serde_json::json!({"ok": true})
    );
    let replaced = next_push(&out, &mut seen);
    assert_eq!(replaced["backup_done{}"], Some(1.0));
    for series in [
        "backup_rows{table=a}",
        "backup_runs_total{}",
        "backup_seconds{}",
    ] {
        assert_eq!(
            replaced[series], None,
            "{series} should be stale: {replaced:?}"
        );
    }
    assert!(
        !replaced.contains_key("backup_rows{table=b}"),
        "already stale"
    );

    // DELETE: the rest of the group goes stale, push times included.
    assert_eq!(
        push(&python, &endpoint, "delete"),
        serde_json::json!({"ok": true})
    );
    let (_, deleted) = eventually("the delete's markers", Duration::from_secs(20), || {
        let (lines, points) = points(&out, seen);
        points
            .iter()
            .any(|p| p.series == "push_time_seconds{}" && p.value.is_none())
            .then_some((lines, points))
    });
    let deleted: BTreeMap<String, Option<f64>> =
        deleted.into_iter().map(|p| (p.series, p.value)).collect();
    assert_eq!(
        deleted,
        BTreeMap::from([
            ("backup_done{}".to_string(), None),
            ("push_failure_time_seconds{}".to_string(), None),
            ("push_time_seconds{}".to_string(), None),
        ])
    );
    gateway.kill();
}

#[test]
fn delimited_protobuf_pushes_as_go_clients_send_them() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let (mut gateway, endpoint, _, out) = start_gateway(dir.path());
    assert_eq!(
        push(&python, &endpoint, "protobuf"),
        serde_json::json!({"ok": true})
    );
    let (_, points) = eventually("the protobuf push", Duration::from_secs(20), || {
        let (lines, points) = points(&out, 0);
        points
            .iter()
            .any(|p| p.series.starts_with("proto_runs_total"))
            .then_some((lines, points))
    });
    let by_series: BTreeMap<String, Option<f64>> = points
        .iter()
        .filter(|p| p.series.starts_with("proto_"))
        .map(|p| (p.series.clone(), p.value))
        .collect();
    assert_eq!(
        by_series,
        BTreeMap::from([
            ("proto_rows{table=a}".to_string(), Some(5.0)),
            ("proto_runs_total{}".to_string(), Some(2.0)),
        ])
    );
    let rows = points
        .iter()
        .find(|p| p.series.starts_with("proto_rows"))
        .unwrap();
    assert_eq!(
        (rows.service.as_str(), rows.instance.as_str()),
        ("proto", "db/1")
    );
    gateway.kill();
}

/// curl's answer: the status and the `Err` header.
fn curl(url: &str, body: &str) -> (u16, Option<String>) {
    let curl = program("curl").expect("curl");
    let mut child = Command::new(curl)
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--data-binary",
            "@-",
            url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run curl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let headers = String::from_utf8_lossy(&output.stdout).into_owned();
    let status = headers
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {headers:?}"));
    let err = headers.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("err")
            .then(|| value.trim().to_string())
    });
    (status, err)
}

#[test]
fn curl_pushes_in_the_lookout_form() {
    if program("curl").is_none() {
        return;
    }
    let dir = temp_dir();
    let (mut gateway, _, lookout, out) = start_gateway(dir.path());
    let body = "# TYPE jvm_threads gauge\njvm_threads{state=\"live\"} 42\n";
    let (status, err) = curl(
        &format!("http://{lookout}/prom/metrics/job/shop/app/shop"),
        body,
    );
    assert_eq!(status, 400);
    assert!(
        err.as_deref().unwrap_or_default().contains("step"),
        "{err:?}"
    );
    let (status, err) = curl(
        &format!("http://{lookout}/prom/metrics/job/shop/app/shop/step/60"),
        body,
    );
    assert_eq!((status, err), (202, None));
    let (_, points) = eventually("the Lookout push", Duration::from_secs(20), || {
        let (lines, points) = points(&out, 0);
        points
            .iter()
            .any(|p| p.series.starts_with("jvm_threads"))
            .then_some((lines, points))
    });
    let threads = points
        .iter()
        .find(|p| p.series.starts_with("jvm_threads"))
        .unwrap();
    assert_eq!(threads.series, "jvm_threads{app=shop,state=live,step=60}");
    assert_eq!(threads.value, Some(42.0));
    assert_eq!(threads.service, "shop");
    gateway.kill();
}
