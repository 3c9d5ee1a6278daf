//! Bad input and failing backends are answered with the right status, and the gateway
//! stays up: malformed bodies, wrong content type, oversize bodies, a gzip bomb, and
//! permanent and retryable errors from downstream.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use common::*;
use prost::Message;
use tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use tributary::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// A backend that answers every request with the same status and headers.
fn fixed_backend(status_line: &'static str, headers: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                // Read one request (headers, then Content-Length bytes), answer, close.
                let mut data = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let Ok(n) = stream.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if data.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status_line}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    addr
}

fn spans(n: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..n)
                    .map(|i| Span {
                        name: format!("s{i}"),
                        trace_id: vec![7; 16],
                        span_id: vec![8; 8],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

struct Ports {
    ok_http: u16,
    ok_grpc: u16,
    permanent_http: u16,
    permanent_grpc: u16,
    retryable_http: u16,
    retryable_grpc: u16,
}

fn config(p: &Ports, permanent: SocketAddr, retryable: SocketAddr, out: &Path) -> String {
    let receiver = |grpc: u16, http: u16| {
        format!(
            "{{ protocols: {{ grpc: {{ endpoint: \"127.0.0.1:{grpc}\" }}, http: {{ endpoint: \"127.0.0.1:{http}\", max_request_body_size: 65536 }} }} }}"
        )
    };
    // No queue and no retries, so the backend's answer reaches the receiver.
    let direct = "sending_queue: { enabled: false }, retry_on_failure: { enabled: false }, compression: none";
    format!(
        r#"
receivers:
  otlp/ok: {}
  otlp/permanent: {}
  otlp/retryable: {}
exporters:
  file: {{ path: "{}" }}
  otlp_http/permanent: {{ endpoint: "http://{permanent}", {direct} }}
  otlp_http/retryable: {{ endpoint: "http://{retryable}", {direct} }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces/ok: {{ receivers: [otlp/ok], exporters: [file] }}
    traces/permanent: {{ receivers: [otlp/permanent], exporters: [otlp_http/permanent] }}
    traces/retryable: {{ receivers: [otlp/retryable], exporters: [otlp_http/retryable] }}
"#,
        receiver(p.ok_grpc, p.ok_http),
        receiver(p.permanent_grpc, p.permanent_http),
        receiver(p.retryable_grpc, p.retryable_http),
        out.display()
    )
}

fn post(port: u16, content_type: &str, extra: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let mut headers = vec![("Content-Type", content_type)];
    headers.extend_from_slice(extra);
    http(
        "POST",
        format!("127.0.0.1:{port}").parse().unwrap(),
        "/v1/traces",
        &headers,
        body,
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn every_error_gets_its_status_and_the_gateway_stays_up() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let ports = Ports {
        ok_http: free_port(),
        ok_grpc: free_port(),
        permanent_http: free_port(),
        permanent_grpc: free_port(),
        retryable_http: free_port(),
        retryable_grpc: free_port(),
    };
    let permanent = fixed_backend("400 Bad Request", "");
    let retryable = fixed_backend("503 Service Unavailable", "Retry-After: 7\r\n");
    let path = dir.path().join("gateway.yaml");
    std::fs::write(&path, config(&ports, permanent, retryable, &out)).unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    );
    for port in [
        ports.ok_http,
        ports.permanent_http,
        ports.retryable_http,
        ports.ok_grpc,
        ports.permanent_grpc,
        ports.retryable_grpc,
    ] {
        wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(20),
        );
    }
    let valid = spans(3).encode_to_vec();

    // Bad input.
    let cases: Vec<(&str, HttpResponse, u16)> = vec![
        (
            "malformed protobuf",
            post(
                ports.ok_http,
                "application/x-protobuf",
                &[],
                b"\x0a\xff\xff\xff\xff",
            ),
            400,
        ),
        (
            "malformed JSON",
            post(
                ports.ok_http,
                "application/json",
                &[],
                b"{\"resourceSpans\": [{",
            ),
            400,
        ),
        (
            "wrong content type",
            post(ports.ok_http, "text/plain", &[], b"hello"),
            415,
        ),
        (
            "oversize body",
            post(
                ports.ok_http,
                "application/x-protobuf",
                &[],
                &vec![0u8; 70_000],
            ),
            413,
        ),
        (
            "gzip bomb",
            post(
                ports.ok_http,
                "application/x-protobuf",
                &[("Content-Encoding", "gzip")],
                &gzip(&vec![0u8; 50 << 20]),
            ),
            413,
        ),
        (
            "wrong method",
            http(
                "GET",
                format!("127.0.0.1:{}", ports.ok_http).parse().unwrap(),
                "/v1/traces",
                &[],
                &[],
            ),
            405,
        ),
    ];
    for (what, response, want) in cases {
        assert_eq!(response.status, want, "{what}: {}", response.text());
        assert!(gateway.is_running(), "the gateway died after: {what}");
    }

    // Downstream errors, over HTTP.
    let refused = post(ports.permanent_http, "application/x-protobuf", &[], &valid);
    assert_eq!(
        refused.status,
        400,
        "permanent downstream error: {}",
        refused.text()
    );
    let unavailable = post(ports.retryable_http, "application/x-protobuf", &[], &valid);
    assert_eq!(
        unavailable.status,
        503,
        "retryable downstream error: {}",
        unavailable.text()
    );
    assert_eq!(
        unavailable.header("Retry-After"),
        Some("7"),
        "the backend's delay is passed on"
    );

    // Downstream errors, over gRPC.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client =
            TraceServiceClient::connect(format!("http://127.0.0.1:{}", ports.permanent_grpc))
                .await
                .unwrap();
        let status = client.export(spans(1)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        let mut client =
            TraceServiceClient::connect(format!("http://127.0.0.1:{}", ports.retryable_grpc))
                .await
                .unwrap();
        let status = client.export(spans(1)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    });

    // After all that, good data still goes through.
    let ok = post(ports.ok_http, "application/x-protobuf", &[], &valid);
    assert_eq!(ok.status, 200, "{}", ok.text());
    eventually(
        "the valid batch in the file",
        Duration::from_secs(10),
        || (!read_json_lines(&out).is_empty()).then_some(()),
    );
    assert!(gateway.is_running());
}

#[test]
fn a_dead_backend_with_credentials_in_its_url_is_reported_without_them() {
    let (grpc, http_port, metrics) = (free_port(), free_port(), free_port());
    // Bound, then released: nothing listens there.
    let dead = free_port();
    let dir = temp_dir();
    let path = dir.path().join("gateway.yaml");
    std::fs::write(
        &path,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
      http: {{ endpoint: "127.0.0.1:{http_port}" }}
exporters:
  otlp_http:
    endpoint: "http://user:URL-PASSW0RD@127.0.0.1:{dead}"
    sending_queue: {{ enabled: false }}
    retry_on_failure: {{ initial_interval: 50ms, max_interval: 100ms, max_elapsed_time: 1s }}
service:
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp_http] }}
"#
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    );
    for port in [grpc, http_port] {
        wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(20),
        );
    }

    let status = OtlpClient::new(format!("127.0.0.1:{grpc}").parse().unwrap())
        .export(spans(1))
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("http://[REDACTED]@127.0.0.1:"),
        "the message names the backend: {status:?}"
    );
    assert!(
        !format!("{status:?}").contains("URL-PASSW0RD"),
        "{status:?}"
    );

    let refused = post(
        http_port,
        "application/x-protobuf",
        &[],
        &spans(1).encode_to_vec(),
    );
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(
        !refused.text().contains("URL-PASSW0RD"),
        "{}",
        refused.text()
    );

    // Every retry was logged, and no log line carries the password.
    let log = gateway.output();
    assert!(log.contains("will retry"), "no retries logged:\n{log}");
    assert!(!log.contains("URL-PASSW0RD"), "the password leaked:\n{log}");
    assert!(gateway.is_running());
}
