//! `jaeger.api_v2.CollectorService/PostSpans` over gRPC, on the shared gRPC server block.
//!
//! The service is written by hand over tonic's server-side call handling
//! ([`tonic::server::Grpc`]: one length-prefixed message within `max_recv_msg_size_mib`,
//! `gzip` or `zstd` message compression, status trailers) with prost messages, since there
//! is no protoc here to generate it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::{HeaderMap, Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tonic::Status;
use tonic::codec::CompressionEncoding;
use tonic::server::{Grpc, UnaryService};
use tonic_prost::ProstCodec;
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host};
use tributary_pipeline_core::configauth::ServerAuthenticator;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::server::RunningServer;

use super::config::GrpcConfig;
use super::model::{PostSpansRequest, PostSpansResponse};
use super::receiver::{Intake, Refused, Transport};
use super::refusal;

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
        let mut grpc = Grpc::new(ProstCodec::<PostSpansResponse, PostSpansRequest>::default())
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(self.max_message_size);
        let service = PostSpans {
            intake: Arc::clone(&self.intake),
            metadata,
        };
        grpc.unary(service, request).await
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

/// One `PostSpans` call.
struct PostSpans {
    intake: Arc<Intake>,
    metadata: Option<Arc<ClientMetadata>>,
}

impl UnaryService<PostSpansRequest> for PostSpans {
    type Response = PostSpansResponse;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<PostSpansResponse>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<PostSpansRequest>) -> Self::Future {
        let intake = Arc::clone(&self.intake);
        let metadata = self.metadata.take();
        Box::pin(async move {
            let batch = request.into_inner().batch.unwrap_or_default();
            match intake.deliver(Transport::Grpc, batch, metadata).await {
                Ok(()) => Ok(tonic::Response::new(PostSpansResponse {})),
                Err(Refused::Malformed(error)) => Err(Status::invalid_argument(error.to_string())),
                Err(Refused::Pipeline(error)) => Err(refusal::grpc_status(&error)),
            }
        })
    }
}
