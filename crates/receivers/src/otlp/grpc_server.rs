//! OTLP over gRPC: the three `Export` calls on one HTTP/2 server.
//!
//! Requests go through tonic's unary machinery (framing, `grpc-encoding` gzip and zstd,
//! the message size limit, status responses) with a codec that hands over the raw message
//! bytes, which are then decoded into a [`Payload`] that keeps them, so an exporter can
//! send them on without encoding again. Before tonic reads the message, the 5-byte length
//! prefix is read to refuse an oversized message and to admit the message's size.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tonic::Status;
use tonic::codec::{
    BufferSettings, Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder,
};
use tonic::server::{Grpc, UnaryService};
use tributary_pipeline_core::component::{ComponentError, CreateSettings};
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::{ClientMetadata, Payload};

use super::admission::AdmissionPermit;
use super::auth::BearerToken;
use tributary_pipeline_core::component::parse_endpoint;

use super::config::GrpcConfig;
use super::listener::{ConnectionSettings, RunningListener};
use super::receiver::{Intake, OtlpSignal, Sink, Transport, client_metadata};
use super::refusal::Refusal;
use super::{offload, tls};

/// The length of a gRPC message prefix: a compression flag and a big-endian u32 length.
const PREFIX_LEN: usize = 5;

/// The buffer a response is encoded into: enough for the (empty) response message.
const RESPONSE_BUFFER_SIZE: usize = 64;

/// Binds the gRPC endpoint and starts serving it.
pub(crate) async fn serve(
    settings: &CreateSettings,
    config: &GrpcConfig,
    intake: Arc<Intake>,
) -> Result<RunningListener, ComponentError> {
    let addr = parse_endpoint(&config.endpoint)
        .map_err(|e| ComponentError::new(format!("protocols::grpc::endpoint: {e}")))?;
    let tls = match &config.tls {
        Some(tls) => Some(tls::acceptor(tls, "protocols::grpc::tls", tls::ALPN_GRPC).await?),
        None => None,
    };
    let listener = settings.listen(addr).map_err(|e| {
        ComponentError::with_source(
            format!("protocols::grpc::endpoint: cannot listen on {addr}"),
            e,
        )
    })?;

    let mut http = auto::Builder::new(TokioExecutor::new()).http2_only();
    let parameters = config.keepalive_parameters();
    {
        let mut http2 = http.http2();
        http2.timer(TokioTimer::new());
        if config.max_concurrent_streams > 0 {
            http2.max_concurrent_streams(config.max_concurrent_streams);
        }
        if let Some(time) = parameters.and_then(|p| p.time) {
            http2.keep_alive_interval(time);
        }
        if let Some(timeout) = parameters.and_then(|p| p.timeout) {
            http2.keep_alive_timeout(timeout);
        }
    }
    let connections = ConnectionSettings {
        tls,
        http,
        max_age: parameters.and_then(|p| p.max_connection_age),
        max_age_grace: parameters.and_then(|p| p.max_connection_age_grace),
    };

    let frontend = Arc::new(GrpcFrontend {
        intake,
        max_message_size: config.max_message_size(),
        include_metadata: config.include_metadata,
        auth: config
            .auth
            .as_ref()
            .map(|a| BearerToken::new(a.bearer_token.expose())),
    });
    let service = service_fn(move |request| {
        let frontend = Arc::clone(&frontend);
        async move { Ok::<_, Infallible>(frontend.handle(request).await) }
    });
    RunningListener::spawn(settings, "gRPC", listener, connections, service)
        .map_err(|e| ComponentError::with_source("protocols::grpc::endpoint: cannot serve", e))
}

/// Answers gRPC calls.
struct GrpcFrontend {
    intake: Arc<Intake>,
    max_message_size: usize,
    include_metadata: bool,
    auth: Option<BearerToken>,
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
        if let Some(auth) = &self.auth
            && !auth.verify(request.headers())
        {
            return Refusal::Unauthenticated.to_grpc_status().into_http();
        }
        let (parts, body) = request.into_parts();
        let body = match PrefixedBody::read_prefix(body).await {
            Ok(body) => body,
            Err(status) => return status.into_http(),
        };
        let length = body.message_len().unwrap_or(0);
        if length > self.max_message_size {
            // As grpc-go answers: the client must not retry this message.
            return Refusal::TooLarge(format!(
                "received message larger than max ({length} vs. {})",
                self.max_message_size
            ))
            .to_grpc_status()
            .into_http();
        }
        let permit = match self.intake.admission.admit(length).await {
            Ok(permit) => permit,
            Err(refusal) => return refusal.to_grpc_status().into_http(),
        };
        let metadata = self
            .include_metadata
            .then(|| client_metadata(&parts.headers));
        let call = ExportCall {
            sink,
            permit: Some(permit),
            metadata,
        };
        let mut grpc = Grpc::new(RawCodec)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(self.max_message_size);
        grpc.unary(call, Request::from_parts(parts, body)).await
    }
}

/// One `Export` call, once tonic has read its message.
struct ExportCall<R: OtlpSignal> {
    sink: Arc<Sink<R>>,
    permit: Option<AdmissionPermit>,
    metadata: Option<Arc<ClientMetadata>>,
}

impl<R: OtlpSignal> UnaryService<Bytes> for ExportCall<R> {
    type Response = ();
    type Future = Pin<Box<dyn Future<Output = Result<tonic::Response<()>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let sink = Arc::clone(&self.sink);
        let permit = self.permit.take();
        let metadata = self.metadata.take();
        let message = request.into_inner();
        Box::pin(async move {
            export(sink, permit, metadata, message)
                .await
                .map(tonic::Response::new)
                .map_err(|refusal| {
                    tracing::debug!(signal = %R::SIGNAL, error = %refusal.message(), "OTLP/gRPC call refused");
                    refusal.to_grpc_status()
                })
        })
    }
}

/// Decodes the (decompressed) message and hands it to the pipeline. The admission permit
/// is held until the pipeline answered.
async fn export<R: OtlpSignal>(
    sink: Arc<Sink<R>>,
    mut permit: Option<AdmissionPermit>,
    metadata: Option<Arc<ClientMetadata>>,
    message: Bytes,
) -> Result<(), Refusal> {
    if let Some(permit) = &mut permit {
        permit.grow_to(message.len())?;
    }
    let data = offload::run(message.len(), move || Payload::<R>::decode(message))
        .await?
        .map_err(|e| Refusal::Malformed(e.to_string()))?;
    let data = match metadata {
        Some(metadata) => data.with_metadata(metadata),
        None => data,
    };
    let outcome = sink.deliver(data, Transport::Grpc).await;
    drop(permit);
    outcome.map_err(Refusal::Refused)
}

/// A codec that hands over the message bytes undecoded and writes the (always empty)
/// `Export*ServiceResponse`, whose encoding is zero bytes.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = ();
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = ();
    type Error = Status;

    fn encode(&mut self, _response: (), _dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        Ok(())
    }

    /// The response is a 5-byte frame; tonic's default 8 KiB buffer per call is waste.
    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(RESPONSE_BUFFER_SIZE, RESPONSE_BUFFER_SIZE)
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    /// Takes the message without copying: tonic's buffer is split off.
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A request body whose first frames were read ahead (to learn the message length) and are
/// replayed before the rest.
struct PrefixedBody {
    read_ahead: VecDeque<Frame<Bytes>>,
    rest: Option<Incoming>,
}

impl PrefixedBody {
    /// Reads frames until the message prefix is complete or the body ends.
    async fn read_prefix(mut body: Incoming) -> Result<PrefixedBody, Status> {
        let mut read_ahead = VecDeque::new();
        let mut data_len = 0;
        while data_len < PREFIX_LEN {
            match body.frame().await {
                Some(Ok(frame)) => {
                    let is_trailers = frame.is_trailers();
                    if let Some(data) = frame.data_ref() {
                        data_len += data.len();
                    }
                    read_ahead.push_back(frame);
                    if is_trailers {
                        return Ok(PrefixedBody {
                            read_ahead,
                            rest: None,
                        });
                    }
                }
                Some(Err(error)) => return Err(Status::from_error(Box::new(error))),
                None => {
                    return Ok(PrefixedBody {
                        read_ahead,
                        rest: None,
                    });
                }
            }
        }
        Ok(PrefixedBody {
            read_ahead,
            rest: Some(body),
        })
    }

    /// The message length announced by the prefix, if it was read completely.
    fn message_len(&self) -> Option<usize> {
        let mut prefix = [0u8; PREFIX_LEN];
        let mut filled = 0;
        for data in self.read_ahead.iter().filter_map(Frame::data_ref) {
            let take = (PREFIX_LEN - filled).min(data.len());
            prefix[filled..filled + take].copy_from_slice(&data[..take]);
            filled += take;
            if filled == PREFIX_LEN {
                let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
                return usize::try_from(length).ok();
            }
        }
        None
    }
}

impl Body for PrefixedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if let Some(frame) = this.read_ahead.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        match &mut this.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}
