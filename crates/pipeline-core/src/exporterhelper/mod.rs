//! The exporter helper: the delivery machinery every exporter gets by wrapping its
//! `export` function.
//!
//! An exporter implements [`Export`] (send one batch, say how it went) and its factory
//! calls [`build`] with the [`HelperConfig`] from its own configuration. The result is a
//! complete [`Exporter`]: `queue → batch → retry → timeout → export`, with the
//! `otelcol_exporter_*` metrics recorded under the exporter's ID.

mod config;

use std::sync::Arc;

use async_trait::async_trait;

use crate::component::{Component, ComponentError, CreateError, CreateSettings, Exporter, Host};
use crate::consumer::{Capabilities, ConsumeError, Consumer};
use crate::pdata::SignalData;
use crate::telemetry::ExporterMetrics;

pub use config::{BatchConfig, DEFAULT_TIMEOUT, HelperConfig, QueueConfig, RetryConfig, Sizer};

/// The part of an exporter that talks to its backend: send one batch, report the outcome.
///
/// Errors must be classified: [`ConsumeError::permanent`] for what a retry cannot fix
/// (the backend rejected the data), [`ConsumeError::retryable`] or
/// [`ConsumeError::throttled`] (with the backend's retry-after) for the rest.
#[async_trait]
pub trait Export<T: SignalData>: Send + Sync + 'static {
    /// Connects or prepares; called once before the first export.
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let _ = host;
        Ok(())
    }

    /// Sends one batch.
    async fn export(&self, data: T) -> Result<(), ConsumeError>;

    /// Releases connections; called once after the last export.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// Wraps `export` in the delivery machinery configured by `config`.
pub fn build<T: SignalData>(
    settings: &CreateSettings,
    config: &HelperConfig,
    export: impl Export<T>,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    Ok(Arc::new(HelperExporter {
        export: Arc::new(export),
        timeout: config.timeout,
        metrics: ExporterMetrics::new(settings.metrics(), settings.id(), T::SIGNAL),
    }))
}

struct HelperExporter<T: SignalData> {
    export: Arc<dyn Export<T>>,
    timeout: std::time::Duration,
    metrics: ExporterMetrics,
}

#[async_trait]
impl<T: SignalData> Component for HelperExporter<T> {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        self.export.start(host).await
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.export.shutdown().await
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for HelperExporter<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        let items = data.item_count() as u64;
        let attempt = self.export.export(data);
        let outcome = if self.timeout.is_zero() {
            attempt.await
        } else {
            match tokio::time::timeout(self.timeout, attempt).await {
                Ok(outcome) => outcome,
                Err(_) => Err(ConsumeError::retryable(format!(
                    "export timed out after {:?}",
                    self.timeout
                ))),
            }
        };
        match &outcome {
            Ok(()) => self.metrics.sent.add(items),
            Err(_) => self.metrics.send_failed.add(items),
        }
        outcome
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            mutates_data: false,
        }
    }
}
