//! The `falcon` receiver on real sockets: every route and reply shape (curl for HTTP, a
//! raw TCP client for JSON-RPC and telnet), validation, backpressure and the conformance
//! suite.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, CreateSettings, Host, Kind};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::{AggregationTemporality, metric};
use tributary_pipeline_core::testing::{self, Sink};
use tributary_translator_falcon::metrics_to_items;

use super::receiver::FalconReceiver;
use super::*;

const WAIT: Duration = Duration::from_secs(10);

const PUSH: &str = r#"[{"endpoint":"host-01","metric":"qps","timestamp":1700000000,"step":60,"value":1.5,"counterType":"GAUGE","tags":"idc=lg,project=xx"},{"endpoint":"host-01","metric":"net.in","timestamp":1700000000,"step":60,"value":"42","counterType":"COUNTER","tags":""},{"endpoint":"","metric":"bad","timestamp":1700000000,"step":60,"value":1,"counterType":"GAUGE","tags":""}]"#;

fn config(yaml: &str) -> Result<Config, String> {
    let config: Config = Conf::from_yaml(yaml)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

struct Running {
    receiver: FalconReceiver,
    sink: Arc<Sink<Metrics>>,
    settings: CreateSettings,
}

async fn start() -> Running {
    let config = config(
        "protocols: { http: { endpoint: 127.0.0.1:0 }, rpc: { endpoint: 127.0.0.1:0 }, telnet: { endpoint: 127.0.0.1:0, timeout: 30s } }",
    )
    .unwrap();
    let settings = testing::settings::<Metrics>(Kind::Receiver, "falcon");
    let sink = Sink::new();
    let receiver = FalconReceiver::new(&settings, &config, sink.next());
    receiver.start(&Host::new([])).await.unwrap();
    Running {
        receiver,
        sink,
        settings,
    }
}

/// `curl` with these arguments against `url`: the status, then the body.
fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

async fn curl_async(url: String, args: Vec<&'static str>) -> (u16, String) {
    tokio::task::spawn_blocking(move || curl(&url, &args))
        .await
        .unwrap()
}

fn failed(settings: &CreateSettings) -> f64 {
    settings
        .metrics()
        .sum("otelcol_receiver_failed_metric_points", &[])
}

#[tokio::test]
async fn the_agent_route_answers_as_the_falcon_agent() {
    let running = start().await;
    let url = format!("http://{}/v1/push", running.receiver.addrs().http.unwrap());
    let (status, body) = curl_async(url.clone(), vec!["-X", "POST", "-d", PUSH]).await;
    assert_eq!((status, body.as_str()), (200, "success"));
    let items = running.sink.accepted_items();
    assert_eq!(items, 2);
    let (status, body) = curl_async(url.clone(), vec!["-X", "POST", "-d", ""]).await;
    assert_eq!((status, body.as_str()), (400, "body is blank\n"));
    let (status, body) = curl_async(url.clone(), vec!["-X", "POST", "-d", "{not json"]).await;
    assert_eq!((status, body.as_str()), (400, "connot decode body\n"));
    let (status, _) = curl_async(
        format!("http://{}/v2/push", running.receiver.addrs().http.unwrap()),
        vec!["-d", "[]"],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(failed(&running.settings), 1.0, "the item without endpoint");
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_transfer_route_replies_with_its_counts() {
    let running = start().await;
    let url = format!("http://{}/api/push", running.receiver.addrs().http.unwrap());
    let (status, body) = curl_async(url.clone(), vec!["-d", PUSH]).await;
    assert_eq!(status, 200);
    let mut reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(reply["data"]["Latency"].as_i64().unwrap() >= 0);
    reply["data"]["Latency"] = 0.into();
    assert_eq!(
        reply,
        serde_json::json!({"msg":"success","data":{"Message":"ok","Total":3,"Invalid":1,"Latency":0}})
    );
    let (status, body) = curl_async(url.clone(), vec!["-X", "POST", "-d", ""]).await;
    assert_eq!((status, body.as_str()), (400, "blank body\n"));
    let (status, body) = curl_async(url.clone(), vec!["-d", r#"[{"step":"60"}]"#]).await;
    assert_eq!((status, body.as_str()), (400, "decode error\n"));

    // What arrived: a gauge and a cumulative monotonic sum, with endpoint, tags and step.
    let batches = running.sink.accepted();
    let metrics: Vec<_> = batches[0].request().resource_metrics[0].scope_metrics[0]
        .metrics
        .clone();
    assert!(matches!(metrics[0].data, Some(metric::Data::Gauge(_))));
    match &metrics[1].data {
        Some(metric::Data::Sum(sum)) => {
            assert!(sum.is_monotonic);
            assert_eq!(
                sum.aggregation_temporality,
                AggregationTemporality::Cumulative as i32
            );
        }
        other => panic!("COUNTER is a cumulative sum, got {other:?}"),
    }
    let (items, dropped) = metrics_to_items(&batches[0], 1);
    assert_eq!(dropped, 0);
    assert_eq!(items[0].tags.len(), 2);
    assert_eq!((items[0].step, items[0].timestamp), (60, 1_700_000_000));
    assert_eq!(
        (items[1].endpoint.as_str(), items[1].value),
        ("host-01", 42.0)
    );
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn include_metadata_attaches_the_request_headers() {
    let config =
        config("protocols: { http: { endpoint: 127.0.0.1:0, include_metadata: true } }").unwrap();
    let settings = testing::settings::<Metrics>(Kind::Receiver, "falcon");
    let sink = Sink::new();
    let receiver = FalconReceiver::new(&settings, &config, sink.next());
    receiver.start(&Host::new([])).await.unwrap();
    let url = format!("http://{}/v1/push", receiver.addrs().http.unwrap());
    let (status, _) = curl_async(url, vec!["-H", "X-Tenant: blue", "-d", PUSH]).await;
    assert_eq!(status, 200);
    let batch = &sink.accepted()[0];
    let metadata = batch.metadata().expect("metadata attached");
    assert_eq!(metadata.get("x-tenant"), ["blue"]);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn refusals_downstream_reach_the_client() {
    let running = start().await;
    running.sink.refuse_with(Some(ConsumeError::throttled(
        "slow down",
        Some(Duration::from_secs(3)),
    )));
    let http = running.receiver.addrs().http.unwrap();
    let (status, body) = curl_async(
        format!("http://{http}/v1/push"),
        vec!["-D", "/dev/stderr", "-d", PUSH],
    )
    .await;
    assert_eq!(status, 429, "{body}");
    running
        .sink
        .refuse_with(Some(ConsumeError::retryable("queue full")));
    let (status, body) = curl_async(format!("http://{http}/api/push"), vec!["-d", PUSH]).await;
    assert_eq!(status, 503);
    assert!(body.contains("try again later"), "{body}");
    let mut rpc = RpcClient::connect(running.receiver.addrs().rpc.unwrap()).await;
    let reply = rpc
        .call(&format!(
            r#"{{"method":"Transfer.Update","params":[{PUSH}],"id":1}}"#
        ))
        .await;
    assert_eq!(reply["result"], serde_json::Value::Null);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .starts_with("try again later")
    );
    running.receiver.shutdown().await.unwrap();
}

/// A JSON-RPC client over raw TCP, as Go's `jsonrpc` codec frames it.
struct RpcClient {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl RpcClient {
    async fn connect(addr: SocketAddr) -> Self {
        let (read, writer) = tokio::net::TcpStream::connect(addr)
            .await
            .unwrap()
            .into_split();
        RpcClient {
            reader: BufReader::new(read),
            writer,
        }
    }

    async fn call(&mut self, request: &str) -> serde_json::Value {
        self.writer.write_all(request.as_bytes()).await.unwrap();
        let mut line = String::new();
        tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    }
}

#[tokio::test]
async fn json_rpc_update_and_ping_reply_as_the_transfer() {
    let running = start().await;
    let mut rpc = RpcClient::connect(running.receiver.addrs().rpc.unwrap()).await;
    let mut reply = rpc
        .call(&format!(
            r#"{{"method":"Transfer.Update","params":[{PUSH}],"id":7}}"#
        ))
        .await;
    reply["result"]["Latency"] = 0.into();
    assert_eq!(
        reply,
        serde_json::json!({"id":7,"result":{"Message":"ok","Total":3,"Invalid":1,"Latency":0},"error":null})
    );
    assert_eq!(running.sink.accepted_items(), 2);
    // Split across writes, and two requests in one write.
    rpc.writer
        .write_all(br#"{"method":"Transfer.Pi"#)
        .await
        .unwrap();
    let reply = rpc.call(r#"ng","params":[null],"id":8}"#).await;
    assert_eq!(
        reply,
        serde_json::json!({"id":8,"result":{"code":0},"error":null})
    );
    let reply = rpc
        .call(r#"{"method":"Transfer.Nope","params":[null],"id":"x"}"#)
        .await;
    assert_eq!(
        reply,
        serde_json::json!({"id":"x","result":null,"error":"rpc: can't find method Transfer.Nope"})
    );
    let reply = rpc
        .call(r#"{"method":"Transfer.Update","params":[{"a":1}],"id":9}"#)
        .await;
    assert_eq!(reply["id"], 9);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("cannot unmarshal")
    );
    // The connection still serves after an error reply.
    let reply = rpc
        .call(r#"{"method":"Transfer.Update","params":[[]],"id":10}"#)
        .await;
    assert_eq!(reply["result"]["Total"], 0);
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_stream_that_is_not_json_rpc_is_closed() {
    let running = start().await;
    let mut rpc = RpcClient::connect(running.receiver.addrs().rpc.unwrap()).await;
    rpc.writer
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut line = String::new();
    let read = tokio::time::timeout(WAIT, rpc.reader.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, 0, "closed without a reply");
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_json_rpc_message_over_the_limit_closes_the_connection() {
    let config =
        config("protocols: { rpc: { endpoint: 127.0.0.1:0, max_request_size: 64 } }").unwrap();
    let settings = testing::settings::<Metrics>(Kind::Receiver, "falcon");
    let sink = Sink::new();
    let receiver = FalconReceiver::new(&settings, &config, sink.next());
    receiver.start(&Host::new([])).await.unwrap();
    let mut rpc = RpcClient::connect(receiver.addrs().rpc.unwrap()).await;
    let reply = rpc
        .call(r#"{"method":"Transfer.Ping","params":[null],"id":1}"#)
        .await;
    assert_eq!(reply["result"]["code"], 0);
    // An object that never ends is cut at the limit, not buffered.
    rpc.writer
        .write_all(
            format!(
                r#"{{"method":"Transfer.Update","params":[["{}"#,
                "x".repeat(200)
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut line = String::new();
    let read = tokio::time::timeout(WAIT, rpc.reader.read_line(&mut line))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(read, 0, "closed without a reply");
    assert_eq!(sink.calls(), 0);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn telnet_items_are_forwarded_when_the_session_ends() {
    let running = start().await;
    let addr = running.receiver.addrs().telnet.unwrap();
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client
        .write_all(
            b"update host-01 df.used 1700000000 12.5 GAUGE 120:U:U:60\n\
              update host-01 net.in 1700000000 42\nupdate bad\nupdate h m x 1\nhelp\n",
        )
        .await
        .unwrap();
    // Nothing is forwarded while the session lasts; a probe on another connection proves
    // the lines above were read before we look.
    let mut probe = RpcClient::connect(running.receiver.addrs().rpc.unwrap()).await;
    probe
        .call(r#"{"method":"Transfer.Ping","params":[null],"id":1}"#)
        .await;
    assert_eq!(running.sink.accepted_items(), 0);
    client.write_all(b"quit\n").await.unwrap();
    running.sink.wait_for_items(2, WAIT).await;
    let (items, _) = metrics_to_items(&running.sink.accepted()[0], 1);
    assert_eq!(items[0].step, 60);
    assert_eq!(
        items[1].counter_type,
        tributary_translator_falcon::CounterType::Counter
    );
    testing::eventually("the two invalid updates counted", WAIT, || {
        (failed(&running.settings) == 2.0).then_some(())
    })
    .await;
    // End of stream ends a session too.
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"update h m 1700000000 1 GAUGE 60\n")
        .await
        .unwrap();
    drop(client);
    running.sink.wait_for_items(3, WAIT).await;
    running.receiver.shutdown().await.unwrap();
}

#[test]
fn configuration_is_checked_with_its_path() {
    assert!(config("").unwrap_err().contains("at least one protocol"));
    assert!(config("protocols: { grpc: }").is_err());
    assert!(
        config("protocols: { rpc: { endpoint: 127.0.0.1:1, bogus: 1 } }")
            .unwrap_err()
            .contains("bogus")
    );
    assert!(
        config("protocols: { telnet: { timeout: 0s } }")
            .unwrap_err()
            .contains("protocols::telnet::timeout")
    );
    let config = config("protocols: { http:, rpc:, telnet: }").unwrap();
    let telnet = config.protocols.telnet.unwrap();
    assert_eq!(telnet.timeout, DEFAULT_TELNET_TIMEOUT);
    assert_eq!(
        config.protocols.http.unwrap().server.endpoint,
        DEFAULT_HTTP_ENDPOINT
    );
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    for protocol in ["http", "rpc", "telnet"] {
        testing::check_receiver(
            factory(),
            &format!("protocols: {{ {protocol}: {{ endpoint: \"127.0.0.1:{{port}}\" }} }}"),
        )
        .await;
    }
}
