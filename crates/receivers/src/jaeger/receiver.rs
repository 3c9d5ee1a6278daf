//! The receiver: starts the enabled protocols' servers and hands what they decode to the
//! pipeline through one [`Intake`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::{ConsumeError, Next};
use tributary_pipeline_core::pdata::{ClientMetadata, Payload, Signal, Traces};
use tributary_pipeline_core::receiverhelper::{self, ReceiverTasks, deliver};
use tributary_pipeline_core::server::RunningServer;
use tributary_pipeline_core::telemetry::ReceiverMetrics;

use super::config::Config;
use super::model::Batch;
use super::translate::{TranslateError, batches_to_otlp};
use super::{grpc, http_server, udp};
use crate::shared::admission::Admission;

/// The request bytes held at once across a receiver's HTTP and gRPC servers: the `otlp`
/// receiver's default admission limit. A request that finds no room is refused at once.
pub(crate) const REQUEST_BUDGET: usize = 128 << 20;

/// The transports, named as the Go receiver labels its metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Grpc,
    ThriftHttp,
    ThriftCompact,
    ThriftBinary,
}

impl Transport {
    const ALL: [Transport; 4] = [
        Transport::Grpc,
        Transport::ThriftHttp,
        Transport::ThriftCompact,
        Transport::ThriftBinary,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::ThriftHttp => "collector_http",
            Transport::ThriftCompact => "udp_thrift_compact",
            Transport::ThriftBinary => "udp_thrift_binary",
        }
    }
}

/// Where every protocol hands its batches: translation, accounting, the pipeline.
pub(crate) struct Intake {
    next: Next<Traces>,
    metrics: [ReceiverMetrics; 4],
    /// The request bytes the HTTP and gRPC servers may hold at once.
    pub(crate) admission: Admission,
}

impl Intake {
    /// The counters of `transport`.
    pub(crate) fn metrics(&self, transport: Transport) -> &ReceiverMetrics {
        &self.metrics[transport as usize]
    }

    /// Translates `batch` and delivers it, recording the outcome under `transport` (its
    /// spans as failed when it cannot be translated).
    pub(crate) async fn deliver(
        &self,
        transport: Transport,
        batch: Batch,
        metadata: Option<Arc<ClientMetadata>>,
    ) -> Result<(), Refused> {
        let spans = batch.spans.len();
        let request = batches_to_otlp([batch]).map_err(|error| {
            self.metrics(transport).record_failed(spans);
            Refused::Malformed(error)
        })?;
        let mut data = Payload::new(request);
        if let Some(metadata) = metadata {
            data = data.with_metadata(metadata);
        }
        deliver(&self.next, self.metrics(transport), data)
            .await
            .map_err(Refused::Pipeline)
    }
}

/// Why a decoded batch did not reach the pipeline.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It cannot be translated (an ID of the wrong length).
    Malformed(TranslateError),
    /// The pipeline refused it.
    Pipeline(ConsumeError),
}

/// The `jaeger` receiver.
pub(crate) struct JaegerReceiver {
    config: Config,
    settings: CreateSettings,
    intake: Arc<Intake>,
    tasks: ReceiverTasks,
    servers: Mutex<Vec<RunningServer>>,
    /// Where each started protocol listens.
    bound: Mutex<Vec<(Transport, SocketAddr)>>,
}

impl JaegerReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Traces>) -> Self {
        let metrics = Transport::ALL.map(|transport| {
            ReceiverMetrics::new(
                settings.metrics(),
                settings.id(),
                transport.label(),
                Signal::Traces,
            )
        });
        JaegerReceiver {
            config: config.clone(),
            settings: settings.clone(),
            intake: Arc::new(Intake {
                next,
                metrics,
                admission: Admission::bounded(REQUEST_BUDGET),
            }),
            tasks: ReceiverTasks::new(settings),
            servers: Mutex::new(Vec::new()),
            bound: Mutex::new(Vec::new()),
        }
    }

    fn servers(&self) -> std::sync::MutexGuard<'_, Vec<RunningServer>> {
        self.servers.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn start_protocols(&self, host: &Host) -> Result<(), ComponentError> {
        let protocols = &self.config.protocols;
        if let Some(config) = &protocols.grpc {
            let (server, addr) =
                grpc::serve(&self.settings, host, config, Arc::clone(&self.intake)).await?;
            self.servers().push(server);
            self.listening(Transport::Grpc, addr);
        }
        if let Some(config) = &protocols.thrift_http {
            let (server, addr) =
                http_server::serve(&self.settings, host, config, Arc::clone(&self.intake)).await?;
            self.servers().push(server);
            self.listening(Transport::ThriftHttp, addr);
        }
        for (config, transport, default) in [
            (
                &protocols.thrift_compact,
                Transport::ThriftCompact,
                "localhost:6831",
            ),
            (
                &protocols.thrift_binary,
                Transport::ThriftBinary,
                "localhost:6832",
            ),
        ] {
            if let Some(config) = config {
                let addr =
                    udp::serve(&self.tasks, config, default, transport, &self.intake).await?;
                self.listening(transport, addr);
            }
        }
        Ok(())
    }

    fn listening(&self, transport: Transport, addr: SocketAddr) {
        let protocol = transport.label();
        self.settings
            .span()
            .in_scope(|| tracing::info!(protocol, endpoint = %addr, "Jaeger receiver listening"));
        self.bound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((transport, addr));
    }

    /// The intake every protocol delivers to.
    #[cfg(test)]
    pub(crate) fn intake(&self) -> &Intake {
        &self.intake
    }

    /// Where `transport` listens, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        let bound = self.bound.lock().unwrap_or_else(|e| e.into_inner());
        bound.iter().find(|(t, _)| *t == transport).map(|(_, a)| *a)
    }

    async fn stop(&self) -> Result<(), ComponentError> {
        self.bound.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let servers = std::mem::take(&mut *self.servers());
        for server in &servers {
            server.stop_accepting();
        }
        for server in servers {
            server.stop().await;
        }
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

#[async_trait]
impl Component for JaegerReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        if let Err(error) = self.start_protocols(host).await {
            // Leave nothing half started: the servers already running are stopped.
            let _ = self.stop().await;
            return Err(error);
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.stop().await
    }
}
