//! OTLP over HTTP: `POST` of protobuf or JSON export requests to one path per signal, on
//! HTTP/1.1 or HTTP/2.
//!
//! A request is checked in the order a client can act on: path (404), method (405), content
//! type (415), bearer token (401), content encoding (400), declared size (413) — all
//! before the body is read — then the body is read within the size limit (413) and the read
//! timeout (408), admitted as it arrives (429), decompressed within the size limit (413)
//! and decoded (400). Answers use the request's encoding: an empty
//! `Export*ServiceResponse`, or a `google.rpc.Status` for errors.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use prost::Message;
use tributary_pipeline_core::component::{ComponentError, CreateSettings};
use tributary_pipeline_core::configauth::ServerAuthenticator;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::{Payload, otlp_json};
use tributary_pipeline_core::server::RunningServer;

use super::compression::{decompress_body, http_encoding};
use tributary_pipeline_core::configcompression::Encoding as ContentEncoding;

use super::body::{Framing, ReadLimits};
use super::config::{HttpConfig, url_path};
use super::receiver::{Intake, OtlpSignal, Sink, Transport, client_metadata};
use super::refusal::{Refusal, retry_after_seconds};
use super::{body, offload};
use tributary_pipeline_core::confighttp::CorsPolicy;
use tributary_pipeline_core::configtls;

/// Binds the HTTP endpoint and starts serving it.
pub(crate) async fn serve(
    settings: &CreateSettings,
    config: &HttpConfig,
    intake: Arc<Intake>,
    auth: Option<Arc<dyn ServerAuthenticator>>,
) -> Result<RunningServer, ComponentError> {
    let server = &config.server;
    let (listener, options) = server
        .bind(settings, "protocols::http", configtls::ALPN_HTTP)
        .await?;

    let frontend = Arc::new(HttpFrontend {
        intake,
        traces_path: url_path(&config.traces_url_path),
        metrics_path: url_path(&config.metrics_url_path),
        logs_path: url_path(&config.logs_url_path),
        max_body_size: server.max_body_size(),
        encodings: server.encodings(),
        read_timeout: server.read_timeout(),
        write_timeout: server.write_timeout(),
        include_metadata: server.include_metadata,
        // The `bearer_token` shorthand answers 401 with the Bearer challenge, as before.
        challenge: server
            .auth
            .as_ref()
            .is_some_and(|a| a.bearer_challenge())
            .then(|| HeaderValue::from_static("Bearer")),
        auth,
        cors: server.cors_policy(),
        response_headers: server.response_header_map(),
    });
    let service = service_fn(move |request| {
        let frontend = Arc::clone(&frontend);
        async move { Ok::<_, Infallible>(frontend.handle(request).await) }
    });
    RunningServer::spawn(
        "OTLP/HTTP receiver",
        listener,
        options,
        service,
        settings.span().clone(),
        |task| settings.spawn(task),
    )
    .map_err(|e| ComponentError::with_source("protocols::http::endpoint: cannot serve", e))
}

/// The encoding of a request, which its answer uses too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names (parameters such as `charset` are ignored).
    fn of(headers: &HeaderMap) -> Option<Encoding> {
        let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let media_type = value.split(';').next().unwrap_or("").trim();
        if media_type.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Encoding::Protobuf)
        } else if media_type.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Encoding::Protobuf => HeaderValue::from_static("application/x-protobuf"),
            Encoding::Json => HeaderValue::from_static("application/json"),
        }
    }
}

/// Answers OTLP/HTTP requests.
struct HttpFrontend {
    intake: Arc<Intake>,
    traces_path: String,
    metrics_path: String,
    logs_path: String,
    max_body_size: usize,
    /// The `Content-Encoding`s accepted (`compression_algorithms`).
    encodings: Vec<ContentEncoding>,
    read_timeout: Option<std::time::Duration>,
    /// How long a request may take from its headers to its answer.
    write_timeout: Option<std::time::Duration>,
    include_metadata: bool,
    auth: Option<Arc<dyn ServerAuthenticator>>,
    /// The `WWW-Authenticate` challenge of a 401 answer, if any.
    challenge: Option<HeaderValue>,
    cors: Option<CorsPolicy>,
    /// `response_headers`, added to every answer.
    response_headers: HeaderMap,
}

impl HttpFrontend {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let mut response = match self.write_timeout {
            Some(limit) => tokio::time::timeout(limit, self.answer(request))
                .await
                .unwrap_or_else(|_| write_timed_out()),
            None => self.answer(request).await,
        };
        for (name, value) in &self.response_headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let Some(cors) = &self.cors else {
            return self.route(request).await;
        };
        if CorsPolicy::is_preflight(request.method(), request.headers()) {
            return cors.preflight(request.headers());
        }
        let origin = request.headers().get(ORIGIN).cloned();
        let mut response = self.route(request).await;
        cors.decorate(origin.as_ref(), &mut response);
        response
    }

    async fn route(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path();
        if path == self.traces_path {
            self.export::<ExportTraceServiceRequest>(request).await
        } else if path == self.metrics_path {
            self.export::<ExportMetricsServiceRequest>(request).await
        } else if path == self.logs_path {
            self.export::<ExportLogsServiceRequest>(request).await
        } else {
            not_found()
        }
    }

    async fn export<R: OtlpSignal>(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let Some(sink) = self.intake.sink::<R>() else {
            return not_found();
        };
        if request.method() != Method::POST {
            let mut response = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "405 method not allowed, supported: [POST]",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let Some(encoding) = Encoding::of(request.headers()) else {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "415 unsupported media type, supported: [application/json, application/x-protobuf]",
            );
        };
        match self.accept(request, encoding, &sink).await {
            Ok(()) => success(encoding),
            Err(refusal) => {
                tracing::debug!(signal = %R::SIGNAL, error = %refusal.message(), "OTLP/HTTP request refused");
                failure(encoding, &refusal, self.challenge.as_ref())
            }
        }
    }

    /// Reads, decodes and delivers one request.
    async fn accept<R: OtlpSignal>(
        &self,
        request: Request<Incoming>,
        encoding: Encoding,
        sink: &Sink<R>,
    ) -> Result<(), Refusal> {
        if let Some(auth) = &self.auth {
            auth.authenticate(request.headers())
                .await
                .map_err(|e| Refusal::Unauthenticated(e.to_string()))?;
        }
        let compression =
            http_encoding(request.headers(), &self.encodings).map_err(Refusal::Malformed)?;
        let limit = self.max_body_size;
        // The declared length (`Content-Length`), which hyper holds the body to.
        let declared = request
            .body()
            .size_hint()
            .exact()
            .map(|length| usize::try_from(length).unwrap_or(usize::MAX));
        if declared.is_some_and(|length| length > limit) {
            return Err(body::too_large(limit));
        }
        let metadata = self
            .include_metadata
            .then(|| client_metadata(request.headers()));
        let limits = ReadLimits {
            framing: Framing::Whole { limit },
            read_timeout: self.read_timeout,
            compressed: compression != ContentEncoding::Identity,
            line_wait: body::DEFAULT_LINE_WAIT,
        };
        let (raw, mut permit) =
            body::read(request.into_body(), limits, &self.intake.admission).await?;

        let weight = match compression {
            ContentEncoding::Identity => raw.len(),
            _ => raw.len().saturating_mul(4),
        };
        let (decoded, permit) = offload::run(weight, move || {
            let decoded = decompress_body(compression, raw, limit, &mut permit)
                .and_then(|bytes| decode::<R>(encoding, bytes));
            (decoded, permit)
        })
        .await?;
        let data = match metadata {
            Some(metadata) => decoded?.with_metadata(metadata),
            None => decoded?,
        };
        let outcome = sink.deliver(data, Transport::Http).await;
        drop(permit);
        outcome.map_err(Refusal::Refused)
    }
}

fn decode<R: OtlpSignal>(encoding: Encoding, bytes: Bytes) -> Result<Payload<R>, Refusal> {
    match encoding {
        Encoding::Protobuf => Payload::decode(bytes).map_err(|e| Refusal::Malformed(e.to_string())),
        Encoding::Json => otlp_json::decode::<R>(&bytes)
            .map(Payload::new)
            .map_err(|e| {
                Refusal::Malformed(format!("invalid OTLP/JSON {} request: {e}", R::SIGNAL))
            }),
    }
}

fn response(status: StatusCode, content_type: HeaderValue, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    response
}

fn text(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    response(
        status,
        HeaderValue::from_static("text/plain; charset=utf-8"),
        Bytes::from_static(message.as_bytes()),
    )
}

/// The answer when `write_timeout` passed before the request was answered: the client
/// should retry, on a new connection (the request's body may not have been read).
fn write_timed_out() -> Response<Full<Bytes>> {
    let mut response = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "503 the request was not answered within write_timeout",
    );
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn not_found() -> Response<Full<Bytes>> {
    text(StatusCode::NOT_FOUND, "404 page not found")
}

/// The answer to an accepted request: an empty `Export*ServiceResponse`.
fn success(encoding: Encoding) -> Response<Full<Bytes>> {
    let body = match encoding {
        Encoding::Protobuf => Bytes::new(),
        Encoding::Json => Bytes::from_static(b"{}"),
    };
    response(StatusCode::OK, encoding.content_type(), body)
}

/// The answer to a refused request: a `google.rpc.Status`, with `Retry-After` when the
/// client should come back later.
fn failure(
    encoding: Encoding,
    refusal: &Refusal,
    challenge: Option<&HeaderValue>,
) -> Response<Full<Bytes>> {
    let body = match encoding {
        Encoding::Protobuf => refusal.to_rpc_status().encode_to_vec(),
        Encoding::Json => refusal.to_json(),
    };
    let mut response = response(
        refusal.http_status(),
        encoding.content_type(),
        Bytes::from(body),
    );
    let headers = response.headers_mut();
    if let Some(delay) = refusal.retry_after() {
        headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds(delay)));
    }
    match refusal {
        Refusal::Unauthenticated(_) => {
            if let Some(challenge) = challenge {
                headers.insert(WWW_AUTHENTICATE, challenge.clone());
            }
        }
        // The rest of the body was not read: the connection cannot carry another request.
        Refusal::TimedOut(_) => {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        _ => {}
    }
    response
}
