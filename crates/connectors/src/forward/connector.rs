//! The `forward` logic: hand the data to the fanout over the downstream pipelines.

use async_trait::async_trait;
use tributary_pipeline_core::component::Component;
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::SignalData;

/// Passes every call on to the downstream pipelines.
pub(super) struct Forward<T: SignalData> {
    next: Next<T>,
}

impl<T: SignalData> Forward<T> {
    pub(super) fn new(next: Next<T>) -> Self {
        Forward { next }
    }
}

impl<T: SignalData> Component for Forward<T> {}

#[async_trait]
impl<T: SignalData> Consumer<T> for Forward<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        self.next.consume(data).await
    }

    // A retry goes through to the fanout, so pipelines that already have the data are
    // not sent it again.
    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        self.next.retry(data, previous).await
    }

    fn capabilities(&self) -> Capabilities {
        self.next.capabilities()
    }
}
