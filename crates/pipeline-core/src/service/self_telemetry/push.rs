//! `OtlpPush`: sends one OTLP export request of the collector's own telemetry, over
//! OTLP/gRPC, OTLP/HTTP (protobuf or JSON), or to standard output.
//!
//! Built on hyper's client connections (already in the tree for the servers) rather than
//! on the OpenTelemetry SDK's exporters, which would bring a second copy of tonic and
//! hyper at other versions. One connection per export: exports are seconds apart, so
//! keeping connections alive would save little and add reconnection logic.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::pdata::otlp_json::{self, JsonRequest};
use crate::telemetry::config::{OtlpProtocol, OtlpTarget, PushTarget};

/// The most of a backend's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why an export of the collector's own telemetry failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("{0}")]
    Http(#[from] hyper::Error),
    #[error("the export took longer than {0:?}")]
    Timeout(Duration),
    #[error("the backend answered {0}")]
    Status(String),
    #[error("cannot encode the request: {0}")]
    Encode(String),
}

/// Which signal a request carries: its gRPC method and HTTP path.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PushSignal {
    Traces,
    Metrics,
    Logs,
}

impl PushSignal {
    fn grpc_path(self) -> &'static str {
        match self {
            PushSignal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            PushSignal::Metrics => {
                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
            }
            PushSignal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }

    fn http_path(self) -> &'static str {
        match self {
            PushSignal::Traces => "/v1/traces",
            PushSignal::Metrics => "/v1/metrics",
            PushSignal::Logs => "/v1/logs",
        }
    }
}

/// Sends requests of one signal to one target.
#[derive(Clone, Debug)]
pub(crate) struct OtlpPush {
    target: PushTarget,
    signal: PushSignal,
}

impl OtlpPush {
    pub(crate) fn new(target: PushTarget, signal: PushSignal) -> OtlpPush {
        OtlpPush { target, signal }
    }

    /// Sends `request`, waiting for the answer within the target's timeout.
    pub(crate) async fn push<R: JsonRequest>(&self, request: &R) -> Result<(), PushError> {
        let target = match &self.target {
            PushTarget::Console => {
                let mut line = Vec::new();
                otlp_json::encode(request, &mut line)
                    .map_err(|e| PushError::Encode(e.to_string()))?;
                line.push(b'\n');
                let _ = std::io::stdout().lock().write_all(&line);
                return Ok(());
            }
            PushTarget::Otlp(target) => target,
        };
        tokio::time::timeout(target.timeout, self.send(target, request))
            .await
            .map_err(|_| PushError::Timeout(target.timeout))?
    }

    async fn send<R: JsonRequest>(
        &self,
        target: &OtlpTarget,
        request: &R,
    ) -> Result<(), PushError> {
        let uri: Uri = target
            .endpoint
            .parse()
            .map_err(|_| PushError::Status("invalid endpoint".into()))?;
        let host = uri.host().unwrap_or("localhost").to_string();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&host)
            .to_string();
        let port = uri.port_u16().unwrap_or(80);
        let authority = uri
            .authority()
            .map_or_else(|| host.clone(), ToString::to_string);
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| PushError::Connect(authority.clone(), e))?;
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);

        let grpc = target.protocol == OtlpProtocol::Grpc;
        let mut body = match target.protocol {
            OtlpProtocol::HttpJson => {
                let mut out = Vec::new();
                otlp_json::encode(request, &mut out)
                    .map_err(|e| PushError::Encode(e.to_string()))?;
                out
            }
            _ => prost::Message::encode_to_vec(request),
        };
        if target.gzip {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = encoder.write_all(&body);
            body = encoder
                .finish()
                .map_err(|e| PushError::Encode(e.to_string()))?;
        }
        let path = if grpc {
            self.signal.grpc_path().to_string()
        } else {
            match uri.path() {
                "" | "/" => self.signal.http_path().to_string(),
                path => uri
                    .path_and_query()
                    .map_or(path.to_string(), ToString::to_string),
            }
        };
        let mut builder = Request::post(
            Uri::builder()
                .scheme("http")
                .authority(authority.as_str())
                .path_and_query(path)
                .build()
                .map_err(|e| PushError::Status(e.to_string()))?,
        );
        for (name, value) in &target.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = if grpc {
            // The gRPC message frame: compressed flag, big-endian length, message.
            let mut framed = Vec::with_capacity(body.len() + 5);
            framed.push(u8::from(target.gzip));
            framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
            framed.extend_from_slice(&body);
            builder = builder
                .header("content-type", "application/grpc")
                .header("te", "trailers");
            if target.gzip {
                builder = builder.header("grpc-encoding", "gzip");
            }
            framed
        } else {
            let content_type = if target.protocol == OtlpProtocol::HttpJson {
                "application/json"
            } else {
                "application/x-protobuf"
            };
            builder = builder.header("content-type", content_type);
            if target.gzip {
                builder = builder.header("content-encoding", "gzip");
            }
            body
        };
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PushError::Status(e.to_string()))?;

        let response = if grpc {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        } else {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        };
        let status = response.status();
        let grpc_status_in_headers = grpc_status(response.headers());
        // The answer is read only for its status; a backend sending more than this is cut
        // off rather than buffered.
        let collected = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| PushError::Status(format!("reading the answer: {e}")))?;
        if !status.is_success() {
            return Err(PushError::Status(format!("HTTP {status}")));
        }
        if grpc {
            let code = grpc_status_in_headers
                .or_else(|| collected.trailers().and_then(grpc_status))
                .unwrap_or_else(|| "missing grpc-status".into());
            if code != "0" {
                return Err(PushError::Status(format!("gRPC status {code}")));
            }
        }
        Ok(())
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<String> {
    let code = headers.get("grpc-status")?.to_str().ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or("");
    Some(if code == "0" || message.is_empty() {
        code.to_string()
    } else {
        format!("{code} ({message})")
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::sync::{Arc, Mutex};

    use http::Response;
    use hyper::body::Incoming;
    use hyper::service::service_fn;

    use super::*;
    use crate::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;

    type Seen = Arc<Mutex<Vec<(String, http::HeaderMap, Vec<u8>)>>>;

    /// A one-connection-at-a-time server answering every request with `answer`; records
    /// what it got.
    async fn server(
        http2: bool,
        answer: fn() -> Response<Full<Bytes>>,
    ) -> (std::net::SocketAddr, Seen) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Seen = Arc::default();
        let recorded = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let recorded = Arc::clone(&recorded);
                    async move {
                        let path = request.uri().path().to_string();
                        let headers = request.headers().clone();
                        let body = request.into_body().collect().await?.to_bytes().to_vec();
                        recorded.lock().unwrap().push((path, headers, body));
                        Ok::<_, hyper::Error>(answer())
                    }
                });
                let io = TokioIo::new(stream);
                if http2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            }
        });
        (addr, seen)
    }

    fn target(protocol: OtlpProtocol, addr: std::net::SocketAddr, gzip: bool) -> PushTarget {
        PushTarget::Otlp(OtlpTarget {
            protocol,
            endpoint: format!("http://{addr}"),
            headers: vec![("x-api-key".into(), "secret".into())],
            gzip,
            timeout: Duration::from_secs(10),
        })
    }

    fn ok() -> Response<Full<Bytes>> {
        Response::new(Full::new(Bytes::new()))
    }

    #[tokio::test]
    async fn http_json_with_gzip_and_headers() {
        let (addr, seen) = server(false, ok).await;
        let push = OtlpPush::new(target(OtlpProtocol::HttpJson, addr, true), PushSignal::Logs);
        push.push(&ExportLogsServiceRequest::default())
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        let (path, headers, body) = &seen[0];
        assert_eq!(path, "/v1/logs");
        assert_eq!(headers["x-api-key"], "secret");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["content-encoding"], "gzip");
        let mut json = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut json)
            .unwrap();
        assert_eq!(json, r#"{"resourceLogs":[]}"#);
    }

    #[tokio::test]
    async fn an_http_error_status_is_an_error() {
        let (addr, _) = server(false, || {
            Response::builder()
                .status(503)
                .body(Full::new(Bytes::new()))
                .unwrap()
        })
        .await;
        let push = OtlpPush::new(
            target(OtlpProtocol::HttpProtobuf, addr, false),
            PushSignal::Traces,
        );
        let error = push
            .push(&crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest::default())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("503"), "{error}");
    }

    #[tokio::test]
    async fn grpc_frames_the_message_and_reads_the_status() {
        let (addr, seen) = server(true, || {
            Response::builder()
                .header("content-type", "application/grpc")
                .header("grpc-status", "14")
                .header("grpc-message", "unavailable")
                .body(Full::new(Bytes::new()))
                .unwrap()
        })
        .await;
        let push = OtlpPush::new(target(OtlpProtocol::Grpc, addr, false), PushSignal::Metrics);
        let error = push
            .push(
                &crate::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest::default(
                ),
            )
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("gRPC status 14 (unavailable)"),
            "{error}"
        );
        let seen = seen.lock().unwrap();
        let (path, headers, body) = &seen[0];
        assert_eq!(
            path,
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
        );
        assert_eq!(headers["content-type"], "application/grpc");
        assert_eq!(body, &[0, 0, 0, 0, 0], "an empty message, framed");
    }

    #[tokio::test]
    async fn a_huge_answer_is_cut_off() {
        let (addr, _) = server(false, || {
            Response::new(Full::new(Bytes::from(vec![b'x'; 10 * MAX_ANSWER_BYTES])))
        })
        .await;
        let push = OtlpPush::new(
            target(OtlpProtocol::HttpProtobuf, addr, false),
            PushSignal::Logs,
        );
        let error = push
            .push(&ExportLogsServiceRequest::default())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("reading the answer"), "{error}");
    }

    #[tokio::test]
    async fn nobody_listening_is_a_connect_error() {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let push = OtlpPush::new(
            target(OtlpProtocol::HttpProtobuf, addr, false),
            PushSignal::Logs,
        );
        let error = push
            .push(&ExportLogsServiceRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(error, PushError::Connect(..)), "{error}");
    }
}
