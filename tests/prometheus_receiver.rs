//! The `prometheus` receiver against real peers: Debian's `prometheus-node-exporter` and a
//! real Prometheus 2.42 (its own `/metrics`) are scraped both by our gateway (file exporter
//! output) and by that Prometheus, and the series each saw must agree; then file discovery,
//! relabelling, staleness, limits, TLS and basic authentication against node-exporter.
//!
//! One Prometheus and one node-exporter serve the whole test binary, each on a free port,
//! with their files in a temporary directory. Each runs under a small shell holding the
//! read end of a pipe this process keeps open: when the test process exits, for whatever
//! reason, the pipe closes and the shell kills the server and removes the directory.
//!
//! How series are compared: our side is every (name, labels) the gateway wrote during the
//! run, turned back into Prometheus series (a histogram point gives `_bucket{le}` for each
//! bound and `+Inf`, `_sum`, `_count`; a summary `{quantile}`, `_sum`, `_count`; `job` and
//! `instance` come from the resource's `service.name` and `service.instance.id`; `le` and
//! `quantile` compared as numbers). Prometheus's side is `/api/v1/series` over the same
//! time window. Prometheus 2.42 stores OpenMetrics `_created` samples as series of their
//! own, while the receiver reads them as start times (as Go's does): those are left out.
//! The window ends after Prometheus's first scrape following our last one, so every series
//! we saw is in it; a series only Prometheus has is accepted only if its first sample is
//! after our last scrape or its last before our first (Prometheus's own metrics grow as it
//! works: `prometheus_target_interval_length_seconds` appears after its first interval).
//! Everything else must be equal, series for series.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// A server kept alive for the test binary's life (see the module docs).
struct Server {
    addr: SocketAddr,
    /// Its files (the TLS fixture's `ca.pem`).
    dir: PathBuf,
    _lifeline: Mutex<(Child, ChildStdin)>,
}

/// Runs `program args...` under the lifeline shell, its output to `log`.
fn lifeline(program: &Path, args: &[String], dir: &Path, log: &str) -> Mutex<(Child, ChildStdin)> {
    let mut child = Command::new("sh")
        .args([
            "-c",
            r#"dir="$1"; log="$2"; shift 2; "$@" >"$dir/$log" 2>&1 & server=$!; read -r _; kill $server; wait $server 2>/dev/null; rm -rf "$dir""#,
            "sh",
        ])
        .arg(dir)
        .arg(log)
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start the server");
    let stdin = child.stdin.take().expect("the lifeline pipe");
    Mutex::new((child, stdin))
}

fn wait_http(addr: SocketAddr, path: &str) {
    eventually(&format!("{addr}{path} answering"), WAIT, || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            .ok()
            .filter(|_| get(addr, path).status == 200)
    });
}

/// The shared node-exporter, with basic auth on a second instance (see `node_exporter_auth`).
fn node_exporter() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("prometheus-node-exporter")?;
            let dir = temp_dir().keep();
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let args = vec![format!("--web.listen-address={addr}")];
            let lifeline = lifeline(&program, &args, &dir, "node-exporter.log");
            wait_http(addr, "/metrics");
            Some(Server {
                addr,
                dir,
                _lifeline: lifeline,
            })
        })
        .as_ref()
}

/// A CA and a certificate for 127.0.0.1 it signed, as PEM files in `dir`.
fn write_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "prometheus receiver e2e CA");
    std::fs::write(
        dir.join("ca.pem"),
        ca_params.self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

/// A node-exporter over TLS (a certificate of our own CA, `ca.pem` in its directory)
/// that wants basic auth `admin`/`test` (the bcrypt hash of Prometheus's basic-auth guide).
fn node_exporter_auth() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("prometheus-node-exporter")?;
            let dir = temp_dir().keep();
            write_pki(&dir);
            let web = dir.join("web.yml");
            std::fs::write(
                &web,
                format!(
                    "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  admin: $2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay\n",
                    dir.join("server.pem").display(),
                    dir.join("server.key").display()
                ),
            )
            .unwrap();
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let args = vec![
                format!("--web.listen-address={addr}"),
                format!("--web.config.file={}", web.display()),
            ];
            let lifeline = lifeline(&program, &args, &dir, "node-exporter.log");
            eventually("node-exporter (auth) listening", WAIT, || {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
            });
            Some(Server {
                addr,
                dir,
                _lifeline: lifeline,
            })
        })
        .as_ref()
}

/// The shared Prometheus: scrapes node-exporter (`job="node"`) and itself
/// (`job="prometheus"`) every second.
fn prometheus() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let program = program("prometheus")?;
            let node = node_exporter()?;
            let dir = temp_dir().keep();
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let config = dir.join("prometheus.yml");
            std::fs::write(&config, scrape_configs(node.addr, addr, "")).unwrap();
            let args = vec![
                format!("--config.file={}", config.display()),
                format!("--web.listen-address={addr}"),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                "--web.enable-lifecycle".into(),
            ];
            let lifeline = lifeline(&program, &args, &dir, "prometheus.log");
            wait_http(addr, "/-/ready");
            Some(Server {
                addr,
                dir,
                _lifeline: lifeline,
            })
        })
        .as_ref()
}

/// An OpenMetrics exposition with every type and the format's corners (escapes, NaN,
/// `_created`, exemplars, units), served at `/om`.
const EDGE_OPENMETRICS: &str = r#"# TYPE edge_requests counter
# HELP edge_requests Requests with "quotes" and \\ backslashes.
edge_requests_total{path="/a\"b",dir="x\\y"} 5 # {trace_id="0af7651916cd43dd8448eb211c80319c"} 1.0 1700000000.000
edge_requests_created{path="/a\"b",dir="x\\y"} 1700000000.5
# TYPE edge_temp_celsius gauge
# UNIT edge_temp_celsius celsius
edge_temp_celsius{room="a\nb"} 21.5
edge_temp_celsius{room="c"} NaN
# TYPE edge_latency_seconds histogram
edge_latency_seconds_bucket{le="0.1"} 1
edge_latency_seconds_bucket{le="1.0"} 3
edge_latency_seconds_bucket{le="+Inf"} 4
edge_latency_seconds_sum 2.5
edge_latency_seconds_count 4
edge_latency_seconds_created 1700000000.0
# TYPE edge_rpc summary
edge_rpc{quantile="0.5"} 0.2
edge_rpc{quantile="0.99"} 0.9
edge_rpc_sum 12.0
edge_rpc_count 40
# TYPE edge_build info
edge_build_info{version="1.2.3"} 1
# TYPE edge_state stateset
edge_state{edge_state="on"} 1
edge_state{edge_state="off"} 0
# TYPE edge_other unknown
edge_other -Inf
# EOF
"#;

/// A 0.0.4 text exposition with its own corners (trailing comma, tabs, comments,
/// untyped samples, escapes), served at `/text`.
const EDGE_TEXT: &str = "# HELP edge_text_total A counter in 0.0.4 with \"escapes\".\n# TYPE edge_text_total counter\nedge_text_total{path=\"C:\\\\DIR\",msg=\"line\\nbreak \\\"quoted\\\"\"} 3\n# a comment\n# TYPE edge_text_untyped untyped\nedge_text_untyped{a=\"1\",} 2\nedge_text_inf{x=\"y\"}\t-Inf\n# TYPE edge_text_summary summary\nedge_text_summary{quantile=\"0.5\"} 1\nedge_text_summary_sum 4\nedge_text_summary_count 3\nedge_text_bare 1e3\n";

/// A plain HTTP server answering `/om` and `/text` with the expositions above, for the
/// life of the test binary (a thread; nothing to stop).
fn edge_server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let (content_type, body) = if request.starts_with(b"GET /om") {
                    ("application/openmetrics-text; version=1.0.0; charset=utf-8", EDGE_OPENMETRICS)
                } else {
                    ("text/plain; version=0.0.4; charset=utf-8", EDGE_TEXT)
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        addr
    })
}

/// The same jobs for Prometheus and for our receiver (`indent` places them in YAML).
fn scrape_configs(node: SocketAddr, prometheus: SocketAddr, indent: &str) -> String {
    let edge = edge_server();
    let text = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs: [{{targets: ['{node}']}}]\n  - job_name: prometheus\n    static_configs: [{{targets: ['{prometheus}']}}]\n  - job_name: edge_om\n    metrics_path: /om\n    static_configs: [{{targets: ['{edge}']}}]\n  - job_name: edge_text\n    metrics_path: /text\n    static_configs: [{{targets: ['{edge}']}}]\n"
    );
    text.lines().map(|l| format!("{indent}{l}\n")).collect()
}

fn gateway(dir: &Path, receiver_config: &str, out: &Path) -> Proc {
    let config = format!(
        "receivers:\n  prometheus:\n{receiver_config}exporters:\n  file: {{ path: \"{}\" }}\nservice:\n  telemetry: {{ metrics: {{ level: none }} }}\n  pipelines:\n    metrics: {{ receivers: [prometheus], exporters: [file] }}\n",
        out.display()
    );
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, config).unwrap();
    Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    )
}

/// A series: its name and sorted labels (job and instance included).
type Series = (String, Vec<(String, String)>);

fn string_attrs(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|kv| {
            Some((
                kv["key"].as_str()?.to_string(),
                kv["value"]["stringValue"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// A number label (`le`, `quantile`) as both sides are compared: parsed and printed again.
fn number_label(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(v) if v.is_infinite() => if v > 0.0 { "+Inf" } else { "-Inf" }.into(),
        Ok(v) => format!("{v}"),
        Err(_) => text.into(),
    }
}

/// One data point of our output: the series it stands for, and whether it is stale.
#[derive(Debug, Clone)]
struct OurPoint {
    series: Vec<Series>,
    name: String,
    job: String,
    instance: String,
    value: Option<f64>,
    /// Unix seconds.
    time: f64,
    stale: bool,
    attrs: Vec<(String, String)>,
}

/// The file exporter's lines so far; the last may be half written, and is then left out.
fn json_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn our_points(out: &Path) -> Vec<OurPoint> {
    let mut points = Vec::new();
    for line in json_lines(out) {
        for resource in line["resourceMetrics"].as_array().into_iter().flatten() {
            let rattrs = string_attrs(&resource["resource"]["attributes"]);
            let find = |k: &str| {
                rattrs
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let (job, instance) = (find("service.name"), find("service.instance.id"));
            for scope in resource["scopeMetrics"].as_array().into_iter().flatten() {
                for metric in scope["metrics"].as_array().into_iter().flatten() {
                    let name = metric["name"].as_str().unwrap_or_default().to_string();
                    let (kind, dps) = ["gauge", "sum", "histogram", "summary"]
                        .iter()
                        .find_map(|k| Some((*k, metric[*k]["dataPoints"].as_array()?)))
                        .unwrap_or(("", &EMPTY));
                    for dp in dps {
                        let mut base = string_attrs(&dp["attributes"]);
                        base.push(("job".into(), job.clone()));
                        base.push(("instance".into(), instance.clone()));
                        let with = |extra: Option<(&str, String)>, suffix: &str| {
                            let mut labels = base.clone();
                            if let Some((k, v)) = extra {
                                labels.push((k.to_string(), v));
                            }
                            labels.sort();
                            (format!("{name}{suffix}"), labels)
                        };
                        let mut series = Vec::new();
                        match kind {
                            "histogram" => {
                                for b in dp["explicitBounds"].as_array().into_iter().flatten() {
                                    let le =
                                        number_label(&b.as_f64().unwrap_or(f64::NAN).to_string());
                                    series.push(with(Some(("le", le)), "_bucket"));
                                }
                                series.push(with(Some(("le", "+Inf".into())), "_bucket"));
                                series.push(with(None, "_sum"));
                                series.push(with(None, "_count"));
                            }
                            "summary" => {
                                for q in dp["quantileValues"].as_array().into_iter().flatten() {
                                    let quantile = number_label(
                                        &q["quantile"].as_f64().unwrap_or(0.0).to_string(),
                                    );
                                    series.push(with(Some(("quantile", quantile)), ""));
                                }
                                series.push(with(None, "_sum"));
                                series.push(with(None, "_count"));
                            }
                            _ => series.push(with(None, "")),
                        }
                        let stale = dp["flags"].as_u64().unwrap_or(0) & 1 == 1;
                        points.push(OurPoint {
                            series,
                            name: name.clone(),
                            job: job.clone(),
                            instance: instance.clone(),
                            value: dp["asDouble"].as_f64(),
                            time: dp["timeUnixNano"]
                                .as_str()
                                .and_then(|t| t.parse::<f64>().ok())
                                .unwrap_or(0.0)
                                / 1e9,
                            stale,
                            attrs: string_attrs(&dp["attributes"]),
                        });
                    }
                }
            }
        }
    }
    points
}

static EMPTY: Vec<Value> = Vec::new();

fn our_series(points: &[OurPoint], job: &str) -> BTreeSet<Series> {
    points
        .iter()
        .filter(|p| p.job == job && !p.stale)
        .flat_map(|p| p.series.clone())
        .collect()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What Prometheus stored for `job` between `start` and `end` (Unix seconds).
fn prometheus_series(prom: SocketAddr, job: &str, start: f64, end: f64) -> BTreeSet<Series> {
    let path = format!(
        "/api/v1/series?match[]={}&start={start}&end={end}",
        encode(&format!("{{job=\"{job}\"}}"))
    );
    let response = get(prom, &path);
    assert_eq!(response.status, 200, "{}", response.text());
    let json: Value = serde_json::from_slice(&response.body).unwrap();
    json["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let map = s.as_object().unwrap();
            let name = map["__name__"].as_str().unwrap().to_string();
            let mut labels: Vec<(String, String)> = map
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| {
                    let v = v.as_str().unwrap_or_default();
                    let v = if k == "le" || k == "quantile" {
                        number_label(v)
                    } else {
                        v.to_string()
                    };
                    (k.clone(), v)
                })
                .collect();
            labels.sort();
            (name, labels)
        })
        .collect()
}

/// The latest value of each of `job`'s series, as Prometheus answers an instant query.
fn prometheus_values(prom: SocketAddr, job: &str) -> std::collections::BTreeMap<Series, f64> {
    let query = encode(&format!("{{job=\"{job}\"}}"));
    let response = get(prom, &format!("/api/v1/query?query={query}"));
    let json: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    json["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let map = r["metric"].as_object()?;
            let name = map["__name__"].as_str()?.to_string();
            let mut labels: Vec<(String, String)> = map
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            labels.sort();
            let value = r["value"][1].as_str()?.parse().ok()?;
            Some(((name, labels), value))
        })
        .collect()
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Prometheus's targets' health, by job.
fn prometheus_up(prom: SocketAddr, job: &str) -> bool {
    let response = get(prom, "/api/v1/targets");
    let json: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    json["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["labels"]["job"] == job && t["health"] == "up")
}

/// When Prometheus last scraped `job` (Unix seconds; 0 when unknown).
fn last_scrape(prom: SocketAddr, job: &str) -> f64 {
    let query = encode(&format!("timestamp(up{{job=\"{job}\"}})"));
    let response = get(prom, &format!("/api/v1/query?query={query}"));
    let json: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    json["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The first and last sample times (Unix seconds) Prometheus holds for `series` in the
/// last 5 minutes.
fn sample_span(prom: SocketAddr, (name, labels): &Series) -> (f64, f64) {
    let matchers: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k != "le" && k != "quantile")
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let mut selector = format!("{name}{{{}}}", matchers.join(","));
    if let Some((k, _)) = labels.iter().find(|(k, _)| k == "le" || k == "quantile") {
        // Number labels were normalised: any value of them will do for the span.
        selector = format!("{name}{{{},{k}=~\".+\"}}", matchers.join(","));
    }
    let response = get(
        prom,
        &format!("/api/v1/query?query={}", encode(&format!("{selector}[5m]"))),
    );
    let json: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let times: Vec<f64> = json["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["values"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v[0].as_f64())
        .collect();
    (
        times.iter().copied().fold(f64::INFINITY, f64::min),
        times.iter().copied().fold(0.0, f64::max),
    )
}

#[test]
fn series_match_what_prometheus_stores() {
    let Some(prom) = prometheus() else { return };
    let Some(node) = node_exporter() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let receiver = format!(
        "    config:\n{}",
        scrape_configs(node.addr, prom.addr, "      ")
    );
    let start = now_seconds();
    let mut gateway = gateway(dir.path(), &receiver, &out);
    eventually("every job up, for us and for Prometheus", WAIT, || {
        let points = our_points(&out);
        let up = |job: &str| {
            points
                .iter()
                .any(|p| p.name == "up" && p.job == job && p.value == Some(1.0))
        };
        ["node", "prometheus", "edge_om", "edge_text"]
            .iter()
            .all(|job| up(job) && prometheus_up(prom.addr, job))
            .then_some(())
    });
    // A few more scrapes on both sides.
    let ours_at = |n: usize| {
        our_points(&out)
            .iter()
            .filter(|p| p.name == "up" && p.job == "node")
            .count()
            >= n
    };
    eventually("three scrapes of node", WAIT, || ours_at(3).then_some(()));
    gateway.kill();
    // Prometheus scrapes once more after our last scrape, so a series that appeared just
    // before it is in both; then the window closes.
    let killed = now_seconds();
    for job in ["node", "prometheus", "edge_om", "edge_text"] {
        eventually("Prometheus scraping after us", WAIT, || {
            (last_scrape(prom.addr, job) > killed + 0.1).then_some(())
        });
    }
    let end = now_seconds();
    let points = our_points(&out);
    for job in ["node", "prometheus", "edge_om", "edge_text"] {
        let ours = our_series(&points, job);
        let theirs: BTreeSet<Series> = prometheus_series(prom.addr, job, start, end)
            .into_iter()
            .filter(|(name, _)| !name.ends_with("_created"))
            .collect();
        // Measured, not asserted: how long a scrape of the job takes each side.
        let mut durations: Vec<f64> = points
            .iter()
            .filter(|p| p.job == job && p.name == "scrape_duration_seconds")
            .filter_map(|p| p.value)
            .collect();
        durations.sort_by(f64::total_cmp);
        let query = encode(&format!(
            "quantile_over_time(0.5, scrape_duration_seconds{{job=\"{job}\"}}[1m])"
        ));
        let theirs_median = serde_json::from_slice::<Value>(
            &get(prom.addr, &format!("/api/v1/query?query={query}")).body,
        )
        .ok()
        .and_then(|v| {
            v["data"]["result"][0]["value"][1]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
        eprintln!(
            "{job}: median scrape duration: ours {:.4}s over {} scrapes, Prometheus {theirs_median}s",
            durations
                .get(durations.len() / 2)
                .copied()
                .unwrap_or(f64::NAN),
            durations.len()
        );
        let least = if job.starts_with("edge") { 10 } else { 50 };
        assert!(ours.len() >= least, "{job}: only {} series", ours.len());
        // Our first and last scrape of the job.
        let times: Vec<f64> = points
            .iter()
            .filter(|p| p.job == job && p.name == "up")
            .map(|p| p.time)
            .collect();
        let (first, last) = (
            times.iter().copied().fold(f64::INFINITY, f64::min),
            times.iter().copied().fold(0.0, f64::max),
        );
        let only_ours: Vec<_> = ours.difference(&theirs).collect();
        // A series only Prometheus has is fine if it appeared after our last scrape or
        // was gone before our first (Prometheus's own metrics grow as it works).
        let only_theirs: Vec<_> = theirs
            .difference(&ours)
            .filter(|s| {
                let (born, died) = sample_span(prom.addr, s);
                !(born > last - 0.05 || died < first + 0.05)
            })
            .collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "{job}: {} series in common; only ours: {only_ours:#?}\nonly Prometheus's: {only_theirs:#?}",
            ours.intersection(&theirs).count()
        );
        eprintln!("{job}: {} series, the same on both sides", ours.len());
        if job.starts_with("edge") {
            // The expositions do not change: the values must agree too.
            let theirs = prometheus_values(prom.addr, job);
            let mut compared = 0;
            for point in points
                .iter()
                .filter(|p| p.job == job && !p.stale && p.series.len() == 1)
            {
                let series = &point.series[0];
                if let (Some(ours), Some(theirs)) = (point.value, theirs.get(series))
                    && ours.is_finite()
                    && !point.name.starts_with("scrape_")
                {
                    assert_eq!(ours, *theirs, "{job}: {series:?}");
                    compared += 1;
                }
            }
            assert!(compared >= 4, "{job}: only {compared} values compared");
        }
    }
}

#[test]
fn file_discovery_relabelling_staleness_limits_tls_and_auth() {
    let Some(node) = node_exporter() else { return };
    let Some(auth) = node_exporter_auth() else {
        return;
    };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let targets = dir.path().join("targets");
    std::fs::create_dir(&targets).unwrap();
    let file = targets.join("node.yml");
    let password = dir.path().join("password");
    std::fs::write(&password, "test\n").unwrap();
    std::fs::write(
        &file,
        format!("- targets: ['{}']\n  labels: {{team: infra}}\n", node.addr),
    )
    .unwrap();
    let receiver = format!(
        r#"    config:
      global: {{ scrape_interval: 500ms, scrape_timeout: 500ms }}
      scrape_configs:
        - job_name: files
          file_sd_configs: [{{ files: ['{targets}/*.yml'] }}]
          relabel_configs:
            - {{ source_labels: [__address__], regex: '(.*):(\d+)', target_label: port, replacement: '$${{2}}' }}
            - {{ source_labels: [team], target_label: team_upper, action: uppercase }}
            - {{ source_labels: [__address__], target_label: shard, modulus: 8, action: hashmod }}
          metric_relabel_configs:
            - {{ source_labels: [__name__], regex: 'node_(load1|load5|time_seconds)', action: keep }}
            - {{ regex: shard, action: labeldrop }}
        - job_name: limited
          sample_limit: 10
          static_configs: [{{ targets: ['{node}'] }}]
        - job_name: auth
          scheme: https
          tls_config: {{ ca_file: '{ca}', min_version: TLS12 }}
          basic_auth: {{ username: admin, password_file: '{password}' }}
          static_configs: [{{ targets: ['{auth}'] }}]
        - job_name: auth_wrong
          scheme: https
          tls_config: {{ ca_file: '{ca}' }}
          basic_auth: {{ username: admin, password: wrong }}
          static_configs: [{{ targets: ['{auth}'] }}]
        - job_name: tls_unknown_ca
          scheme: https
          basic_auth: {{ username: admin, password: test }}
          static_configs: [{{ targets: ['{auth}'] }}]
        - job_name: tls_skip_verify
          scheme: https
          tls_config: {{ insecure_skip_verify: true }}
          basic_auth: {{ username: admin, password: test }}
          static_configs: [{{ targets: ['{auth}'] }}]
"#,
        ca = auth.dir.join("ca.pem").display(),
        password = password.display(),
        targets = targets.display(),
        node = node.addr,
        auth = auth.addr,
    );
    let mut gateway = gateway(dir.path(), &receiver, &out);
    let up = |job: &str, value: f64| {
        our_points(&out)
            .into_iter()
            .find(|p| p.name == "up" && p.job == job && p.value == Some(value))
    };
    // File discovery and relabelling: `$$` written in YAML reaches the receiver as `$`.
    let load = eventually("node_load1 via file_sd", WAIT, || {
        our_points(&out)
            .into_iter()
            .find(|p| p.name == "node_load1" && p.job == "files" && !p.stale)
    });
    let label = |p: &OurPoint, k: &str| {
        p.attrs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(label(&load, "port"), Some(node.addr.port().to_string()));
    assert_eq!(label(&load, "team_upper").as_deref(), Some("INFRA"));
    assert_eq!(label(&load, "shard"), None);
    let kept: BTreeSet<String> = our_points(&out)
        .into_iter()
        .filter(|p| p.job == "files")
        .map(|p| p.name)
        .filter(|n| !n.starts_with("scrape_") && n != "up")
        .collect();
    assert_eq!(
        kept,
        ["node_load1", "node_load5", "node_time_seconds"]
            .map(String::from)
            .into()
    );
    // Limits: node-exporter has far more than 10 samples: up 0, nothing of it delivered.
    eventually("limited job up 0", WAIT, || up("limited", 0.0));
    assert!(
        !our_points(&out)
            .iter()
            .any(|p| p.job == "limited" && p.name.starts_with("node_"))
    );
    // TLS with our CA and basic auth (password from a file) scrapes; a wrong password is
    // refused (401 → up 0); a server certificate of an unknown CA fails (up 0) unless
    // verification is skipped.
    eventually("auth job up", WAIT, || up("auth", 1.0));
    eventually("wrong password up 0", WAIT, || up("auth_wrong", 0.0));
    eventually("unknown CA up 0", WAIT, || up("tls_unknown_ca", 0.0));
    eventually("insecure_skip_verify up", WAIT, || {
        up("tls_skip_verify", 1.0)
    });
    assert!(up("tls_unknown_ca", 1.0).is_none() && up("auth_wrong", 1.0).is_none());
    // The target leaves the file (replaced by rename): its series and `up` go stale.
    let next = targets.join("node.yml.tmp");
    std::fs::write(&next, "[]\n").unwrap();
    std::fs::rename(&next, &file).unwrap();
    eventually("node_load1 stale", WAIT, || {
        our_points(&out)
            .into_iter()
            .find(|p| p.name == "node_load1" && p.job == "files" && p.stale)
    });
    eventually("up stale for the files job", WAIT, || {
        our_points(&out)
            .into_iter()
            .find(|p| p.name == "up" && p.job == "files" && p.stale)
    });
    // And comes back under another name in a new file.
    std::fs::write(
        targets.join("again.yml"),
        format!("- targets: ['{}']\n", node.addr),
    )
    .unwrap();
    let back = eventually("a scrape after the target came back", WAIT, || {
        our_points(&out).into_iter().rev().find(|p| {
            p.name == "node_load1"
                && p.job == "files"
                && !p.stale
                && label(p, "team_upper").is_none()
        })
    });
    assert_eq!(back.instance, node.addr.to_string());
    gateway.kill();
}
