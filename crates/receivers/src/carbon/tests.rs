//! The `carbon` receiver: its parsers line by line, its configuration, and the receiver
//! on real sockets.

use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric, number_data_point};
use tributary_pipeline_core::testing::{self, Sink};

use super::receiver::CarbonReceiver;
use super::*;

fn config(yaml: &str) -> Result<Config, String> {
    let config: Config = Conf::from_yaml(yaml)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn metrics_of(batches: &[Metrics]) -> Vec<Metric> {
    batches
        .iter()
        .flat_map(|m| m.request().resource_metrics.clone())
        .flat_map(|rm| rm.scope_metrics)
        .flat_map(|sm| sm.metrics)
        .collect()
}

#[test]
fn plaintext_lines_become_gauges_with_their_tags() {
    let parser = CarbonParser::plaintext();
    let point = parser
        .parse_line("servers.www01.cpuUsage 42.5 1208815315\r\n")
        .unwrap();
    assert_eq!(point.name, "servers.www01.cpuUsage");
    assert_eq!(point.value, CarbonValue::Double(42.5));
    assert_eq!(point.time_unix_nano, 1_208_815_315_000_000_000);
    assert!(!point.cumulative && point.attributes.is_empty());

    let point = parser
        .parse_line("my.series;tag1=value1;tag2=value2;tag1=again 42 1700000000")
        .unwrap();
    assert_eq!(point.value, CarbonValue::Int(42));
    assert_eq!(
        point.attributes,
        attrs(&[("tag1", "again"), ("tag2", "value2")])
    );
    // Empty tags are nothing; an empty value is kept, as Go does.
    assert!(parser.parse_line("a; 1 2").unwrap().attributes.is_empty());
    assert_eq!(
        parser.parse_line("a;k= 1 2").unwrap().attributes,
        attrs(&[("k", "")])
    );
    assert_eq!(
        parser.parse_line("a -1.5e3 2").unwrap().value,
        CarbonValue::Double(-1500.0)
    );
}

#[test]
fn malformed_lines_are_refused() {
    let parser = CarbonParser::plaintext();
    for line in [
        "",
        "only.path",
        "path 1",
        "path 1 2 3",
        "path  1 2",
        "path one 2",
        "path 1 two",
        "path 1 1.5",
        ";k=v 1 2",
        "a;=v 1 2",
        "a;novalue 1 2",
        "a;;k=v 1 2",
        "a 1 -5",
        "a 1 99999999999999999",
    ] {
        assert!(parser.parse_line(line).is_err(), "{line:?} was accepted");
    }
}

#[test]
fn a_batch_skips_and_counts_bad_lines() {
    let (metrics, malformed) =
        parse_plaintext("a.b 1 1700000000\n\n  \nbad line\nc;k=v 2.5 1700000001\nd x 1\n");
    assert_eq!((metrics.item_count(), malformed), (2, 2));
    let metrics = metrics_of(&[metrics]);
    assert_eq!(metrics[0].name, "a.b");
    assert_eq!(metrics[1].name, "c");
    let Some(metric::Data::Gauge(gauge)) = &metrics[1].data else {
        panic!("not a gauge: {:?}", metrics[1]);
    };
    let point = &gauge.data_points[0];
    assert_eq!(point.value, Some(number_data_point::Value::AsDouble(2.5)));
    assert_eq!(point.time_unix_nano, 1_700_000_001_000_000_000);
    assert_eq!(point.attributes[0].key, "k");
}

const REGEX_CONFIG: &str = r#"
parser:
  type: regex
  config:
    name_separator: "_"
    rules:
      - regexp: "(?P<key_base>test)\\.env(?P<key_env>[^.]*)\\.(?P<key_host>[^.]*)"
        name_prefix: "name-prefix"
        labels:
          dot.key: dot.value
          key: value
        type: cumulative
      - regexp: "^(?P<key_svc>[^.]+)\\.(?P<key_host>[^.]+)\\.(?P<name_1>[^.]+)\\.(?P<name_0>[^.]+)$"
      - regexp: "(?P<key_just>test)\\.(?P<key_match>.*)"
"#;

#[test]
fn regex_rules_name_and_label_points() {
    let parser = config(REGEX_CONFIG).unwrap().parser.build().unwrap();

    let point = parser
        .parse_line("test.envprod.host01 7 1700000000")
        .unwrap();
    assert_eq!(point.name, "name-prefix");
    assert!(point.cumulative);
    assert_eq!(
        point.attributes,
        attrs(&[
            ("base", "test"),
            ("env", "prod"),
            ("host", "host01"),
            ("dot.key", "dot.value"),
            ("key", "value"),
        ])
    );

    // Name parts join in the order of their group names, after the (empty) prefix.
    let point = parser
        .parse_line("svc_02.host02.duration.avg 1.5 1700000000")
        .unwrap();
    assert_eq!(point.name, "_avg_duration");
    assert!(!point.cumulative);
    assert_eq!(
        point.attributes,
        attrs(&[("svc", "svc_02"), ("host", "host02")])
    );

    // No name at all: the path is the name.
    let point = parser.parse_line("test.something 1 1700000000").unwrap();
    assert_eq!(point.name, "test.something");
    assert_eq!(
        point.attributes,
        attrs(&[("just", "test"), ("match", "something")])
    );

    // No rule matches: plaintext, tags included.
    let point = parser.parse_line("other;k=v 1 1700000000").unwrap();
    assert_eq!(point.name, "other");
    assert_eq!(point.attributes, attrs(&[("k", "v")]));

    // A cumulative rule makes a monotonic cumulative sum.
    let (metrics, _) = parser.parse("test.envprod.host01 7 1700000000\n");
    let Some(metric::Data::Sum(sum)) = &metrics_of(&[metrics])[0].data else {
        panic!("not a sum");
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 2);
}

#[test]
fn the_configuration_takes_go_keys_and_defaults() {
    let defaults = config("").unwrap();
    assert_eq!(defaults, Config::default());
    assert_eq!(defaults.endpoint, "localhost:2003");
    assert_eq!(defaults.transport, "tcp");
    assert_eq!(defaults.tcp_idle_timeout, Duration::from_secs(30));
    assert_eq!(defaults.parser.kind, ParserType::Plaintext);

    let udp = config("endpoint: 0.0.0.0:8080\ntransport: udp\ntcp_idle_timeout: 0s").unwrap();
    assert_eq!(udp.transport().unwrap(), Transport::Udp);
    assert_eq!(udp.idle_timeout(), Duration::from_secs(30));
    config("parser: { type: plaintext, config: {} }").unwrap();

    for (yaml, needle) in [
        ("transport: unix", "transport"),
        ("endpoint: \"\"", "endpoint"),
        ("endpoint: nowhere", "endpoint"),
        ("tcp_idle_timeout: -1s", "tcp_idle_timeout"),
        ("parser: { type: delimiter }", "delimiter"),
        ("parser: { type: regex }", "parser::config::rules"),
        (
            "parser: { type: regex, config: { rules: [{ regexp: \"(\" }] } }",
            "parser::config::rules::0::regexp",
        ),
        (
            "parser: { type: regex, config: { rules: [{ regexp: \"(?P<bad>x)\" }] } }",
            "unknown prefix",
        ),
        (
            "parser: { type: regex, config: { rules: [{ regexp: x, type: histogram }] } }",
            "parser::config::rules::0::type",
        ),
        (
            "parser: { type: plaintext, config: { name_separator: x } }",
            "takes no settings",
        ),
        (
            "parser: { config: { rules: [{ regexp: x, colour: red }] } }",
            "colour",
        ),
        ("metric_name_separator: x", "metric_name_separator"),
    ] {
        let error = config(yaml).expect_err(yaml);
        assert!(error.contains(needle), "{yaml}: {error}");
    }
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite_over_tcp_and_udp() {
    testing::check_receiver(factory(), "endpoint: \"127.0.0.1:{port}\"").await;
    testing::check_receiver(factory(), "endpoint: \"127.0.0.1:{port}\"\ntransport: udp").await;
}

/// A started receiver on a free port, its sink, and its settings (for its counters).
async fn start(
    yaml: &str,
) -> (
    CarbonReceiver,
    std::net::SocketAddr,
    std::sync::Arc<Sink<Metrics>>,
    tributary_pipeline_core::component::CreateSettings,
) {
    let config = config(&format!("endpoint: 127.0.0.1:0\n{yaml}")).unwrap();
    let settings = testing::settings::<Metrics>(Kind::Receiver, "carbon");
    let sink = Sink::new();
    let receiver = CarbonReceiver::new(&settings, &config, sink.next()).unwrap();
    receiver.start(&Host::new([])).await.unwrap();
    let addr = receiver.local_addr().unwrap();
    (receiver, addr, sink, settings)
}

fn failed(settings: &tributary_pipeline_core::component::CreateSettings) -> f64 {
    settings
        .metrics()
        .sum("otelcol_receiver_failed_metric_points", &[])
}

#[tokio::test]
async fn tcp_lines_arrive_in_batches_and_bad_ones_are_counted() {
    let (receiver, addr, sink, settings) = start("").await;
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A line split across writes is put together.
    client
        .write_all(b"a.b 1 1700000000\nc;k=v 2.5 17000")
        .await
        .unwrap();
    client.flush().await.unwrap();
    sink.wait_for_items(1, Duration::from_secs(10)).await;
    client
        .write_all(b"00001\nnot a line at all\nlast 3 1700000002")
        .await
        .unwrap();
    // The last line has no newline: it counts when the client closes.
    drop(client);
    sink.wait_for_items(3, Duration::from_secs(10)).await;
    let names: Vec<_> = metrics_of(&sink.accepted())
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["a.b", "c", "last"]);
    testing::eventually("the bad line counted", Duration::from_secs(10), || {
        (failed(&settings) == 1.0).then_some(())
    })
    .await;
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn udp_datagrams_carry_several_lines() {
    let (receiver, addr, sink, settings) = start("transport: udp").await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(
            b"x.one 1 1700000000\nx.two;t=1 2 1700000000\nbroken\n",
            addr,
        )
        .await
        .unwrap();
    sink.wait_for_items(2, Duration::from_secs(10)).await;
    assert_eq!(sink.calls(), 1, "one datagram, one batch");
    testing::eventually("the bad line counted", Duration::from_secs(10), || {
        (failed(&settings) == 1.0).then_some(())
    })
    .await;
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_idle_tcp_connection_is_closed() {
    let (receiver, addr, _sink, _settings) = start("tcp_idle_timeout: 200ms").await;
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut byte = [0u8; 1];
    // The server closes the connection: the read ends (EOF or reset) well within the deadline.
    let read = tokio::time::timeout(Duration::from_secs(10), client.read(&mut byte)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refused_batch_closes_the_tcp_connection() {
    let (receiver, addr, sink, _settings) = start("").await;
    sink.refuse_with(Some(
        tributary_pipeline_core::consumer::ConsumeError::permanent("no"),
    ));
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client.write_all(b"a 1 1700000000\n").await.unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(10), client.read(&mut byte)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    receiver.shutdown().await.unwrap();
}

proptest! {
    /// Arbitrary bytes never panic the parser, and it never makes more points than lines.
    #[test]
    fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let lines = text.split('\n').count();
        let (metrics, malformed) = parse_plaintext(&text);
        prop_assert!(metrics.item_count() + malformed <= lines);
    }

    /// Valid lines, mutated at one byte, either parse or are counted: nothing is lost silently.
    #[test]
    fn mutated_lines_parse_or_count(
        name in "[a-z]{1,8}(\\.[a-z]{1,8}){0,3}",
        tags in proptest::collection::vec(("[a-z]{1,5}", "[a-z0-9]{0,5}"), 0..3),
        value in any::<i32>(),
        time in 0u32..2_000_000_000,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let tags: String = tags.iter().map(|(k, v)| format!(";{k}={v}")).collect();
        let line = format!("{name}{tags} {value} {time}");
        let (metrics, malformed) = parse_plaintext(&line);
        prop_assert_eq!((metrics.item_count(), malformed), (1, 0));
        let mut bytes = line.into_bytes();
        let index = at.index(bytes.len());
        bytes[index] = byte;
        let text = String::from_utf8_lossy(&bytes);
        let lines = text.split('\n').filter(|l| !l.trim().is_empty()).count();
        let (metrics, malformed) = parse_plaintext(&text);
        prop_assert_eq!(metrics.item_count() + malformed, lines);
    }
}
