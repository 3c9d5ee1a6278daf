//! The receiver over real sockets, the conformance suite, and the decoders under
//! arbitrary input.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tributary_pipeline_core::component::{ComponentConfig, Host, Kind, Receiver, load_config};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Logs;
use tributary_pipeline_core::pdata::attributes::{AnyValueExt, Attributes};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::testing::{Reply, Sink, check_receiver, eventually, settings};

use super::*;

const WAIT: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap()
}

/// A started receiver with `yaml` (where `{port}` is a free port) feeding a sink.
struct Running {
    receiver: Arc<dyn Receiver>,
    sink: Arc<Sink<Logs>>,
    settings: tributary_pipeline_core::component::CreateSettings,
    addr: SocketAddr,
}

impl Running {
    async fn start(yaml: &str) -> Running {
        let port = free_port();
        let config: Config = load_config(&yaml.replace("{port}", &port.to_string())).unwrap();
        config.validate().unwrap();
        let settings = settings::<Logs>(Kind::Receiver, "syslog");
        let sink = Sink::<Logs>::new();
        let receiver = factory().create(&settings, &config, sink.next()).unwrap();
        receiver.start(&Host::default()).await.unwrap();
        Running {
            receiver,
            sink,
            settings,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    fn records(&self) -> Vec<LogRecord> {
        self.sink
            .accepted()
            .into_iter()
            .flat_map(|logs| {
                let request = logs.into_request();
                request
                    .resource_logs
                    .into_iter()
                    .flat_map(|r| r.scope_logs)
                    .flat_map(|s| s.log_records)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn metric(&self, name: &str, transport: &str) -> f64 {
        self.settings
            .metrics()
            .value(name, &[("receiver", "syslog"), ("transport", transport)])
            .unwrap_or(0.0)
    }

    async fn send_tcp(&self, chunks: &[&[u8]]) {
        let (addr, chunks) = (
            self.addr,
            chunks.iter().map(|c| c.to_vec()).collect::<Vec<_>>(),
        );
        tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            for chunk in chunks {
                stream.write_all(&chunk).unwrap();
                stream.flush().unwrap();
            }
        })
        .await
        .unwrap();
    }

    async fn stop(self) {
        self.receiver.shutdown().await.unwrap();
    }
}

fn body(record: &LogRecord) -> &str {
    record.body.as_ref().and_then(|b| b.as_str()).unwrap_or("")
}

#[tokio::test]
async fn tcp_newline_framing_delivers_every_message_and_counts_the_malformed() {
    let running =
        Running::start("protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:{port}\"}").await;
    running
        .send_tcp(&[
            b"<13>1 2024-05-01T10:00:00Z host app 1 - - first\n<14>1 - host app 2 - -",
            b" second\nthis is not syslog\n\n<15>1 - h a - - [x@1 k=\"v\"] third",
        ])
        .await;
    running.sink.wait_for_items(4, WAIT).await;
    let records = running.records();
    let messages: Vec<_> = records
        .iter()
        .map(|r| r.attributes.get_str("message").unwrap_or("-"))
        .collect();
    assert_eq!(messages, ["first", "second", "-", "third"]);
    assert_eq!(body(&records[2]), "this is not syslog");
    assert_eq!(records[0].time_unix_nano, 1_714_557_600_000_000_000);
    assert_eq!(records[3].severity_text, "debug");
    assert_eq!(
        running.metric("otelcol_receiver_failed_log_records", "tcp"),
        1.0
    );
    assert_eq!(
        running.metric("otelcol_receiver_accepted_log_records", "tcp"),
        4.0
    );
    running.stop().await;
}

#[tokio::test]
async fn tcp_octet_counting_frames_across_reads_and_keeps_the_prefix() {
    let running = Running::start(
        "protocol: rfc5424\nenable_octet_counting: true\ntcp: {listen_address: \
         \"127.0.0.1:{port}\", add_attributes: true}",
    )
    .await;
    let first = "<34>1 - host su - ID47 - multi\nline";
    let second = "<165>1 2003-10-11T22:14:15.003Z h e - - - x\n";
    let stream = format!("{} {first}{} {second}", first.len(), second.len());
    let (a, b) = stream.as_bytes().split_at(20);
    running.send_tcp(&[a, b]).await;
    running.sink.wait_for_items(2, WAIT).await;
    let records = running.records();
    assert_eq!(body(&records[0]), format!("{} {first}", first.len()));
    assert_eq!(
        records[0].attributes.get_str("message"),
        Some("multi\nline")
    );
    assert_eq!(records[1].attributes.get_str("message"), Some("x"));
    assert_eq!(
        records[1].attributes.get_str("net.transport"),
        Some("IP.TCP")
    );
    assert_eq!(
        records[1].attributes.get_str("net.peer.ip"),
        Some("127.0.0.1")
    );
    assert_eq!(
        records[1].attributes.get_str("net.host.port"),
        Some(running.addr.port().to_string().as_str())
    );
    running.stop().await;
}

#[tokio::test]
async fn a_stream_that_is_not_octet_counted_is_closed_and_counted() {
    let running = Running::start(
        "protocol: rfc5424\nenable_octet_counting: true\ntcp: {listen_address: \
         \"127.0.0.1:{port}\"}",
    )
    .await;
    running
        .send_tcp(&[b"11 <13>1 - - -garbage without count"])
        .await;
    running.sink.wait_for_items(1, WAIT).await;
    eventually("the framing failure counted", WAIT, || {
        (running.metric("otelcol_receiver_failed_log_records", "tcp") >= 2.0).then_some(())
    })
    .await;
    assert_eq!(body(&running.records()[0]), "11 <13>1 - - -");
    running.stop().await;
}

#[tokio::test]
async fn nul_trailer_frames_allow_newlines_inside_messages() {
    let running = Running::start(
        "protocol: rfc5424\nnon_transparent_framing_trailer: NUL\ntcp: {listen_address: \
         \"127.0.0.1:{port}\"}",
    )
    .await;
    running
        .send_tcp(&[b"<13>1 - h a - - - one\ntwo\0<13>1 - h a - - - three\0"])
        .await;
    running.sink.wait_for_items(2, WAIT).await;
    let records = running.records();
    assert_eq!(records[0].attributes.get_str("message"), Some("one\ntwo"));
    assert_eq!(records[1].attributes.get_str("message"), Some("three"));
    running.stop().await;
}

#[tokio::test]
async fn udp_datagrams_are_messages_split_at_newlines() {
    let running = Running::start(
        "protocol: rfc3164\nlocation: UTC\nudp: {listen_address: \"127.0.0.1:{port}\", \
         add_attributes: true}\nresource: {site: lab}",
    )
    .await;
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender
        .send_to(
            b"<34>Oct 11 22:14:15 mymachine su[7]: 'su root' failed\n<13>Oct  1 01:02:03 h t: two",
            running.addr,
        )
        .unwrap();
    running.sink.wait_for_items(2, WAIT).await;
    let records = running.records();
    assert_eq!(records[0].attributes.get_str("appname"), Some("su"));
    assert_eq!(records[0].attributes.get_str("proc_id"), Some("7"));
    assert_eq!(records[0].attributes.get_str("facility_text"), Some("auth"));
    assert_eq!(records[0].severity_text, "crit");
    assert_eq!(records[1].attributes.get_str("message"), Some("two"));
    assert_eq!(
        records[1].attributes.get_str("net.transport"),
        Some("IP.UDP")
    );
    let request = running.sink.accepted()[0].clone().into_request();
    let resource = request.resource_logs[0].resource.clone().unwrap();
    assert_eq!(resource.attributes.get_str("site"), Some("lab"));
    running.stop().await;
}

#[tokio::test]
async fn retryable_refusals_are_retried_when_enabled() {
    let running = Running::start(
        "protocol: rfc5424\nretry_on_failure: {enabled: true, initial_interval: 10ms}\ntcp: \
         {listen_address: \"127.0.0.1:{port}\"}",
    )
    .await;
    running
        .sink
        .then(Reply::Refuse(ConsumeError::retryable("backend down")));
    running.send_tcp(&[b"<13>1 - h a - - - kept\n"]).await;
    running.sink.wait_for_items(1, WAIT).await;
    assert_eq!(running.sink.calls(), 2);
    assert_eq!(
        running.metric("otelcol_receiver_refused_log_records", "tcp"),
        0.0
    );
    running.stop().await;
}

#[tokio::test]
async fn without_retry_a_refusal_is_counted() {
    let running =
        Running::start("protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:{port}\"}").await;
    running
        .sink
        .then(Reply::Refuse(ConsumeError::retryable("backend down")));
    running
        .send_tcp(&[b"<13>1 - h a - - - lost\n<13>1 - h a - - - later\n"])
        .await;
    eventually("the refusal counted", WAIT, || {
        (running.metric("otelcol_receiver_refused_log_records", "tcp") >= 1.0).then_some(())
    })
    .await;
    running.stop().await;
}

fn testdata(name: &str) -> String {
    format!("{}/src/otlp/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn tls_connections_are_served_and_plaintext_ones_dropped() {
    use tokio::io::AsyncWriteExt;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

    let running = Running::start(&format!(
        "protocol: rfc5424\nenable_octet_counting: true\ntcp: {{listen_address: \"127.0.0.1:{{port}}\", \
         tls: {{cert_file: {}, key_file: {}}}}}",
        testdata("tls/server.pem"),
        testdata("tls/server.key")
    ))
    .await;
    // A plaintext client is dropped at the handshake, delivering nothing.
    running.send_tcp(&[b"16 <13>1 - - - - - -"]).await;

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(testdata("tls/ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let message = "<13>1 - h a - - - secret";
    tls.write_all(format!("{} {message}", message.len()).as_bytes())
        .await
        .unwrap();
    tls.shutdown().await.unwrap();
    running.sink.wait_for_items(1, WAIT).await;
    let records = running.records();
    assert_eq!(records.len(), 1, "only the TLS client's message");
    assert_eq!(records[0].attributes.get_str("message"), Some("secret"));
    running.stop().await;
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    check_receiver(
        factory(),
        "protocol: rfc5424\nenable_octet_counting: true\ntcp: {listen_address: \"127.0.0.1:{port}\"}",
    )
    .await;
    check_receiver(
        factory(),
        "protocol: rfc3164\nudp: {listen_address: \"127.0.0.1:{port}\"}",
    )
    .await;
}

/// Valid messages with bytes changed, dropped or inserted.
fn mutated(valid: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((0..valid.len() + 1, any::<u8>(), 0..3u8), 0..6),
        Just(valid.as_bytes().to_vec()),
    )
        .prop_map(|(edits, mut bytes)| {
            for (at, byte, how) in edits {
                let at = at.min(bytes.len());
                match how {
                    0 => bytes.insert(at, byte),
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ if at < bytes.len() => bytes[at] = byte,
                    _ => bytes.push(byte),
                }
            }
            bytes
        })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        mutated(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App\]"] An application event"#
        ),
        mutated("<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed"),
        mutated("25 <13>1 - - - - - - hello\n<13>1 - - - - - -\n"),
    ]
}

proptest! {
    #[test]
    fn the_decoders_never_panic_and_stay_within_their_input(input in any_input()) {
        let text = String::from_utf8_lossy(&input);
        for allow_skip in [false, true] {
            if let Ok(message) = parse_rfc5424(&text, allow_skip) {
                let sd_len: usize = message.structured_data.iter().flatten()
                    .map(|e| e.id.len() + e.params.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>())
                    .sum();
                prop_assert!(sd_len + message.message.map_or(0, |m| m.len()) <= text.len());
                prop_assert!(message.priority.is_none_or(|p| p <= 191));
            }
            if let Ok(message) = parse_rfc3164(&text, allow_skip, &Location::utc()) {
                prop_assert!(message.message.map_or(0, |m| m.len()) <= text.len());
            }
        }
        for framing in [Framing::OctetCounting, Framing::Trailer(b'\n'), Framing::Trailer(0)] {
            let mut rest = &input[..];
            while let Ok(Some(frame)) = next_frame(rest, framing, 64, true) {
                prop_assert!(frame.consumed > 0 && frame.consumed <= rest.len());
                prop_assert!(frame.frame.end <= frame.consumed && frame.frame.len() <= 64);
                prop_assert!(frame.message_start <= frame.frame.end);
                rest = &rest[frame.consumed..];
            }
        }
    }
}
