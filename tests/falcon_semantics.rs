//! Open-Falcon semantics and the lookup processor end to end: curl posts OTLP/JSON to the
//! gateway, whose metrics pipeline runs `falcon_align → falcon_rate → falcon_nodata →
//! lookup` into the file exporter. The counter comes out as aligned per-second rates
//! (the reset dropped), an absent series gets its mock point two steps back, every point
//! is tagged from a CSV table that is rewritten on disk while the gateway runs (a broken
//! rewrite keeps the table in use), a configuration reload that changes the nodata row
//! carries the watched series over, and one that removes the row stops the mock points.
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(30);

fn addr(port: u16) -> SocketAddr {
    format!("127.0.0.1:{port}").parse().unwrap()
}

/// The gateway's configuration; `mock` is the nodata row's mock value (`None`: no row).
fn gateway_config(http: u16, metrics: u16, table: &Path, out: &Path, mock: Option<i32>) -> String {
    let series = match mock {
        Some(mock) => format!("[{{metric: agent.alive, step: 1s, mock: {mock}}}]"),
        None => "[]".to_string(),
    };
    format!(
        r#"receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{http}" }}
processors:
  falcon_align: {{}}
  falcon_rate: {{}}
  falcon_nodata:
    check_interval: 100ms
    series: {series}
  lookup:
    source:
      path: "{table}"
      reload_interval: 100ms
    key: host.ip
exporters:
  file: {{ path: "{out}" }}
service:
  telemetry:
    metrics:
      address: "127.0.0.1:{metrics}"
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [falcon_align, falcon_rate, falcon_nodata, lookup]
      exporters: [file]
"#,
        table = table.display(),
        out = out.display(),
    )
}

fn attributes(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => json!({ "stringValue": s }),
                    Value::Number(n) => json!({ "intValue": n.to_string() }),
                    other => panic!("unexpected attribute value {other}"),
                };
                json!({ "key": k, "value": value })
            })
            .collect(),
    )
}

/// One OTLP/JSON metrics request: one point of `metric` from host 10.1.2.3.
fn request(metric: &str, counter: bool, at_seconds: u64, value: f64, step: i64) -> String {
    let point = json!({
        "timeUnixNano": (at_seconds * 1_000_000_000).to_string(),
        "asDouble": value,
        "attributes": attributes(&[("step", json!(step))]),
    });
    let data = if counter {
        json!({ "sum": { "aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [point] } })
    } else {
        json!({ "gauge": { "dataPoints": [point] } })
    };
    let mut metric_json = json!({ "name": metric });
    metric_json
        .as_object_mut()
        .unwrap()
        .extend(data.as_object().unwrap().clone());
    json!({
        "resourceMetrics": [{
            "resource": { "attributes": attributes(&[("host.ip", json!("10.1.2.3"))]) },
            "scopeMetrics": [{ "metrics": [metric_json] }]
        }]
    })
    .to_string()
}

fn post(curl: &Path, http: u16, body: &str) {
    let output = std::process::Command::new(curl)
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            &format!("http://127.0.0.1:{http}/v1/metrics"),
        ])
        .output()
        .expect("run curl");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "200",
        "curl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A point that reached the file.
#[derive(Debug, Clone)]
struct Point {
    metric: String,
    kind: String,
    seconds: u64,
    value: f64,
    app: Option<String>,
}

fn string_attribute(attributes: &Value, key: &str) -> Option<String> {
    attributes
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str())
        .map(str::to_string)
}

fn points(out: &Path) -> Vec<Point> {
    let mut found = Vec::new();
    for line in read_json_lines(out) {
        for rm in line["resourceMetrics"].as_array().into_iter().flatten() {
            let app = string_attribute(&rm["resource"]["attributes"], "app");
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in sm["metrics"].as_array().into_iter().flatten() {
                    for kind in ["gauge", "sum"] {
                        for p in metric[kind]["dataPoints"].as_array().into_iter().flatten() {
                            let nanos: u64 = p["timeUnixNano"]
                                .as_str()
                                .and_then(|s| s.parse().ok())
                                .unwrap_or(0);
                            found.push(Point {
                                metric: metric["name"].as_str().unwrap_or("").to_string(),
                                kind: kind.to_string(),
                                seconds: nanos / 1_000_000_000,
                                value: p["asDouble"].as_f64().unwrap_or(f64::NAN),
                                app: app.clone(),
                            });
                        }
                    }
                }
            }
        }
    }
    found
}

fn write_table(path: &Path, text: &str) {
    // Editors and config management replace files by rename; so does this.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Posts probe points until one comes out tagged `app`; returns how many were posted.
fn wait_for_tag(curl: &Path, http: u16, out: &Path, app: &str) {
    let mut n = 0u64;
    eventually(&format!("a probe tagged app={app}"), PATIENCE, || {
        n += 1;
        post(
            curl,
            http,
            &request("probe", false, 1_700_000_000 + n, 1.0, 60),
        );
        std::thread::sleep(Duration::from_millis(50));
        points(out)
            .iter()
            .any(|p| p.metric == "probe" && p.app.as_deref() == Some(app))
            .then_some(())
    });
}

#[test]
fn falcon_semantics_and_lookup_through_the_gateway() {
    let Some(curl) = program("curl") else { return };
    let dir = temp_dir();
    let (out, table, config) = (
        dir.path().join("out.jsonl"),
        dir.path().join("hosts.csv"),
        dir.path().join("gateway.yaml"),
    );
    write_table(&table, "key,app\n10.0.0.0/8,intranet\n10.1.2.3,billing\n");
    let (http, metrics) = (free_port(), free_port());
    std::fs::write(
        &config,
        gateway_config(http, metrics, &table, &out, Some(-1)),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_listening(addr(http), PATIENCE);
    wait_listening(addr(metrics), PATIENCE);

    // A Falcon COUNTER with step 60, as the falcon receiver makes it: the times are 5 s
    // into their slots; 100 → 220 → reset to 10 → 70.
    let base = 1_700_000_040; // a multiple of 60
    for (offset, value) in [(5, 100.0), (65, 220.0), (125, 10.0), (185, 70.0)] {
        post(
            &curl,
            http,
            &request("net.bytes", true, base + offset, value, 60),
        );
    }
    let rates = eventually("the two rates", PATIENCE, || {
        let rates: Vec<Point> = points(&out)
            .into_iter()
            .filter(|p| p.metric == "net.bytes")
            .collect();
        (rates.len() >= 2).then_some(rates)
    });
    let got: Vec<(String, u64, f64, Option<&str>)> = rates
        .iter()
        .map(|p| (p.kind.clone(), p.seconds, p.value, p.app.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("gauge".to_string(), base + 60, 2.0, Some("billing")),
            ("gauge".to_string(), base + 180, 1.0, Some("billing")),
        ],
        "aligned to the step, 120/60 and 60/60 per second, the first point and the reset dropped"
    );

    // A series last seen 1000 s ago: absent (timeout 180 s for a 1 s step), so nodata
    // emits its mock at now − now % 1 − 2.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    post(
        &curl,
        http,
        &request("agent.alive", false, now - 1000, 1.0, 1),
    );
    let mock = eventually("the nodata mock point", PATIENCE, || {
        points(&out)
            .into_iter()
            .find(|p| p.metric == "agent.alive" && p.value == -1.0)
    });
    assert!(
        mock.seconds >= now - 2 && mock.seconds <= now + PATIENCE.as_secs(),
        "two steps back from the check, not at the last point: {mock:?}"
    );
    assert_eq!(
        mock.app.as_deref(),
        Some("billing"),
        "mock points are tagged too"
    );

    // The table rewritten while running: the new row is used, without a restart.
    write_table(&table, "key,app\n10.0.0.0/8,intranet\n10.1.2.3,payments\n");
    wait_for_tag(&curl, http, &out, "payments");
    // A broken rewrite keeps the table in use.
    write_table(&table, "key,app\n10.1.2.3,\"unterminated\n");
    eventually("the failed table load", PATIENCE, || {
        let page = get(addr(metrics), "/metrics").text();
        (metric(&page, "otelcol_processor_lookup_table_load_failures", &[]) >= 1.0).then_some(())
    });
    let before = points(&out).len();
    post(
        &curl,
        http,
        &request("after.broken", false, 1_700_000_000, 1.0, 60),
    );
    let after = eventually("the probe after the broken table", PATIENCE, || {
        points(&out)
            .into_iter()
            .skip(before)
            .find(|p| p.metric == "after.broken")
    });
    assert_eq!(after.app.as_deref(), Some("payments"));
    // And the /8 block still tags another host of the network.
    write_table(&table, "key,app\n10.0.0.0/8,intranet\n");
    wait_for_tag(&curl, http, &out, "intranet");

    // A reload that changes the row's mock: the new processor takes the series over
    // (it is not sent again) and marks it with the new value.
    replace_file(
        &config,
        &gateway_config(http, metrics, &table, &out, Some(-2)),
    );
    eventually("the new mock after the reload", PATIENCE, || {
        points(&out)
            .iter()
            .any(|p| p.metric == "agent.alive" && p.value == -2.0)
            .then_some(())
    });
    let reloads = |n: f64| {
        eventually(&format!("{n} applied reloads"), PATIENCE, || {
            let page = get(addr(metrics), "/metrics").text();
            (metric(&page, "otelcol_config_reloads_total", &[]) >= n).then_some(())
        })
    };
    reloads(1.0);

    // A reload without the row: its series is dropped, the mock points stop.
    replace_file(&config, &gateway_config(http, metrics, &table, &out, None));
    reloads(2.0);
    // Once a probe passes the new pipeline, the old one (and its nodata task) is gone.
    wait_for_tag(&curl, http, &out, "intranet");
    let mocks = |out: &Path| {
        points(out)
            .iter()
            .filter(|p| p.metric == "agent.alive" && p.value < 0.0)
            .count()
    };
    let settled = mocks(&out);
    // The same absent series again: with the row, a mock would follow within a check
    // interval (100 ms) and then every second. Proving an absence takes a wait.
    post(
        &curl,
        http,
        &request("agent.alive", false, now - 1000, 1.0, 1),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        mocks(&out),
        settled,
        "no mock points after the row was removed"
    );
    assert!(gateway.is_running(), "{}", gateway.output());
}
