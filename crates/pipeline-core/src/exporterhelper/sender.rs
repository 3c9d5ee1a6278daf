//! The sender chain's common interface: send one request, say how it went.
//!
//! Each stage of `batch → retry → timeout → export` is a [`Sender`] wrapping the next,
//! in the spirit of tower's layers; each is small and tested alone.

use std::sync::Arc;

use async_trait::async_trait;

use super::Export;
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
pub(crate) struct ExportSender<T: SignalData>(pub Arc<dyn Export<T>>);

#[async_trait]
impl<T: SignalData> Sender<T> for ExportSender<T> {
    async fn send(&self, data: T) -> Result<(), SendError> {
        self.0.export(data).await.map_err(SendError::failed)
    }
}
