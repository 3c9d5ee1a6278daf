//! A cluster on one machine: an agent (the gateway binary with the `loadbalancing`
//! exporter, routing by trace ID, its queue in `file_storage`) in front of three gateway
//! processes, each writing what it receives to its own file. The Python OpenTelemetry
//! SDK sends traces whose spans are spread over many export requests.
//!
//! * With the ring stable, every trace lands whole on one gateway: the one Go's ring
//!   (computed here with the exporter's public `ring` module) assigns it.
//! * Under load, one gateway is killed with `kill -9` and started again: every span the
//!   agent acknowledged reaches a gateway's file (duplicates are counted and reported),
//!   the dead gateway's share went to the next gateway on the ring meanwhile, and once it
//!   is back it gets its share again and traces are whole again.
//!
//! Each gateway runs in a network namespace of its own (`ip netns`), reached from the
//! agent over a veth pair, so the balancing crosses a real network stack rather than
//! loopback; where the kernel has the netem qdisc, `tc netem` adds 2 ms ± 1 ms of
//! latency each way (this project's machines lack it, and say so in the output).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use tributary::exporters::loadbalancing::ring::HashRing;

/// Network namespaces, one per gateway, each joined to this one by a veth pair
/// (`10.N.i.1` here, `10.N.i.2` inside), with netem latency on both ends where the kernel
/// has it; removed on drop.
struct Hosts {
    namespaces: Vec<String>,
}

impl Hosts {
    /// Creates `count` hosts; `None` (after saying why) when this machine does not let
    /// the test make namespaces.
    fn create(count: usize) -> Option<Hosts> {
        // Names and subnet from the process ID, so parallel runs do not collide;
        // interface names stay within Linux's 15 characters.
        let tag = std::process::id() % 10_000;
        let subnet = 20 + std::process::id() % 200;
        let mut hosts = Hosts {
            namespaces: Vec::new(),
        };
        for i in 0..count {
            let ns = format!("trib{tag}n{i}");
            let (outer, inner) = (format!("trib{tag}a{i}"), format!("trib{tag}b{i}"));
            ip(&["netns", "del", &ns]);
            if !ip(&["netns", "add", &ns]) {
                required_or_skip("cannot create network namespaces (ip netns add)");
                return None;
            }
            hosts.namespaces.push(ns.clone());
            let steps: [&[&str]; 6] = [
                &[
                    "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner, "netns",
                    &ns,
                ],
                &[
                    "ip",
                    "addr",
                    "add",
                    &format!("10.{subnet}.{i}.1/24"),
                    "dev",
                    &outer,
                ],
                &["ip", "link", "set", &outer, "up"],
                &[
                    "ip",
                    "-n",
                    &ns,
                    "addr",
                    "add",
                    &format!("10.{subnet}.{i}.2/24"),
                    "dev",
                    &inner,
                ],
                &["ip", "-n", &ns, "link", "set", &inner, "up"],
                &["ip", "-n", &ns, "link", "set", "lo", "up"],
            ];
            for step in steps {
                assert!(run(step), "setting up host {i}: {} failed", step.join(" "));
            }
            // Latency on both ends, where the kernel has the netem qdisc (sch_netem); some
            // (this project's CI machine among them) are built without it.
            let delayed = run(&[
                "tc", "qdisc", "add", "dev", &outer, "root", "netem", "delay", "2ms", "1ms",
            ]) && run(&[
                "ip", "netns", "exec", &ns, "tc", "qdisc", "add", "dev", &inner, "root", "netem",
                "delay", "2ms", "1ms",
            ]);
            if !delayed && i == 0 {
                eprintln!(
                    "this kernel has no netem qdisc: the hosts are joined without added latency"
                );
            }
        }
        Some(hosts)
    }

    /// The address of host `i` seen from here, at `port`.
    fn address(i: usize, port: u16) -> SocketAddr {
        let subnet = 20 + std::process::id() % 200;
        format!("10.{subnet}.{i}.2:{port}").parse().unwrap()
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            // Deleting the namespace deletes its end of the veth pair, and so the pair.
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Runs `ip args…`; whether it succeeded.
fn ip(args: &[&str]) -> bool {
    run(&[&["ip"], args].concat())
}

/// Runs `command` (program and arguments), its errors unshown; whether it succeeded.
fn run(command: &[&str]) -> bool {
    Command::new(command[0])
        .args(&command[1..])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One gateway: OTLP/gRPC in, straight to a file (no queue, no batch processor), so its
/// acknowledgement means the spans are in the file, which a `kill -9` cannot undo. It
/// runs in network namespace `namespace`.
struct Gateway {
    dir: PathBuf,
    namespace: String,
    grpc: SocketAddr,
    /// Files written by each run of this gateway, oldest first.
    outputs: Vec<PathBuf>,
    process: Option<Proc>,
}

impl Gateway {
    fn new(dir: &Path, hosts: &Hosts, index: usize) -> Gateway {
        Gateway {
            dir: dir.join(format!("gw-{index}")),
            namespace: hosts.namespaces[index].clone(),
            // A port of its own namespace: nothing else binds there.
            grpc: Hosts::address(index, 4317),
            outputs: Vec::new(),
            process: None,
        }
    }

    /// Starts a run writing to a new file, and waits until it takes data.
    fn start(&mut self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let out = self.dir.join(format!("out-{}.jsonl", self.outputs.len()));
        let config = self.dir.join("gateway.yaml");
        std::fs::write(
            &config,
            format!(
                r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "{grpc}" }}
exporters:
  file:
    path: "{out}"
service:
  telemetry:
    metrics: {{ level: none }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
                grpc = self.grpc,
                out = out.display()
            ),
        )
        .unwrap();
        let config = config.display().to_string();
        let gateway = example("gateway").display().to_string();
        let mut process = Proc::spawn(
            Path::new("ip"),
            &[
                "netns",
                "exec",
                &self.namespace,
                &gateway,
                "--config",
                &config,
            ],
            &[],
        );
        wait_serving(&mut process, self.grpc, Duration::from_secs(60));
        self.outputs.push(out);
        self.process = Some(process);
    }

    fn kill_9(&mut self) {
        let mut process = self.process.take().expect("running");
        process.signal("KILL");
        process.wait_exit(Duration::from_secs(10));
    }

    fn backend(&self) -> String {
        self.grpc.to_string()
    }
}

/// Where each span went: span name → (trace ID, gateway index) for each copy written.
fn spans_landed(gateways: &[Gateway]) -> BTreeMap<String, Vec<(String, usize)>> {
    let mut out: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for (index, gateway) in gateways.iter().enumerate() {
        for path in &gateway.outputs {
            for line in read_json_lines(path) {
                for rs in line["resourceSpans"].as_array().into_iter().flatten() {
                    for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                        for span in ss["spans"].as_array().into_iter().flatten() {
                            let name = span["name"].as_str().unwrap_or_default().to_string();
                            let trace = span["traceId"].as_str().unwrap_or_default().to_string();
                            out.entry(name).or_default().push((trace, index));
                        }
                    }
                }
            }
        }
    }
    out
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex trace ID"))
        .collect()
}

/// A sender run in the background: `send_lb_traces.py`.
struct Sender {
    child: std::process::Child,
}

impl Sender {
    fn start(
        python: &Path,
        agent: SocketAddr,
        prefix: &str,
        waves: u32,
        pause: f64,
        ready: &Path,
    ) -> Sender {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/send_lb_traces.py");
        let child = Command::new(python)
            .arg(script)
            .args(["--endpoint", &agent.to_string(), "--traces", "30"])
            .args(["--waves", &waves.to_string(), "--prefix", prefix])
            .args([
                "--pause",
                &pause.to_string(),
                "--ready",
                &ready.display().to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the Python sender");
        Sender { child }
    }

    /// Waits for the end; its report: trace name → hex ID, and the acknowledged spans.
    fn finish(self) -> (HashMap<String, String>, Vec<String>) {
        let output = self.child.wait_with_output().expect("wait for the sender");
        assert!(
            output.status.success(),
            "sender failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report");
        let traces = report["traces"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let acked = report["acked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        (traces, acked)
    }
}

/// Waits until every span in `acked` is in some gateway's file.
fn wait_delivered(
    gateways: &[Gateway],
    acked: &[String],
) -> BTreeMap<String, Vec<(String, usize)>> {
    eventually(
        "every acknowledged span in a gateway's file",
        Duration::from_secs(120),
        || {
            let landed = spans_landed(gateways);
            acked
                .iter()
                .all(|name| landed.contains_key(name))
                .then_some(landed)
        },
    )
}

/// Trace name → the set of gateways its spans (of `acked`) landed on.
fn gateways_per_trace(
    landed: &BTreeMap<String, Vec<(String, usize)>>,
    acked: &[String],
) -> BTreeMap<String, BTreeSet<usize>> {
    let mut out: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for name in acked {
        let trace = name.split('-').next().unwrap().to_string();
        for (_, gateway) in &landed[name] {
            out.entry(trace.clone()).or_default().insert(*gateway);
        }
    }
    out
}

#[test]
fn traces_land_whole_on_their_gateway_and_survive_a_gateway_killed_under_load() {
    let Some(python) = python_sdk() else { return };
    let Some(hosts) = Hosts::create(3) else {
        return;
    };
    let dir = temp_dir();
    let mut gateways: Vec<Gateway> = (0..3)
        .map(|i| Gateway::new(dir.path(), &hosts, i))
        .collect();
    for gateway in &mut gateways {
        gateway.start();
    }

    let agent_grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let agent_config = dir.path().join("agent.yaml");
    let hostnames: Vec<String> = gateways.iter().map(Gateway::backend).collect();
    std::fs::write(
        &agent_config,
        format!(
            r#"
extensions:
  file_storage:
    directory: "{storage}"
    create_directory: true
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "{agent_grpc}" }}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        timeout: 2s
        tls: {{ insecure: true }}
    resolver:
      static:
        hostnames: [{hosts}]
    sending_queue:
      enabled: true
      storage: file_storage
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 1s
service:
  extensions: [file_storage]
  telemetry:
    metrics: {{ level: none }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [loadbalancing] }}
"#,
            storage = dir.path().join("agent-storage").display(),
            hosts = hostnames.join(", "),
        ),
    )
    .unwrap();
    let agent_config_arg = agent_config.display().to_string();
    let mut agent = Proc::spawn(&example("gateway"), &["--config", &agent_config_arg], &[]);
    wait_serving(&mut agent, agent_grpc, Duration::from_secs(60));

    // The ring the agent builds: Go's, over the hostnames sorted.
    let mut sorted = hostnames.clone();
    sorted.sort();
    let ring = HashRing::new(&sorted);
    let gateway_of = |backend: &str| hostnames.iter().position(|h| h == backend).unwrap();
    let owner = |hex: &str| gateway_of(&ring.backends()[ring.owner(&hex_bytes(hex)).unwrap()]);

    // 1. Stable ring: 30 traces of 21 spans each, in 21 requests.
    let ready = dir.path().join("ready-a");
    let (traces, acked) = Sender::start(&python, agent_grpc, "a", 20, 0.0, &ready).finish();
    assert_eq!(acked.len(), 30 * 21, "the agent acknowledged every span");
    let landed = wait_delivered(&gateways, &acked);
    let per_trace = gateways_per_trace(&landed, &acked);
    for (trace, on) in &per_trace {
        assert_eq!(on.len(), 1, "trace {trace} split over gateways {on:?}");
        let expected = owner(&traces[trace]);
        assert_eq!(
            on.first(),
            Some(&expected),
            "trace {trace} on its ring owner"
        );
    }
    let used: BTreeSet<usize> = per_trace.values().flatten().copied().collect();
    assert_eq!(used.len(), 3, "every gateway got a share");
    eprintln!(
        "stable ring: {} traces whole, each on its ring owner",
        per_trace.len()
    );

    // 2. Under load, kill -9 one gateway and start it again.
    let victim = 1;
    let ready = dir.path().join("ready-b");
    let sender = Sender::start(&python, agent_grpc, "b", 80, 0.05, &ready);
    eventually("the sender's first wave", Duration::from_secs(60), || {
        ready.exists().then_some(())
    });
    eventually(
        "spans of the load on the victim",
        Duration::from_secs(60),
        || {
            spans_landed(&gateways[victim..=victim])
                .keys()
                .any(|name| name.starts_with('b'))
                .then_some(())
        },
    );
    gateways[victim].kill_9();
    // Down long enough for several exports to fail over.
    std::thread::sleep(Duration::from_millis(1500));
    gateways[victim].start();
    let (traces_b, acked_b) = sender.finish();
    assert!(!acked_b.is_empty());
    let landed = wait_delivered(&gateways, &acked_b);
    let copies: usize = acked_b.iter().map(|n| landed[n].len()).sum();
    let per_trace = gateways_per_trace(&landed, &acked_b);
    let mut moved = 0;
    for (trace, on) in &per_trace {
        if owner(&traces_b[trace]) == victim {
            // Its spans sent while the victim was down went to the next gateway.
            if on.len() > 1 {
                moved += 1;
            }
        } else {
            assert_eq!(
                on.len(),
                1,
                "trace {trace} of a live gateway stayed whole: {on:?}"
            );
        }
    }
    assert!(
        moved > 0,
        "the killed gateway's traces failed over to the next gateway"
    );
    eprintln!(
        "kill -9 under load: {} spans acknowledged, all delivered; {} copies written ({} duplicates); \
         {moved} traces of the killed gateway partly failed over",
        acked_b.len(),
        copies,
        copies - acked_b.len()
    );

    // 3. Back on the ring: once its cooldown is over the victim gets its share again,
    //    and traces are whole on their owners again.
    let mut round = 0;
    eventually(
        "the restarted gateway takes its share again",
        Duration::from_secs(90),
        || {
            round += 1;
            let prefix = format!("c{round}x");
            let ready = dir.path().join(format!("ready-{prefix}"));
            let (_, acked) = Sender::start(&python, agent_grpc, &prefix, 2, 0.0, &ready).finish();
            let landed = wait_delivered(&gateways, &acked);
            let back = landed
                .iter()
                .filter(|(name, _)| name.starts_with(&prefix))
                .any(|(_, copies)| copies.iter().any(|(_, g)| *g == victim));
            back.then_some(())
        },
    );
    let ready = dir.path().join("ready-d");
    let (traces_d, acked_d) = Sender::start(&python, agent_grpc, "d", 10, 0.0, &ready).finish();
    let landed = wait_delivered(&gateways, &acked_d);
    for (trace, on) in gateways_per_trace(&landed, &acked_d) {
        assert_eq!(on.len(), 1, "trace {trace} whole after recovery: {on:?}");
        assert_eq!(
            on.first(),
            Some(&owner(&traces_d[&trace])),
            "trace {trace} on its owner"
        );
    }
    drop(agent);
    drop(gateways);
    drop(hosts);
}
