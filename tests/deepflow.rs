//! The `deepflow` receiver end to end, with the gateway binary and the clients a DeepFlow
//! agent's integration collector serves:
//!
//! - the OpenTelemetry Python SDK's OTLP/HTTP exporter, pointed at `/api/v1/otel/trace`
//!   (plain and gzip), as an application configured for a DeepFlow agent;
//! - `curl` posting Telegraf's line protocol to `/api/v1/telegraf`, gzipped as Telegraf's
//!   `outputs.http` does with `content_encoding = "gzip"`;
//! - Debian's Prometheus scraping itself and remote-writing to `/api/v1/prometheus`;
//!
//! and what the gateway's file exporter wrote is compared with what was sent. (The 429/503
//! backpressure answers are checked in the receiver's own tests.)

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

fn gateway_config(port: u16, out: &Path) -> String {
    format!(
        r#"
receivers:
  deepflow: {{ endpoint: "127.0.0.1:{port}" }}
exporters:
  file: {{ path: "{out}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [deepflow], exporters: [file] }}
    traces: {{ receivers: [deepflow], exporters: [file] }}
"#,
        out = out.display()
    )
}

fn curl(args: &[&str]) -> u16 {
    let output = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("curl's status")
}

#[test]
fn agents_clients_write_to_the_receiver() {
    let Some(python) = python_sdk() else { return };
    if program("curl").is_none() {
        return;
    }
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let port = free_port();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(&config, gateway_config(port, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_serving(
        &mut gateway,
        format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(30),
    );

    // OTLP traces from the Python SDK, plain and gzipped.
    let url = format!("http://127.0.0.1:{port}/api/v1/otel/trace");
    for compression in ["none", "gzip"] {
        let sent = run_python(
            &python,
            "send_deepflow_spans.py",
            &[
                "--url",
                &url,
                "--name",
                &format!("df-{compression}"),
                "--count",
                "3",
                "--compression",
                compression,
            ],
        );
        assert_eq!(sent.report["result"], "SUCCESS", "{}", sent.stderr);
    }

    // Telegraf's line protocol, gzipped.
    let lines = "cpu,host=web01,cpu=cpu0 usage_idle=97.5,usage_user=1.5 1700000000000000000\n\
                 mem,host=web01 used=3i,free=5.5 1700000000000000000\n";
    let gz = dir.path().join("lines.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(lines.as_bytes()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let telegraf = format!("http://127.0.0.1:{port}/api/v1/telegraf");
    let body = format!("@{}", gz.display());
    assert_eq!(
        curl(&[
            "-X",
            "POST",
            "-H",
            "Content-Encoding: gzip",
            "--data-binary",
            &body,
            &telegraf
        ]),
        200
    );
    // Errors: not line protocol, an unknown route, a GET.
    assert_eq!(
        curl(&["-X", "POST", "--data-binary", "cpu usage=", &telegraf]),
        400
    );
    assert_eq!(
        curl(&[
            "-X",
            "POST",
            "--data-binary",
            "x",
            &format!("http://127.0.0.1:{port}/api/v1/log")
        ]),
        404
    );
    assert_eq!(curl(&[&telegraf]), 405);

    let text = eventually(
        "spans and metrics in the file",
        Duration::from_secs(30),
        || {
            let text = serde_json::to_string(&read_json_lines(&out)).unwrap();
            let spans = (0..3).all(|i| {
                text.contains(&format!("df-none-{i}")) && text.contains(&format!("df-gzip-{i}"))
            });
            (spans && text.contains("cpu_usage_idle") && text.contains("mem_free")).then_some(text)
        },
    );
    assert!(text.contains("deepflow-e2e"), "the SDK's resource is kept");
    assert!(text.contains("mem_used"));

    // Prometheus remote write, from Debian's Prometheus scraping itself.
    let Some(prometheus) = program("prometheus") else {
        return;
    };
    let prom_port = free_port();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            r#"global: {{ scrape_interval: 1s }}
scrape_configs:
  - job_name: prom
    static_configs: [{{ targets: ["127.0.0.1:{prom_port}"] }}]
remote_write:
  - url: http://127.0.0.1:{port}/api/v1/prometheus
    queue_config: {{ batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 1s }}
"#
        ),
    )
    .unwrap();
    let _prometheus = Proc::spawn(
        &prometheus,
        &[
            &format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ),
            &format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            &format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        &[],
    );
    let text = eventually(
        "Prometheus's own series in the file",
        Duration::from_secs(60),
        || {
            let text = serde_json::to_string(&read_json_lines(&out)).unwrap();
            text.contains("prometheus_build_info").then_some(text)
        },
    );
    assert!(text.contains("\"service.name\""), "job → service.name");
    drop(gateway);
}
