//! The receiver's instances and the server they share.
//!
//! The framework creates one receiver instance per signal. All of them share one
//! [`OtlpServer`] (through [`CreateSettings::shared`]): one gRPC and one HTTP listener for
//! the three signals. Each instance registers its pipeline in the server's [`Intake`] when
//! it starts and removes it when it shuts down; the listeners run from the first start to
//! the last shutdown, and start again if an instance starts after that.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use async_trait::async_trait;
use http::HeaderMap;
use tributary_pipeline_core::component::{
    Component, ComponentError, CreateError, CreateSettings, Host,
};
use tributary_pipeline_core::consumer::{ConsumeError, Next};
use tributary_pipeline_core::pdata::otlp_json::JsonRequest;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::{ClientMetadata, OtlpRequest, Payload};
use tributary_pipeline_core::telemetry::ReceiverMetrics;

use super::config::Config;
use super::{grpc_server, http_server};
use crate::shared::admission::Admission;
use tributary_pipeline_core::receiverhelper::{SharedLifecycle, SharedLifecycleMember, deliver};
use tributary_pipeline_core::server::RunningServer;

/// The transports data arrives over, as named in the `transport` metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// OTLP over gRPC.
    Grpc,
    /// OTLP over HTTP.
    Http,
}

impl Transport {
    fn as_str(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
        }
    }
}

/// What differs between the three OTLP signals for this receiver.
pub(crate) trait OtlpSignal: OtlpRequest + JsonRequest {
    /// The gRPC method path of the signal's `Export` call.
    const GRPC_PATH: &'static str;

    /// Where the signal's pipeline is registered.
    fn slot(sinks: &Sinks) -> &ArcSwapOption<Sink<Self>>;
}

impl OtlpSignal for ExportTraceServiceRequest {
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    fn slot(sinks: &Sinks) -> &ArcSwapOption<Sink<Self>> {
        &sinks.traces
    }
}

impl OtlpSignal for ExportMetricsServiceRequest {
    const GRPC_PATH: &'static str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    fn slot(sinks: &Sinks) -> &ArcSwapOption<Sink<Self>> {
        &sinks.metrics
    }
}

impl OtlpSignal for ExportLogsServiceRequest {
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    fn slot(sinks: &Sinks) -> &ArcSwapOption<Sink<Self>> {
        &sinks.logs
    }
}

/// The pipeline registered for each signal; empty for a signal no instance serves.
#[derive(Default)]
pub(crate) struct Sinks {
    traces: ArcSwapOption<Sink<ExportTraceServiceRequest>>,
    metrics: ArcSwapOption<Sink<ExportMetricsServiceRequest>>,
    logs: ArcSwapOption<Sink<ExportLogsServiceRequest>>,
}

/// One signal's pipeline and the metrics counting what it accepted and refused.
pub(crate) struct Sink<R: OtlpRequest> {
    next: Next<Payload<R>>,
    grpc: Option<ReceiverMetrics>,
    http: Option<ReceiverMetrics>,
}

impl<R: OtlpRequest> Sink<R> {
    /// Hands `data` to the pipeline and counts the outcome. A request without items
    /// succeeds without reaching the pipeline.
    pub(crate) async fn deliver(
        &self,
        data: Payload<R>,
        transport: Transport,
    ) -> Result<(), ConsumeError> {
        let metrics = match transport {
            Transport::Grpc => &self.grpc,
            Transport::Http => &self.http,
        };
        match metrics {
            Some(metrics) => deliver(&self.next, metrics, data).await,
            None if data.item_count() == 0 => Ok(()),
            None => self.next.consume(data).await,
        }
    }
}

/// What request handling needs of the receiver: the registered pipelines and the admission
/// budget, shared by both protocols.
#[derive(Default)]
pub(crate) struct Intake {
    sinks: Sinks,
    /// The budget of request bytes in process.
    pub admission: Admission,
}

impl Intake {
    /// The pipeline registered for signal `R`, if any.
    pub(crate) fn sink<R: OtlpSignal>(&self) -> Option<Arc<Sink<R>>> {
        R::slot(&self.sinks).load_full()
    }
}

/// The request's headers as client metadata (for `include_metadata`). Values that are not
/// text are left out.
pub(crate) fn client_metadata(headers: &HeaderMap) -> Arc<ClientMetadata> {
    let mut metadata = ClientMetadata::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            metadata.insert(name.as_str(), value);
        }
    }
    Arc::new(metadata)
}

/// The gRPC and HTTP listeners of a started receiver.
type Listeners = Vec<(Transport, RunningServer)>;

/// The gRPC and HTTP servers shared by the receiver's instances: they run while at least
/// one instance is started.
pub(crate) struct OtlpServer {
    config: Config,
    settings: CreateSettings,
    intake: Arc<Intake>,
    lifecycle: Arc<SharedLifecycle<Listeners>>,
}

impl OtlpServer {
    fn new(settings: &CreateSettings, config: &Config) -> OtlpServer {
        OtlpServer {
            config: config.clone(),
            settings: settings.clone(),
            intake: Arc::new(Intake {
                sinks: Sinks::default(),
                admission: config
                    .admission
                    .budget(settings.progress_tracker("requests waiting for admission")),
            }),
            lifecycle: Arc::new(SharedLifecycle::new()),
        }
    }

    async fn listen(&self, host: &Host) -> Result<Listeners, ComponentError> {
        let mut listeners = Vec::new();
        let protocols = &self.config.protocols;
        // Authenticators are resolved first: a missing one fails start before anything binds.
        let grpc_auth = protocols
            .grpc
            .as_ref()
            .and_then(|c| c.server.auth.as_ref())
            .map(|a| a.authenticator(host, "protocols::grpc"))
            .transpose()?;
        let http_auth = protocols
            .http
            .as_ref()
            .and_then(|c| c.server.auth.as_ref())
            .map(|a| a.authenticator(host, "protocols::http"))
            .transpose()?;
        if let Some(config) = &protocols.grpc {
            let listener =
                grpc_server::serve(&self.settings, config, Arc::clone(&self.intake), grpc_auth)
                    .await?;
            listeners.push((Transport::Grpc, listener));
        }
        if let Some(config) = &protocols.http {
            match http_server::serve(&self.settings, config, Arc::clone(&self.intake), http_auth)
                .await
            {
                Ok(listener) => listeners.push((Transport::Http, listener)),
                Err(error) => {
                    stop(listeners).await;
                    return Err(error);
                }
            }
        }
        Ok(listeners)
    }

    /// The address a transport's listener is bound to, while it runs.
    #[cfg(test)]
    pub(crate) async fn local_addr(&self, transport: Transport) -> Option<std::net::SocketAddr> {
        self.lifecycle
            .with_running(|listeners| {
                listeners?
                    .iter()
                    .find(|(t, _)| *t == transport)
                    .map(|(_, listener)| listener.local_addr())
            })
            .await
    }
}

/// Stops the listeners: both stop accepting at once, then drain side by side.
async fn stop(listeners: Listeners) {
    for (_, listener) in &listeners {
        listener.stop_accepting();
    }
    for (_, listener) in listeners {
        listener.stop().await;
    }
}

/// The receiver instance of one signal: its pipeline, registered in the shared server
/// while it runs.
pub(crate) struct OtlpReceiver<R: OtlpSignal> {
    server: Arc<OtlpServer>,
    sink: Arc<Sink<R>>,
    lifecycle: SharedLifecycleMember<Listeners>,
}

impl<R: OtlpSignal> OtlpReceiver<R> {
    /// Creates the instance of signal `R` feeding `next`, sharing the server of the other
    /// instances of the same receiver.
    pub(crate) fn create(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Payload<R>>,
    ) -> Result<Arc<OtlpReceiver<R>>, CreateError> {
        let server = settings.shared(|| Ok(OtlpServer::new(settings, config)))?;
        let metrics = |transport: Transport| {
            ReceiverMetrics::new(
                settings.metrics(),
                settings.id(),
                transport.as_str(),
                R::SIGNAL,
            )
        };
        let sink = Sink {
            next,
            grpc: config
                .protocols
                .grpc
                .as_ref()
                .map(|_| metrics(Transport::Grpc)),
            http: config
                .protocols
                .http
                .as_ref()
                .map(|_| metrics(Transport::Http)),
        };
        Ok(Arc::new(OtlpReceiver {
            lifecycle: server.lifecycle.member(),
            server,
            sink: Arc::new(sink),
        }))
    }

    fn unregister(&self) {
        R::slot(&self.server.intake.sinks).rcu(|current| match current {
            Some(sink) if Arc::ptr_eq(sink, &self.sink) => None,
            other => other.clone(),
        });
    }
}

#[async_trait]
impl<R: OtlpSignal> Component for OtlpReceiver<R> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        R::slot(&self.server.intake.sinks).store(Some(Arc::clone(&self.sink)));
        let started = self.lifecycle.start(|| self.server.listen(host)).await;
        if started.is_err() {
            self.unregister();
        }
        started
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.unregister();
        self.lifecycle
            .shutdown(|listeners| async {
                stop(listeners).await;
                Ok(())
            })
            .await
    }
}
