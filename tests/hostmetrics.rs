//! The `hostmetrics` receiver and the `resourcedetection` processor on this machine,
//! against Debian's `prometheus-node-exporter` reading the same kernel.
//!
//! One gateway runs `hostmetrics` (every second) → `resourcedetection` (env, system) →
//! the file exporter. One node exporter per test binary serves `/metrics` on a free port;
//! it is tied to this process by a [`Lifeline`]: when the test binary ends, the exporter
//! stops.
//!
//! To compare "at the same moment", the test scrapes the node exporter (A), waits for a
//! batch our receiver took after A, then scrapes again (B). Counters must lie between A
//! and B; gauges must be near them. The pairs (ours ↔ node exporter's):
//!
//! | ours | node exporter | tolerance |
//! |---|---|---|
//! | Σ `system.memory.usage` of used, free, buffered, cached | `node_memory_MemTotal_bytes` | exact |
//! | `system.linux.memory.available` | `node_memory_MemAvailable_bytes` | within A..B ± 256 MiB (other builds share the machine) |
//! | Σ `system.filesystem.usage{mountpoint="/"}` | `node_filesystem_size_bytes{mountpoint="/"}` | exact |
//! | `system.filesystem.usage{mountpoint="/",state="used"}` | size − `node_filesystem_free_bytes` | within A..B ± 1% of size |
//! | `system.network.io{device="lo",direction=receive/transmit}` | `node_network_{receive,transmit}_bytes_total{device="lo"}` | A ≤ ours ≤ B |
//! | Σ `system.cpu.time` | Σ `node_cpu_seconds_total` | A − 0.05 s ≤ ours ≤ B + 0.05 s (per-CPU tick rounding) |
//! | `system.cpu.load_average.{1m,5m,15m}` | `node_load{1,5,15}` | within A..B (the kernel updates them every 5 s) |
//! | Σ `system.processes.count` | `node_processes_pids` | within A..B ± 10% + 20 |
//! | `system.processes.created` | `node_forks_total` | A ≤ ours ≤ B |
//!
//! `resourcedetection` is checked on the same batch: `host.name` against `hostname`,
//! `host.id` against `/etc/machine-id`, `os.description` and `host.arch` against `uname`,
//! and the `env` detector's percent-decoded `OTEL_RESOURCE_ATTRIBUTES`.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::lifeline::Lifeline;
use common::*;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// The node exporter shared by this binary's tests.
struct NodeExporter {
    addr: SocketAddr,
    /// Closing this pipe (at process exit) stops the exporter.
    _lifeline: Lifeline,
}

fn node_exporter() -> Option<&'static NodeExporter> {
    static SERVER: OnceLock<Option<NodeExporter>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("prometheus-node-exporter")?;
            Some(start_node_exporter(&program))
        })
        .as_ref()
}

fn start_node_exporter(program: &Path) -> NodeExporter {
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let args = vec![
        format!("--web.listen-address={addr}"),
        "--collector.processes".to_string(),
        "--collector.netdev.device-exclude=^$".to_string(),
    ];
    let lifeline = Lifeline::start(program, &args, &temp_dir().keep(), "node-exporter.log");
    wait_http(addr, "/metrics", 200);
    NodeExporter {
        addr,
        _lifeline: lifeline,
    }
}

/// One node exporter scrape: series (name and labels) → value.
struct NodeScrape(BTreeMap<String, f64>);

impl NodeScrape {
    fn take(node: &NodeExporter) -> NodeScrape {
        let page = get(node.addr, "/metrics").text();
        let series = page
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                Some((series.to_string(), value.parse().ok()?))
            })
            .collect();
        NodeScrape(series)
    }

    /// The value of the series `name{labels}` (labels as the page writes them).
    fn get(&self, series: &str) -> f64 {
        *self
            .0
            .get(series)
            .unwrap_or_else(|| panic!("node exporter has no {series}"))
    }

    /// The sum of every series of metric `name`.
    fn sum(&self, name: &str) -> f64 {
        self.0
            .iter()
            .filter(|(series, _)| series.split('{').next() == Some(name))
            .map(|(_, v)| v)
            .sum()
    }
}

/// A number point of our batch.
#[derive(Debug)]
struct Point {
    attributes: BTreeMap<String, String>,
    value: f64,
}

/// One exported batch (one line of the file exporter).
struct Batch {
    json: Value,
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            if let Some(s) = map.get("stringValue").and_then(Value::as_str) {
                return s.to_string();
            }
            if let Some(i) = map.get("intValue") {
                return i
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string());
            }
            value.to_string()
        }
        other => other.to_string(),
    }
}

fn attributes(list: Option<&Value>) -> BTreeMap<String, String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|kv| Some((kv["key"].as_str()?.to_string(), text_of(&kv["value"]))))
        .collect()
}

impl Batch {
    fn metrics(&self) -> impl Iterator<Item = &Value> {
        self.json["resourceMetrics"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|rm| rm["scopeMetrics"].as_array().into_iter().flatten())
            .flat_map(|sm| sm["metrics"].as_array().into_iter().flatten())
    }

    fn points(&self, name: &str) -> Vec<Point> {
        self.metrics()
            .filter(|m| m["name"] == name)
            .flat_map(|m| {
                let data = if m["sum"].is_object() {
                    &m["sum"]
                } else {
                    &m["gauge"]
                };
                data["dataPoints"].as_array().cloned().unwrap_or_default()
            })
            .map(|p| {
                let value = p["asDouble"].as_f64().unwrap_or_else(|| {
                    p["asInt"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .or_else(|| p["asInt"].as_f64())
                        .unwrap_or(0.0)
                });
                Point {
                    attributes: attributes(p.get("attributes")),
                    value,
                }
            })
            .collect()
    }

    /// The sum of the points of `name` carrying every pair of `with`.
    fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        let matching: Vec<Point> = self
            .points(name)
            .into_iter()
            .filter(|p| {
                with.iter()
                    .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(!matching.is_empty(), "no {name} point with {with:?}");
        matching.iter().map(|p| p.value).sum()
    }

    /// The newest point time of the batch, nanoseconds since the epoch.
    fn time(&self) -> u64 {
        let mut newest = 0;
        for m in self.metrics() {
            let data = if m["sum"].is_object() {
                &m["sum"]
            } else {
                &m["gauge"]
            };
            for p in data["dataPoints"].as_array().into_iter().flatten() {
                let t = p["timeUnixNano"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| p["timeUnixNano"].as_u64())
                    .unwrap_or(0);
                newest = newest.max(t);
            }
        }
        newest
    }

    fn resource(&self) -> BTreeMap<String, String> {
        attributes(self.json["resourceMetrics"][0]["resource"].get("attributes"))
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A gateway scraping this host every second into `out`.
struct Gateway {
    _process: Proc,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Gateway {
    fn start() -> Gateway {
        let dir = temp_dir();
        let out = dir.path().join("out.jsonl");
        let config = format!(
            r#"
receivers:
  hostmetrics:
    collection_interval: 1s
    initial_delay: 0s
    scrapers:
      cpu:
      load:
      memory:
        metrics:
          system.linux.memory.available: {{enabled: true}}
      filesystem:
        include_mount_points: {{mount_points: ["/"], match_type: strict}}
      network:
        include: {{interfaces: [lo], match_type: strict}}
      processes:
processors:
  resourcedetection:
    detectors: [env, system]
    system:
      hostname_sources: [os]
      resource_attributes:
        host.id: {{enabled: true}}
        host.arch: {{enabled: true}}
        os.description: {{enabled: true}}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [hostmetrics], processors: [resourcedetection], exporters: [file] }}
"#,
            out.display()
        );
        let path = dir.path().join("gateway.yaml");
        std::fs::write(&path, config).unwrap();
        let process = Proc::spawn(
            &example("gateway"),
            &["--config", path.to_str().unwrap()],
            &[(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=e2e%20test, team=host%2Cmetrics",
            )],
        );
        Gateway {
            _process: process,
            out,
            _dir: dir,
        }
    }

    /// The first batch whose points were taken after `after` (ns since the epoch).
    fn batch_after(&self, after: u64) -> Batch {
        eventually("a host metrics batch", WAIT, || {
            let text = std::fs::read_to_string(&self.out).ok()?;
            text.lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .map(|json| Batch { json })
                .find(|batch| batch.time() > after && !batch.points("system.cpu.time").is_empty())
        })
    }
}

fn between(what: &str, ours: f64, a: f64, b: f64, slack: f64) {
    eprintln!("{what}: ours {ours}, node exporter {a} .. {b}, slack {slack}");
    let (low, high) = (a.min(b) - slack, a.max(b) + slack);
    assert!(
        (low..=high).contains(&ours),
        "{what}: ours {ours} is not within node exporter's {a} .. {b} (± {slack})"
    );
}

fn command_output(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().expect(program);
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn host_metrics_agree_with_node_exporter_and_the_resource_is_this_host() {
    let Some(node) = node_exporter() else { return };
    let gateway = Gateway::start();
    // Warm up: the first batch exists (the gateway is running).
    gateway.batch_after(0);
    let a = NodeScrape::take(node);
    let after_a = now_nanos();
    let ours = gateway.batch_after(after_a);
    let b = NodeScrape::take(node);

    // Memory.
    let total: f64 = ["used", "free", "buffered", "cached"]
        .iter()
        .map(|s| ours.sum("system.memory.usage", &[("state", s)]))
        .sum();
    assert_eq!(total, a.get("node_memory_MemTotal_bytes"), "memory total");
    let mib = 1024.0 * 1024.0;
    between(
        "memory available",
        ours.sum("system.linux.memory.available", &[]),
        a.get("node_memory_MemAvailable_bytes"),
        b.get("node_memory_MemAvailable_bytes"),
        256.0 * mib,
    );

    // The root file system.
    let root = [("mountpoint", "/")];
    let size = ours.sum("system.filesystem.usage", &root);
    let node_root = |name: &str, scrape: &NodeScrape| {
        let key = scrape
            .0
            .keys()
            .find(|k| k.starts_with(&format!("{name}{{")) && k.contains("mountpoint=\"/\""))
            .unwrap_or_else(|| panic!("node exporter has no {name} for /"))
            .clone();
        scrape.get(&key)
    };
    assert_eq!(
        size,
        node_root("node_filesystem_size_bytes", &a),
        "size of /"
    );
    between(
        "used bytes of /",
        ours.sum("system.filesystem.usage", &[root[0], ("state", "used")]),
        size - node_root("node_filesystem_free_bytes", &a),
        size - node_root("node_filesystem_free_bytes", &b),
        size * 0.01,
    );

    // Loopback traffic: counters, so A ≤ ours ≤ B.
    for (direction, node_name) in [
        ("receive", "node_network_receive_bytes_total"),
        ("transmit", "node_network_transmit_bytes_total"),
    ] {
        let series = format!("{node_name}{{device=\"lo\"}}");
        between(
            &format!("lo {direction} bytes"),
            ours.sum(
                "system.network.io",
                &[("device", "lo"), ("direction", direction)],
            ),
            a.get(&series),
            b.get(&series),
            0.0,
        );
    }

    // CPU seconds over every CPU and mode.
    between(
        "cpu seconds",
        ours.sum("system.cpu.time", &[]),
        a.sum("node_cpu_seconds_total"),
        b.sum("node_cpu_seconds_total"),
        0.05,
    );

    // Load averages.
    for (ours_name, node_name) in [
        ("system.cpu.load_average.1m", "node_load1"),
        ("system.cpu.load_average.5m", "node_load5"),
        ("system.cpu.load_average.15m", "node_load15"),
    ] {
        between(
            ours_name,
            ours.sum(ours_name, &[]),
            a.get(node_name),
            b.get(node_name),
            0.0,
        );
    }

    // Processes.
    let pids = (a.get("node_processes_pids"), b.get("node_processes_pids"));
    between(
        "process count",
        ours.sum("system.processes.count", &[]),
        pids.0,
        pids.1,
        pids.0 * 0.1 + 20.0,
    );
    between(
        "processes created",
        ours.sum("system.processes.created", &[]),
        a.get("node_forks_total"),
        b.get("node_forks_total"),
        0.0,
    );

    // resourcedetection on the same batch.
    let resource = ours.resource();
    let attribute = |key: &str| {
        resource
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in {resource:?}"))
            .clone()
    };
    assert_eq!(attribute("host.name"), command_output("hostname", &[]));
    if let Ok(machine_id) = std::fs::read_to_string("/etc/machine-id") {
        assert_eq!(attribute("host.id"), machine_id.trim());
    }
    assert_eq!(attribute("os.type"), "linux");
    let description = attribute("os.description");
    assert!(
        description.contains(&command_output("uname", &["-srvm"])),
        "{description}"
    );
    let arch = match command_output("uname", &["-m"]).as_str() {
        "x86_64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        other => other.to_string(),
    };
    assert_eq!(attribute("host.arch"), arch);
    assert_eq!(attribute("deployment.environment"), "e2e test");
    assert_eq!(attribute("team"), "host,metrics");
}
