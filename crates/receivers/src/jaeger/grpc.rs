//! `jaeger.api_v2.CollectorService/PostSpans` over gRPC, on the shared gRPC server block.
//!
//! The service is written by hand over tonic's server-side call handling
//! ([`tonic::server::Grpc`]: one length-prefixed message within `max_recv_msg_size_mib`,
//! `gzip` or `zstd` message compression, status trailers) with prost messages, since there
//! is no protoc here to generate it.
//!
//! Before a message is decoded, its spans are measured on the wire ([`check_span_sizes`]):
//! a span message too short to hold a trace ID and a span ID is refused, so a message of
//! empty span entries (two bytes each, a few hundred bytes each once decoded) cannot make
//! the receiver allocate a hundred times the message's size. A call's message must arrive
//! within one minute (the HTTP server block's default `read_timeout`), so a client cannot
//! hold a call and its buffer open by sending slowly; a late one is answered
//! `DEADLINE_EXCEEDED`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Buf;
use http::{HeaderMap, Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, UnaryService};
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host};
use tributary_pipeline_core::configauth::ServerAuthenticator;
use tributary_pipeline_core::confighttp::DEFAULT_READ_TIMEOUT;
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::server::RunningServer;

use super::config::GrpcConfig;
use super::model::{PostSpansRequest, PostSpansResponse};
use super::receiver::{Intake, Refused, Transport};
use crate::shared::admission::{AdmissionPermit, NotAdmitted};
use crate::shared::refusal;

/// The one method served.
pub(crate) const POST_SPANS_PATH: &str = "/jaeger.api_v2.CollectorService/PostSpans";

/// Binds the gRPC endpoint and starts serving it.
pub(crate) async fn serve(
    settings: &CreateSettings,
    host: &Host,
    config: &GrpcConfig,
    intake: Arc<Intake>,
) -> Result<(RunningServer, SocketAddr), ComponentError> {
    let auth = config
        .server
        .auth
        .as_ref()
        .map(|auth| auth.authenticator(host, "protocols::grpc"))
        .transpose()?;
    let (listener, options) = config.server.bind(settings, "protocols::grpc").await?;
    let addr = listener.local_addr().map_err(|e| {
        ComponentError::with_source("protocols::grpc: cannot read the bound address", e)
    })?;
    let frontend = Arc::new(GrpcFrontend {
        intake,
        auth,
        max_message_size: config.server.max_message_size(),
        include_metadata: config.server.include_metadata,
    });
    let service = service_fn(move |request| {
        let frontend = Arc::clone(&frontend);
        async move { Ok::<_, Infallible>(frontend.handle(request).await) }
    });
    let server = RunningServer::spawn(
        "Jaeger gRPC receiver",
        listener,
        options,
        service,
        settings.span().clone(),
        |task| settings.spawn(task),
    )
    .map_err(|e| ComponentError::with_source("protocols::grpc::endpoint: cannot serve", e))?;
    Ok((server, addr))
}

struct GrpcFrontend {
    intake: Arc<Intake>,
    auth: Option<Arc<dyn ServerAuthenticator>>,
    max_message_size: usize,
    include_metadata: bool,
}

impl GrpcFrontend {
    async fn handle(&self, request: Request<Incoming>) -> Response<tonic::body::Body> {
        if request.uri().path() != POST_SPANS_PATH {
            return Status::unimplemented(format!("unknown method {}", request.uri().path()))
                .into_http();
        }
        if let Some(auth) = &self.auth
            && let Err(error) = auth.authenticate(request.headers()).await
        {
            return Status::unauthenticated(error.to_string()).into_http();
        }
        let metadata = self
            .include_metadata
            .then(|| client_metadata(request.headers()));
        let admitted: SharedAdmitted = Arc::new(Mutex::new(self.intake.admission.empty_permit()));
        let codec = PostSpansCodec {
            admitted: Arc::clone(&admitted),
        };
        // gzip only: tonic's zstd decoder cannot bound the window a frame asks for (up to
        // 128 MiB per call), which would let a peer bypass the admission budget.
        let mut grpc = Grpc::new(codec)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(self.max_message_size);
        let service = PostSpans {
            intake: Arc::clone(&self.intake),
            metadata,
            admitted: Arc::clone(&admitted),
        };
        let request =
            request.map(|body| BoundedBody::new(body, DEFAULT_READ_TIMEOUT).admitted(admitted));
        grpc.unary(service, request).await
    }
}

/// A request body that fails with `DEADLINE_EXCEEDED` once its deadline passed before it
/// ended, and with `RESOURCE_EXHAUSTED` when the receiver's admission budget has no room
/// for its bytes.
pub(crate) struct BoundedBody<B> {
    inner: B,
    deadline: Pin<Box<tokio::time::Sleep>>,
    admitted: Option<SharedAdmitted>,
}

impl<B> BoundedBody<B> {
    pub(crate) fn new(inner: B, timeout: std::time::Duration) -> Self {
        BoundedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            admitted: None,
        }
    }

    /// Takes room in the admission budget for each chunk, held in `admitted`.
    fn admitted(mut self, admitted: SharedAdmitted) -> Self {
        self.admitted = Some(admitted);
        self
    }
}

impl<B> http_body::Body for BoundedBody<B>
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, Status>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            let frame = frame.map(|f| f.map_err(|e| Status::from_error(e.into())));
            if let (Some(Ok(frame)), Some(admitted)) = (&frame, &self.admitted)
                && let Some(data) = frame.data_ref()
                && grow_shared(admitted, data.len()).is_err()
            {
                return Poll::Ready(Some(Err(throttled())));
            }
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Status::deadline_exceeded(
                "the call's message did not arrive in time",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Every header of a call, for `include_metadata`.
pub(crate) fn client_metadata(headers: &HeaderMap) -> Arc<ClientMetadata> {
    let mut metadata = ClientMetadata::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            metadata.insert(name.as_str(), value);
        }
    }
    Arc::new(metadata)
}

/// A call's share of the admission budget, held by the body it is read from, the codec
/// that decodes it and the call that delivers it.
type SharedAdmitted = Arc<Mutex<AdmissionPermit>>;

/// Grows a call's share by a chunk of `bytes`, or says there is no room.
fn grow_shared(admitted: &SharedAdmitted, bytes: usize) -> Result<(), NotAdmitted> {
    admitted
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .grow_by(bytes)
}

/// `RESOURCE_EXHAUSTED` with a one-second `RetryInfo`: over the admission budget.
fn throttled() -> Status {
    refusal::grpc_status(&ConsumeError::throttled(NotAdmitted::NO_ROOM, None))
}

/// One `PostSpans` call.
struct PostSpans {
    intake: Arc<Intake>,
    metadata: Option<Arc<ClientMetadata>>,
    /// The call's share of the admission budget, held until the pipeline answered.
    admitted: SharedAdmitted,
}

impl UnaryService<PostSpansRequest> for PostSpans {
    type Response = PostSpansResponse;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<PostSpansResponse>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<PostSpansRequest>) -> Self::Future {
        let intake = Arc::clone(&self.intake);
        let metadata = self.metadata.take();
        let admitted = Arc::clone(&self.admitted);
        Box::pin(async move {
            let _admitted = admitted;
            let batch = request.into_inner().batch.unwrap_or_default();
            match intake.deliver(Transport::Grpc, batch, metadata).await {
                Ok(()) => Ok(tonic::Response::new(PostSpansResponse {})),
                Err(Refused::Malformed(error)) => Err(Status::invalid_argument(error.to_string())),
                Err(Refused::Pipeline(error)) => Err(refusal::grpc_status(&error)),
            }
        })
    }
}

/// Encodes `PostSpansResponse`s and decodes `PostSpansRequest`s whose spans passed
/// [`check_span_sizes`], taking room in the admission budget for the (decompressed)
/// message first.
#[derive(Clone)]
struct PostSpansCodec {
    admitted: SharedAdmitted,
}

impl Codec for PostSpansCodec {
    type Encode = PostSpansResponse;
    type Decode = PostSpansRequest;
    type Encoder = PostSpansCodec;
    type Decoder = PostSpansCodec;

    fn encoder(&mut self) -> PostSpansCodec {
        self.clone()
    }

    fn decoder(&mut self) -> PostSpansCodec {
        self.clone()
    }
}

impl Encoder for PostSpansCodec {
    type Item = PostSpansResponse;
    type Error = Status;

    fn encode(&mut self, item: PostSpansResponse, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode the answer: {e}")))
    }
}

impl Decoder for PostSpansCodec {
    type Item = PostSpansRequest;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<PostSpansRequest>, Status> {
        grow_shared(&self.admitted, src.remaining()).map_err(|_| throttled())?;
        let message = src.copy_to_bytes(src.remaining());
        check_span_sizes(&message).map_err(Status::invalid_argument)?;
        PostSpansRequest::decode(message)
            .map(Some)
            .map_err(|e| Status::invalid_argument(format!("malformed PostSpansRequest: {e}")))
    }
}

/// The fewest bytes a span message takes with its IDs: a 16-byte trace ID and an 8-byte
/// span ID, each with a tag and a length byte.
const MIN_SPAN_BYTES: usize = 28;

/// Checks, on the wire, that every span of a `PostSpansRequest` (field 1, `batch`; its
/// field 1, `spans`) is long enough to hold its IDs. Malformed framing is left to the
/// decoder, which reports it.
pub(crate) fn check_span_sizes(message: &[u8]) -> Result<(), String> {
    for (field, batch) in length_delimited_fields(message) {
        if field != 1 {
            continue;
        }
        for (field, span) in length_delimited_fields(batch) {
            if field == 1 && span.len() < MIN_SPAN_BYTES {
                return Err(format!(
                    "a span of {} bytes cannot hold its trace and span IDs",
                    span.len()
                ));
            }
        }
    }
    Ok(())
}

/// The length-delimited fields of a protobuf message, with their numbers, up to the first
/// framing error.
fn length_delimited_fields(mut message: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    std::iter::from_fn(move || {
        loop {
            let key = read_varint(&mut message)?;
            match key & 7 {
                0 => {
                    read_varint(&mut message)?;
                }
                1 => message = message.get(8..)?,
                5 => message = message.get(4..)?,
                2 => {
                    let len = usize::try_from(read_varint(&mut message)?).ok()?;
                    let value = message.get(..len)?;
                    message = &message[len..];
                    return Some((key >> 3, value));
                }
                // Groups, or not protobuf: the decoder says what is wrong.
                _ => return None,
            }
        }
    })
}

fn read_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}
