//! `OtlpPush`: sends one OTLP export request of the collector's own telemetry, over
//! OTLP/gRPC, OTLP/HTTP (protobuf or JSON), or to standard output.
//!
//! Built on hyper's client connections (already in the tree for the servers) rather than
//! on the OpenTelemetry SDK's exporters, which would bring a second copy of tonic and
//! hyper at other versions. One connection per export: exports are seconds apart, so
//! keeping connections alive would save little and add reconnection logic.
//!
//! `https://` endpoints wrap the connection in TLS with `tokio-rustls`, configured by the
//! shared [`TlsClientConfig`] (ALPN `h2` for gRPC, `http/1.1` for HTTP; the system roots
//! unless a CA file is named). The files are read once, when the push is built at start
//! or reload, so a missing or bad file fails that start or reload, naming its key.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::configtls::{TlsClientConfig, TlsError};
use crate::pdata::otlp_json::{self, JsonRequest};
use crate::telemetry::config::{OtlpProtocol, OtlpTarget, OtlpTls, PushTarget};

/// The most of a backend's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why an export of the collector's own telemetry failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PushError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, std::io::Error),
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
#[derive(Clone)]
pub(crate) struct OtlpPush {
    target: PushTarget,
    signal: PushSignal,
    /// For `https://` endpoints: the connector and the name the server must prove.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for OtlpPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpPush")
            .field("target", &self.target)
            .field("signal", &self.signal)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl OtlpPush {
    /// Prepares pushes to `target`, reading its TLS files. An error names the key
    /// (relative to the exporter, like [`OtlpExporterConfig::target`]'s) and why.
    ///
    /// [`OtlpExporterConfig::target`]: crate::telemetry::config::OtlpExporterConfig::target
    pub(crate) fn new(
        target: PushTarget,
        signal: PushSignal,
    ) -> Result<OtlpPush, (String, String)> {
        let tls = match &target {
            PushTarget::Otlp(otlp) => match &otlp.tls {
                Some(files) => Some(tls_connector(otlp, files)?),
                None => None,
            },
            PushTarget::Console => None,
        };
        Ok(OtlpPush {
            target,
            signal,
            tls,
        })
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
        let port = uri
            .port_u16()
            .unwrap_or(if self.tls.is_some() { 443 } else { 80 });
        let authority = uri
            .authority()
            .map_or_else(|| host.clone(), ToString::to_string);
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| PushError::Connect(authority.clone(), e))?;
        let _ = stream.set_nodelay(true);

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
                .scheme(if self.tls.is_some() { "https" } else { "http" })
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

        let response = match &self.tls {
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), stream)
                    .await
                    .map_err(|e| PushError::Tls(authority.clone(), e))?;
                exchange(TokioIo::new(stream), grpc, request).await?
            }
            None => exchange(TokioIo::new(stream), grpc, request).await?,
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

/// Sends `request` over `io` (HTTP/2 for gRPC, HTTP/1.1 otherwise) and returns the answer.
async fn exchange<T>(
    io: TokioIo<T>,
    grpc: bool,
    request: Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    if grpc {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(connection);
        sender.send_request(request).await
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(connection);
        sender.send_request(request).await
    }
}

/// Reads the TLS files of `target` into a connector, naming the key of a file that fails.
fn tls_connector(
    target: &OtlpTarget,
    files: &OtlpTls,
) -> Result<(TlsConnector, ServerName<'static>), (String, String)> {
    let path = |file: &Option<crate::telemetry::config::TlsFile>| {
        file.as_ref().map(|f| f.path.clone()).unwrap_or_default()
    };
    let config = TlsClientConfig {
        ca_file: path(&files.ca),
        cert_file: path(&files.client_certificate),
        key_file: path(&files.client_key),
        ..TlsClientConfig::default()
    };
    let alpn: &[&[u8]] = if target.protocol == OtlpProtocol::Grpc {
        &[b"h2"]
    } else {
        &[b"http/1.1"]
    };
    let rustls = config.rustls_config(alpn).map_err(|error| {
        let file = match &error {
            TlsError::Read { what, .. } | TlsError::Pem { what, .. } => match *what {
                "CA certificates" => files.ca.as_ref(),
                "client certificate" => files.client_certificate.as_ref(),
                "client key" => files.client_key.as_ref(),
                _ => None,
            },
            _ => None,
        };
        let key = file
            .or(files.ca.as_ref())
            .or(files.client_certificate.as_ref())
            .map_or_else(|| "::endpoint".to_string(), |f| f.key.clone());
        (key, error.to_string())
    })?;
    let uri: Uri = target
        .endpoint
        .parse()
        .map_err(|_| ("::endpoint".to_string(), "not a valid URL".to_string()))?;
    let host = uri.host().unwrap_or("localhost");
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let name = ServerName::try_from(host.to_string()).map_err(|_| {
        (
            "::endpoint".to_string(),
            format!("{host:?} is not a DNS name or IP address a certificate can name"),
        )
    })?;
    Ok((TlsConnector::from(Arc::new(rustls)), name))
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
        tls_server(http2, answer, None).await
    }

    /// [`server`], behind TLS when `tls` is set (a failed handshake is skipped).
    async fn tls_server(
        http2: bool,
        answer: fn() -> Response<Full<Bytes>>,
        tls: Option<tokio_rustls::TlsAcceptor>,
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
                match &tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(stream).await else {
                            continue;
                        };
                        serve(TokioIo::new(stream), http2, service).await;
                    }
                    None => serve(TokioIo::new(stream), http2, service).await,
                }
            }
        });
        (addr, seen)
    }

    async fn serve<T, S>(io: TokioIo<T>, http2: bool, service: S)
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: hyper::service::Service<
                http::Request<Incoming>,
                Response = Response<Full<Bytes>>,
                Error = hyper::Error,
            > + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
    {
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

    fn target(protocol: OtlpProtocol, addr: std::net::SocketAddr, gzip: bool) -> PushTarget {
        PushTarget::Otlp(OtlpTarget {
            protocol,
            endpoint: format!("http://{addr}"),
            tls: None,
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
        let push =
            OtlpPush::new(target(OtlpProtocol::HttpJson, addr, true), PushSignal::Logs).unwrap();
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
        )
        .unwrap();
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
        let push =
            OtlpPush::new(target(OtlpProtocol::Grpc, addr, false), PushSignal::Metrics).unwrap();
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
        )
        .unwrap();
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
        )
        .unwrap();
        let error = push
            .push(&ExportLogsServiceRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(error, PushError::Connect(..)), "{error}");
    }

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.
    struct Pki {
        dir: tempfile::TempDir,
    }

    impl Pki {
        fn new() -> Pki {
            use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
            let dir = tempfile::tempdir().unwrap();
            let write = |name: &str, pem: String| std::fs::write(dir.path().join(name), pem);
            let ca_key = KeyPair::generate().unwrap();
            let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            ca_params
                .distinguished_name
                .push(DnType::CommonName, "self telemetry test CA");
            write("ca.pem", ca_params.self_signed(&ca_key).unwrap().pem()).unwrap();
            let issuer = Issuer::new(ca_params, ca_key);
            for (name, san) in [("server", "127.0.0.1"), ("client", "client.test")] {
                let key = KeyPair::generate().unwrap();
                let mut params = CertificateParams::new(vec![san.to_string()]).unwrap();
                params.distinguished_name.push(DnType::CommonName, san);
                write(
                    &format!("{name}.pem"),
                    params.signed_by(&key, &issuer).unwrap().pem(),
                )
                .unwrap();
                write(&format!("{name}.key"), key.serialize_pem()).unwrap();
            }
            // A CA that signed none of the above.
            let other = rcgen::generate_simple_self_signed(vec!["other.test".into()]).unwrap();
            write("other-ca.pem", other.cert.pem()).unwrap();
            Pki { dir }
        }

        fn file(&self, name: &str) -> String {
            self.dir.path().join(name).display().to_string()
        }

        /// The server side; requiring client certificates signed by the CA if `mutual`.
        async fn acceptor(&self, alpn: &[&[u8]], mutual: bool) -> tokio_rustls::TlsAcceptor {
            let config = crate::configtls::TlsServerConfig {
                cert_file: self.file("server.pem"),
                key_file: self.file("server.key"),
                client_ca_file: if mutual {
                    self.file("ca.pem")
                } else {
                    String::new()
                },
                ..Default::default()
            };
            crate::configtls::acceptor(&config, "tls", alpn)
                .await
                .unwrap()
        }
    }

    fn ok_grpc() -> Response<Full<Bytes>> {
        Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", "0")
            .body(Full::new(Bytes::new()))
            .unwrap()
    }

    /// The push an `https://` exporter configured with `tls` keys builds.
    fn tls_push(
        protocol: &str,
        addr: std::net::SocketAddr,
        certificate: Option<String>,
        client: Option<(String, String)>,
    ) -> Result<OtlpPush, (String, String)> {
        let config = crate::telemetry::config::OtlpExporterConfig {
            protocol: Some(protocol.into()),
            endpoint: Some(format!("https://{addr}")),
            certificate,
            client_certificate: client.as_ref().map(|c| c.0.clone()),
            client_key: client.map(|c| c.1),
            ..Default::default()
        };
        OtlpPush::new(
            PushTarget::Otlp(config.target(None).unwrap()),
            PushSignal::Metrics,
        )
    }

    fn metrics() -> crate::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest {
        Default::default()
    }

    #[tokio::test]
    async fn http_protobuf_over_tls() {
        let pki = Pki::new();
        let acceptor = pki.acceptor(crate::configtls::ALPN_HTTP, false).await;
        let (addr, seen) = tls_server(false, ok, Some(acceptor)).await;
        let push = tls_push("http/protobuf", addr, Some(pki.file("ca.pem")), None).unwrap();
        push.push(&metrics()).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "/v1/metrics");
        assert_eq!(seen[0].1["content-type"], "application/x-protobuf");
    }

    #[tokio::test]
    async fn grpc_over_tls() {
        let pki = Pki::new();
        // The server speaks only h2: the push must offer it over ALPN.
        let acceptor = pki.acceptor(crate::configtls::ALPN_GRPC, false).await;
        let (addr, seen) = tls_server(true, ok_grpc, Some(acceptor)).await;
        let push = tls_push("grpc", addr, Some(pki.file("ca.pem")), None).unwrap();
        push.push(&metrics()).await.unwrap();
        assert_eq!(
            seen.lock().unwrap()[0].0,
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
        );
    }

    #[tokio::test]
    async fn mutual_tls_needs_the_client_certificate() {
        let pki = Pki::new();
        let acceptor = pki.acceptor(crate::configtls::ALPN_GRPC, true).await;
        let (addr, seen) = tls_server(true, ok_grpc, Some(acceptor)).await;
        let ca = Some(pki.file("ca.pem"));
        let with = (pki.file("client.pem"), pki.file("client.key"));
        let push = tls_push("grpc", addr, ca.clone(), Some(with)).unwrap();
        push.push(&metrics()).await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1);

        let without = tls_push("grpc", addr, ca, None).unwrap();
        let error = without.push(&metrics()).await.unwrap_err();
        assert_eq!(seen.lock().unwrap().len(), 1, "refused: {error}");
    }

    #[tokio::test]
    async fn a_server_certificate_from_another_ca_is_refused() {
        let pki = Pki::new();
        let acceptor = pki.acceptor(crate::configtls::ALPN_HTTP, false).await;
        let (addr, seen) = tls_server(false, ok, Some(acceptor)).await;
        let push = tls_push("http/protobuf", addr, Some(pki.file("other-ca.pem")), None).unwrap();
        let error = push.push(&metrics()).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, PushError::Tls(..)), "{message}");
        assert!(
            message.contains("invalid peer certificate") && message.contains("UnknownIssuer"),
            "{message}"
        );
        assert!(seen.lock().unwrap().is_empty());
    }

    #[test]
    fn a_missing_or_bad_tls_file_names_its_key() {
        let pki = Pki::new();
        let addr = "127.0.0.1:4317".parse().unwrap();
        let missing = pki.file("nowhere.pem");
        let (key, message) = tls_push("grpc", addr, Some(missing.clone()), None).unwrap_err();
        assert_eq!(key, "::certificate");
        assert!(message.contains(&missing), "{message}");
        let client = (pki.file("client.pem"), pki.file("ca.pem"));
        let (key, message) = tls_push("grpc", addr, None, Some(client)).unwrap_err();
        assert_eq!(key, "::client_key", "{message}");
    }
}
