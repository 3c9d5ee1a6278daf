//! The `nats` receiver: configuration, decoding, and its answers to a real `nats-server`
//! (Debian's `/usr/sbin/nats-server`, one per test, JetStream in a temporary directory).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use proptest::prelude::*;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{ComponentConfig, Kind};
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::testing::{self, Reply, Sink};

use super::config::{Config, Encoding};
use super::decode_message;

fn config(yaml: &str) -> Result<Config, String> {
    let config: Config = Conf::from_yaml(yaml)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn spans(count: usize) -> Traces {
    let mut builder = TracesBuilder::new();
    for i in 0..count {
        builder.span(&format!("span-{i}"), [1; 16], (i as u64 + 1).to_be_bytes());
    }
    builder.build()
}

#[test]
fn defaults() {
    let config = config("").unwrap();
    assert_eq!(config.endpoint, "nats://localhost:4222");
    assert_eq!(config.encoding, Encoding::OtlpProto);
    assert_eq!(config.subject(Signal::Traces), "otlp.traces");
    assert_eq!(config.subject(Signal::Logs), "otlp.logs");
    assert_eq!(config.stream.name, "OTLP");
    assert_eq!(
        config.consumer.durable_for(Signal::Metrics),
        "tributary_metrics"
    );
    assert_eq!(config.consumer.ack_wait, Duration::from_secs(30));
    assert_eq!(config.consumer.max_ack_pending, 1000);
    assert_eq!(config.consumer.max_deliver, -1);
    assert_eq!(config.consumer.nak_delay, Duration::from_secs(1));
}

#[test]
fn invalid_configurations_are_refused_with_their_path() {
    for (yaml, needle) in [
        ("endpoint: ''", "endpoint"),
        ("traces: { subject: 'a..b' }", "traces::subject"),
        ("stream: { name: 'a.b' }", "stream::name"),
        (
            "consumer: { durable_name: 'a b' }",
            "consumer::durable_name",
        ),
        (
            "consumer: { max_ack_pending: 0 }",
            "consumer::max_ack_pending",
        ),
        ("consumer: { ack_wait: 0s }", "consumer::ack_wait"),
        ("consumer: { max_deliver: 0 }", "consumer::max_deliver"),
        ("auth: { token: t, credentials_file: /x.creds }", "auth"),
        ("auth: { password: p }", "auth"),
        (
            "tls: { server_name_override: x }",
            "tls::server_name_override",
        ),
        ("consumer: { deliver_group: x }", "deliver_group"),
    ] {
        let error = config(yaml).expect_err(yaml);
        assert!(error.contains(needle), "{yaml}: {error}");
    }
    // Wildcards are fine for a subject read.
    config("traces: { subject: 'app.*.traces' }").unwrap();
    // A stream block without a name (or an empty one) means the default stream.
    for yaml in ["stream: { storage: memory }", "stream: { name: '' }"] {
        assert_eq!(config(yaml).unwrap().stream_name(), "OTLP", "{yaml}");
    }
}

#[test]
fn the_content_type_chooses_the_decoding() {
    let data = spans(3);
    let mut json = Vec::new();
    data.write_otlp_json(&mut json).unwrap();
    let proto = data.encoded();
    let read = |payload: &[u8], content_type, default| {
        decode_message::<Traces>(payload, content_type, default).map(|t| t.item_count())
    };
    assert_eq!(
        read(&json, Some("application/json"), Encoding::OtlpProto),
        Ok(3)
    );
    assert_eq!(
        read(&proto, Some("application/x-protobuf"), Encoding::OtlpJson),
        Ok(3)
    );
    assert_eq!(read(&json, None, Encoding::OtlpJson), Ok(3));
    assert_eq!(read(&proto, Some("text/plain"), Encoding::OtlpProto), Ok(3));
    assert!(read(&json, None, Encoding::OtlpProto).is_err());
    assert!(read(b"{", Some("application/json"), Encoding::OtlpProto).is_err());
}

proptest! {
    #[test]
    fn any_payload_decodes_or_is_refused_without_panicking(payload in proptest::collection::vec(any::<u8>(), 0..512), json in any::<bool>()) {
        let encoding = if json { Encoding::OtlpJson } else { Encoding::OtlpProto };
        let _ = decode_message::<Traces>(&payload, None, encoding);
        let _ = decode_message::<Metrics>(&payload, None, encoding);
        let _ = decode_message::<Logs>(&payload, None, encoding);
    }
}

#[tokio::test]
async fn conformance() {
    // Connects in the background, so starting needs no server.
    testing::check_receiver(super::factory(), "endpoint: \"nats://127.0.0.1:{port}\"").await;
}

/// A `nats-server -js` of this test, on a port it picked (read back from its log); killed
/// when dropped.
struct NatsServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    fn start() -> NatsServer {
        NatsServer::with_args(&[])
    }

    /// A server started with more command-line options (`--user`, `--auth`...).
    fn with_args(extra: &[&str]) -> NatsServer {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("nats.log");
        let store = dir.path().join("store");
        let program = PathBuf::from(
            std::env::var("TRIBUTARY_NATS_SERVER")
                .unwrap_or_else(|_| "/usr/sbin/nats-server".into()),
        );
        let child = Command::new(&program)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(&store)
            .arg("-l")
            .arg(&log)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let marker = "Listening for client connections on ";
        let url = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = text.find(marker) {
                let rest = &text[at + marker.len()..];
                let addr = rest.split_whitespace().next().unwrap_or_default();
                if text.contains("Server is ready") {
                    break format!("nats://{addr}");
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
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

/// A traces receiver consuming from `server` into `sink`, started.
async fn receiver(server: &NatsServer, extra: &str, sink: &Arc<Sink<Traces>>) -> Arc<dyn Receiver> {
    receiver_with(server, extra, "", sink).await
}

/// The same with more top-level YAML (`auth`, `tls`).
async fn receiver_with(
    server: &NatsServer,
    extra: &str,
    top: &str,
    sink: &Arc<Sink<Traces>>,
) -> Arc<dyn Receiver> {
    let config = config(&format!(
        "endpoint: {}\nconsumer: {{ ack_wait: 2s, nak_delay: 100ms {extra} }}\n{top}",
        server.url
    ))
    .unwrap();
    let settings = testing::settings::<Traces>(Kind::Receiver, "nats");
    let receiver = super::factory()
        .create(&settings, &config, sink.next())
        .unwrap();
    receiver.start(&Host::new([])).await.unwrap();
    receiver
}

async fn jetstream(server: &NatsServer) -> jetstream::Context {
    jetstream_with(server, async_nats::ConnectOptions::new()).await
}

async fn jetstream_with(
    server: &NatsServer,
    options: async_nats::ConnectOptions,
) -> jetstream::Context {
    jetstream::new(options.connect(server.url.as_str()).await.unwrap())
}

/// Publishes and waits for the stream's ack, retrying until the receiver has made the
/// stream.
async fn publish(js: &jetstream::Context, payload: Bytes) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let outcome = match js.publish("otlp.traces", payload.clone()).await {
            Ok(ack) => ack.await.map(drop).map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(()) => return,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("cannot publish: {error}"),
        }
    }
}

async fn consumer_info(js: &jetstream::Context) -> jetstream::consumer::Info {
    let mut consumer: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream("tributary_traces", "OTLP")
        .await
        .unwrap();
    consumer.info().await.unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_messages_are_terminated_and_the_rest_delivered() {
    let server = NatsServer::start();
    let sink = Sink::<Traces>::new();
    let receiver = receiver(&server, "", &sink).await;
    let js = jetstream(&server).await;
    publish(&js, Bytes::from_static(b"\xff\xff not otlp")).await;
    publish(&js, spans(4).encoded()).await;
    sink.wait_for_items(4, Duration::from_secs(30)).await;
    // The bad message is answered for good: nothing pending, nothing redelivered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let info = consumer_info(&js).await;
        if info.num_ack_pending == 0 && info.num_pending == 0 {
            assert_eq!(info.num_redelivered, 0);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{info:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.calls(), 1);
    receiver.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_refusal_is_redelivered_and_a_permanent_one_is_not() {
    let server = NatsServer::start();
    let sink = Sink::<Traces>::new();
    sink.then(Reply::Refuse(ConsumeError::retryable("queue full")));
    let receiver = receiver(&server, "", &sink).await;
    let js = jetstream(&server).await;
    publish(&js, spans(2).encoded()).await;
    sink.wait_for_items(2, Duration::from_secs(30)).await;
    assert_eq!(sink.received().len(), 2, "refused once, then redelivered");

    sink.then(Reply::Refuse(ConsumeError::permanent("bad data")));
    publish(&js, spans(3).encoded()).await;
    publish(&js, spans(5).encoded()).await;
    sink.wait_for_items(7, Duration::from_secs(30)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while consumer_info(&js).await.num_ack_pending != 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The permanently refused batch was terminated, not offered again.
    assert_eq!(sink.received().len(), 4);
    receiver.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_ack_pending_bounds_what_is_held_unacknowledged() {
    let server = NatsServer::start();
    let sink = Sink::<Traces>::new();
    let gate = sink.hold();
    let receiver = receiver(&server, ", max_ack_pending: 3", &sink).await;
    let js = jetstream(&server).await;
    for _ in 0..10 {
        publish(&js, spans(1).encoded()).await;
    }
    testing::eventually(
        "three messages in the pipeline",
        Duration::from_secs(30),
        || (sink.calls() == 3).then_some(()),
    )
    .await;
    let info = consumer_info(&js).await;
    assert_eq!(info.num_ack_pending, 3, "{info:?}");
    assert_eq!(info.num_pending, 7, "{info:?}");
    assert_eq!(sink.calls(), 3);
    gate.add_permits(100);
    sink.wait_for_items(10, Duration::from_secs(30)).await;
    receiver.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_message_is_delivered_again_to_the_next_receiver() {
    let server = NatsServer::start();
    let held = Sink::<Traces>::new();
    let _gate = held.hold();
    let first = receiver(&server, "", &held).await;
    let js = jetstream(&server).await;
    publish(&js, spans(6).encoded()).await;
    testing::eventually(
        "the message in the first pipeline",
        Duration::from_secs(30),
        || (held.calls() == 1).then_some(()),
    )
    .await;
    // The first receiver never answers (as if it crashed): after `ack_wait` the server
    // delivers the message to the next receiver of the same durable consumer.
    let sink = Sink::<Traces>::new();
    let second = receiver(&server, "", &sink).await;
    sink.wait_for_items(6, Duration::from_secs(30)).await;
    second.shutdown().await.unwrap();
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_password_authenticate() {
    let server = NatsServer::with_args(&["--user", "collector", "--pass", "s3cret"]);
    let sink = Sink::<Traces>::new();
    let receiver = receiver_with(
        &server,
        "",
        "auth: { user: collector, password: s3cret }",
        &sink,
    )
    .await;
    let options =
        async_nats::ConnectOptions::new().user_and_password("collector".into(), "s3cret".into());
    let js = jetstream_with(&server, options).await;
    publish(&js, spans(2).encoded()).await;
    sink.wait_for_items(2, Duration::from_secs(30)).await;
    receiver.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_authenticates_and_a_wrong_one_gets_nothing() {
    let server = NatsServer::with_args(&["--auth", "t0ken"]);
    let wrong = Sink::<Traces>::new();
    let refused = receiver_with(&server, "", "auth: { token: wr0ng }", &wrong).await;
    let sink = Sink::<Traces>::new();
    let receiver = receiver_with(&server, "", "auth: { token: t0ken }", &sink).await;
    let options = async_nats::ConnectOptions::new().token("t0ken".into());
    let js = jetstream_with(&server, options).await;
    publish(&js, spans(3).encoded()).await;
    sink.wait_for_items(3, Duration::from_secs(30)).await;
    assert_eq!(wrong.calls(), 0);
    // A receiver that cannot connect still shuts down promptly.
    refused.shutdown().await.unwrap();
    receiver.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nkey_authenticates() {
    let user = nkeys::KeyPair::new_user();
    let dir = tempfile::tempdir().unwrap();
    let server_config = dir.path().join("auth.conf");
    std::fs::write(
        &server_config,
        format!(
            "authorization {{ users = [ {{ nkey: {} }} ] }}\n",
            user.public_key()
        ),
    )
    .unwrap();
    let server = NatsServer::with_args(&["-c", server_config.to_str().unwrap()]);
    assert!(
        async_nats::connect(server.url.as_str()).await.is_err(),
        "the server lets clients in without the NKey"
    );
    let seed = user.seed().unwrap();
    let sink = Sink::<Traces>::new();
    let receiver = receiver_with(&server, "", &format!("auth: {{ nkey: {seed} }}"), &sink).await;
    let options = async_nats::ConnectOptions::new().nkey(seed);
    let js = jetstream_with(&server, options).await;
    publish(&js, spans(2).encoded()).await;
    sink.wait_for_items(2, Duration::from_secs(30)).await;
    receiver.shutdown().await.unwrap();
}
