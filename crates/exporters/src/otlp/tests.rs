//! The `otlp` exporter against real gRPC servers on 127.0.0.1: a hand-rolled one that shows
//! the exact bytes on the wire, and tonic's generated OTLP services.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, Uri};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic::{Code, Status};
use tributary_pipeline_core::component::Component;
use tributary_pipeline_core::component::{CreateSettings, Host};
use tributary_pipeline_core::consumer::{ConsumeError, ErrorKind};
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse, logs_service_server,
};
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse, metrics_service_server,
};
use tributary_pipeline_core::pdata::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server,
};
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::config::Config;
use super::exporter::{GrpcConnection, GrpcExporter};
use super::status::details_with_retry_info;
use crate::otlp_signal::OtlpSignal;
use crate::testing::certs::TestPki;
use crate::testing::hostile::{
    Answer, HostileBackend, check_absurd_retry_delays_lose_neither_workers_nor_data,
};
use crate::testing::server::{TestServer, closed_port, serve};
use crate::testing::{fixtures, load, settings};

// ---- A gRPC backend that records raw frames and answers from a script ----

struct Received {
    path: String,
    headers: HeaderMap,
    /// The frame's compressed flag.
    compressed: bool,
    /// The message, decompressed.
    message: Bytes,
}

enum Reply {
    /// A response message and `grpc-status: 0` trailers.
    Ok(Bytes),
    /// A trailers-only error response.
    Status(Status),
    /// A plain HTTP response without any gRPC status (a proxy's error page).
    Http(u16),
    /// A response message and no trailers at all.
    NoTrailers,
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

fn decompress(encoding: &str, data: &[u8]) -> Bytes {
    use tributary_pipeline_core::configcompression::{Encoding, NoBudget, decompress};
    let encoding = Encoding::from_grpc(encoding).expect("a known grpc-encoding");
    Bytes::from(decompress(encoding, data, 64 << 20, &mut NoBudget).expect("decodable"))
}

async fn handle(
    State(backend): State<Arc<Backend>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    assert!(body.len() >= 5, "a gRPC frame");
    let compressed = body[0] == 1;
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let frame = body.slice(5..5 + len);
    let message = if compressed {
        let encoding = headers
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        decompress(encoding, &frame)
    } else {
        frame
    };
    backend.received.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        headers,
        compressed,
        message,
    });
    let reply = backend
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Ok(Bytes::new()));
    match reply {
        Reply::Ok(message) => {
            let mut frame = BytesMut::with_capacity(5 + message.len());
            frame.put_u8(0);
            frame.put_u32(message.len() as u32);
            frame.extend_from_slice(&message);
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", "0".parse().unwrap());
            let body = Full::new(frame.freeze()).with_trailers(async move { Some(Ok(trailers)) });
            Response::builder()
                .header("content-type", "application/grpc")
                .body(Body::new(body))
                .unwrap()
        }
        Reply::Status(status) => status.into_http::<Body>(),
        Reply::Http(code) => Response::builder()
            .status(code)
            .header("content-type", "text/html")
            .body(Body::from("<h1>bad gateway</h1>"))
            .unwrap(),
        Reply::NoTrailers => Response::builder()
            .header("content-type", "application/grpc")
            .body(Body::from(Bytes::from_static(&[0, 0, 0, 0, 0])))
            .unwrap(),
    }
}

async fn backend(tls: Option<Arc<rustls::ServerConfig>>) -> (Arc<Backend>, TestServer) {
    let backend = Arc::new(Backend::default());
    let router = Router::new().fallback(handle).with_state(backend.clone());
    (backend, serve(router, tls).await)
}

/// An exporter built from `yaml` (the endpoint's `{addr}` filled in), started.
async fn exporter<T: OtlpSignal>(
    yaml: &str,
    server: &TestServer,
) -> (GrpcExporter<T>, CreateSettings) {
    let yaml = yaml.replace("{addr}", &server.addr.to_string());
    let yaml = yaml.replace("{port}", &server.addr.port().to_string());
    let config: Config = load(&yaml).expect("valid config");
    let settings = settings::<T>("otlp/test");
    let connection = Arc::new(GrpcConnection::new(&settings, &config).expect("connection"));
    let exporter = GrpcExporter::new(&settings, &config, connection).expect("exporter");
    exporter.start(&Host::default()).await.expect("start");
    (exporter, settings)
}

#[tokio::test]
async fn sends_the_payloads_cached_encoding_byte_for_byte() {
    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Traces>(
        "endpoint: http://{addr}\ncompression: none\nheaders: {x-tenant: acme, x-trace-bin: raw}\n",
        &server,
    )
    .await;
    let (traces, bytes) = fixtures::traces_with_foreign_bytes();

    exporter.export(traces).await.expect("export succeeds");

    let received = backend.take();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(
        request.path,
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    );
    assert!(!request.compressed);
    assert_eq!(request.message, bytes);
    assert_eq!(request.headers["content-type"], "application/grpc");
    assert_eq!(request.headers["x-tenant"], "acme");
    // A -bin key carries the value's bytes, base64-encoded on the wire ("raw").
    assert_eq!(request.headers["x-trace-bin"], "cmF3");
    assert_eq!(request.headers["grpc-timeout"], "5000m");
    let agent = request.headers["user-agent"].to_str().unwrap();
    assert!(
        agent.starts_with("Tributary telemetry collector/"),
        "{agent}"
    );
}

#[tokio::test]
async fn a_merged_batch_goes_out_uncompressed_as_its_parts_back_to_back() {
    let (backend, server) = backend(None).await;
    let (exporter, _) =
        exporter::<Traces>("endpoint: http://{addr}\ncompression: none\n", &server).await;
    let (mut batch, first) = fixtures::traces_with_foreign_bytes();
    let (second, second_bytes) = fixtures::traces_with_foreign_bytes();
    batch.merge(second);
    assert_eq!(batch.encoded_parts().len(), 2, "a batch of two encodings");

    exporter.export(batch).await.expect("export succeeds");

    let received = backend.take();
    assert_eq!(received.len(), 1);
    assert!(!received[0].compressed);
    assert_eq!(received[0].message, [first, second_bytes].concat());
}

#[tokio::test]
async fn auth_sets_the_calls_credentials() {
    use tributary_pipeline_core::extensions::bearertokenauth;

    let (backend, server) = backend(None).await;
    let config: Config = load(&format!(
        "endpoint: http://{}\nauth: {{authenticator: bearertokenauth/out}}\n",
        server.addr
    ))
    .unwrap();
    let settings = settings::<Traces>("otlp/test");
    let connection = Arc::new(GrpcConnection::new(&settings, &config).unwrap());
    let exporter = GrpcExporter::<Traces>::new(&settings, &config, connection).unwrap();
    let error = exporter.start(&Host::default()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no extension \"bearertokenauth/out\""),
        "{error}"
    );
    let host = crate::testing::host_with(
        bearertokenauth::factory(),
        "bearertokenauth/out",
        "token: s3cret",
    )
    .await;
    exporter.start(&host).await.unwrap();
    exporter.export(fixtures::traces(1)).await.unwrap();
    assert_eq!(backend.take()[0].headers["authorization"], "Bearer s3cret");
}

#[tokio::test]
async fn every_compression_arrives_intact() {
    let (backend, server) = backend(None).await;
    for name in ["gzip", "zstd", "zlib", "deflate", "snappy", "lz4"] {
        let (exporter, _) = exporter::<Traces>(
            &format!("endpoint: http://{{addr}}\ncompression: {name}\n"),
            &server,
        )
        .await;
        let (traces, bytes) = fixtures::traces_with_foreign_bytes();
        exporter.export(traces).await.expect("export");
        let received = backend.take();
        assert_eq!(received[0].headers["grpc-encoding"], name);
        assert_eq!(received[0].message, bytes, "{name}");
    }
}

#[tokio::test]
async fn compresses_with_gzip_by_default_and_zstd_when_asked() {
    let (backend, server) = backend(None).await;
    for (yaml, encoding) in [
        ("endpoint: http://{addr}\n", "gzip"),
        ("endpoint: http://{addr}\ncompression: zstd\n", "zstd"),
    ] {
        let (exporter, _) = exporter::<Logs>(yaml, &server).await;
        let logs = fixtures::logs(50);
        exporter.export(logs.clone()).await.expect("export");
        let received = backend.take();
        assert_eq!(received.len(), 1);
        assert!(received[0].compressed, "{encoding}: compressed flag set");
        assert_eq!(received[0].headers["grpc-encoding"], encoding);
        assert_eq!(received[0].message, logs.encoded(), "{encoding}");
        assert_eq!(
            received[0].path,
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
        );
    }
}

#[tokio::test]
async fn every_signal_goes_to_its_service() {
    let (backend, server) = backend(None).await;
    let (metrics_exporter, _) = exporter::<Metrics>("endpoint: http://{addr}\n", &server).await;
    let metrics = fixtures::metrics();
    metrics_exporter
        .export(metrics.clone())
        .await
        .expect("export");
    let received = backend.take();
    assert_eq!(
        received[0].path,
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
    );
    assert_eq!(
        ExportMetricsServiceRequest::decode(received[0].message.clone()).unwrap(),
        *metrics.request()
    );
}

#[tokio::test]
async fn grpc_statuses_become_consume_errors() {
    let (backend, server) = backend(None).await;
    let (exporter, _) = exporter::<Traces>("endpoint: http://{addr}\n", &server).await;

    let cases: Vec<(Status, ErrorKind, Option<Duration>)> = vec![
        (Status::unavailable("down"), ErrorKind::Retryable, None),
        (Status::cancelled("x"), ErrorKind::Retryable, None),
        (Status::deadline_exceeded("x"), ErrorKind::Retryable, None),
        (Status::aborted("x"), ErrorKind::Retryable, None),
        (Status::out_of_range("x"), ErrorKind::Retryable, None),
        (Status::data_loss("x"), ErrorKind::Retryable, None),
        (Status::invalid_argument("bad"), ErrorKind::Permanent, None),
        (Status::unauthenticated("who"), ErrorKind::Permanent, None),
        (Status::permission_denied("no"), ErrorKind::Permanent, None),
        (Status::unimplemented("no"), ErrorKind::Permanent, None),
        (Status::internal("oops"), ErrorKind::Permanent, None),
        (Status::unknown("?"), ErrorKind::Permanent, None),
        (
            Status::resource_exhausted("full"),
            ErrorKind::Permanent,
            None,
        ),
        (
            Status::with_details(
                Code::ResourceExhausted,
                "slow down",
                details_with_retry_info(Some(Duration::from_secs(3))).into(),
            ),
            ErrorKind::Throttled,
            Some(Duration::from_secs(3)),
        ),
        (
            Status::with_details(
                Code::Unavailable,
                "draining",
                details_with_retry_info(Some(Duration::from_millis(1500))).into(),
            ),
            ErrorKind::Retryable,
            Some(Duration::from_millis(1500)),
        ),
    ];
    let cases = cases
        .into_iter()
        .map(|(status, kind, delay)| {
            (
                format!("{:?}", status.code()),
                Reply::Status(status),
                kind,
                delay,
            )
        })
        .chain([
            (
                "HTTP 503".to_string(),
                Reply::Http(503),
                ErrorKind::Retryable,
                None,
            ),
            (
                "HTTP 502".to_string(),
                Reply::Http(502),
                ErrorKind::Retryable,
                None,
            ),
            (
                "HTTP 404".to_string(),
                Reply::Http(404),
                ErrorKind::Permanent,
                None,
            ),
            (
                "HTTP 400".to_string(),
                Reply::Http(400),
                ErrorKind::Permanent,
                None,
            ),
            (
                "no trailers".to_string(),
                Reply::NoTrailers,
                ErrorKind::Permanent,
                None,
            ),
        ]);
    for (code, reply, kind, retry_after) in cases {
        backend.reply(reply);
        let error: ConsumeError = exporter
            .export(fixtures::traces(1))
            .await
            .expect_err("the server refused");
        assert_eq!(error.kind(), kind, "{code}: {error}");
        assert_eq!(error.retry_after(), retry_after, "{code}");
    }
}

#[tokio::test]
async fn partial_success_is_logged_counted_and_succeeds() {
    let (backend, server) = backend(None).await;
    let (exporter, settings) = exporter::<Traces>("endpoint: http://{addr}\n", &server).await;
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "spans too old".into(),
        }),
    };
    backend.reply(Reply::Ok(response.encode_to_vec().into()));
    exporter
        .export(fixtures::traces(5))
        .await
        .expect("a partial success is a success");
    assert_eq!(
        settings.metrics().value(
            "otelcol_exporter_partial_success_rejected_spans",
            &[("exporter", "otlp/test")]
        ),
        Some(2.0)
    );
}

#[tokio::test]
async fn a_down_backend_does_not_fail_start_and_is_retryable() {
    let addr = closed_port().await;
    let config: Config = load(&format!("endpoint: http://{addr}\n")).unwrap();
    let settings = settings::<Traces>("otlp");
    let connection = Arc::new(GrpcConnection::new(&settings, &config).unwrap());
    let exporter = GrpcExporter::<Traces>::new(&settings, &config, connection).unwrap();
    exporter
        .start(&Host::default())
        .await
        .expect("start does not connect");
    let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
}

#[tokio::test]
async fn reconnects_once_the_backend_is_back() {
    // Pick a port, export while nothing listens there, then serve on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config: Config = load(&format!("endpoint: http://{addr}\n")).unwrap();
    let settings = settings::<Traces>("otlp");
    let connection = Arc::new(GrpcConnection::new(&settings, &config).unwrap());
    let exporter = GrpcExporter::<Traces>::new(&settings, &config, connection).unwrap();
    exporter.start(&Host::default()).await.unwrap();
    assert!(exporter.export(fixtures::traces(1)).await.is_err());

    let backend = Arc::new(Backend::default());
    let router = Router::new().fallback(handle).with_state(backend.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let task = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    let mut delivered = false;
    for _ in 0..50 {
        if exporter.export(fixtures::traces(1)).await.is_ok() {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    task.abort();
    assert!(delivered, "the exporter reconnected");
    assert_eq!(backend.take().len(), 1);
}

// ---- TLS ----

#[tokio::test]
async fn tls_with_the_configured_ca() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(false))).await;
    let yaml = format!(
        "endpoint: localhost:{{port}}\ntls:\n  ca_file: {}\n",
        pki.ca_file()
    );
    let (exporter, _) = exporter::<Traces>(&yaml, &server).await;
    exporter
        .export(fixtures::traces(2))
        .await
        .expect("TLS export");
    let received = backend.take();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message, fixtures::traces(2).encoded());
}

#[tokio::test]
async fn tls_refuses_a_server_the_roots_do_not_trust() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(false))).await;
    // No ca_file: the system roots, which do not know the test CA.
    let (exporter, _) = exporter::<Traces>("endpoint: https://localhost:{port}\n", &server).await;
    let error = exporter.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(backend.take().is_empty());
}

#[tokio::test]
async fn tls_insecure_skip_verify_accepts_any_certificate() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(false))).await;
    let (exporter, _) = exporter::<Traces>(
        "endpoint: 127.0.0.1:{port}\ntls:\n  insecure_skip_verify: true\n",
        &server,
    )
    .await;
    exporter.export(fixtures::traces(1)).await.expect("export");
    assert_eq!(backend.take().len(), 1);
}

#[tokio::test]
async fn tls_server_name_override_is_what_gets_verified() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(false))).await;
    let ok = format!(
        "endpoint: 127.0.0.1:{{port}}\ntls:\n  ca_file: {}\n  server_name_override: localhost\n",
        pki.ca_file()
    );
    let (matching, _) = exporter::<Traces>(&ok, &server).await;
    matching
        .export(fixtures::traces(1))
        .await
        .expect("name matches");

    let wrong = format!(
        "endpoint: 127.0.0.1:{{port}}\ntls:\n  ca_file: {}\n  server_name_override: other.example\n",
        pki.ca_file()
    );
    let (mismatching, _) = exporter::<Traces>(&wrong, &server).await;
    let error = mismatching.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert_eq!(backend.take().len(), 1);
}

#[tokio::test]
async fn mutual_tls_presents_the_client_certificate() {
    let pki = TestPki::new();
    let (backend, server) = backend(Some(pki.server_config(true))).await;
    let with_cert = format!(
        "endpoint: localhost:{{port}}\ntls:\n  ca_file: {}\n  cert_file: {}\n  key_file: {}\n",
        pki.ca_file(),
        pki.client_cert_file(),
        pki.client_key_file()
    );
    let (authenticated, _) = exporter::<Traces>(&with_cert, &server).await;
    authenticated
        .export(fixtures::traces(1))
        .await
        .expect("mTLS export");

    let without_cert = format!(
        "endpoint: localhost:{{port}}\ntls:\n  ca_file: {}\n",
        pki.ca_file()
    );
    let (anonymous, _) = exporter::<Traces>(&without_cert, &server).await;
    let error = anonymous.export(fixtures::traces(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert_eq!(backend.take().len(), 1);
}

#[tokio::test]
async fn tls_files_are_read_at_start_not_at_creation() {
    let config: Config =
        load("endpoint: localhost:4317\ntls:\n  ca_file: /nonexistent/ca.pem\n").unwrap();
    let settings = settings::<Traces>("otlp");
    let connection = Arc::new(
        GrpcConnection::new(&settings, &config).expect("creation reads no file (as Go's)"),
    );
    let exporter = GrpcExporter::<Traces>::new(&settings, &config, connection).unwrap();
    let error = exporter
        .start(&Host::default())
        .await
        .expect_err("a missing CA file fails start");
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}

// ---- Interoperability with tonic's generated OTLP services ----

#[derive(Default)]
struct Collected {
    traces: Mutex<Vec<ExportTraceServiceRequest>>,
    metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
    logs: Mutex<Vec<ExportLogsServiceRequest>>,
}

/// The three OTLP services, recording what they receive.
#[derive(Clone)]
struct Collector(Arc<Collected>);

#[tonic::async_trait]
impl trace_service_server::TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, Status> {
        self.0.traces.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl metrics_service_server::MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, Status> {
        self.0.metrics.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl logs_service_server::LogsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, Status> {
        self.0.logs.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

#[tokio::test]
async fn delivers_all_signals_to_tonics_otlp_services_through_the_factory() {
    use tonic::codec::CompressionEncoding::{Gzip, Zstd};

    let collected = Arc::new(Collected::default());
    let routes = tonic::service::Routes::new(
        trace_service_server::TraceServiceServer::new(Collector(collected.clone()))
            .accept_compressed(Gzip)
            .accept_compressed(Zstd),
    )
    .add_service(
        metrics_service_server::MetricsServiceServer::new(Collector(collected.clone()))
            .accept_compressed(Gzip),
    )
    .add_service(
        logs_service_server::LogsServiceServer::new(Collector(collected.clone()))
            .accept_compressed(Gzip),
    );
    let server = serve(routes.into_axum_router(), None).await;

    let config: Config = load(&format!(
        "endpoint: {}\ntls:\n  insecure: true\nretry_on_failure:\n  enabled: false\nsending_queue:\n  enabled: false\n",
        server.addr
    ))
    .unwrap();
    let factory = super::factory();
    let settings = settings::<Traces>("otlp");
    let traces = factory.create::<Traces>(&settings, &config).unwrap();
    let metrics = factory.create::<Metrics>(&settings, &config).unwrap();
    let logs = factory.create::<Logs>(&settings, &config).unwrap();
    let components: [Arc<dyn Component>; 3] = [traces.clone(), metrics.clone(), logs.clone()];
    for component in components {
        component.start(&Host::default()).await.unwrap();
    }

    traces.consume(fixtures::traces(4)).await.unwrap();
    metrics.consume(fixtures::metrics()).await.unwrap();
    logs.consume(fixtures::logs(3)).await.unwrap();

    // zstd frames too, and a batch large enough to be compressed off the runtime.
    let zstd: Config = load(&format!(
        "endpoint: http://{}\ncompression: zstd\nretry_on_failure: {{enabled: false}}\nsending_queue: {{enabled: false}}\n",
        server.addr
    ))
    .unwrap();
    let zstd_traces = factory
        .create::<Traces>(&crate::testing::settings::<Traces>("otlp/zstd"), &zstd)
        .unwrap();
    zstd_traces.start(&Host::default()).await.unwrap();
    let large = fixtures::traces(2000);
    assert!(large.encoded_len() > 64 * 1024);
    zstd_traces.consume(large.clone()).await.unwrap();
    let large_request = collected.traces.lock().unwrap().pop().unwrap();
    assert_eq!(large_request, *large.request());

    assert_eq!(
        *collected.traces.lock().unwrap(),
        [fixtures::traces(4).request().clone()]
    );
    assert_eq!(
        *collected.metrics.lock().unwrap(),
        [fixtures::metrics().request().clone()]
    );
    assert_eq!(
        *collected.logs.lock().unwrap(),
        [fixtures::logs(3).request().clone()]
    );
    assert_eq!(
        settings
            .metrics()
            .value("otelcol_exporter_sent_spans", &[("exporter", "otlp")]),
        Some(4.0)
    );
}

// ---- Configuration ----

#[test]
fn defaults_follow_the_go_exporter() {
    let config = Config::default();
    assert_eq!(config.compression(), crate::client::Compression::Gzip);
    assert_eq!(config.helper.timeout, Duration::from_secs(5));
    assert!(config.helper.retry_on_failure.enabled);
    assert!(config.helper.sending_queue.enabled);
    assert_eq!(config.helper.sending_queue.queue_size, 1000);
    assert_eq!(config.client.keepalive, None);
}

#[test]
fn reads_the_go_collectors_test_configuration() {
    let error = load::<Config>(
        r#"
endpoint: "1.2.3.4:1234"
compression: "gzip"
tls:
  ca_file: /var/lib/mycert.pem
timeout: 10s
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
  "can you have a . here?": "F0000000-0000-0000-0000-000000000000"
  header1: "234"
  another: "somevalue"
keepalive:
  time: 20s
  timeout: 30s
  permit_without_stream: true
balancer_name: "round_robin"
"#,
    )
    .expect_err("a header name with spaces cannot be sent");
    assert_eq!(error.path(), "headers::can you have a . here?");

    let config: Config = load(
        r#"
endpoint: "1.2.3.4:1234"
tls: { ca_file: /var/lib/mycert.pem }
timeout: 10s
sending_queue: { num_consumers: 2, queue_size: 10 }
retry_on_failure: { initial_interval: 10s, randomization_factor: 0.7, multiplier: 1.3, max_interval: 60s, max_elapsed_time: 10m }
headers: { header1: 234, another: somevalue }
keepalive: { time: 20s, timeout: 30s, permit_without_stream: true }
balancer_name: round_robin
write_buffer_size: 524288
"#,
    )
    .unwrap();
    assert_eq!(config.helper.timeout, Duration::from_secs(10));
    assert_eq!(config.helper.sending_queue.num_consumers, 2);
    assert_eq!(
        config.helper.retry_on_failure.max_elapsed_time,
        Duration::from_secs(600)
    );
    assert_eq!(
        config
            .client
            .headers
            .iter()
            .map(|(name, value)| (name, value.expose()))
            .collect::<Vec<_>>(),
        [("another", "somevalue"), ("header1", "234")]
    );
    let keepalive = config.client.keepalive.clone().unwrap();
    assert_eq!(keepalive.time, Duration::from_secs(20));
    assert!(keepalive.permit_without_stream);
    let target = config.target().unwrap();
    assert_eq!(
        (target.host.as_str(), target.port, target.tls),
        ("1.2.3.4", 1234, true)
    );
}

#[test]
fn endpoints_parse_like_grpc_targets() {
    let target = |yaml: &str| load::<Config>(yaml).unwrap().target().unwrap();
    let t = target("endpoint: http://localhost:4317\n");
    assert_eq!((t.host.as_str(), t.port, t.tls), ("localhost", 4317, false));
    let t = target("endpoint: https://collector:4317/\n");
    assert_eq!((t.host.as_str(), t.port, t.tls), ("collector", 4317, true));
    let t = target("endpoint: dns:///collector:4317\n");
    assert_eq!((t.host.as_str(), t.port, t.tls), ("collector", 4317, true));
    let t = target("endpoint: collector\ntls: {insecure: true}\n");
    assert_eq!((t.host.as_str(), t.port, t.tls), ("collector", 443, false));
    let t = target("endpoint: '[::1]:4317'\n");
    assert_eq!(
        (t.host.as_str(), t.port, t.authority()),
        ("::1", 4317, "[::1]:4317".into())
    );
}

#[test]
fn config_errors_name_their_paths() {
    let cases = [
        ("{}", "endpoint"),
        ("endpoint: 'host:notaport'", "endpoint"),
        ("endpoint: unix:///tmp/otlp.sock", "endpoint"),
        ("endpoint: http://host:4317/v1/traces", "endpoint"),
        ("endpoint: ftp://host:21", "endpoint"),
        ("endpoint: h:1\ncompression: brotli", "compression"),
        ("endpoint: h:1\ntls: {cert_file: c.pem}", "tls::key_file"),
        (
            "endpoint: h:1\ntls: {min_version: '1.1'}",
            "tls::min_version",
        ),
        (
            "endpoint: h:1\ntls: {min_version: '1.3', max_version: '1.2'}",
            "tls::max_version",
        ),
        (
            "endpoint: h:1\nheaders: {'bad name': x}",
            "headers::bad name",
        ),
        (
            "endpoint: h:1\nbalancer_name: least_request",
            "balancer_name",
        ),
        (
            "endpoint: h:1\nretry_on_failure: {randomization_factor: 2}",
            "retry_on_failure::randomization_factor",
        ),
        (
            "endpoint: h:1\nsending_queue: {queue_size: 0}",
            "sending_queue::queue_size",
        ),
        ("endpoint: h:1\ntimeout: soon", "timeout"),
        (
            "endpoint: h:1\nsending_queue: {queue_sise: 1}",
            "sending_queue::queue_sise",
        ),
        ("endpoint: h:1\nsending_queues: {}", "sending_queues"),
        (
            "endpoint: h:1\nauth: {authenticator: \"bad id!\"}",
            "auth::authenticator",
        ),
        (
            "endpoint: h:1\ntls: {reload_interval: 1h}",
            "tls::reload_interval",
        ),
    ];
    for (yaml, path) in cases {
        let error = load::<Config>(yaml).expect_err(yaml);
        assert_eq!(error.path(), path, "{yaml}: {error}");
    }
}

#[test]
fn debug_output_hides_secrets() {
    let config: Config = load(
        "endpoint: h:1\nheaders: {authorization: Bearer s3cr3t, x-honeycomb-team: t3am}\ntls: {key_pem: s3cr3tkey, cert_pem: c}\n",
    )
    .unwrap();
    let text = format!("{config:?}");
    assert!(!text.contains("s3cr3t") && !text.contains("t3am"), "{text}");
    assert!(text.contains("authorization"), "{text}");
}

#[test]
fn credentials_in_the_endpoint_are_refused_without_being_shown() {
    for endpoint in [
        "http://user:PASS@h:4317",
        "user:PASS@h:4317",
        "dns:///user:PASS@h:4317",
        "http://user:PASS@h",
    ] {
        let error = load::<Config>(&format!("endpoint: '{endpoint}'\n"))
            .expect_err(endpoint)
            .to_string();
        assert_eq!(
            error,
            "endpoint: gRPC endpoints cannot carry credentials (user:password@); send them in headers",
            "{endpoint}"
        );
    }
}

#[test]
fn the_factory_names_its_type_and_alias() {
    let factory = super::factory();
    assert_eq!(factory.component_type(), "otlp");
    assert_eq!(factory.aliases(), ["otlp_grpc"]);
}

// ---- A hostile backend ----

/// Serves [`HostileBackend`] as an OTLP trace service: a refusal is `UNAVAILABLE` with a
/// `RetryInfo` of `i64::MAX` seconds.
#[derive(Clone)]
struct Hostile(Arc<HostileBackend>);

#[tonic::async_trait]
impl trace_service_server::TraceService for Hostile {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, Status> {
        match self.0.answer(request.get_ref()).await {
            Answer::Refuse => Err(Status::with_details(
                Code::Unavailable,
                "come back never",
                details_with_retry_info(Some(Duration::MAX)).into(),
            )),
            Answer::Accept => Ok(tonic::Response::new(ExportTraceServiceResponse::default())),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_absurd_retry_info_loses_neither_workers_nor_data() {
    let backend = Arc::new(HostileBackend::default());
    let routes = tonic::service::Routes::new(trace_service_server::TraceServiceServer::new(
        Hostile(Arc::clone(&backend)),
    ));
    let server = serve(routes.into_axum_router(), None).await;
    // The default sending queue (10 consumers); retries without a time limit, so only the
    // retry-after ceiling bounds the wait.
    let config: Config = load(&format!(
        "endpoint: http://{}\ncompression: none\nretry_on_failure: {{max_elapsed_time: 0s}}\n",
        server.addr
    ))
    .unwrap();
    let settings = settings::<Traces>("otlp/hostile");
    let exporter = super::factory()
        .create::<Traces>(&settings, &config)
        .unwrap();
    exporter.start(&Host::default()).await.unwrap();

    check_absurd_retry_delays_lose_neither_workers_nor_data(
        &exporter,
        &backend,
        settings.metrics(),
        "otlp/hostile",
    )
    .await;
    exporter.shutdown().await.unwrap();
}

#[test]
fn the_grpc_client_blocks_keys_dialer_and_refusals() {
    let config: Config = load(
        "endpoint: h:4317\ndialer: {timeout: 2s}\nwait_for_ready: true\nread_buffer_size: 9\n",
    )
    .unwrap();
    assert_eq!(config.client.dialer.timeout, Duration::from_secs(2));
    assert_eq!(
        config.helper.timeout,
        Duration::from_secs(5),
        "the helper keeps timeout"
    );

    let error = load::<Config>("endpoint: h:4317\nmiddlewares: [{id: limiter}]\n").unwrap_err();
    assert_eq!(error.path(), "middlewares", "{error}");
    assert!(error.to_string().contains("not supported"), "{error}");
    let error = load::<Config>("endpoint: h:4317\ndialer: {timeot: 1s}\n").unwrap_err();
    assert_eq!(error.path(), "dialer::timeot", "{error}");
}
