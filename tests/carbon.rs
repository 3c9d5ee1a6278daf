//! Graphite and collectd end to end, with Debian's real servers:
//!
//! - the OpenTelemetry Python SDK sends metrics to the gateway's OTLP receiver; its
//!   `carbon` exporter writes them to `carbon-cache` (graphite-carbon), and the values are
//!   read back from carbon-cache's whisper files; what is sent while carbon-cache is down
//!   arrives once it is back;
//! - Debian's `collectd` (plugins `cpu`, `memory`, `load`, every second) reports through
//!   `write_graphite` to the gateway's `carbon` receiver (with a `regex` rule) and through
//!   `write_http` (JSON) to its `collectd` receiver, and through a second `write_graphite`
//!   node over UDP to a `carbon` receiver on UDP; the gateway's file exporter must show
//!   the series with collectd's names and attributes, and malformed lines and bodies must be
//!   counted and refused.
//!
//! Each test starts its own servers (carbon-cache, collectd, the gateway) on free ports
//! with their configuration and data in a temporary directory; they are `Proc`s, killed
//! when the test ends (also when it fails).

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// Debian's python3, which has graphite-carbon's `carbon` and `whisper` modules (a Python
/// from `PATH` may be another one).
fn system_python() -> Option<PathBuf> {
    let python = PathBuf::from("/usr/bin/python3");
    if python.is_file() {
        return Some(python);
    }
    assert!(
        std::env::var_os("TRIBUTARY_E2E_REQUIRED").is_none(),
        "/usr/bin/python3 (with graphite-carbon's modules) is missing; run scripts/test"
    );
    eprintln!("skipping: /usr/bin/python3 is missing");
    None
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A run ID unique to this test run, usable in metric names.
fn run_id(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}x{nanos}", std::process::id())
}

/// The gateway with `config` (YAML), its internal metrics on `metrics_port`.
fn gateway(dir: &Path, config: &str, metrics_port: u16) -> Proc {
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, config).expect("write the gateway config");
    let path = path.display().to_string();
    let set = format!("service.telemetry.metrics.address=127.0.0.1:{metrics_port}");
    Proc::spawn(
        &example("gateway"),
        &["--config", &path, "--set", &set],
        &[],
    )
}

/// carbon-cache in the foreground, storing under `dir`, with one-second retention.
fn carbon_cache(program: &Path, dir: &Path, line_port: u16) -> Proc {
    let data = dir.join("whisper");
    let conf = format!(
        "[cache]\n\
         STORAGE_DIR = {storage}/\n\
         LOCAL_DATA_DIR = {data}/\n\
         WHITELISTS_DIR = {storage}/lists/\n\
         CONF_DIR = {storage}/\n\
         LOG_DIR = {storage}/log/\n\
         PID_DIR = {storage}/\n\
         ENABLE_LOGROTATION = False\n\
         USER =\n\
         MAX_CACHE_SIZE = inf\n\
         MAX_UPDATES_PER_SECOND = 10000\n\
         MAX_CREATES_PER_MINUTE = inf\n\
         LINE_RECEIVER_INTERFACE = 127.0.0.1\n\
         LINE_RECEIVER_PORT = {line_port}\n\
         ENABLE_UDP_LISTENER = False\n\
         PICKLE_RECEIVER_INTERFACE = 127.0.0.1\n\
         PICKLE_RECEIVER_PORT = {pickle}\n\
         CACHE_QUERY_INTERFACE = 127.0.0.1\n\
         CACHE_QUERY_PORT = {query}\n\
         LOG_CREATES = True\n\
         ENABLE_TAGS = True\n",
        storage = dir.display(),
        data = data.display(),
        pickle = free_port(),
        query = free_port(),
    );
    std::fs::write(dir.join("carbon.conf"), conf).expect("write carbon.conf");
    std::fs::write(
        dir.join("storage-schemas.conf"),
        "[default]\npattern = .*\nretentions = 1s:1h\n",
    )
    .expect("write storage-schemas.conf");
    let config = format!("--config={}", dir.join("carbon.conf").display());
    Proc::spawn(program, &[&config, "--nodaemon", "--debug", "start"], &[])
}

/// carbon-cache started and listening on `line_port`. Its other two ports are picked free
/// and picked again when another process took one between the pick and carbon-cache's
/// bind (carbon-cache cannot bind port 0 and report the port), which a loaded machine
/// running tests in parallel does now and then.
fn started_carbon_cache(program: &Path, dir: &Path, line_port: u16) -> Proc {
    let listening = format!("starting on {line_port}");
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut cache = carbon_cache(program, dir, line_port);
        let deadline = Instant::now() + WAIT;
        while cache.is_running()
            && !cache.output().contains(&listening)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let clashed = !cache.is_running() && cache.output().contains("Address already in use");
        if !clashed || attempt == 5 {
            cache.wait_for_output(&listening, WAIT);
            return cache;
        }
    }
}

/// The points carbon-cache stored for each of `names`, read from its whisper files by
/// `tests/python/read_whisper.py` (`None`: no file yet).
fn whisper_points(
    python: &Path,
    data: &Path,
    names: &[String],
) -> BTreeMap<String, Option<Vec<(u64, f64)>>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/read_whisper.py");
    let output = Command::new(python)
        .arg(script)
        .arg("--data-dir")
        .arg(data)
        .args(names)
        .output()
        .expect("run read_whisper.py");
    assert!(
        output.status.success(),
        "read_whisper.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found: BTreeMap<String, Option<Vec<(u64, f64)>>> =
        serde_json::from_slice(&output.stdout).expect("read_whisper.py's JSON");
    found
}

#[test]
fn the_carbon_exporter_writes_into_carbon_cache() {
    let (Some(carbon), Some(python), Some(sdk)) =
        (program("carbon-cache"), system_python(), python_sdk())
    else {
        return;
    };
    let dir = temp_dir();
    let line_port = free_port();
    let mut cache = started_carbon_cache(&carbon, dir.path(), line_port);

    let (http_port, metrics_port) = (free_port(), free_port());
    let _gateway = gateway(
        dir.path(),
        &format!(
            "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{http_port}\n\
             exporters:\n  carbon:\n    endpoint: 127.0.0.1:{line_port}\n    max_idle_conns: 2\n\
             service:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n      exporters: [carbon]\n"
        ),
        metrics_port,
    );
    wait_listening(addr(http_port), WAIT);

    let run = run_id("carbon");
    let sent = run_python(
        &sdk,
        "send_otlp.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &format!("127.0.0.1:{http_port}"),
            "--run-id",
            &run,
            "--count",
            "3",
        ],
    )
    .report;
    let expected: BTreeMap<String, f64> = sent["metrics"][format!("{run}.requests")]
        .as_object()
        .expect("the sender's metrics")
        .iter()
        .map(|(route, value)| {
            (
                format!("{run}.requests;route={route}"),
                value.as_f64().expect("a number"),
            )
        })
        .collect();
    assert_eq!(expected.len(), 3);
    let names: Vec<String> = expected.keys().cloned().collect();
    let data = dir.path().join("whisper");
    let stored = eventually("carbon-cache storing every series", WAIT, || {
        let found = whisper_points(&python, &data, &names);
        found
            .values()
            .all(|points| points.as_ref().is_some_and(|p| !p.is_empty()))
            .then_some(found)
    });
    for (name, value) in &expected {
        let points = stored[name].as_ref().expect("a whisper file");
        assert_eq!(
            points.last().map(|(_, v)| *v),
            Some(*value),
            "{name}: {points:?}\ncarbon-cache said:\n{}",
            cache.output()
        );
    }

    // carbon-cache goes down: what the SDK sends meanwhile waits in the exporter's queue
    // and retries, and arrives once carbon-cache is back on the same port.
    cache.kill();
    let later = run_id("later");
    run_python(
        &sdk,
        "send_otlp.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &format!("127.0.0.1:{http_port}"),
            "--run-id",
            &later,
            "--count",
            "1",
        ],
    );
    let _cache = started_carbon_cache(&carbon, dir.path(), line_port);
    let name = format!("{later}.requests;route=/r0");
    let stored = eventually("the queued batch stored after the restart", WAIT, || {
        let found = whisper_points(&python, &data, std::slice::from_ref(&name));
        found[&name].clone().filter(|points| !points.is_empty())
    });
    assert_eq!(stored.last().map(|(_, v)| *v), Some(1.0), "{stored:?}");
}

/// Each point in the file exporter's output: (metric name, attributes).
fn file_points(path: &Path) -> Vec<(String, BTreeMap<String, String>)> {
    let mut points = Vec::new();
    for line in read_json_lines(path) {
        for rm in line["resourceMetrics"].as_array().into_iter().flatten() {
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for m in sm["metrics"].as_array().into_iter().flatten() {
                    let name = m["name"].as_str().unwrap_or_default().to_owned();
                    let data = ["gauge", "sum"]
                        .iter()
                        .find_map(|kind| m[*kind]["dataPoints"].as_array());
                    for point in data.into_iter().flatten() {
                        let attributes = point["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|kv| {
                                let value = match &kv["value"]["stringValue"] {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                };
                                (kv["key"].as_str().unwrap_or_default().to_owned(), value)
                            })
                            .collect();
                        points.push((name.clone(), attributes));
                    }
                }
            }
        }
    }
    points
}

#[test]
fn collectd_reports_through_the_carbon_and_collectd_receivers() {
    let Some(collectd) = program("collectd") else {
        return;
    };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let (carbon_port, collectd_port, metrics_port) = (free_port(), free_port(), free_port());
    let udp_port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
        probe.local_addr().expect("its address").port()
    };
    let run = run_id("run");
    let host = "tributary-e2e";
    let mut gateway = gateway(
        dir.path(),
        &format!(
            r#"receivers:
  carbon:
    endpoint: 127.0.0.1:{carbon_port}
    parser:
      type: regex
      config:
        name_separator: "."
        rules:
          - regexp: "^collectd\\.(?P<key_host>[^.]+)\\.(?P<name_0>.+)$"
            name_prefix: collectd
            labels: {{ source: write_graphite }}
  carbon/udp:
    endpoint: 127.0.0.1:{udp_port}
    transport: udp
  collectd:
    endpoint: 127.0.0.1:{collectd_port}
    attributes_prefix: dap_
exporters:
  file:
    path: {out}
service:
  pipelines:
    metrics:
      receivers: [carbon, carbon/udp, collectd]
      exporters: [file]
"#,
            out = out.display()
        ),
        metrics_port,
    );
    wait_listening(addr(carbon_port), WAIT);
    wait_listening(addr(collectd_port), WAIT);

    let conf = dir.path().join("collectd.conf");
    std::fs::write(
        &conf,
        format!(
            r#"Hostname "{host}"
FQDNLookup false
BaseDir "{base}"
PIDFile "{base}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin write_graphite
LoadPlugin write_http
<Plugin write_graphite>
  <Node "tributary">
    Host "127.0.0.1"
    Port "{carbon_port}"
    Protocol "tcp"
    Prefix "collectd."
    StoreRates true
  </Node>
  <Node "tributary-udp">
    Host "127.0.0.1"
    Port "{udp_port}"
    Protocol "udp"
    Prefix "udp."
  </Node>
</Plugin>
<Plugin write_http>
  <Node "tributary">
    URL "http://127.0.0.1:{collectd_port}/collectd?dap_run={run}&other=x"
    Format "JSON"
    BufferSize 2048
  </Node>
</Plugin>
"#,
            base = dir.path().display()
        ),
    )
    .expect("write collectd.conf");
    let conf = conf.display().to_string();
    let mut collectd = Proc::spawn(&collectd, &["-f", "-C", &conf], &[]);

    // Both paths deliver the three plugins' series, named and labelled as Go names them.
    let points = eventually("collectd's series through both receivers", WAIT, || {
        assert!(
            collectd.is_running(),
            "collectd exited:\n{}",
            collectd.output()
        );
        let points = file_points(&out);
        let has = |name: &str, source: &str| {
            points.iter().any(|(n, a)| {
                n == name
                    && a.get("host").map(String::as_str) == Some(host)
                    && match source {
                        "graphite" => a.get("source").map(String::as_str) == Some("write_graphite"),
                        _ => a.get("run") == Some(&run),
                    }
            })
        };
        // Plaintext over UDP: the path is the name, no attributes.
        let over_udp = points
            .iter()
            .any(|(n, a)| n == &format!("udp.{host}.load.load.shortterm") && a.is_empty());
        (over_udp
            && has("collectd.load.load.shortterm", "graphite")
            && has("collectd.memory.memory-used", "graphite")
            && has("load.shortterm", "http")
            && has("memory.used", "http")
            && has("cpu.user", "http"))
        .then_some(points)
    });
    let memory = points
        .iter()
        .find(|(n, a)| n == "memory.used" && a.contains_key("run"))
        .map(|(_, a)| a.clone())
        .unwrap();
    assert_eq!(memory.get("plugin").map(String::as_str), Some("memory"));
    assert_eq!(memory.get("dsname").map(String::as_str), Some("value"));
    assert!(
        !memory.contains_key("other"),
        "only prefixed parameters: {memory:?}"
    );
    let cpu = points
        .iter()
        .find(|(n, a)| n == "cpu.user" && a.contains_key("run"))
        .map(|(_, a)| a.clone())
        .unwrap();
    assert!(cpu.contains_key("plugin_instance"), "{cpu:?}");

    // A malformed body is a 400, a malformed line is counted; neither stops anything.
    let response = http(
        "POST",
        addr(collectd_port),
        "/collectd",
        &[("Content-Type", "application/json")],
        b"[{\"values\": [1,",
    );
    assert_eq!(response.status, 400, "{}", response.text());
    let mut client = TcpStream::connect(addr(carbon_port)).expect("connect to the carbon receiver");
    client
        .write_all(b"not a carbon line\nfine.line 1 1700000000\n")
        .expect("write lines");
    drop(client);
    eventually("the malformed line counted", WAIT, || {
        let page = get(addr(metrics_port), "/metrics").text();
        // With or without the `_total` suffix, as the telemetry settings choose.
        let failed = [
            "otelcol_receiver_failed_metric_points",
            "otelcol_receiver_failed_metric_points_total",
        ]
        .iter()
        .map(|name| metric(&page, name, &[("receiver", "carbon")]))
        .sum::<f64>();
        (failed >= 1.0).then_some(())
    });
    eventually("the good line delivered", WAIT, || {
        file_points(&out)
            .iter()
            .any(|(n, _)| n == "fine.line")
            .then_some(())
    });
    assert!(gateway.is_running(), "{}", gateway.output());
}
