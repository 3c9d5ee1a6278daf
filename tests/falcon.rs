//! Open-Falcon end to end: the gateway runs `examples/configs/falcon-transfer.yaml` (the
//! "Falcon transfer replacement"), and
//!
//! - a Falcon agent's push (curl of the documented JSON to `/v1/push` and `/api/push`),
//! - a JSON-RPC client (Python's socket module, framing requests as Go's `jsonrpc` codec),
//! - a telnet client (`update` lines, then `quit`)
//!
//! reach graph and judge stubs written here (JSON-RPC servers implementing `Graph.Send` and
//! `Judge.Send` as Falcon documents them: no Falcon server is installable), and each graph
//! node receives exactly the items Falcon's hash ring assigns it, on every address of the
//! node.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::Value;
use tributary_translator_falcon::jsonrpc::{self, Request};
use tributary_translator_falcon::{FrameSplitter, HashRing, parse_tags, primary_key};

const WAIT: Duration = Duration::from_secs(60);

/// A JSON-RPC server on its own threads, recording the items each call carries.
#[derive(Clone)]
struct Stub {
    addr: SocketAddr,
    items: Arc<Mutex<Vec<Value>>>,
}

impl Stub {
    fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a stub");
        let stub = Stub {
            addr: listener.local_addr().expect("stub address"),
            items: Arc::default(),
        };
        let items = Arc::clone(&stub.items);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let items = Arc::clone(&items);
                std::thread::spawn(move || {
                    let mut frames = FrameSplitter::new(1 << 26);
                    let mut buffer = vec![0u8; 65536];
                    while let Ok(read) = stream.read(&mut buffer) {
                        if read == 0 {
                            return;
                        }
                        frames.extend(&buffer[..read]);
                        while let Ok(Some(frame)) = frames.next_frame() {
                            let request: Request =
                                serde_json::from_slice(&frame).expect("a request");
                            assert!(matches!(
                                request.method.as_str(),
                                "Graph.Send" | "Judge.Send"
                            ));
                            let argument = request.argument().expect("one argument");
                            items
                                .lock()
                                .unwrap()
                                .extend(argument.as_array().cloned().unwrap_or_default());
                            let reply = jsonrpc::response(
                                request.id.as_deref(),
                                Ok(serde_json::json!({"code": 0})),
                            );
                            if stream.write_all(&reply).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        stub
    }

    /// The series (`endpoint/metric/tags`) received, sorted.
    fn series(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.items.lock().unwrap().iter().map(series_key).collect();
        keys.sort();
        keys
    }
}

fn series_key(item: &Value) -> String {
    let tags: BTreeMap<String, String> =
        serde_json::from_value(item["tags"].clone()).unwrap_or_default();
    primary_key(
        item["endpoint"].as_str().unwrap_or_default(),
        item["metric"].as_str().unwrap_or_default(),
        &tags,
    )
}

fn curl(url: &str, body: &str) -> (u16, String) {
    let output = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-X",
            "POST",
            "-d",
            body,
            url,
        ])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').expect("curl's status line");
    (status.parse().expect("a status"), body.to_owned())
}

/// A JSON-RPC 1.0 client in Python (as falcon-plus' `transfer/test/rpcclient.py`
/// frames it): sends one `Transfer.Update` and prints the reply.
const PYTHON_RPC: &str = r#"
import json, socket, sys
host, port, items = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
s.sendall(json.dumps({"method": "Transfer.Update", "params": [items], "id": 1}).encode())
reply, decoder = b"", json.JSONDecoder()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    reply += chunk
    try:
        value, _ = decoder.raw_decode(reply.decode().strip())
        print(json.dumps(value))
        break
    except ValueError:
        continue
"#;

fn item(endpoint: &str, metric: &str, tags: &str, counter: &str, value: f64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    serde_json::json!({"endpoint": endpoint, "metric": metric, "timestamp": now, "step": 60,
        "value": value, "counterType": counter, "tags": tags})
}

#[test]
fn a_falcon_push_reaches_the_graph_node_the_ring_assigns() {
    let (g0, g1a, g1b, judge) = (Stub::start(), Stub::start(), Stub::start(), Stub::start());
    let (http, rpc, telnet, metrics) = (free_port(), free_port(), free_port(), free_port());
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/configs/falcon-transfer.yaml"
    );
    let set = format!("service.telemetry.metrics.address=127.0.0.1:{metrics}");
    let (http_port, rpc_port, telnet_port) =
        (http.to_string(), rpc.to_string(), telnet.to_string());
    let (a0, a1, aj) = (
        g0.addr.to_string(),
        format!("{},{}", g1a.addr, g1b.addr),
        judge.addr.to_string(),
    );
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config, "--set", &set],
        &[
            ("FALCON_HTTP_PORT", &http_port),
            ("FALCON_RPC_PORT", &rpc_port),
            ("FALCON_TELNET_PORT", &telnet_port),
            ("FALCON_GRAPH_00", &a0),
            ("FALCON_GRAPH_01", &a1),
            ("FALCON_JUDGE_00", &aj),
        ],
    );
    for port in [http, rpc, telnet] {
        wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), WAIT);
    }

    // The agent's documented push, then the transfer's route with an invalid item.
    let mut sent: Vec<Value> = (0..40)
        .map(|i| {
            item(
                &format!("host-{:02}", i % 9),
                &format!("cpu.m{i}"),
                "idc=lg,project=xx",
                "GAUGE",
                i as f64,
            )
        })
        .collect();
    let (status, body) = curl(
        &format!("http://127.0.0.1:{http}/v1/push"),
        &Value::from(sent.clone()).to_string(),
    );
    assert_eq!(
        (status, body.as_str()),
        (200, "success"),
        "{}",
        gateway.output()
    );
    let transfer_items: Vec<Value> = (0..20)
        .map(|i| {
            item(
                "host-99",
                &format!("net.in.{i}"),
                "iface=eth0",
                "COUNTER",
                1000.0 + i as f64,
            )
        })
        .collect();
    let mut with_invalid = transfer_items.clone();
    with_invalid.push(item("", "no.endpoint", "", "GAUGE", 1.0));
    let (status, body) = curl(
        &format!("http://127.0.0.1:{http}/api/push"),
        &Value::from(with_invalid).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            reply["msg"].as_str(),
            reply["data"]["Total"].as_u64(),
            reply["data"]["Invalid"].as_u64()
        ),
        (Some("success"), Some(21), Some(1))
    );
    sent.extend(transfer_items);

    // A JSON-RPC client, as an agent's transfer call.
    let rpc_items: Vec<Value> = (0..15)
        .map(|i| item("host-rpc", &format!("mem.m{i}"), "", "GAUGE", i as f64))
        .collect();
    let output = Command::new("python3")
        .args([
            "-c",
            PYTHON_RPC,
            "127.0.0.1",
            &rpc_port,
            &Value::from(rpc_items.clone()).to_string(),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reply: Value = serde_json::from_slice(&output.stdout).expect("a JSON-RPC reply");
    assert_eq!(reply["error"], Value::Null);
    assert_eq!(
        (
            reply["id"].as_u64(),
            reply["result"]["Message"].as_str(),
            reply["result"]["Total"].as_u64()
        ),
        (Some(1), Some("ok"), Some(15))
    );
    sent.extend(rpc_items);

    // A telnet session: items go when it ends.
    let mut session = TcpStream::connect(("127.0.0.1", telnet)).expect("telnet connects");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for i in 0..5 {
        writeln!(session, "update host-telnet disk.m{i} {now} {i} GAUGE 60").unwrap();
        sent.push(item(
            "host-telnet",
            &format!("disk.m{i}"),
            "",
            "GAUGE",
            f64::from(i),
        ));
    }
    session.write_all(b"quit\n").unwrap();
    drop(session);

    // Each graph node gets exactly its series, on every one of its addresses.
    let ring = HashRing::new(["graph-00", "graph-01"], 500);
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for item in &sent {
        let key = primary_key(
            item["endpoint"].as_str().unwrap(),
            item["metric"].as_str().unwrap(),
            &parse_tags(item["tags"].as_str().unwrap()),
        );
        expected
            .entry(ring.node(&key).unwrap())
            .or_default()
            .push(key);
    }
    for keys in expected.values_mut() {
        keys.sort();
    }
    assert!(expected.len() == 2, "both nodes own some of the series");
    for (stub, node) in [(&g0, "graph-00"), (&g1a, "graph-01"), (&g1b, "graph-01")] {
        eventually(
            &format!("{node} at {} receives its series", stub.addr),
            WAIT,
            || (stub.series() == expected[node]).then_some(()),
        );
    }
    eventually("judge receives every series", WAIT, || {
        (judge.series().len() == sent.len()).then_some(())
    });
    // A counter is a DERIVE with min 0; a gauge a GAUGE; steps as sent (60 ≥ min_step).
    let graph_items: Vec<Value> = g0
        .items
        .lock()
        .unwrap()
        .iter()
        .chain(g1a.items.lock().unwrap().iter())
        .cloned()
        .collect();
    for item in graph_items {
        let counter = item["metric"].as_str().unwrap().starts_with("net.in");
        assert_eq!(item["dstype"], if counter { "DERIVE" } else { "GAUGE" });
        assert_eq!(item["min"], if counter { "0" } else { "U" });
        assert_eq!(
            (item["step"].as_i64(), item["heartbeat"].as_i64()),
            (Some(60), Some(120))
        );
        assert_eq!(item["timestamp"].as_i64().unwrap() % 60, 0);
    }
    assert!(gateway.is_running(), "{}", gateway.output());
}
