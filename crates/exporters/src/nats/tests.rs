//! The `nats` exporter's configuration and message cutting. Publishing to a real
//! `nats-server` is tested end to end in the workspace's `tests/nats.rs`.

use proptest::prelude::*;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::ComponentConfig;
use tributary_pipeline_core::prelude::*;

use super::config::{Config, Encoding, StorageType};
use super::exporter::encode;
use crate::split_to_fit::encode_within;

fn config(yaml: &str) -> Result<Config, String> {
    let config: Config = Conf::from_yaml(yaml)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn spans(count: usize, padding: usize) -> Traces {
    let mut builder = TracesBuilder::new();
    for i in 0..count {
        let id = (i as u64 + 1).to_be_bytes();
        builder.span(&format!("span-{i}-{}", "x".repeat(padding)), [1; 16], id);
    }
    builder.build()
}

#[test]
fn defaults() {
    let config = config("").unwrap();
    assert_eq!(config.endpoint, "nats://localhost:4222");
    assert_eq!(config.encoding, Encoding::OtlpProto);
    assert_eq!(config.subject(Signal::Traces), "otlp.traces");
    assert_eq!(config.subject(Signal::Metrics), "otlp.metrics");
    assert_eq!(config.subject(Signal::Logs), "otlp.logs");
    assert_eq!(config.stream.name, "");
    assert_eq!(config.stream.storage, StorageType::File);
    assert_eq!(config.stream.max_bytes, -1);
    assert_eq!(config.max_payload, 0);
    assert!(config.tls.is_none());
    assert_eq!(config.helper.timeout, std::time::Duration::from_secs(5));
}

#[test]
fn a_full_configuration_decodes() {
    let config = config(
        "endpoint: nats://a:4222,nats://b:4222\nencoding: otlp_json\n\
         traces: { subject: t.x }\nmetrics: { subject: m.x }\nlogs: { subject: l.x }\n\
         stream: { name: TEL, subjects: [other.>], storage: memory, max_age: 1h, max_bytes: 1000, replicas: 3 }\n\
         auth: { user: u, password: p }\ntls: { ca_file: /ca.pem }\nmax_payload: 4096\n\
         timeout: 9s\nsending_queue: { enabled: false }",
    )
    .unwrap();
    assert_eq!(config.encoding, Encoding::OtlpJson);
    assert_eq!(config.stream.storage, StorageType::Memory);
    assert_eq!(config.stream.max_age, std::time::Duration::from_secs(3600));
    assert_eq!(config.auth.password.expose(), "p");
    assert_eq!(config.max_payload, 4096);
}

#[test]
fn invalid_configurations_are_refused_with_their_path() {
    for (yaml, needle) in [
        ("endpoint: ''", "endpoint"),
        ("traces: { subject: 'a.*' }", "traces::subject"),
        ("logs: { subject: 'a..b' }", "logs::subject"),
        ("metrics: { subject: '' }", "metrics::subject"),
        ("stream: { name: 'a.b' }", "stream::name"),
        ("stream: { replicas: 0 }", "stream::replicas"),
        ("auth: { token: t, nkey: SUAB }", "auth"),
        ("auth: { user: u }", "auth"),
        (
            "tls: { server_name_override: x }",
            "tls::server_name_override",
        ),
        ("encoding: raw", "encoding"),
        ("traces: { topic: x }", "topic"),
    ] {
        let error = config(yaml).expect_err(yaml);
        assert!(error.contains(needle), "{yaml}: {error}");
    }
}

#[test]
fn a_batch_over_the_limit_is_split_in_order() {
    let data = spans(40, 100);
    let whole = encode(&data, Encoding::OtlpProto).unwrap().len();
    let messages = encode_within(data, whole / 5, |part: &Traces| {
        encode(part, Encoding::OtlpProto)
    })
    .unwrap();
    assert!(messages.len() >= 5, "{} messages", messages.len());
    let mut names = Vec::new();
    for message in messages {
        assert!(message.len() <= whole / 5);
        let part = Traces::decode(message).unwrap();
        for span in part.request().resource_spans[0].scope_spans[0].spans.iter() {
            names.push(
                span.name
                    .split('-')
                    .nth(1)
                    .unwrap()
                    .parse::<usize>()
                    .unwrap(),
            );
        }
    }
    assert_eq!(names, (0..40).collect::<Vec<_>>());
}

#[test]
fn a_single_item_over_the_limit_is_permanent() {
    let error = encode_within(spans(1, 1000), 100, |part: &Traces| {
        encode(part, Encoding::OtlpJson)
    })
    .unwrap_err();
    assert!(error.is_permanent(), "{error}");
}

#[test]
fn json_messages_are_otlp_json() {
    let bytes = encode(&spans(2, 0), Encoding::OtlpJson).unwrap();
    let back = Traces::from_otlp_json(&bytes).unwrap();
    assert_eq!(back.item_count(), 2);
}

proptest! {
    #[test]
    fn splitting_keeps_every_item_within_the_limit(count in 1usize..60, padding in 0usize..300, divisor in 1usize..20) {
        let data = spans(count, padding);
        let largest_item = (0..count).map(|_| encode(&spans(1, padding), Encoding::OtlpProto).unwrap().len()).max().unwrap_or(0) + 8;
        let whole = encode(&data, Encoding::OtlpProto).unwrap().len();
        let limit = (whole / divisor).max(largest_item);
        let messages = encode_within(data, limit, |part: &Traces| encode(part, Encoding::OtlpProto)).unwrap();
        let mut total = 0;
        for message in messages {
            prop_assert!(message.len() <= limit);
            total += Traces::decode(message).unwrap().item_count();
        }
        prop_assert_eq!(total, count);
    }
}

/// A `nats-server -js` of one test (Debian's `/usr/sbin/nats-server`) on a port it picked,
/// read back from its log; killed when dropped.
struct NatsServer {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    fn start() -> NatsServer {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("nats.log");
        let child = std::process::Command::new("/usr/sbin/nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(dir.path().join("store"))
            .arg("-l")
            .arg(&log)
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("start /usr/sbin/nats-server");
        let marker = "Listening for client connections on ";
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let url = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let (Some(at), true) = (text.find(marker), text.contains("Server is ready")) {
                let addr = text[at + marker.len()..].split_whitespace().next().unwrap();
                break format!("nats://{addr}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not start:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        NatsServer {
            child,
            url,
            _dir: dir,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_no_stream_acknowledges_is_retryable_and_succeeds_once_one_does() {
    use super::exporter::NatsExporter;
    let server = NatsServer::start();
    let exporter = NatsExporter::<Traces>::new(
        &config(&format!("endpoint: {}\ntimeout: 2s", server.url)).unwrap(),
    );
    let error = exporter.export(spans(3, 0)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");

    let js = async_nats::jetstream::new(async_nats::connect(server.url.as_str()).await.unwrap());
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: "MANUAL".into(),
            subjects: vec!["otlp.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    exporter.export(spans(3, 0)).await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.state.messages, 1);
    let stored = stream
        .get_last_raw_message_by_subject("otlp.traces")
        .await
        .unwrap();
    assert_eq!(Traces::decode(stored.payload).unwrap().item_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_retryable() {
    use super::exporter::NatsExporter;
    // A port nothing listens on: bound, read back and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let exporter = NatsExporter::<Logs>::new(
        &config(&format!("endpoint: nats://127.0.0.1:{port}\ntimeout: 1s")).unwrap(),
    );
    let mut builder = LogsBuilder::new();
    builder.record("hello");
    let error = exporter.export(builder.build()).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exporter_creates_its_stream_and_splits_below_max_payload() {
    use super::exporter::NatsExporter;
    let server = NatsServer::start();
    let exporter = NatsExporter::<Traces>::new(
        &config(&format!(
            "endpoint: {}\nencoding: otlp_json\nmax_payload: 2000\nstream: {{ name: TEL, storage: memory }}",
            server.url
        ))
        .unwrap(),
    );
    exporter.export(spans(30, 100)).await.unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(server.url.as_str()).await.unwrap());
    let mut stream = js.get_stream("TEL").await.unwrap();
    let info = stream.info().await.unwrap();
    assert!(info.state.messages >= 2, "{:?}", info.state);
    assert_eq!(info.config.subjects.len(), 3);
}
