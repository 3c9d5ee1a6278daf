//! The Lookout gateway replacement end to end: `examples/configs/lookout-gateway.yaml` runs
//! in the gateway binary, clients speak each Lookout importer's protocol to it (curl for
//! the plain bodies, a raw-snappy body as the Lookout SDK sends it), and what it
//! receives reaches both outputs: the `{time, id, value, tags}` documents in an
//! Elasticsearch bulk stand-in (see `es_bulk_stub`: no Elasticsearch is installable
//! here) and a second gateway's `lookout` receiver through the `lookout` relay exporter.

mod common;

#[path = "es_bulk_stub/mod.rs"]
mod es_bulk_stub;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use es_bulk_stub::{BulkStub, Script};
use serde_json::Value;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// curl, as a client would run it: the status and the response headers.
fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "--max-time", "20"])
        .args(args)
        .output()
        .expect("run curl");
    let head = String::from_utf8_lossy(&output.stdout).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status from curl {args:?}: {head}"));
    (status, head)
}

/// The central gateway: a `lookout` receiver writing to a file.
fn central(dir: &Path) -> (Proc, SocketAddr, std::path::PathBuf) {
    let port = free_port();
    let out = dir.join("central.jsonl");
    let config = dir.join("central.yaml");
    std::fs::write(
        &config,
        format!(
            "receivers:\n  lookout:\n    endpoint: 127.0.0.1:{port}\nexporters:\n  file:\n    path: {}\nservice:\n  telemetry: {{ metrics: {{ level: none }} }}\n  pipelines:\n    metrics: {{ receivers: [lookout], exporters: [file] }}\n",
            out.display()
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    (gateway, addr, out)
}

/// Every metric of the file exporter's output: name → (metric JSON, point attributes).
fn central_metrics(out: &Path) -> Vec<(String, Value)> {
    read_json_lines(out)
        .iter()
        .flat_map(|line| {
            line["resourceMetrics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|r| r["scopeMetrics"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| s["metrics"].as_array().cloned().unwrap_or_default())
        .map(|m| (m["name"].as_str().unwrap_or_default().to_owned(), m))
        .collect()
}

#[test]
fn lookout_gateway_replacement_serves_every_importer() {
    let dir = temp_dir();
    let es = BulkStub::start();
    // The first bulk request is refused as a whole (429): the exporter retries it.
    es.script([Script::Whole(429)]);
    let (_central, central_addr, central_out) = central(dir.path());
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/configs/lookout-gateway.yaml"
    );
    let listen = addr.to_string();
    let es_url = format!("http://{}", es.addr);
    let relay = format!("http://{central_addr}");
    let queue = dir.path().join("queue").display().to_string();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config],
        &[
            ("LOOKOUT_LISTEN", listen.as_str()),
            ("ES_URL", es_url.as_str()),
            ("LOOKOUT_RELAY", relay.as_str()),
            ("LOOKOUT_QUEUE_DIR", queue.as_str()),
        ],
    );
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    let base = format!("http://{addr}");

    // The SDK's probe, and a post without `app`: 403 with Wait-Minutes.
    assert_eq!(curl(&[&format!("{base}/datas")]).0, 200);
    let (status, head) = curl(&[
        "-X",
        "POST",
        "--data-binary",
        "{\"m\":1}",
        &format!("{base}/datas"),
    ]);
    assert_eq!(status, 403);
    assert!(
        head.to_ascii_lowercase().contains("wait-minutes: 5"),
        "{head}"
    );
    assert!(head.contains("APP_NAME_NULL"), "{head}");

    // The standard protocol, plain and raw snappy.
    let now = now_ms();
    let counter = format!(
        r#"{{"time":{now},"tags":{{"_type_":"c","zone":"z1"}},"http.requests":{{"count":12,"rate":1.2}}}}"#
    );
    let (status, _) = curl(&[
        "-X",
        "POST",
        "-H",
        "app: demo",
        "-H",
        "Client-Ip: 10.1.1.1",
        "--data-binary",
        &counter,
        &format!("{base}/datas"),
    ]);
    assert_eq!(status, 200);
    let gauge = format!(r#"{{"time":{now},"tags":{{"host":"h1"}},"jvm.mem":{{"used":1024}}}}"#);
    let snappy = snap::raw::Encoder::new()
        .compress_vec(gauge.as_bytes())
        .unwrap();
    let response = http(
        "POST",
        addr,
        "/datas",
        &[
            ("app", "demo"),
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/octet-stream"),
        ],
        &snappy,
    );
    assert_eq!(response.status, 200, "{}", response.text());

    // Prometheus push, OpenTSDB and Metricbeat.
    let (status, _) = curl(&[
        "--data-binary",
        "# TYPE temp gauge\ntemp{room=\"a\"} 21.5\n",
        &format!("{base}/prom/metrics/job/sensors/app/demo/step/30"),
    ]);
    assert_eq!(status, 202);
    let tsdb = format!(
        r#"[{{"metric":"sys.cpu.nice","timestamp":{},"value":18,"tags":{{"host":"web01"}}}}]"#,
        now / 1000
    );
    let (status, _) = curl(&[
        "-H",
        "app: demo",
        "-H",
        "step: 10",
        "--data-binary",
        &tsdb,
        &format!("{base}/opentsdb/api/put"),
    ]);
    assert_eq!(status, 202);
    let stamp = chrono_like(now);
    let bulk = format!(
        "{}\n{}\n",
        r#"{"index":{"_index":"metricbeat-6.2.3-2018.03.29","_type":"doc"}}"#,
        format_args!(
            r#"{{"@timestamp":"{stamp}","metricset":{{"name":"network","module":"system","rtt":3487}},"system":{{"network":{{"name":"eth0","in":{{"bytes":7}}}}}},"beat":{{"name":"moby","hostname":"moby","version":"6.2.3"}}}}"#
        )
    );
    let response = http(
        "POST",
        addr,
        "/beat/_bulk",
        &[("Content-Type", "application/x-ndjson")],
        bulk.as_bytes(),
    );
    assert_eq!(response.status, 200);
    let answer: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(answer["errors"], false);
    assert_eq!(answer["items"][0]["index"]["status"], 201);

    // Elasticsearch: Lookout's documents, in the write alias, after the retried 429.
    let expected = [
        "http.requests.count",
        "http.requests.rate",
        "jvm.mem.used",
        "temp",
        "sys.cpu.nice",
        "system.network.in.bytes",
    ];
    let stored = eventually(
        "every metric in Elasticsearch",
        Duration::from_secs(60),
        || {
            let stored = es.stored();
            expected
                .iter()
                .all(|id| stored.iter().any(|d| d.source["id"] == *id))
                .then_some(stored)
        },
    );
    assert!(es.requests() >= 2, "the 429 was retried");
    let count = stored
        .iter()
        .find(|d| d.source["id"] == "http.requests.count")
        .unwrap();
    assert_eq!(count.action, "index");
    assert_eq!(count.index, "lookout-active-metrics");
    assert_eq!(count.source["value"], 12.0);
    let tags: Vec<&str> = count.source["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tag in ["app=demo", "ip=10.1.1.1", "zone=z1"] {
        assert!(tags.contains(&tag), "{tags:?}");
    }
    let temp = stored.iter().find(|d| d.source["id"] == "temp").unwrap();
    let temp_tags = temp.source["tags"].to_string();
    assert!(
        temp_tags.contains("job=sensors") && temp_tags.contains("room=a"),
        "{temp_tags}"
    );
    assert!(
        !temp_tags.contains("step="),
        "the step tag is consumed: {temp_tags}"
    );

    // The relay: the central gateway reads the same metrics, the counter still a delta.
    let metrics = eventually("the relayed metrics", Duration::from_secs(60), || {
        let metrics = central_metrics(&central_out);
        expected
            .iter()
            .all(|name| metrics.iter().any(|(n, _)| n == name))
            .then_some(metrics)
    });
    let (_, count) = metrics
        .iter()
        .find(|(n, _)| n == "http.requests.count")
        .unwrap();
    assert_eq!(count["sum"]["aggregationTemporality"], 1, "delta: {count}");
    let attributes = count["sum"]["dataPoints"][0]["attributes"].to_string();
    assert!(
        attributes.contains("\"demo\"") && attributes.contains("10.1.1.1"),
        "{attributes}"
    );
}

/// RFC 3339 UTC with milliseconds for `ms` since the epoch (the root crate has no date
/// library; this is the civil-from-days algorithm).
fn chrono_like(ms: u128) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}
