//! The `statsd` receiver with real StatsD clients: the Python `statsd` package (UDP and
//! TCP) and Datadog's DogStatsD client (UDP and a Unix datagram socket) send to the
//! gateway, whose file exporter shows what the aggregation made of it. Raw datagrams check
//! sample rates and that a malformed datagram is counted without stopping the next.

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// A gateway with one `statsd` receiver (`receiver` holds its extra keys) and a file
/// exporter; its StatsD address is read back from its log (it listens on port 0).
struct Gateway {
    process: Proc,
    out: PathBuf,
    metrics: SocketAddr,
    statsd: Option<SocketAddr>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    fn start(receiver: &str) -> Gateway {
        let dir = temp_dir();
        let out = dir.path().join("out.jsonl");
        let metrics = free_port();
        let config = format!(
            r#"
receivers:
  statsd:
    aggregation_interval: 300ms
    timer_histogram_mapping:
      - {{ statsd_type: timing, observer_type: summary }}
      - {{ statsd_type: histogram, observer_type: gauge }}
      - {{ statsd_type: distribution, observer_type: histogram, histogram: {{ max_size: 20 }} }}
{receiver}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    metrics: {{ receivers: [statsd], exporters: [file] }}
"#,
            out.display()
        );
        let path = dir.path().join("gateway.yaml");
        std::fs::write(&path, config).unwrap();
        let mut process = Proc::spawn(
            &example("gateway"),
            &["--config", path.to_str().unwrap()],
            &[],
        );
        process.wait_for_output("StatsD receiver listening", WAIT);
        let statsd = bound_address(&process.output());
        let metrics = SocketAddr::from(([127, 0, 0, 1], metrics));
        wait_serving(&mut process, metrics, WAIT);
        Gateway {
            process,
            out,
            metrics,
            statsd,
            _dir: dir,
        }
    }

    fn port(&self) -> String {
        self.statsd
            .expect("a UDP or TCP address")
            .port()
            .to_string()
    }

    /// What the receiver's pipeline exported for metrics named `prefix.*`.
    fn seen(&self, prefix: &str) -> BTreeMap<String, Seen> {
        seen(&self.out, prefix)
    }

    fn failed_points(&self) -> f64 {
        let page = get(self.metrics, "/metrics").text();
        metric(
            &page,
            "otelcol_receiver_failed_metric_points",
            &[("receiver", "statsd")],
        )
    }
}

/// The `bound` field of the receiver's "listening" log line (none for a Unix socket); the
/// log prints fields as JSON (`{"bound":"127.0.0.1:8125",...}`).
fn bound_address(log: &str) -> Option<SocketAddr> {
    let line = log
        .lines()
        .find(|l| l.contains("StatsD receiver listening"))?;
    let at = line.find("\"bound\":\"")? + "\"bound\":\"".len();
    let address: String = line[at..].chars().take_while(|c| *c != '"').collect();
    Some(
        address
            .parse()
            .unwrap_or_else(|e| panic!("{address:?} in {line:?}: {e}")),
    )
}

/// One series as exported, summed over the intervals it appeared in.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// A delta sum's total.
    Sum(i64),
    /// Gauge points, in order.
    Gauge(Vec<f64>),
    /// Summary count and sum.
    Summary(u64, f64),
    /// Exponential histogram count and sum.
    Histogram(u64, f64),
}

fn number(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_f64().unwrap_or(f64::NAN),
    }
}

fn attributes(value: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = value
        .as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            let v = &kv["value"];
            let text = v["stringValue"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v["intValue"].to_string());
            (kv["key"].as_str().unwrap().to_string(), text)
        })
        .collect();
    pairs.sort();
    pairs
}

/// Series named `prefix.*`, keyed `name{k=v,...}`, from the file exporter's output; checks
/// the resource and scope of each on the way.
fn seen(out: &Path, prefix: &str) -> BTreeMap<String, Seen> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for line in read_json_lines(out) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    let name = metric["name"].as_str().unwrap_or_default();
                    let Some(short) = name.strip_prefix(&format!("{prefix}.")) else {
                        continue;
                    };
                    assert_eq!(
                        scope["scope"]["name"],
                        "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/statsdreceiver"
                    );
                    let resource_attributes = attributes(&resource["resource"]["attributes"]);
                    if let Some((_, address)) = resource_attributes
                        .iter()
                        .find(|(k, _)| k == "source.address")
                    {
                        assert_eq!(address, "127.0.0.1");
                    }
                    for (kind, data) in metric.as_object().unwrap() {
                        let Some(points) = data["dataPoints"].as_array() else {
                            continue;
                        };
                        for point in points {
                            let tags: Vec<String> = attributes(&point["attributes"])
                                .into_iter()
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect();
                            let key = format!("{short}{{{}}}", tags.join(","));
                            let entry = seen.entry(key.clone());
                            match kind.as_str() {
                                "sum" => {
                                    assert_eq!(data["aggregationTemporality"], 1, "delta: {key}");
                                    let value = number(&point["asInt"]) as i64;
                                    let total = entry.or_insert(Seen::Sum(0));
                                    if let Seen::Sum(sum) = total {
                                        *sum += value;
                                    }
                                }
                                "gauge" => {
                                    let value = if point["asInt"].is_null() {
                                        number(&point["asDouble"])
                                    } else {
                                        number(&point["asInt"])
                                    };
                                    if let Seen::Gauge(values) =
                                        entry.or_insert(Seen::Gauge(vec![]))
                                    {
                                        values.push(value);
                                    }
                                }
                                "summary" => {
                                    let (count, sum) =
                                        (number(&point["count"]) as u64, number(&point["sum"]));
                                    if let Seen::Summary(c, s) =
                                        entry.or_insert(Seen::Summary(0, 0.0))
                                    {
                                        *c += count;
                                        *s += sum;
                                    }
                                }
                                "exponentialHistogram" => {
                                    assert_eq!(data["aggregationTemporality"], 1, "delta: {key}");
                                    let (count, sum) =
                                        (number(&point["count"]) as u64, number(&point["sum"]));
                                    if let Seen::Histogram(c, s) =
                                        entry.or_insert(Seen::Histogram(0, 0.0))
                                    {
                                        *c += count;
                                        *s += sum;
                                    }
                                }
                                other => panic!("unexpected metric kind {other} for {key}"),
                            }
                        }
                    }
                }
            }
        }
    }
    seen
}

fn expected(entries: &[(&str, Seen)]) -> BTreeMap<String, Seen> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Polls the exporter's output until it shows `expected` for `prefix`.
fn wait_for(gateway: &Gateway, prefix: &str, expected: &BTreeMap<String, Seen>) {
    let mut last = BTreeMap::new();
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually("the aggregated metrics", WAIT, || {
            last = gateway.seen(prefix);
            (&last == expected).then_some(())
        })
    }));
    if found.is_err() {
        panic!(
            "expected {expected:#?}\nsaw {last:#?}\ngateway output:\n{}",
            gateway.process.output()
        );
    }
}

/// What the `statsd` package's calls in send_statsd.py aggregate to.
fn statsd_package_expected() -> BTreeMap<String, Seen> {
    expected(&[
        ("hits{}", Seen::Sum(8)),
        ("lat{}", Seen::Summary(3, 620.0)),
        ("load{}", Seen::Gauge(vec![12.0])),
        ("users{}", Seen::Gauge(vec![2.0])),
        ("piped{}", Seen::Sum(2)),
    ])
}

/// What DogStatsd's calls in send_statsd.py aggregate to.
fn dogstatsd_expected() -> BTreeMap<String, Seen> {
    let common = "container.id=abc123,env=test";
    let key = |name: &str, extra: &str| {
        let mut tags: Vec<&str> = common.split(',').collect();
        if !extra.is_empty() {
            tags.push(extra);
        }
        tags.sort();
        format!("{name}{{{}}}", tags.join(","))
    };
    [
        (key("hits", "route=/a"), Seen::Sum(5)),
        (key("hits", "route=/b"), Seen::Sum(1)),
        (key("temp", "room=lab"), Seen::Gauge(vec![21.5])),
        (key("size", ""), Seen::Histogram(10, 55.0)),
        (key("reqsize", ""), Seen::Gauge(vec![42.0])),
        (key("users", ""), Seen::Gauge(vec![2.0])),
    ]
    .into_iter()
    .collect()
}

#[test]
fn the_statsd_package_over_udp() {
    let Some(python) = python_sdk() else { return };
    let gateway = Gateway::start("    endpoint: 127.0.0.1:0");
    let port = gateway.port();
    run_python(
        &python,
        "send_statsd.py",
        &["--client", "statsd-udp", "--prefix", "udp", "--port", &port],
    );
    wait_for(&gateway, "udp", &statsd_package_expected());
}

#[test]
fn the_statsd_package_over_tcp() {
    let Some(python) = python_sdk() else { return };
    let gateway = Gateway::start("    endpoint: 127.0.0.1:0\n    transport: tcp");
    let port = gateway.port();
    run_python(
        &python,
        "send_statsd.py",
        &["--client", "statsd-tcp", "--prefix", "tcp", "--port", &port],
    );
    wait_for(&gateway, "tcp", &statsd_package_expected());
}

#[test]
fn dogstatsd_tags_container_ids_distributions_and_sets_over_udp() {
    let Some(python) = python_sdk() else { return };
    let gateway = Gateway::start("    endpoint: 127.0.0.1:0");
    let port = gateway.port();
    run_python(
        &python,
        "send_statsd.py",
        &[
            "--client",
            "dogstatsd-udp",
            "--prefix",
            "dd",
            "--port",
            &port,
        ],
    );
    wait_for(&gateway, "dd", &dogstatsd_expected());
}

#[test]
fn dogstatsd_over_a_unix_datagram_socket() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let socket = dir.path().join("dsd.socket");
    let gateway = Gateway::start(&format!(
        "    transport: unixgram\n    endpoint: {}",
        socket.display()
    ));
    run_python(
        &python,
        "send_statsd.py",
        &[
            "--client",
            "dogstatsd-uds",
            "--prefix",
            "uds",
            "--socket",
            socket.to_str().unwrap(),
        ],
    );
    wait_for(&gateway, "uds", &dogstatsd_expected());
}

#[test]
fn sample_rates_and_a_malformed_datagram_among_good_ones() {
    let gateway = Gateway::start("    endpoint: 127.0.0.1:0");
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = gateway.statsd.unwrap();
    client.send_to(b"raw.sampled:1|c|@0.1", to).unwrap();
    client
        .send_to(b"raw.before:1|c\nnot statsd at all\nraw.before:2|c", to)
        .unwrap();
    client.send_to(b"\xff\xfe garbage", to).unwrap();
    client.send_to(b"raw.after:1|c|#k:v", to).unwrap();
    wait_for(
        &gateway,
        "raw",
        &expected(&[
            ("sampled{}", Seen::Sum(10)),
            ("before{}", Seen::Sum(3)),
            ("after{k=v}", Seen::Sum(1)),
        ]),
    );
    // The bad line of the second datagram and the whole third one.
    eventually("the malformed lines counted", WAIT, || {
        (gateway.failed_points() == 2.0).then_some(())
    });
}
