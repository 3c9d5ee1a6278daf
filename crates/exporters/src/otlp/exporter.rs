//! Sending one batch over gRPC and classifying the outcome.

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use http::header::{CONTENT_TYPE, TE};
use http::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::ServerName;
use tonic::transport::{Channel, Endpoint};
use tributary_pipeline_core::component::{ComponentError, CreateError, CreateSettings, Host};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;

use super::config::Config;
use super::connector::Connector;
use super::status::encode_binary_metadata;
use super::unary::{CallError, call, frame};
use crate::client::{
    ClientAuth, Compression, Compressor, OFFLOAD_THRESHOLD, TlsClientConfig, run_cpu_bound,
    user_agent,
};
use crate::otlp_signal::{OtlpSignal, PartialSuccessRecorder};

/// One HTTP/2 connection to the backend, shared by the exporter's traces, metrics and logs
/// instances (gRPC multiplexes them), opened on first use and re-opened after failures.
///
/// TLS files are read at start, as the Go Collector reads them in `ToClientConn`, so a
/// configuration whose certificates exist only on the production host validates anywhere.
pub(crate) struct GrpcConnection {
    endpoint: Endpoint,
    host: String,
    port: u16,
    /// The TLS settings and the name to verify, when the endpoint uses TLS.
    tls: Option<(TlsClientConfig, ServerName<'static>)>,
    channel: OnceLock<Channel>,
}

impl GrpcConnection {
    /// Prepares the connection (checks the endpoint); reads and connects nothing.
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        let target = config
            .target()
            .map_err(|e| CreateError::new(e.to_string()))?;
        // tonic connects to a plain http:// URI through our connector, which adds TLS;
        // the origin sets the :scheme and :authority the server sees.
        let authority = target.authority();
        let scheme = if target.tls { "https" } else { "http" };
        let origin_authority = if config.client.authority.is_empty() {
            authority.clone()
        } else {
            config.client.authority.clone()
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
        if let Some(timeout) = config.client.dialer.connect_timeout(config.helper.timeout) {
            endpoint = endpoint.connect_timeout(timeout);
        }
        if let Some(keepalive) = &config.client.keepalive
            && !keepalive.time.is_zero()
        {
            endpoint = endpoint
                .http2_keep_alive_interval(keepalive.time)
                .keep_alive_timeout(keepalive.timeout)
                .keep_alive_while_idle(keepalive.permit_without_stream);
        }

        let tls = if target.tls {
            let name = config
                .client
                .tls
                .server_name_override()
                .unwrap_or(&target.host)
                .to_string();
            let name = ServerName::try_from(name.clone())
                .map_err(|_| CreateError::new(format!("invalid TLS server name {name:?}")))?;
            Some((config.client.tls.clone(), name))
        } else {
            None
        };
        Ok(GrpcConnection {
            endpoint,
            host: target.host,
            port: target.port,
            tls,
            channel: OnceLock::new(),
        })
    }

    /// Reads the TLS files (on a blocking thread) and makes the lazy channel, unless a
    /// signal's start already did; connects nothing.
    async fn start(&self) -> Result<(), ComponentError> {
        if self.channel.get().is_some() {
            return Ok(());
        }
        let tls = match self.tls.clone() {
            Some((settings, name)) => {
                let client = tokio::task::spawn_blocking(move || settings.rustls_config(&[b"h2"]))
                    .await
                    .map_err(|e| ComponentError::with_source("reading the TLS settings", e))?
                    .map_err(|e| ComponentError::with_source("tls", e))?;
                Some((Arc::new(client), name))
            }
            None => None,
        };
        let connector = Connector::new(self.host.clone(), self.port, tls);
        // Two signals starting at once may both make one; either is the same channel.
        let _ = self
            .channel
            .set(self.endpoint.connect_with_connector_lazy(connector));
        Ok(())
    }

    /// The channel, once started.
    fn channel(&self) -> Result<Channel, ConsumeError> {
        self.channel
            .get()
            .cloned()
            .ok_or_else(|| ConsumeError::permanent("the exporter was not started"))
    }
}

/// Exports one signal's batches over a [`GrpcConnection`].
pub(crate) struct GrpcExporter<T> {
    connection: Arc<GrpcConnection>,
    /// `content-type`, `te`, `grpc-encoding`, `grpc-timeout` and the configured metadata.
    headers: HeaderMap,
    compressor: Compressor,
    auth: ClientAuth,
    partial_success: PartialSuccessRecorder,
    span: tracing::Span,
    signal: PhantomData<fn(T)>,
}

/// `grpc-timeout`: at most eight digits and a unit.
fn grpc_timeout(timeout: Duration) -> HeaderValue {
    let millis = timeout.as_millis();
    let text = if millis < 100_000_000 {
        format!("{millis}m")
    } else {
        format!("{}S", timeout.as_secs().min(99_999_999))
    };
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("99999999S"))
}

impl<T: OtlpSignal> GrpcExporter<T> {
    pub(crate) fn new(
        settings: &CreateSettings,
        config: &Config,
        connection: Arc<GrpcConnection>,
    ) -> Result<Self, CreateError> {
        let mut headers = HeaderMap::new();
        for (name, value) in config.client.headers.iter() {
            let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| CreateError::new(format!("invalid header name {name:?}")))?;
            // Binary metadata goes base64-encoded, as grpc-go sends string metadata.
            let mut value = if name.as_str().ends_with("-bin") {
                HeaderValue::from_str(&encode_binary_metadata(value.expose().as_bytes()))
            } else {
                HeaderValue::from_str(value.expose())
            }
            .map_err(|_| CreateError::new(format!("invalid value of header {name:?}")))?;
            // Kept out of HPACK tables and shown as `Sensitive` by `Debug`.
            value.set_sensitive(true);
            headers.append(name, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        let compression = config.compression();
        if compression != Compression::None {
            headers.insert(
                "grpc-encoding",
                HeaderValue::from_static(compression.as_str()),
            );
        }
        if !config.helper.timeout.is_zero() {
            headers.insert("grpc-timeout", grpc_timeout(config.helper.timeout));
        }
        Ok(GrpcExporter {
            connection,
            headers,
            // snappy in the framing format, as Go's gRPC snappy codec expects it.
            compressor: Compressor::new(compression, &config.client.compression_params).for_grpc(),
            auth: ClientAuth::new(config.client.auth.as_ref()),
            partial_success: PartialSuccessRecorder::new::<T>(settings),
            span: settings.span().clone(),
            signal: PhantomData,
        })
    }
}

#[async_trait]
impl<T: OtlpSignal> Export<T> for GrpcExporter<T> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.auth.start(host)?;
        // Lazy: a backend that is down at start is not an error; exports retry.
        self.connection.start().await
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let mut headers = self.headers.clone();
        self.auth
            .apply(&mut headers, data.metadata().map(|m| &**m))
            .await?;
        let compressor = self.compressor;
        let heavy =
            compressor.compression != Compression::None && data.encoded_len() >= OFFLOAD_THRESHOLD;
        // The payload's cached encoding: no re-encoding of data received over OTLP, and a
        // merged batch's parts are compressed one after the other, never joined.
        let frame = run_cpu_bound(heavy, move || frame(compressor, data.encoded_parts()))
            .await
            .map_err(|e| ConsumeError::retryable(format!("preparing the request: {e}")))?
            .map_err(|e| ConsumeError::permanent(format!("framing the request: {e}")))?;

        match call(self.connection.channel()?, T::GRPC_PATH, headers, frame).await {
            Ok(message) => {
                let partial =
                    message.and_then(|bytes| {
                        match <T::Response as prost::Message>::decode(bytes.as_slice()) {
                            Ok(response) => T::partial_success(&response),
                            Err(error) => {
                                let _entered = self.span.enter();
                                tracing::warn!(%error, "unreadable response to an accepted export");
                                None
                            }
                        }
                    });
                self.partial_success.record(partial);
                Ok(())
            }
            Err(CallError::Transport(problem)) => Err(ConsumeError::retryable(format!(
                "sending failed: {problem}"
            ))),
            Err(CallError::Status(status)) => Err(status.to_consume_error()),
        }
    }
}
