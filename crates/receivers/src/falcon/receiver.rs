//! The `falcon` receiver at work: its listeners started and stopped together, and the
//! intake they share (decoded items to metrics, handed to the pipeline).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::prelude::*;
use tributary_translator_falcon::{FalconItem, items_to_metrics};

use super::config::{Config, DEFAULT_RPC_ENDPOINT, DEFAULT_TELNET_ENDPOINT};
use super::http::HttpIntake;
use super::rpc::RpcIntake;
use super::telnet::TelnetIntake;
use crate::shared::http_server::ReceiverServer;

/// The running receiver: its configuration, its listeners, and where data goes.
pub(crate) struct FalconReceiver {
    settings: CreateSettings,
    config: Config,
    next: Next<Metrics>,
    http: ReceiverServer,
    tasks: ReceiverTasks,
    addrs: Mutex<Addrs>,
}

/// Where each listener listens, once started (for tests).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Addrs {
    pub(crate) http: Option<SocketAddr>,
    pub(crate) rpc: Option<SocketAddr>,
    pub(crate) telnet: Option<SocketAddr>,
}

impl FalconReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        FalconReceiver {
            settings: settings.clone(),
            config: config.clone(),
            next,
            http: ReceiverServer::default(),
            tasks: ReceiverTasks::new(settings),
            addrs: Mutex::new(Addrs::default()),
        }
    }

    /// Where the listeners listen, once started.
    #[cfg(test)]
    pub(crate) fn addrs(&self) -> Addrs {
        *self.addrs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sink(&self, transport: &str) -> Sink {
        Sink {
            next: Arc::clone(&self.next),
            metrics: ReceiverMetrics::new(
                self.settings.metrics(),
                self.settings.id(),
                transport,
                Signal::Metrics,
            ),
        }
    }
}

#[async_trait]
impl Component for FalconReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let protocols = &self.config.protocols;
        let mut addrs = Addrs::default();
        if let Some(http) = &protocols.http {
            let intake = Arc::new(HttpIntake::new(
                self.sink("http"),
                &http.server,
                &self.settings,
            ));
            let addr = self
                .http
                .start(
                    &http.server,
                    &self.settings,
                    host,
                    "Falcon receiver",
                    intake,
                )
                .await?;
            tracing::info!(endpoint = %addr, "falcon receiver serving /v1/push and /api/push");
            addrs.http = Some(addr);
        }
        if let Some(rpc) = &protocols.rpc {
            let intake = Arc::new(RpcIntake::new(self.sink("rpc"), rpc.max_request_size));
            let addr = rpc.server.addr(DEFAULT_RPC_ENDPOINT).await?;
            let addr = self.tasks.serve_tcp(
                addr,
                rpc.server.max_connections,
                move |stream, peer, stop| Arc::clone(&intake).serve(stream, peer, stop),
            )?;
            tracing::info!(endpoint = %addr, "falcon receiver serving JSON-RPC");
            addrs.rpc = Some(addr);
        }
        if let Some(telnet) = &protocols.telnet {
            let intake = Arc::new(TelnetIntake::new(
                self.sink("telnet"),
                telnet.timeout,
                telnet.max_held_items,
            ));
            let addr = telnet.server.addr(DEFAULT_TELNET_ENDPOINT).await?;
            let addr = self.tasks.serve_tcp(
                addr,
                telnet.server.max_connections,
                move |stream, peer, stop| Arc::clone(&intake).serve(stream, peer, stop),
            )?;
            tracing::info!(endpoint = %addr, "falcon receiver serving telnet");
            addrs.telnet = Some(addr);
        }
        *self.addrs.lock().unwrap_or_else(|e| e.into_inner()) = addrs;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.http.stop().await;
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

/// Where a listener's items go: the pipeline, with the listener's accounting.
pub(crate) struct Sink {
    next: Next<Metrics>,
    pub(crate) metrics: ReceiverMetrics,
}

impl Sink {
    /// Hands `items` to the pipeline, counting `invalid` items as refused by validation.
    pub(crate) async fn deliver(
        &self,
        items: &[FalconItem],
        invalid: usize,
    ) -> Result<(), ConsumeError> {
        self.deliver_with(items, invalid, None).await
    }

    /// As [`deliver`](Self::deliver), the data carrying the client's `metadata` when given
    /// (`include_metadata`).
    pub(crate) async fn deliver_with(
        &self,
        items: &[FalconItem],
        invalid: usize,
        metadata: Option<Arc<ClientMetadata>>,
    ) -> Result<(), ConsumeError> {
        self.metrics.record_failed(invalid);
        let metrics = items_to_metrics(items, "");
        let metrics = match metadata {
            Some(metadata) => metrics.with_metadata(metadata),
            None => metrics,
        };
        receiverhelper::deliver(&self.next, &self.metrics, metrics).await
    }
}

/// Seconds since the epoch, for the timestamp rule.
pub(crate) fn now_seconds() -> i64 {
    i64::try_from(now_unix_nano() / 1_000_000_000).unwrap_or(i64::MAX)
}
