//! The receiver on real sockets: UDP, TCP and Unix datagrams in, aggregates out to a sink.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tributary_pipeline_core::component::{Component, Host, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;
use tributary_pipeline_core::testing::{Sink, eventually, settings};

use super::{all_metrics, resources, string_attributes};
use crate::statsd::Config;
use crate::statsd::receiver::StatsdReceiver;

const WAIT: Duration = Duration::from_secs(10);

struct Running {
    receiver: Arc<StatsdReceiver>,
    sink: Arc<Sink<Metrics>>,
    settings: tributary_pipeline_core::component::CreateSettings,
}

impl Running {
    async fn start(yaml: &str) -> Running {
        let config: Config = load_config(yaml).unwrap();
        let settings = settings::<Metrics>(Kind::Receiver, "statsd");
        let sink = Sink::new();
        let receiver = StatsdReceiver::create(&settings, &config, sink.next()).unwrap();
        receiver.start(&Host::default()).await.unwrap();
        Running {
            receiver,
            sink,
            settings,
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.receiver.local_addr().expect("listening")
    }

    fn failed(&self) -> f64 {
        self.settings.metrics().sum(
            "otelcol_receiver_failed_metric_points",
            &[("receiver", "statsd")],
        )
    }

    /// Every counter value that reached the sink, by name, summed over intervals.
    fn counters(&self) -> std::collections::BTreeMap<String, i64> {
        let mut seen = std::collections::BTreeMap::new();
        for batch in self.sink.accepted() {
            for metric in all_metrics(&batch) {
                if let Some(Data::Sum(sum)) = &metric.data {
                    for point in &sum.data_points {
                        if let Some(Value::AsInt(v)) = point.value {
                            *seen.entry(metric.name.clone()).or_default() += v;
                        }
                    }
                }
            }
        }
        seen
    }

    async fn wait_for_counters(&self, expected: &[(&str, i64)]) {
        let expected: std::collections::BTreeMap<String, i64> =
            expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        eventually("the counters", WAIT, || {
            (self.counters() == expected).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn udp_datagrams_keep_their_good_lines_and_count_the_bad() {
    let running = Running::start("endpoint: 127.0.0.1:0\naggregation_interval: 50ms").await;
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client
        .send_to(
            b"ok.one:1|c\nthis is not statsd\nok.two:2|c|@0.5",
            running.addr(),
        )
        .await
        .unwrap();
    running
        .wait_for_counters(&[("ok.one", 1), ("ok.two", 4)])
        .await;
    assert_eq!(running.failed(), 1.0);
    // The next datagram is received as usual.
    client.send_to(b"ok.one:5|c", running.addr()).await.unwrap();
    running
        .wait_for_counters(&[("ok.one", 6), ("ok.two", 4)])
        .await;
    // Resource: the client's address and port.
    let batch = &running.sink.accepted()[0];
    let attributes = string_attributes(&resources(batch)[0].resource.as_ref().unwrap().attributes);
    let port = client.local_addr().unwrap().port().to_string();
    assert_eq!(
        attributes,
        super::pairs(&[("source.address", "127.0.0.1"), ("source.port", &port)])
    );
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn tcp_lines_split_across_writes_and_closing_flushes_the_last_line() {
    let running =
        Running::start("endpoint: 127.0.0.1:0\ntransport: tcp\naggregation_interval: 50ms").await;
    let mut stream = tokio::net::TcpStream::connect(running.addr())
        .await
        .unwrap();
    stream.write_all(b"tcp.a:1|c\ntcp.b:").await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    stream.write_all(b"2|c\nbad\ntcp.c:3|c").await.unwrap();
    stream.shutdown().await.unwrap();
    running
        .wait_for_counters(&[("tcp.a", 1), ("tcp.b", 2), ("tcp.c", 3)])
        .await;
    assert_eq!(running.failed(), 1.0);
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_overlong_tcp_line_closes_its_connection_only() {
    let running =
        Running::start("endpoint: 127.0.0.1:0\ntransport: tcp\naggregation_interval: 50ms").await;
    let mut long = tokio::net::TcpStream::connect(running.addr())
        .await
        .unwrap();
    // The receiver may close while this is still being written.
    let _ = long.write_all(&vec![b'x'; 70 * 1024]).await;
    eventually("the overlong line counted", WAIT, || {
        (running.failed() == 1.0).then_some(())
    })
    .await;
    let mut other = tokio::net::TcpStream::connect(running.addr())
        .await
        .unwrap();
    other.write_all(b"still.here:1|c\n").await.unwrap();
    running.wait_for_counters(&[("still.here", 1)]).await;
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_sends_what_the_interval_holds() {
    let running = Running::start("endpoint: 127.0.0.1:0\naggregation_interval: 1h").await;
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(b"held:7|c", running.addr()).await.unwrap();
    // Received (parsed into the interval) before shutdown begins.
    eventually("the datagram parsed", WAIT, || {
        (running.receiver.held_series() == 1).then_some(())
    })
    .await;
    running.receiver.shutdown().await.unwrap();
    assert_eq!(running.counters().get("held"), Some(&7));
}

#[tokio::test]
async fn ip_only_aggregation_merges_a_clients_ports() {
    let running = Running::start(
        "endpoint: 127.0.0.1:0\naggregation_interval: 1h\nenable_ip_only_aggregation: true",
    )
    .await;
    for value in [1, 2] {
        let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .send_to(format!("n:{value}|c").as_bytes(), running.addr())
            .await
            .unwrap();
    }
    // Both datagrams are in before shutdown sends the interval.
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(b"marker:1|c", running.addr()).await.unwrap();
    eventually("three datagrams parsed", WAIT, || {
        (running.receiver.held_series() == 2).then_some(())
    })
    .await;
    running.receiver.shutdown().await.unwrap();
    let batches = running.sink.accepted();
    assert_eq!(batches.len(), 1);
    let resources = resources(&batches[0]);
    assert_eq!(resources.len(), 1);
    assert_eq!(
        string_attributes(&resources[0].resource.as_ref().unwrap().attributes),
        super::pairs(&[("source.address", "127.0.0.1")])
    );
    assert_eq!(running.counters().get("n"), Some(&3));
}

#[cfg(unix)]
#[tokio::test]
async fn unix_datagrams_with_the_configured_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("statsd.sock");
    let running = Running::start(&format!(
        "transport: unixgram\nendpoint: {}\nsocket_permissions: 0660\naggregation_interval: 50ms",
        path.display()
    ))
    .await;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let client = tokio::net::UnixDatagram::unbound().unwrap();
    client.send_to(b"uds:4|c\nbad", &path).await.unwrap();
    running.wait_for_counters(&[("uds", 4)]).await;
    assert_eq!(running.failed(), 1.0);
    let batch = &running.sink.accepted()[0];
    assert!(
        resources(batch)[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .is_empty()
    );
    running.receiver.shutdown().await.unwrap();
    assert!(!path.exists(), "the socket file is removed at shutdown");
}

#[cfg(unix)]
#[tokio::test]
async fn a_replacing_receiver_keeps_the_socket_file_when_the_old_one_stops() {
    // A reload starts the new instance on the same path before stopping the old one.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("statsd.sock");
    let yaml = format!(
        "transport: unixgram\nendpoint: {}\naggregation_interval: 50ms",
        path.display()
    );
    let old = Running::start(&yaml).await;
    let new = Running::start(&yaml).await;
    old.receiver.shutdown().await.unwrap();
    assert!(path.exists());
    let client = tokio::net::UnixDatagram::unbound().unwrap();
    client.send_to(b"after.reload:1|c", &path).await.unwrap();
    new.wait_for_counters(&[("after.reload", 1)]).await;
    new.receiver.shutdown().await.unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn a_port_in_use_fails_start_naming_the_endpoint() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let config: Config = load_config(&format!("endpoint: {addr}")).unwrap();
    let settings = settings::<Metrics>(Kind::Receiver, "statsd");
    let receiver = StatsdReceiver::create(&settings, &config, Sink::new().next()).unwrap();
    let error = receiver
        .start(&Host::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("endpoint: cannot listen on {addr}")),
        "{error}"
    );
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refusing_pipeline_is_counted_and_the_receiver_keeps_going() {
    let running = Running::start("endpoint: 127.0.0.1:0\naggregation_interval: 50ms").await;
    running.sink.refuse_with(Some(
        tributary_pipeline_core::consumer::ConsumeError::permanent("no"),
    ));
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(b"lost:1|c", running.addr()).await.unwrap();
    eventually("the refusal counted", WAIT, || {
        let refused = running.settings.metrics().sum(
            "otelcol_receiver_refused_metric_points",
            &[("receiver", "statsd")],
        );
        (refused == 1.0).then_some(())
    })
    .await;
    running.sink.refuse_with(None);
    client.send_to(b"kept:1|c", running.addr()).await.unwrap();
    running.wait_for_counters(&[("kept", 1)]).await;
    running.receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_receiver(
        crate::statsd::factory(),
        "endpoint: \"127.0.0.1:{port}\"\naggregation_interval: 100ms\n",
    )
    .await;
    tributary_pipeline_core::testing::check_receiver(
        crate::statsd::factory(),
        "endpoint: \"127.0.0.1:{port}\"\ntransport: tcp\n",
    )
    .await;
}
