//! The `otlp_http` exporter against a real HTTP server on 127.0.0.1.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri};
use prost::Message;
use tributary_pipeline_core::component::{Component, CreateSettings, Host};
use tributary_pipeline_core::consumer::ErrorKind;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tributary_pipeline_core::pdata::{Logs, Metrics, Signal, Traces};

use super::config::{Config, Encoding};
use super::exporter::{HttpExporter, SharedClient};
use tributary_pipeline_core::pdata::otlp_json::JsonData;
use tributary_pipeline_core::pdata::rpc;

use crate::otlp_signal::OtlpSignal;
use crate::testing::certs::TestPki;
use crate::testing::hostile::{
    Answer, HostileBackend, check_absurd_retry_delays_lose_neither_workers_nor_data,
};
use crate::testing::server::{TestServer, closed_port, serve};
use crate::testing::{fixtures, load, settings};

// ---- An OTLP/HTTP backend that records requests and answers from a script ----

struct Received {
    path: String,
    version: http::Version,
    headers: HeaderMap,
    /// The body after undoing `Content-Encoding`.
    body: Bytes,
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Reply {
    fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

#[derive(Default)]
struct Backend {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
}

impl Backend {
    fn reply(&self, reply: Reply) {
        self.replies.lock().unwrap().push_back(reply);
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

async fn handle(
    State(backend): State<Arc<Backend>>,
    version: http::Version,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        None => body,
        Some(name) => {
            use tributary_pipeline_core::configcompression::{Encoding, NoBudget, decompress};
            let encoding = Encoding::from_http(name).expect("a known content-encoding");
            decompress(encoding, &body, 64 << 20, &mut NoBudget)
                .expect("a decodable body")
                .into()
        }
    };
    backend.received.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        version,
        headers,
        body,
    });
    let reply = backend
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::status(200));
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn backend(tls: Option<Arc<rustls::ServerConfig>>) -> (Arc<Backend>, TestServer) {
    let backend = Arc::new(Backend::default());
    let router = Router::new().fallback(handle).with_state(backend.clone());
    (backend, serve(router, tls).await)
}

/// An exporter built from `yaml` (with `{addr}` / `{port}` filled in).
fn exporter<T: OtlpSignal + JsonData>(
    yaml: &str,
    server: &TestServer,
) -> (HttpExporter<T>, CreateSettings) {
    let yaml = yaml
        .replace("{addr}", &server.addr.to_string())
        .replace("{port}", &server.addr.port().to_string());
    let config: Config = load(&yaml).expect("valid config");
    let settings = settings::<T>("otlp_http/test");
    let client = SharedClient::started(&settings, &config).expect("client");
    let exporter = HttpExporter::new(&settings, &config, client).expect("exporter");
    (exporter, settings)
}

#[tokio::test]
async fn protobuf_bodies_are_the_cached_encoding_gzipped_by_default() {
    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Traces>(
        "endpoint: http://{addr}\nheaders: {x-api-key: k3y, x-scope-orgid: 7}\n",
        &server,
    );
    let (traces, bytes) = fixtures::traces_with_foreign_bytes();

    exporter.export(traces).await.expect("export");

    let received = backend.take();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.path, "/v1/traces");
    assert_eq!(request.body, bytes);
    assert_eq!(request.headers["content-type"], "application/x-protobuf");
    assert_eq!(request.headers["content-encoding"], "gzip");
    assert_eq!(request.headers["x-api-key"], "k3y");
    assert_eq!(request.headers["x-scope-orgid"], "7");
    let agent = request.headers["user-agent"].to_str().unwrap();
    assert!(
        agent.starts_with("Tributary telemetry collector/"),
        "{agent}"
    );
}

#[tokio::test]
async fn url_credentials_are_sent_as_basic_auth_and_never_shown() {
    let (backend, server) = backend(None).await;
    backend.reply(Reply::status(503));
    let (exporter, _) = exporter::<Traces>("endpoint: http://user:PASS@{addr}\n", &server);
    let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("http://[REDACTED]@127.0.0.1:") && !message.contains("PASS"),
        "{message}"
    );
    let received = backend.take();
    assert_eq!(received[0].headers["authorization"], "Basic dXNlcjpQQVNT");

    // A backend that is down: the transport error names no credentials either.
    let closed = closed_port().await;
    let config: Config = load(&format!("endpoint: http://user:PASS@{closed}\n")).unwrap();
    let settings = settings::<Traces>("otlp_http/test");
    let exporter = HttpExporter::<Traces>::new(
        &settings,
        &config,
        SharedClient::started(&settings, &config).unwrap(),
    )
    .unwrap();
    let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(!error.to_string().contains("PASS"), "{error}");
}

#[tokio::test]
async fn auth_sets_each_requests_headers_from_its_metadata() {
    use tributary_pipeline_core::extensions::headers_setter;
    use tributary_pipeline_core::pdata::ClientMetadata;

    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Traces>(
        "endpoint: http://{addr}\nauth: {authenticator: headers_setter/tenant}\n",
        &server,
    );
    let host = crate::testing::host_with(
        headers_setter::factory(),
        "headers_setter/tenant",
        "headers: [{key: X-Scope-OrgID, from_context: x-tenant, default_value: none}]",
    )
    .await;
    exporter.start(&host).await.unwrap();
    let mut metadata = ClientMetadata::new();
    metadata.insert("x-tenant", "acme");
    exporter
        .export(fixtures::traces(1).with_metadata(Arc::new(metadata)))
        .await
        .unwrap();
    exporter.export(fixtures::traces(1)).await.unwrap();
    let received = backend.take();
    assert_eq!(received[0].headers["x-scope-orgid"], "acme");
    assert_eq!(received[1].headers["x-scope-orgid"], "none");

    // Started on a host without it: a start error naming it.
    let error = exporter.start(&Host::default()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no extension \"headers_setter/tenant\""),
        "{error}"
    );
}

#[tokio::test]
async fn cookies_set_by_the_backend_are_sent_back_when_enabled() {
    for enabled in [true, false] {
        let (backend, server) = backend(None).await;
        backend.reply(Reply::status(200).header("set-cookie", "route=b2; Path=/"));
        let (exporter, _) = exporter::<Traces>(
            &format!("endpoint: http://{{addr}}\ncookies: {{enabled: {enabled}}}\n"),
            &server,
        );
        exporter.export(fixtures::traces(1)).await.unwrap();
        exporter.export(fixtures::traces(1)).await.unwrap();
        let received = backend.take();
        assert_eq!(
            received[1]
                .headers
                .get("cookie")
                .map(|v| v.to_str().unwrap().to_string()),
            enabled.then(|| "route=b2".to_string()),
            "enabled: {enabled}"
        );
    }
}

#[test]
fn secrets_are_not_in_debug_output_or_config_errors() {
    let config: Config = load(
        "endpoint: http://user:PASS@h\nproxy_url: http://p:PR0XYPASS@proxy:3128\nheaders: {Cookie: c00kie, X-Auth: 4uth}\ntls: {key_pem: K3Y, cert_pem: c}\n",
    )
    .unwrap();
    let debug = format!("{config:?}");
    for secret in ["PASS", "c00kie", "4uth", "K3Y"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    for yaml in [
        "endpoint: http://user:PASS@h:99999\n",
        "traces_endpoint: ftp://user:PASS@h\n",
        "endpoint: http://h\nproxy_url: http://user:PASS@[::1\n",
    ] {
        let error = load::<Config>(yaml).expect_err(yaml).to_string();
        assert!(!error.contains("PASS"), "{yaml}: {error}");
    }
    let error = load::<Config>("endpoint: http://user:PASS@h:99999\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "endpoint: invalid URL \"http://[REDACTED]@h:99999\": invalid port number"
    );
}

#[tokio::test]
async fn zstd_and_uncompressed_bodies() {
    let (backend, server) = backend(None).await;
    let (zstd, _) = exporter::<Logs>("endpoint: http://{addr}\ncompression: zstd\n", &server);
    zstd.export(fixtures::logs(20)).await.unwrap();
    let (plain, _) = exporter::<Logs>("endpoint: http://{addr}\ncompression: none\n", &server);
    plain.export(fixtures::logs(20)).await.unwrap();

    let received = backend.take();
    assert_eq!(received[0].headers["content-encoding"], "zstd");
    assert!(!received[1].headers.contains_key("content-encoding"));
    for request in &received {
        assert_eq!(request.path, "/v1/logs");
        assert_eq!(request.body, fixtures::logs(20).encoded());
    }
}

#[tokio::test]
async fn every_compression_arrives_intact() {
    let (backend, server) = backend(None).await;
    for name in ["gzip", "zstd", "zlib", "deflate", "snappy", "lz4"] {
        let (exporter, _) = exporter::<Traces>(
            &format!("endpoint: http://{{addr}}\ncompression: {name}\n"),
            &server,
        );
        let (traces, bytes) = fixtures::traces_with_foreign_bytes();
        exporter.export(traces).await.expect("export");
        let received = backend.take();
        assert_eq!(received[0].headers["content-encoding"], name);
        assert_eq!(received[0].body, bytes, "{name}");
    }
}

#[tokio::test]
async fn large_batches_are_compressed_off_the_runtime_and_arrive_intact() {
    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Traces>("endpoint: http://{addr}\n", &server);
    let traces = fixtures::traces(3000);
    assert!(traces.encoded_len() > 64 * 1024);
    exporter.export(traces.clone()).await.unwrap();
    assert_eq!(backend.take()[0].body, traces.encoded());
}

#[tokio::test]
async fn json_bodies_decode_to_the_same_requests_for_every_signal() {
    let (backend, server) = backend(None).await;
    let yaml = "endpoint: http://{addr}\nencoding: json\ncompression: none\n";
    exporter::<Traces>(yaml, &server)
        .0
        .export(fixtures::traces(3))
        .await
        .unwrap();
    exporter::<Metrics>(yaml, &server)
        .0
        .export(fixtures::metrics())
        .await
        .unwrap();
    exporter::<Logs>(yaml, &server)
        .0
        .export(fixtures::logs(2))
        .await
        .unwrap();

    let received = backend.take();
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v1/traces", "/v1/metrics", "/v1/logs"]);
    for request in &received {
        assert_eq!(request.headers["content-type"], "application/json");
    }
    let traces: ExportTraceServiceRequest = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(traces, *fixtures::traces(3).request());
    let metrics: ExportMetricsServiceRequest = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(metrics, *fixtures::metrics().request());
    let logs: ExportLogsServiceRequest = serde_json::from_slice(&received[2].body).unwrap();
    assert_eq!(logs, *fixtures::logs(2).request());
}

#[tokio::test]
async fn json_bodies_keep_nan_and_infinities() {
    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Metrics>(
        "endpoint: http://{addr}\nencoding: json\ncompression: gzip\n",
        &server,
    );
    exporter
        .export(fixtures::non_finite_metrics())
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&backend.take()[0].body).unwrap();
    let metrics = &json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
    let gauge: Vec<&serde_json::Value> = metrics[0]["gauge"]["dataPoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["asDouble"])
        .collect();
    assert_eq!(gauge, ["NaN", "Infinity", "-Infinity"]);
    assert_eq!(metrics[1]["histogram"]["dataPoints"][0]["sum"], "NaN");
}

#[tokio::test]
async fn signal_urls_follow_the_go_exporters_rules() {
    let (backend, server) = backend(None).await;
    let yaml = "endpoint: http://{addr}/otlp/\nlogs_endpoint: http://{addr}/custom/logs\n";
    exporter::<Traces>(yaml, &server)
        .0
        .export(fixtures::traces(1))
        .await
        .unwrap();
    exporter::<Logs>(yaml, &server)
        .0
        .export(fixtures::logs(1))
        .await
        .unwrap();
    let paths: Vec<String> = backend.take().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/otlp/v1/traces", "/custom/logs"]);
}

#[tokio::test]
async fn http_statuses_become_consume_errors() {
    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Traces>("endpoint: http://{addr}\n", &server);
    let status_body = rpc::Status {
        code: 3,
        message: "span without name".into(),
        details: vec![],
    }
    .encode_to_vec();
    let in_30s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));

    // The reply, the error class expected, and the range of the expected delay in seconds.
    type Case = (Reply, ErrorKind, Option<(u64, u64)>);
    let cases: Vec<Case> = vec![
        (
            Reply::status(400)
                .header("content-type", "application/x-protobuf")
                .body(status_body),
            ErrorKind::Permanent,
            None,
        ),
        (Reply::status(401), ErrorKind::Permanent, None),
        (Reply::status(404), ErrorKind::Permanent, None),
        (Reply::status(413), ErrorKind::Permanent, None),
        (Reply::status(500), ErrorKind::Permanent, None),
        (Reply::status(429), ErrorKind::Throttled, None),
        (
            Reply::status(429).header("retry-after", "3"),
            ErrorKind::Throttled,
            Some((3, 3)),
        ),
        (
            Reply::status(503).header("retry-after", in_30s),
            ErrorKind::Retryable,
            Some((28, 30)),
        ),
        (Reply::status(502), ErrorKind::Retryable, None),
        (
            Reply::status(504).header("retry-after", "1"),
            ErrorKind::Retryable,
            Some((1, 1)),
        ),
    ];
    for (reply, kind, delay) in cases {
        let status = reply.status;
        backend.reply(reply);
        let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
        assert_eq!(error.kind(), kind, "{status}: {error}");
        match delay {
            None => assert_eq!(error.retry_after(), None, "{status}"),
            Some((min, max)) => {
                let secs = error.retry_after().expect("a delay").as_secs();
                assert!((min..=max).contains(&secs), "{status}: {secs}s");
            }
        }
        if status == 400 {
            assert!(error.message().contains("span without name"), "{error}");
        }
    }
}

#[tokio::test]
async fn partial_success_in_protobuf_and_json_is_counted() {
    let (backend, server) = backend(None).await;
    let (exporter, settings) = exporter::<Traces>("endpoint: http://{addr}\n", &server);
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "too old".into(),
        }),
    };
    backend.reply(
        Reply::status(200)
            .header("content-type", "application/x-protobuf")
            .body(response.encode_to_vec()),
    );
    backend.reply(
        Reply::status(200)
            .header("content-type", "application/json")
            .body(r#"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"dup"}}"#),
    );
    backend.reply(
        Reply::status(200)
            .header("content-type", "application/x-protobuf")
            .body(vec![0xff, 0xff]),
    );
    for _ in 0..3 {
        exporter
            .export(fixtures::traces(5))
            .await
            .expect("accepted, even partially or with an unreadable body");
    }
    assert_eq!(
        settings.metrics().value(
            "otelcol_exporter_partial_success_rejected_spans",
            &[("exporter", "otlp_http/test")]
        ),
        Some(5.0)
    );
}

#[tokio::test]
async fn an_unreachable_backend_is_retryable() {
    let addr = closed_port().await;
    let config: Config = load(&format!("endpoint: http://{addr}\n")).unwrap();
    let settings = settings::<Traces>("otlp_http");
    let exporter = HttpExporter::<Traces>::new(
        &settings,
        &config,
        SharedClient::started(&settings, &config).unwrap(),
    )
    .unwrap();
    let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(error.message().contains(&addr.to_string()), "{error}");
}

#[tokio::test]
async fn https_with_the_configured_ca_and_refusal_without_it() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(false))).await;
    let (trusted, _) = exporter::<Traces>(
        &format!(
            "endpoint: https://localhost:{{port}}\ntls: {{ca_file: {}}}\n",
            pki.ca_file()
        ),
        &server,
    );
    trusted
        .export(fixtures::traces(1))
        .await
        .expect("TLS export");

    let (untrusted, _) = exporter::<Traces>("endpoint: https://localhost:{port}\n", &server);
    let error = untrusted.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");

    let (skipping, _) = exporter::<Traces>(
        "endpoint: https://127.0.0.1:{port}\ntls: {insecure_skip_verify: true}\n",
        &server,
    );
    skipping
        .export(fixtures::traces(1))
        .await
        .expect("no verification");
    assert_eq!(backend.take().len(), 2);
}

#[tokio::test]
async fn mutual_tls_over_https() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(true))).await;
    let (exporter, _) = exporter::<Metrics>(
        &format!(
            "endpoint: https://localhost:{{port}}\ntls: {{ca_file: {}, cert_file: {}, key_file: {}}}\n",
            pki.ca_file(),
            pki.client_cert_file(),
            pki.client_key_file()
        ),
        &server,
    );
    exporter
        .export(fixtures::metrics())
        .await
        .expect("mTLS export");
    assert_eq!(backend.take()[0].path, "/v1/metrics");
}

#[tokio::test]
async fn the_factory_builds_working_exporters_for_every_signal() {
    let (backend, server) = backend(None).await;
    let config: Config = load(&format!(
        "endpoint: http://{}\nretry_on_failure: {{enabled: false}}\nsending_queue: {{enabled: false}}\n",
        server.addr
    ))
    .unwrap();
    let factory = super::factory();
    assert_eq!(factory.component_type(), "otlp_http");
    assert_eq!(factory.aliases(), ["otlphttp"]);
    let settings = settings::<Traces>("otlphttp");
    let traces = factory.create::<Traces>(&settings, &config).unwrap();
    let metrics = factory.create::<Metrics>(&settings, &config).unwrap();
    let logs = factory.create::<Logs>(&settings, &config).unwrap();
    let components: [Arc<dyn Component>; 3] = [traces.clone(), metrics.clone(), logs.clone()];
    for component in &components {
        component.start(&Host::default()).await.unwrap();
    }
    traces.consume(fixtures::traces(2)).await.unwrap();
    metrics.consume(fixtures::metrics()).await.unwrap();
    logs.consume(fixtures::logs(1)).await.unwrap();
    for component in &components {
        component.shutdown().await.unwrap();
    }
    let paths: Vec<String> = backend.take().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/traces", "/v1/metrics", "/v1/logs"]);
    assert_eq!(
        settings.metrics().value(
            "otelcol_exporter_sent_metric_points",
            &[("exporter", "otlphttp")]
        ),
        Some(9.0)
    );
}

#[test]
fn a_signal_without_an_endpoint_cannot_be_created() {
    let config: Config = load("traces_endpoint: http://localhost:4318/v1/traces\n").unwrap();
    let settings = settings::<Logs>("otlp_http");
    let error = super::factory()
        .create::<Logs>(&settings, &config)
        .err()
        .expect("no logs endpoint");
    assert!(
        error
            .to_string()
            .contains("either endpoint or logs_endpoint must be specified"),
        "{error}"
    );
}

// ---- Configuration ----

#[test]
fn defaults_follow_the_go_exporter() {
    let config = Config::default();
    assert_eq!(config.helper().timeout, Duration::from_secs(30));
    assert_eq!(config.encoding, Encoding::Proto);
    assert_eq!(config.compression(), crate::client::Compression::Gzip);
    assert_eq!(config.client.idle_conn_timeout, Duration::from_secs(90));
    assert_eq!(config.client.max_idle_conns, 100);
    assert!(config.client.force_attempt_http2);
    assert!(config.helper.retry_on_failure.enabled);
    assert_eq!(config.helper.sending_queue.num_consumers, 10);
    assert_eq!(config.helper.sending_queue.queue_size, 1000);
    assert_eq!(config.helper.sending_queue.memory_limit_mib, 256);
}

#[test]
fn a_timeout_left_out_stays_30s_when_other_helper_keys_are_set() {
    let config: Config = load("endpoint: http://h\nsending_queue: {queue_size: 10}\n").unwrap();
    assert_eq!(config.helper().timeout, Duration::from_secs(30));
    assert_eq!(config.helper.sending_queue.queue_size, 10);
    assert!(config.helper.retry_on_failure.enabled);
}

#[test]
fn the_sending_queue_takes_a_memory_limit_and_still_refuses_unknown_keys() {
    let config: Config = load(
        "endpoint: http://h
sending_queue: {memory_limit_mib: 64}
",
    )
    .unwrap();
    assert_eq!(
        config.helper.sending_queue.memory_limit_bytes(),
        Some(64 << 20)
    );
    let config: Config = load(
        "endpoint: http://h
sending_queue: {memory_limit_mib: 0}
",
    )
    .unwrap();
    assert_eq!(config.helper.sending_queue.memory_limit_bytes(), None);
    let error = load::<Config>(
        "endpoint: http://h
sending_queue: {memory_limit: 64}
",
    )
    .expect_err("unknown key");
    assert_eq!(error.path(), "sending_queue::memory_limit", "{error}");
}

#[test]
fn reads_the_go_collectors_test_configuration() {
    let config: Config = load(
        r#"
endpoint: "https://1.2.3.4:1234"
tls:
  ca_file: /var/lib/mycert.pem
  cert_file: certfile
  key_file: keyfile
  insecure: true
timeout: 10s
read_buffer_size: 123
write_buffer_size: 345
sending_queue:
  enabled: true
  num_consumers: 2
  queue_size: 10
retry_on_failure:
  enabled: true
  initial_interval: 10s
  randomization_factor: 0.7
  multiplier: 1.3
  max_interval: 60s
  max_elapsed_time: 10m
headers:
  header1: "234"
  another: "somevalue"
compression: gzip
profiles_endpoint: "https://custom.profiles.endpoint:8080/v1development/profiles"
"#,
    )
    .unwrap();
    assert_eq!(config.helper().timeout, Duration::from_secs(10));
    assert_eq!(config.helper.sending_queue.queue_size, 10);
    assert_eq!(
        config.signal_url(Signal::Metrics).unwrap().expose(),
        "https://1.2.3.4:1234/v1/metrics"
    );
}

#[test]
fn config_errors_name_their_paths() {
    let cases = [
        ("{}", "endpoint"),
        ("endpoint: not a url", "endpoint"),
        ("endpoint: ftp://host/", "endpoint"),
        ("traces_endpoint: ':'", "traces_endpoint"),
        ("endpoint: http://h\nencoding: xml", "encoding"),
        ("endpoint: http://h\ncompression: brotli", "compression"),
        (
            "endpoint: http://h\ncompression: gzip\ncompression_params: {level: 12}",
            "compression_params::level",
        ),
        ("endpoint: http://h\nproxy_url: '::'", "proxy_url"),
        ("endpoint: http://h\nheaders: {'x y': z}", "headers::x y"),
        (
            "endpoint: http://h\ntls: {key_file: k.pem}",
            "tls::cert_file",
        ),
        (
            "endpoint: http://h\nretry_on_failure: {multiplier: 0.5}",
            "retry_on_failure::multiplier",
        ),
        (
            "endpoint: http://h\nsending_queue: {num_consumers: 0}",
            "sending_queue::num_consumers",
        ),
        (
            "endpoint: http://h\nidle_conn_timeout: forever",
            "idle_conn_timeout",
        ),
        (
            "endpoint: http://h\ncookies: {enabled: true, max: 1}",
            "cookies::max",
        ),
        ("endpoint: http://h\nauth: {}", "auth::authenticator"),
    ];
    for (yaml, path) in cases {
        let error = load::<Config>(yaml).expect_err(yaml);
        assert_eq!(error.path(), path, "{yaml}: {error}");
    }
}

// ---- A hostile backend ----

/// Serves [`HostileBackend`] over OTLP/HTTP: a refusal is `503` with
/// `Retry-After: 18446744073709551615`.
async fn hostile_server(backend: Arc<HostileBackend>) -> TestServer {
    async fn handle(State(backend): State<Arc<HostileBackend>>, body: Bytes) -> Response {
        let request = ExportTraceServiceRequest::decode(body).expect("an OTLP request");
        match backend.answer(&request).await {
            Answer::Refuse => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", u64::MAX.to_string())],
            )
                .into_response(),
            Answer::Accept => StatusCode::OK.into_response(),
        }
    }
    serve(Router::new().fallback(handle).with_state(backend), None).await
}

#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_loses_neither_workers_nor_data() {
    let backend = Arc::new(HostileBackend::default());
    let server = hostile_server(Arc::clone(&backend)).await;
    // The default sending queue (10 consumers) and retries (max_elapsed_time 300s).
    let config: Config = load(&format!(
        "endpoint: http://{}\ncompression: none\n",
        server.addr
    ))
    .unwrap();
    let settings = settings::<Traces>("otlp_http/hostile");
    let exporter = super::factory()
        .create::<Traces>(&settings, &config)
        .unwrap();
    exporter.start(&Host::default()).await.unwrap();

    check_absurd_retry_delays_lose_neither_workers_nor_data(
        &exporter,
        &backend,
        settings.metrics(),
        "otlp_http/hostile",
    )
    .await;
    exporter.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_files_are_read_at_start_not_at_creation() {
    let config: Config =
        load("endpoint: https://localhost:4318\ntls:\n  ca_file: /nonexistent/ca.pem\n").unwrap();
    let settings = settings::<Traces>("otlp_http");
    let client = Arc::new(SharedClient::new(&settings, &config));
    let exporter = HttpExporter::<Traces>::new(&settings, &config, client)
        .expect("creation reads no file (as Go's)");
    let error = exporter
        .start(&Host::default())
        .await
        .expect_err("a missing CA file fails start");
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}

#[tokio::test]
async fn force_attempt_http2_decides_the_protocol_over_tls() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(false))).await;
    for (setting, expected) in [
        ("", http::Version::HTTP_2),
        ("force_attempt_http2: false\n", http::Version::HTTP_11),
    ] {
        let (exporter, _) = exporter::<Traces>(
            &format!(
                "endpoint: https://localhost:{{port}}\ntls: {{ca_file: {}}}\n{setting}",
                pki.ca_file()
            ),
            &server,
        );
        exporter.export(fixtures::traces(1)).await.expect("export");
        assert_eq!(backend.take()[0].version, expected, "{setting:?}");
    }
}

#[test]
fn client_keys_go_cannot_honour_here_are_refused_with_a_reason() {
    let error = load::<Config>("endpoint: http://h\nmax_conns_per_host: 10\n").unwrap_err();
    assert_eq!(error.path(), "max_conns_per_host", "{error}");
    assert!(error.to_string().contains("num_consumers"), "{error}");

    let error = load::<Config>("endpoint: http://h\nmiddlewares: [{id: limiter}]\n").unwrap_err();
    assert_eq!(error.path(), "middlewares", "{error}");
    assert!(error.to_string().contains("not supported"), "{error}");

    let error = load::<Config>("endpoint: http://h\ndialer: {timeot: 1s}\n").unwrap_err();
    assert_eq!(error.path(), "dialer::timeot", "{error}");
}

#[test]
fn the_client_blocks_tuning_knobs_and_dialer_are_accepted() {
    let config: Config = load(
        "endpoint: http://h\ntimeout: 7s\ndialer: {timeout: 2s}\nmax_idle_conns: 10\n\
         max_idle_conns_per_host: 4\nidle_conn_timeout: 0s\nread_buffer_size: 1\n",
    )
    .unwrap();
    assert_eq!(config.client.dialer.timeout, Duration::from_secs(2));
    assert_eq!(config.helper().timeout, Duration::from_secs(7));
    assert_eq!(config.client.idle_per_host(), 4);
    assert_eq!(config.client.idle_timeout(), None);
}
