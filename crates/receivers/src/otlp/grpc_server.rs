//! OTLP over gRPC: the three `Export` calls on one HTTP/2 server.
//!
//! A call's body is read like an OTLP/HTTP body ([`body::read`]: within the size limit and
//! the read timeout, admitted as it arrives) and must hold exactly one length-prefixed
//! message, as the unary protocol requires: a call with none, a truncated one, or a second
//! message is refused `INTERNAL`, as grpc-go refuses it, instead of the rest being read
//! and dropped. The message is decompressed per `grpc-encoding` within the size limit and
//! decoded into a [`Payload`] that keeps its bytes, so an exporter can send them on
//! without encoding again.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tonic::Status;
use tributary_pipeline_core::component::{ComponentError, CreateSettings};
use tributary_pipeline_core::configauth::ServerAuthenticator;
use tributary_pipeline_core::pdata::Payload;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::server::RunningServer;

use super::body::{self, Framing, GRPC_PREFIX_LEN, ReadLimits};
use super::compression::decompress_body;
use super::config::{DEFAULT_READ_TIMEOUT, GrpcConfig};
use super::offload;
use super::receiver::{Intake, OtlpSignal, Sink, Transport, client_metadata};
use super::refusal::Refusal;
use tributary_pipeline_core::configcompression::Encoding as ContentEncoding;

/// Binds the gRPC endpoint and starts serving it.
pub(crate) async fn serve(
    settings: &CreateSettings,
    config: &GrpcConfig,
    intake: Arc<Intake>,
    auth: Option<Arc<dyn ServerAuthenticator>>,
) -> Result<RunningServer, ComponentError> {
    let (listener, options) = config.server.bind(settings, "protocols::grpc").await?;

    let frontend = Arc::new(GrpcFrontend {
        intake,
        max_message_size: config.server.max_message_size(),
        include_metadata: config.server.include_metadata,
        auth,
    });
    let service = service_fn(move |request| {
        let frontend = Arc::clone(&frontend);
        async move { Ok::<_, Infallible>(frontend.handle(request).await) }
    });
    RunningServer::spawn(
        "OTLP/gRPC receiver",
        listener,
        options,
        service,
        settings.span().clone(),
        |task| settings.spawn(task),
    )
    .map_err(|e| ComponentError::with_source("protocols::grpc::endpoint: cannot serve", e))
}

/// Answers gRPC calls.
struct GrpcFrontend {
    intake: Arc<Intake>,
    max_message_size: usize,
    include_metadata: bool,
    auth: Option<Arc<dyn ServerAuthenticator>>,
}

impl GrpcFrontend {
    async fn handle(&self, request: Request<Incoming>) -> Response<tonic::body::Body> {
        let path = request.uri().path();
        if path == ExportTraceServiceRequest::GRPC_PATH {
            self.export::<ExportTraceServiceRequest>(request).await
        } else if path == ExportMetricsServiceRequest::GRPC_PATH {
            self.export::<ExportMetricsServiceRequest>(request).await
        } else if path == ExportLogsServiceRequest::GRPC_PATH {
            self.export::<ExportLogsServiceRequest>(request).await
        } else {
            Status::unimplemented(format!("unknown method {path}")).into_http()
        }
    }

    async fn export<R: OtlpSignal>(
        &self,
        request: Request<Incoming>,
    ) -> Response<tonic::body::Body> {
        let Some(sink) = self.intake.sink::<R>() else {
            return Status::unimplemented(format!("this receiver has no {} pipeline", R::SIGNAL))
                .into_http();
        };
        match self.accept(request, &sink).await {
            Ok(()) => success(),
            Err(refusal) => {
                tracing::debug!(signal = %R::SIGNAL, error = %refusal.message(), "OTLP/gRPC call refused");
                let mut response = refusal.to_grpc_status().into_http();
                if matches!(refusal, Refusal::UnsupportedEncoding(_)) {
                    response.headers_mut().insert(
                        "grpc-accept-encoding",
                        HeaderValue::from_static(ContentEncoding::GRPC_ACCEPTED),
                    );
                }
                response
            }
        }
    }

    /// Reads, decodes and delivers one call's message.
    async fn accept<R: OtlpSignal>(
        &self,
        request: Request<Incoming>,
        sink: &Sink<R>,
    ) -> Result<(), Refusal> {
        if let Some(auth) = &self.auth {
            auth.authenticate(request.headers())
                .await
                .map_err(|e| Refusal::Unauthenticated(e.to_string()))?;
        }
        let encoding = message_encoding(request.headers())?;
        let metadata = self
            .include_metadata
            .then(|| client_metadata(request.headers()));
        let limits = ReadLimits {
            framing: Framing::GrpcMessage {
                max_message: self.max_message_size,
            },
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
            compressed: encoding != ContentEncoding::Identity,
            line_wait: line_wait(request.headers()),
        };
        let (mut message, mut permit) =
            body::read(request.into_body(), limits, &self.intake.admission).await?;
        let compressed = message[0] != 0;
        let message = message.split_off(GRPC_PREFIX_LEN);
        let limit = self.max_message_size;
        let (decoded, permit) = offload::run(message.len(), move || {
            let decoded = match (compressed, encoding) {
                (false, _) => Ok(message),
                (true, ContentEncoding::Identity) => Err(Refusal::ProtocolViolation(
                    "the message is marked compressed but the call names no grpc-encoding".into(),
                )),
                (true, encoding) => decompress_body(encoding, message, limit, &mut permit),
            }
            .and_then(|bytes| {
                Payload::<R>::decode(bytes).map_err(|e| Refusal::Malformed(e.to_string()))
            });
            (decoded, permit)
        })
        .await?;
        let data = match metadata {
            Some(metadata) => decoded?.with_metadata(metadata),
            None => decoded?,
        };
        let outcome = sink.deliver(data, Transport::Grpc).await;
        drop(permit);
        outcome.map_err(Refusal::Refused)
    }
}

/// How long a gRPC call waits in line for its turn: half its `grpc-timeout` (the rest is
/// for the pipeline), or [`body::DEFAULT_LINE_WAIT`] without one.
fn line_wait(headers: &HeaderMap) -> Duration {
    headers
        .get("grpc-timeout")
        .and_then(|value| parse_grpc_timeout(value.as_bytes()))
        .map_or(body::DEFAULT_LINE_WAIT, |timeout| timeout / 2)
}

/// A `grpc-timeout` value: at most eight digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The compression a call's messages use (`grpc-encoding`).
fn message_encoding(headers: &HeaderMap) -> Result<ContentEncoding, Refusal> {
    let Some(value) = headers.get("grpc-encoding") else {
        return Ok(ContentEncoding::Identity);
    };
    let name = value.to_str().unwrap_or("");
    ContentEncoding::from_grpc(name).ok_or_else(|| {
        Refusal::UnsupportedEncoding(format!(
            "Content is compressed with `{}` which isn't supported",
            name.trim()
        ))
    })
}

/// The answer to an accepted call: the empty `Export*ServiceResponse` as one uncompressed
/// message, then `grpc-status: 0`.
fn success() -> Response<tonic::body::Body> {
    let mut response = Response::new(tonic::body::Body::new(ExportResponseBody::default()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// The body of a successful call: an empty message frame, then the OK trailers.
#[derive(Default)]
struct ExportResponseBody {
    sent: u8,
}

impl Body for ExportResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        this.sent += 1;
        Poll::Ready(match this.sent {
            // An uncompressed message of zero bytes: the empty response.
            1 => Some(Ok(Frame::data(Bytes::from_static(&[0; GRPC_PREFIX_LEN])))),
            2 => {
                let mut trailers = HeaderMap::with_capacity(1);
                trailers.insert("grpc-status", HeaderValue::from_static("0"));
                Some(Ok(Frame::trailers(trailers)))
            }
            _ => {
                this.sent = 3;
                None
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= 2
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_call_waits_in_line_for_half_its_grpc_timeout() {
        let with_timeout = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("grpc-timeout", value.parse().unwrap());
            line_wait(&headers)
        };
        assert_eq!(with_timeout("5000m"), Duration::from_millis(2500));
        assert_eq!(with_timeout("1H"), Duration::from_secs(1800));
        assert_eq!(with_timeout("2S"), Duration::from_secs(1));
        assert_eq!(with_timeout("40u"), Duration::from_micros(20));
        for malformed in ["", "m", "5", "123456789S", "5s", "-5S", "5 S"] {
            assert_eq!(
                with_timeout(malformed),
                body::DEFAULT_LINE_WAIT,
                "{malformed:?}"
            );
        }
        assert_eq!(line_wait(&HeaderMap::new()), body::DEFAULT_LINE_WAIT);
    }
}
