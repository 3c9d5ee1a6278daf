//! Sending one batch over gRPC and classifying the outcome.

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use http::uri::PathAndQuery;
use rustls::pki_types::ServerName;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tributary_pipeline_core::component::{ComponentError, CreateError, CreateSettings, Host};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;

use super::codec::PreEncoded;
use super::config::Config;
use super::connector::Connector;
use super::status::to_consume_error;
use crate::client::{Compression, user_agent};
use crate::otlp_signal::{OtlpSignal, PartialSuccessRecorder};

/// One HTTP/2 connection to the backend, shared by the exporter's traces, metrics and logs
/// instances (gRPC multiplexes them), opened on first use and re-opened after failures.
pub(crate) struct GrpcConnection {
    endpoint: Endpoint,
    connector: Connector,
    channel: OnceLock<Channel>,
}

impl GrpcConnection {
    /// Prepares the connection (reads TLS files, checks the endpoint); connects nothing.
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        let target = config
            .target()
            .map_err(|e| CreateError::new(e.to_string()))?;
        // tonic connects to a plain http:// URI through our connector, which adds TLS;
        // the origin sets the :scheme and :authority the server sees.
        let authority = target.authority();
        let scheme = if target.tls { "https" } else { "http" };
        let origin_authority = if config.authority.is_empty() {
            authority.clone()
        } else {
            config.authority.clone()
        };
        let origin = format!("{scheme}://{origin_authority}")
            .parse()
            .map_err(|e| {
                CreateError::new(format!("invalid authority {origin_authority:?}: {e}"))
            })?;
        let mut endpoint = Endpoint::from_shared(format!("http://{authority}"))
            .map_err(|e| CreateError::with_source("invalid endpoint", e))?
            .origin(origin)
            .user_agent(user_agent(settings.build_info()))
            .map_err(|e| CreateError::with_source("invalid user agent", e))?;
        if !config.timeout.is_zero() {
            endpoint = endpoint.connect_timeout(config.timeout);
        }
        if let Some(keepalive) = &config.keepalive
            && !keepalive.time.is_zero()
        {
            endpoint = endpoint
                .http2_keep_alive_interval(keepalive.time)
                .keep_alive_timeout(keepalive.timeout)
                .keep_alive_while_idle(keepalive.permit_without_stream);
        }

        let tls = if target.tls {
            let client = config
                .tls
                .rustls_config(&[b"h2"])
                .map_err(|e| CreateError::with_source("tls", e))?;
            let name = config
                .tls
                .server_name_override()
                .unwrap_or(&target.host)
                .to_string();
            let name = ServerName::try_from(name.clone())
                .map_err(|_| CreateError::new(format!("invalid TLS server name {name:?}")))?;
            Some((Arc::new(client), name))
        } else {
            None
        };
        Ok(GrpcConnection {
            endpoint,
            connector: Connector::new(target.host, target.port, tls),
            channel: OnceLock::new(),
        })
    }

    /// The channel; created on first call, which must be inside a tokio runtime.
    fn channel(&self) -> Channel {
        self.channel
            .get_or_init(|| {
                self.endpoint
                    .connect_with_connector_lazy(self.connector.clone())
            })
            .clone()
    }
}

/// Exports one signal's batches over a [`GrpcConnection`].
pub(crate) struct GrpcExporter<T> {
    connection: Arc<GrpcConnection>,
    metadata: MetadataMap,
    compression: Option<CompressionEncoding>,
    timeout: Duration,
    partial_success: PartialSuccessRecorder,
    signal: PhantomData<fn(T)>,
}

impl<T: OtlpSignal> GrpcExporter<T> {
    pub(crate) fn new(
        settings: &CreateSettings,
        config: &Config,
        connection: Arc<GrpcConnection>,
    ) -> Result<Self, CreateError> {
        let mut metadata = MetadataMap::new();
        for (name, value) in config.headers.iter() {
            let name = name.to_ascii_lowercase();
            if name.ends_with("-bin") {
                // As grpc-go does with string metadata: the value's bytes, base64 on the wire.
                let key = MetadataKey::from_bytes(name.as_bytes())
                    .map_err(|_| CreateError::new(format!("invalid header name {name:?}")))?;
                metadata.append_bin(key, MetadataValue::from_bytes(value.as_bytes()));
            } else {
                let key = MetadataKey::from_bytes(name.as_bytes())
                    .map_err(|_| CreateError::new(format!("invalid header name {name:?}")))?;
                let value = value
                    .parse()
                    .map_err(|_| CreateError::new(format!("invalid value of header {name:?}")))?;
                metadata.append(key, value);
            }
        }
        Ok(GrpcExporter {
            connection,
            metadata,
            compression: match config.compression {
                Compression::Gzip => Some(CompressionEncoding::Gzip),
                Compression::Zstd => Some(CompressionEncoding::Zstd),
                Compression::None => None,
            },
            timeout: config.timeout,
            partial_success: PartialSuccessRecorder::new::<T>(settings),
            signal: PhantomData,
        })
    }
}

#[async_trait]
impl<T: OtlpSignal> Export<T> for GrpcExporter<T> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        // Lazy: a backend that is down at start is not an error; exports retry.
        self.connection.channel();
        Ok(())
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let mut client = tonic::client::Grpc::new(self.connection.channel())
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd);
        if let Some(encoding) = self.compression {
            client = client.send_compressed(encoding);
        }
        client
            .ready()
            .await
            .map_err(|e| ConsumeError::retryable(format!("gRPC connection not ready: {e}")))?;

        let mut request = tonic::Request::new(data.encoded());
        *request.metadata_mut() = self.metadata.clone();
        if !self.timeout.is_zero() {
            request.set_timeout(self.timeout);
        }
        let path = PathAndQuery::from_static(T::GRPC_PATH);
        match client
            .unary(request, path, PreEncoded::<T::Response>::default())
            .await
        {
            Ok(response) => {
                self.partial_success
                    .record(T::partial_success(response.get_ref()));
                Ok(())
            }
            Err(status) => Err(to_consume_error(&status)),
        }
    }
}
