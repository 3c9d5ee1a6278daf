//! The `falcon` exporter against JSON-RPC servers written here to Falcon's contract (Go
//! `net/rpc/jsonrpc`): graph and judge nodes, and transfers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{ComponentConfig, Host, Kind};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::testing;
use tributary_translator_falcon::jsonrpc::{self, Request};
use tributary_translator_falcon::{
    FalconItem, FrameSplitter, HashRing, decode_push, items_to_metrics,
};

use super::*;

const WAIT: Duration = Duration::from_secs(10);

/// A JSON-RPC server: records each call's method and argument, and answers `reply` (or
/// an error while `failing`).
#[derive(Clone)]
struct Stub {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    failing: Arc<Mutex<bool>>,
}

impl Stub {
    async fn start(reply: serde_json::Value) -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stub = Stub {
            addr: listener.local_addr().unwrap(),
            calls: Arc::default(),
            failing: Arc::default(),
        };
        let server = stub.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let server = server.clone();
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut frames = FrameSplitter::new(1 << 24);
                    let mut buffer = vec![0u8; 65536];
                    loop {
                        let Ok(read) = stream.read(&mut buffer).await else {
                            return;
                        };
                        if read == 0 {
                            return;
                        }
                        frames.extend(&buffer[..read]);
                        while let Ok(Some(frame)) = frames.next_frame() {
                            let request: Request = serde_json::from_slice(&frame).unwrap();
                            let outcome = if *server.failing.lock().unwrap() {
                                Err("backend down".to_owned())
                            } else {
                                server
                                    .calls
                                    .lock()
                                    .unwrap()
                                    .push((request.method.clone(), request.argument().unwrap()));
                                Ok(reply.clone())
                            };
                            let answer = jsonrpc::response(request.id.as_deref(), outcome);
                            if stream.write_all(&answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        stub
    }

    fn items(&self) -> Vec<serde_json::Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, argument)| argument.as_array().cloned().unwrap_or_default())
            .collect()
    }

    fn methods(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(m, _)| m.clone())
            .collect()
    }
}

fn config(yaml: &str) -> Config {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    config
}

fn items(count: usize) -> Vec<FalconItem> {
    let body: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({"endpoint": format!("host-{:02}", i % 13), "metric": format!("m.{i}"),
                "timestamp": 1_700_000_015, "step": 10, "value": i,
                "counterType": if i % 2 == 0 { "GAUGE" } else { "COUNTER" },
                "tags": if i % 3 == 0 { "idc=lg,project=x" } else { "" }})
        })
        .collect();
    decode_push(
        serde_json::to_string(&body).unwrap().as_bytes(),
        1_700_000_000,
    )
    .unwrap()
    .items
}

async fn start(config: &Config) -> Arc<dyn tributary_pipeline_core::component::Exporter<Metrics>> {
    let settings = testing::settings::<Metrics>(Kind::Exporter, "falcon");
    let exporter = factory().create(&settings, config).unwrap();
    exporter.start(&Host::new([])).await.unwrap();
    exporter
}

#[tokio::test]
async fn graph_nodes_receive_exactly_the_items_the_ring_assigns() {
    let ok = serde_json::json!({"code": 0});
    let (g0, g1a, g1b, g2) = (
        Stub::start(ok.clone()).await,
        Stub::start(ok.clone()).await,
        Stub::start(ok.clone()).await,
        Stub::start(ok.clone()).await,
    );
    let config = config(&format!(
        "graph: {{ batch: 7, cluster: {{ graph-00: \"{}\", graph-01: \"{},{}\", graph-02: \"{}\" }} }}",
        g0.addr, g1a.addr, g1b.addr, g2.addr
    ));
    let exporter = start(&config).await;
    let sent = items(300);
    exporter.consume(items_to_metrics(&sent, "")).await.unwrap();

    let ring = HashRing::new(["graph-00", "graph-01", "graph-02"], 500);
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for item in &sent {
        expected
            .entry(ring.node(&item.primary_key()).unwrap())
            .or_default()
            .push(item.metric.clone());
    }
    let metrics_of = |stub: &Stub| {
        let mut names: Vec<String> = stub
            .items()
            .iter()
            .map(|i| i["metric"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    for (stub, node) in [
        (&g0, "graph-00"),
        (&g1a, "graph-01"),
        (&g1b, "graph-01"),
        (&g2, "graph-02"),
    ] {
        let mut want = expected[node].clone();
        want.sort();
        testing::eventually(
            &format!("{node} at {} gets its items", stub.addr),
            WAIT,
            || (metrics_of(stub) == want).then_some(()),
        )
        .await;
        assert!(stub.methods().iter().all(|m| m == "Graph.Send"));
        assert!(
            stub.calls
                .lock()
                .unwrap()
                .iter()
                .all(|(_, a)| a.as_array().unwrap().len() <= 7)
        );
    }
    // A GraphItem as the transfer makes it.
    let all = g0.items().into_iter().chain(g1a.items()).chain(g2.items());
    for item in all {
        let counter = item["dstype"] == "DERIVE";
        assert_eq!(item["step"], 30, "clamped to min_step");
        assert_eq!(item["heartbeat"], 60);
        assert_eq!(item["timestamp"], 1_700_000_010, "aligned to the step");
        assert_eq!(item["min"], if counter { "0" } else { "U" });
        assert_eq!(item["max"], "U");
        assert!(item["tags"].is_object());
    }
    exporter.shutdown().await.unwrap();
}

#[tokio::test]
async fn judge_gets_raw_values_with_their_type() {
    let judge = Stub::start(serde_json::json!({"code": 0})).await;
    let exporter = start(&config(&format!(
        "judge: {{ cluster: {{ judge-00: \"{}\" }} }}",
        judge.addr
    )))
    .await;
    exporter
        .consume(items_to_metrics(&items(4), ""))
        .await
        .unwrap();
    testing::eventually("judge gets 4 items", WAIT, || {
        (judge.items().len() == 4).then_some(())
    })
    .await;
    let items = judge.items();
    assert_eq!(judge.methods()[0], "Judge.Send");
    assert_eq!(items[1]["judgeType"], "COUNTER");
    assert_eq!(items[1]["value"], 1.0);
    assert_eq!(
        items[3]["tags"],
        serde_json::json!({"idc": "lg", "project": "x"})
    );
    exporter.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_transfer_that_fails_is_skipped_for_the_next() {
    let reply = serde_json::json!({"Message": "ok", "Total": 5, "Invalid": 0, "Latency": 0});
    let (down, up) = (Stub::start(reply.clone()).await, Stub::start(reply).await);
    *down.failing.lock().unwrap() = true;
    // An address nobody listens on, too.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let exporter = start(&config(&format!(
        "transfer: {{ addrs: [\"{}\", \"{}\", \"{closed_addr}\"] }}",
        down.addr, up.addr
    )))
    .await;
    for _ in 0..5 {
        exporter
            .consume(items_to_metrics(&items(5), ""))
            .await
            .unwrap();
    }
    testing::eventually("every batch reaches the live transfer", WAIT, || {
        (up.items().len() == 25).then_some(())
    })
    .await;
    let first = &up.items()[0];
    assert_eq!(first["counterType"], "GAUGE");
    assert_eq!(first["tags"], "idc=lg,project=x");
    assert_eq!(first["step"], 10);
    assert_eq!(up.methods()[0], "Transfer.Update");
    exporter.shutdown().await.unwrap();
}

#[test]
fn configuration_is_checked_with_its_path() {
    let error = |yaml: &str| {
        let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
        config.validate().unwrap_err().to_string()
    };
    assert!(error("{}").contains("transfer, graph or judge"));
    assert!(error("transfer: { addrs: [] }").contains("transfer::addrs"));
    assert!(error("graph: { cluster: { g: \"\" } }").contains("graph::cluster::g"));
    assert!(error("graph: { cluster: { g: \"nowhere\" } }").contains("graph::cluster::g"));
    assert!(
        error("judge: { cluster: { j: \"127.0.0.1:1\" }, replicas: 0 }")
            .contains("judge::replicas")
    );
    assert!(error("transfer: { addrs: [\"127.0.0.1:1\"] }\nmin_step: 0").contains("min_step"));
    assert!(
        Conf::from_yaml("graph: { clusters: {} }")
            .unwrap()
            .decode::<Config>()
            .is_err()
    );
}

#[tokio::test]
async fn the_exporter_passes_the_conformance_suite() {
    testing::check_exporter(
        factory(),
        "graph: { cluster: { graph-00: \"127.0.0.1:{port}\" } }\ntransfer: { addrs: [\"127.0.0.1:{port}\"] }",
    )
    .await;
}

/// A started `file_storage` extension in `dir`, and a host that offers it.
async fn storage_host(dir: &std::path::Path) -> Host {
    use tributary_pipeline_core::component::{ComponentId, CreateSettings};
    use tributary_pipeline_core::extensions::file_storage;

    let id: ComponentId = "file_storage".parse().unwrap();
    let settings = CreateSettings::standalone(Kind::Extension, id.clone(), None);
    let config: file_storage::FileStorageConfig =
        Conf::from_yaml(&format!("directory: {}", dir.display()))
            .unwrap()
            .decode()
            .unwrap();
    let extension = file_storage::factory().create(&settings, &config).unwrap();
    let host = Host::new([(id, Arc::clone(&extension))]);
    extension.start(&host).await.unwrap();
    host
}

#[tokio::test]
async fn each_graph_address_has_its_own_persistent_queue() {
    let ok = serde_json::json!({"code": 0});
    let (down, up) = (Stub::start(ok.clone()).await, Stub::start(ok).await);
    *down.failing.lock().unwrap() = true;
    let dir = tempfile::tempdir().unwrap();
    let host = storage_host(dir.path()).await;
    let config = config(&format!(
        "graph: {{ cluster: {{ graph-00: \"{}\", graph-01: \"{}\" }} }}\n\
         sending_queue: {{ storage: file_storage }}\n\
         retry_on_failure: {{ initial_interval: 10ms, max_interval: 50ms }}",
        down.addr, up.addr
    ));
    let settings = testing::settings::<Metrics>(Kind::Exporter, "falcon");
    let sent = items(60);
    let ring = HashRing::new(["graph-00", "graph-01"], 500);
    let on_down = sent
        .iter()
        .filter(|i| ring.node(&i.primary_key()) == Some("graph-00"))
        .count();
    assert!(on_down > 0 && on_down < sent.len());

    let exporter = factory().create::<Metrics>(&settings, &config).unwrap();
    exporter.start(&host).await.unwrap();
    exporter.consume(items_to_metrics(&sent, "")).await.unwrap();
    // The live node gets its items while the dead one's wait on disk.
    testing::eventually("graph-01 gets its items", WAIT, || {
        (up.items().len() == sent.len() - on_down).then_some(())
    })
    .await;
    exporter.shutdown().await.unwrap();
    let mut queues: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("exporter.falcon."))
        .collect();
    queues.sort();
    assert_eq!(queues.len(), 2, "a queue per address: {queues:?}");
    assert!(queues[0].contains("graph-00") && queues[1].contains("graph-01"));

    // After a restart, graph-00's items are still queued and reach it once it is back.
    *down.failing.lock().unwrap() = false;
    let exporter = factory().create::<Metrics>(&settings, &config).unwrap();
    exporter.start(&host).await.unwrap();
    testing::eventually("graph-00 gets its items after the restart", WAIT, || {
        (down.items().len() == on_down).then_some(())
    })
    .await;
    exporter.shutdown().await.unwrap();
    assert_eq!(
        up.items().len(),
        sent.len() - on_down,
        "nothing sent twice to graph-01"
    );
}
