//! The `influxdb` receiver and exporter against real peers: InfluxData's Python clients
//! (`influxdb` for the 1.x API, `influxdb-client` for 2.x) write to the receiver, and the
//! exporter writes what arrived to Debian's `influxd` 1.6, which returns it to `/query`;
//! the OpenTelemetry Python SDK's traces, metrics and logs go the same way over OTLP.
//!
//! One `influxd` serves the whole test binary, on free ports, with its configuration and
//! data in a temporary directory. It runs under a small shell that holds the read end of
//! a pipe this process keeps open: when the test process exits, for whatever reason, the
//! pipe closes and the shell stops `influxd` and removes the directory.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use common::lifeline::Lifeline;
use common::*;
use serde_json::Value;

/// The shared `influxd`.
struct Influxd {
    http: SocketAddr,
    /// Kept open for the life of the process: closing it stops the server.
    _lifeline: Lifeline,
}

fn influxd() -> Option<&'static Influxd> {
    static SERVER: OnceLock<Option<Influxd>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("influxd")?;
            Some(start_influxd(&program))
        })
        .as_ref()
}

fn start_influxd(program: &Path) -> Influxd {
    let dir = temp_dir().keep();
    let (http, rpc) = (free_port(), free_port());
    let config = dir.join("influxdb.conf");
    std::fs::write(
        &config,
        format!(
            r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{dir}/meta"
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
"#,
            dir = dir.display()
        ),
    )
    .unwrap();
    let args = vec!["-config".to_string(), config.display().to_string()];
    let lifeline = Lifeline::start(program, &args, &dir, "influxd.log");
    let addr: SocketAddr = format!("127.0.0.1:{http}").parse().unwrap();
    wait_http(addr, "/ping", 204);
    let created = http_post(addr, "/query?q=CREATE%20DATABASE%20e2e", b"");
    assert_eq!(created.status, 200, "{}", created.text());
    Influxd {
        http: addr,
        _lifeline: lifeline,
    }
}

fn http_post(addr: SocketAddr, path: &str, body: &[u8]) -> HttpResponse {
    http("POST", addr, path, &[], body)
}

/// The rows `influxd` returns for `query`, as (columns, values).
fn query(addr: SocketAddr, query: &str) -> Option<(Vec<String>, Vec<Vec<Value>>)> {
    let encoded: String = query
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '"' => "%22".to_string(),
            '\'' => "%27".to_string(),
            '=' => "%3D".to_string(),
            '*' => "%2A".to_string(),
            c => c.to_string(),
        })
        .collect();
    let path = format!("/query?db=e2e&q={encoded}");
    let response = get(addr, &path);
    let json: Value = serde_json::from_slice(&response.body).ok()?;
    let series = json["results"][0]["series"][0].clone();
    if series.is_null() {
        return None;
    }
    let columns = series["columns"]
        .as_array()?
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_string())
        .collect();
    let values = series["values"]
        .as_array()?
        .iter()
        .map(|row| row.as_array().cloned().unwrap_or_default())
        .collect();
    Some((columns, values))
}

/// One row as column → value.
fn row(columns: &[String], values: &[Value]) -> serde_json::Map<String, Value> {
    columns
        .iter()
        .cloned()
        .zip(values.iter().cloned())
        .collect()
}

fn gateway_config(receiver: u16, influxd: SocketAddr, out: &Path) -> String {
    format!(
        r#"
receivers:
  influxdb: {{ endpoint: "127.0.0.1:{receiver}" }}
exporters:
  file: {{ path: "{out}" }}
  influxdb:
    endpoint: "http://{influxd}"
    v1_compatibility: {{ enabled: true, db: e2e }}
    compression: gzip
    payload_max_lines: 2
    retry_on_failure: {{ initial_interval: 100ms, max_interval: 100ms }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [influxdb], exporters: [file, influxdb] }}
"#,
        out = out.display()
    )
}

/// Every metric the file exporter wrote, by name.
fn written_metrics(out: &Path) -> std::collections::BTreeMap<String, Value> {
    let mut metrics = std::collections::BTreeMap::new();
    for line in read_json_lines(out) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    let mut metric = metric.clone();
                    metric["resource"] = resource["resource"].clone();
                    metrics.insert(
                        metric["name"].as_str().unwrap_or_default().to_string(),
                        metric,
                    );
                }
            }
        }
    }
    metrics
}

fn first_point(metric: &Value, kind: &str) -> Value {
    metric[kind]["dataPoints"][0].clone()
}

#[test]
fn python_clients_write_through_the_collector_into_influxd() {
    let Some(python) = python_sdk() else { return };
    let Some(influxd) = influxd() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let receiver = free_port();
    std::fs::write(&config, gateway_config(receiver, influxd.http, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let endpoint = format!("127.0.0.1:{receiver}");
    wait_serving(
        &mut gateway,
        endpoint.parse().unwrap(),
        Duration::from_secs(30),
    );

    let v1 = run_python(
        &python,
        "influx_write.py",
        &["--api", "v1", "--endpoint", &endpoint],
    )
    .report;
    let v2 = run_python(
        &python,
        "influx_write.py",
        &["--api", "v2", "--endpoint", &endpoint],
    )
    .report;

    // Malformed bodies: 400, InfluxDB's error naming the line, nothing delivered.
    assert_eq!(v1["malformed"]["status"], 400, "{v1}");
    assert_eq!(v2["malformed"]["status"], 400, "{v2}");
    let body: Value = serde_json::from_str(v2["malformed"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["code"], "invalid");
    assert_eq!(body["line"], 2, "{body}");

    // What reached the pipeline.
    let metrics = eventually(
        "the points in the file exporter's output",
        Duration::from_secs(20),
        || {
            let metrics = written_metrics(&out);
            (metrics.len() >= 6).then_some(metrics)
        },
    );
    let cpu = first_point(&metrics["cpu_temp"], "gauge");
    assert_eq!(cpu["asDouble"], 87.5);
    assert_eq!(cpu["timeUnixNano"], "1700000000000000000");
    assert_eq!(cpu["attributes"][0]["key"], "host");
    assert_eq!(cpu["attributes"][0]["value"]["stringValue"], "a");
    assert!(
        !metrics.contains_key("broken"),
        "a malformed body delivers nothing"
    );
    let requests = &metrics["http_requests_total"]["sum"];
    assert_eq!(requests["isMonotonic"], true);
    assert_eq!(requests["dataPoints"][0]["asInt"], "1027");
    let latency = &metrics["latency"];
    assert_eq!(latency["resource"]["attributes"][0]["key"], "service.name");
    let latency = first_point(latency, "histogram");
    assert_eq!(latency["explicitBounds"], serde_json::json!([0.1, 0.5]));
    assert_eq!(latency["bucketCounts"], serde_json::json!(["3", "4", "2"]));
    let used = first_point(&metrics["mem_used"], "gauge");
    assert_eq!(used["asInt"], "3");
    assert_eq!(used["timeUnixNano"], "1700000000000000000");
    assert_eq!(first_point(&metrics["mem_free"], "gauge")["asDouble"], 5.5);
    let rpc = first_point(&metrics["rpc"], "histogram");
    assert_eq!(rpc["bucketCounts"], serde_json::json!(["3", "4", "2"]));
    assert_eq!(rpc["count"], "9");

    // What the exporter wrote to influxd, read back with InfluxQL.
    let (columns, rows) = eventually("cpu_temp in influxd", Duration::from_secs(30), || {
        query(influxd.http, "SELECT * FROM cpu_temp")
    });
    assert_eq!(rows.len(), 1, "{rows:?}");
    let cpu = row(&columns, &rows[0]);
    assert_eq!(cpu["time"], "2023-11-14T22:13:20Z");
    assert_eq!(cpu["gauge"], 87.5);
    assert_eq!(cpu["host"], "a");
    let (columns, rows) = eventually("latency in influxd", Duration::from_secs(30), || {
        query(influxd.http, "SELECT * FROM latency")
    });
    let latency = row(&columns, &rows[0]);
    assert_eq!(
        (latency["0.1"].clone(), latency["0.5"].clone()),
        (3.into(), 7.into()),
        "cumulative again: {latency:?}"
    );
    assert_eq!(
        (latency["count"].clone(), latency["sum"].clone()),
        (9.into(), 2.5.into())
    );
    assert_eq!(latency["service.name"], "shop");
    for (measurement, field, value) in [
        ("http_requests_total", "counter", Value::from(1027)),
        ("mem_used", "gauge", 3.into()),
        ("mem_free", "gauge", 5.5.into()),
    ] {
        let (columns, rows) = eventually(measurement, Duration::from_secs(30), || {
            query(influxd.http, &format!("SELECT * FROM {measurement}"))
        });
        assert_eq!(row(&columns, &rows[0])[field], value, "{measurement}");
    }
    gateway.kill();
}

#[test]
fn a_partial_write_keeps_the_good_lines_and_is_logged() {
    let Some(influxd) = influxd() else { return };
    // influxd holds `partial_conflict.gauge` as a float; the exporter will write an integer.
    let seeded = http_post(
        influxd.http,
        "/write?db=e2e&precision=s",
        b"partial_conflict gauge=1.5 1700000000",
    );
    assert_eq!(seeded.status, 204, "{}", seeded.text());
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gateway.yaml");
    let receiver = free_port();
    std::fs::write(&config, gateway_config(receiver, influxd.http, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let endpoint: SocketAddr = format!("127.0.0.1:{receiver}").parse().unwrap();
    wait_serving(&mut gateway, endpoint, Duration::from_secs(30));
    let mut body = Vec::new();
    writeln!(body, "partial_conflict gauge=2i 1700000001").unwrap();
    writeln!(body, "partial_ok gauge=1 1700000001").unwrap();
    let answer = http_post(endpoint, "/write?precision=s", &body);
    assert_eq!(answer.status, 204, "{}", answer.text());
    // One request carries both lines: influxd keeps the good one and names the other.
    eventually("the good line in influxd", Duration::from_secs(30), || {
        query(influxd.http, "SELECT * FROM partial_ok")
    });
    gateway.wait_for_output("partial write", Duration::from_secs(30));
    let (_, rows) = query(influxd.http, "SELECT * FROM partial_conflict").unwrap();
    assert_eq!(rows.len(), 1, "the conflicting point was refused: {rows:?}");
    gateway.kill();
}

#[test]
fn the_python_sdk_telemetry_reaches_influxd_over_otlp() {
    let Some(python) = python_sdk() else { return };
    let Some(influxd) = influxd() else { return };
    let dir = temp_dir();
    let config = dir.path().join("gateway.yaml");
    let otlp = free_port();
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{otlp}" }}
exporters:
  influxdb:
    endpoint: "http://{influxd}/"
    v1_compatibility: {{ enabled: true, db: e2e }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [influxdb] }}
    metrics: {{ receivers: [otlp], exporters: [influxdb] }}
    logs: {{ receivers: [otlp], exporters: [influxdb] }}
"#,
            influxd = influxd.http
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let endpoint = format!("127.0.0.1:{otlp}");
    wait_serving(
        &mut gateway,
        endpoint.parse().unwrap(),
        Duration::from_secs(30),
    );
    let sent = run_python(
        &python,
        "send_otlp.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &endpoint,
            "--run-id",
            "sdk",
        ],
    )
    .report;

    // The SDK's counter, telegraf-prometheus-v1: measurement = metric, field `counter`.
    // (The SDK exports it at its flush and again at its shutdown: each route at least once.)
    let (columns, rows) = eventually(
        "the SDK's counter in influxd",
        Duration::from_secs(30),
        || {
            query(influxd.http, r#"SELECT * FROM "sdk.requests""#)
                .filter(|(_, rows)| rows.len() >= 5)
        },
    );
    for values in &rows {
        let point = row(&columns, values);
        let route = point["route"].as_str().unwrap();
        assert_eq!(
            point["counter"], sent["metrics"]["sdk.requests"][route],
            "{point:?}"
        );
        assert_eq!(point["service.name"], "interop-test");
        assert_eq!(point["otel.library.name"], "interop");
        assert!(point["start_time_unix_nano"].as_i64().unwrap() > 0);
    }
    // The SDK's logs: measurement `logs`, `service.name` a tag, the rest JSON.
    let (columns, rows) = eventually("the SDK's logs in influxd", Duration::from_secs(30), || {
        query(
            influxd.http,
            r#"SELECT * FROM logs WHERE "service.name" = 'interop-test'"#,
        )
        .filter(|(_, rows)| rows.len() == 5)
    });
    let mut bodies: Vec<String> = rows
        .iter()
        .map(|values| row(&columns, values)["body"].as_str().unwrap().to_string())
        .collect();
    bodies.sort();
    let mut expected: Vec<String> = sent["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    expected.sort();
    assert_eq!(bodies, expected);
    let first = row(&columns, &rows[0]);
    let attributes: Value = serde_json::from_str(first["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["test.run"], "sdk", "{attributes}");
    assert!(first["severity_number"].as_i64().unwrap() > 0);
    // The SDK's spans: measurement `spans`, the name and service tags (span_dimensions).
    let (columns, rows) = eventually(
        "the SDK's spans in influxd",
        Duration::from_secs(30),
        || {
            query(
                influxd.http,
                r#"SELECT * FROM spans WHERE "service.name" = 'interop-test'"#,
            )
            .filter(|(_, rows)| rows.len() == 5)
        },
    );
    let mut names: Vec<String> = rows
        .iter()
        .map(|values| {
            row(&columns, values)["span.name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = sent["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    let span = row(&columns, &rows[0]);
    assert_eq!(span["trace_id"].as_str().unwrap().len(), 32);
    assert!(span["duration_nano"].as_i64().unwrap() >= 0);
    let attributes: Value = serde_json::from_str(span["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["protocol"], "http", "{attributes}");
    gateway.kill();
}
