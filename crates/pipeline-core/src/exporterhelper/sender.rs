//! The sender chain's common interface: send one request, say how it went.
//!
//! Each stage of `batch → retry → timeout → export` is a [`Sender`] wrapping the next,
//! in the spirit of tower's layers; each is small and tested alone.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::FutureExt;

use super::Export;
use crate::component::CreateSettings;
use crate::consumer::ConsumeError;
use crate::pdata::SignalData;

/// Why a request was not delivered.
#[derive(Clone, Debug)]
pub(crate) struct SendError {
    /// The last error the backend (or a stage) gave.
    pub error: ConsumeError,
    /// Whether delivery stopped because the exporter is shutting down, not because it
    /// failed for good. An interrupted request may be delivered later (a persistent queue
    /// keeps it); a failed one is dropped.
    pub interrupted: bool,
}

impl SendError {
    /// A failure that ends delivery for good.
    pub fn failed(error: ConsumeError) -> Self {
        SendError {
            error,
            interrupted: false,
        }
    }

    /// Delivery stopped by shutdown after `error`.
    pub fn interrupted(error: ConsumeError) -> Self {
        SendError {
            error,
            interrupted: true,
        }
    }
}

/// One stage of the sender chain.
#[async_trait]
pub(crate) trait Sender<T: SignalData>: Send + Sync + 'static {
    /// Sends `data` through this stage and the ones it wraps.
    async fn send(&self, data: T) -> Result<(), SendError>;
}

#[async_trait]
impl<T: SignalData, S: Sender<T> + ?Sized> Sender<T> for Arc<S> {
    async fn send(&self, data: T) -> Result<(), SendError> {
        (**self).send(data).await
    }
}

/// The innermost stage: the exporter's own [`Export`].
///
/// An export that panics is a failed attempt, not a dead worker: the panic is reported
/// ([`CreateSettings::report_panic`]) and the attempt fails with a retryable error, so the
/// retry stage tries again with backoff and a persistent queue never deletes the request
/// because of it.
pub(crate) struct ExportSender<T: SignalData> {
    export: Arc<dyn Export<T>>,
    settings: CreateSettings,
}

impl<T: SignalData> ExportSender<T> {
    /// Calls `export`; panics are reported under `settings`.
    pub fn new(export: Arc<dyn Export<T>>, settings: CreateSettings) -> Self {
        ExportSender { export, settings }
    }
}

#[async_trait]
impl<T: SignalData> Sender<T> for ExportSender<T> {
    async fn send(&self, data: T) -> Result<(), SendError> {
        match AssertUnwindSafe(self.export.export(data))
            .catch_unwind()
            .await
        {
            Ok(outcome) => outcome.map_err(SendError::failed),
            Err(panic) => {
                let message = self.settings.report_panic("export", &*panic);
                Err(SendError::failed(ConsumeError::retryable(format!(
                    "the export panicked: {message}"
                ))))
            }
        }
    }
}
