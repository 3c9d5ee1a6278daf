//! The `memory_limiter` processor of one pipeline: passes data on, or refuses it while the
//! shared [`Limiter`] says memory is short.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::SignalData;
use tributary_pipeline_core::telemetry::Counter;

use super::limiter::Limiter;

pub(crate) struct MemoryLimiterProcessor<T: SignalData> {
    limiter: Arc<Limiter>,
    next: Next<T>,
    accepted: Counter,
    refused: Counter,
    /// Whether this instance counts among the limiter's users.
    started: AtomicBool,
}

impl<T: SignalData> MemoryLimiterProcessor<T> {
    pub fn new(settings: &CreateSettings, limiter: Arc<Limiter>, next: Next<T>) -> Self {
        let id = settings.id().to_string();
        let labels = [("processor", id.as_str())];
        let item = T::SIGNAL.item_name();
        let metrics = settings.metrics();
        MemoryLimiterProcessor {
            limiter,
            next,
            accepted: metrics.counter(
                &format!("otelcol_processor_memory_limiter_accepted_{item}"),
                &format!("Number of {item} passed on by the memory limiter."),
                &labels,
            ),
            refused: metrics.counter(
                &format!("otelcol_processor_memory_limiter_refused_{item}"),
                &format!(
                    "Number of {item} refused by the memory limiter because memory was short."
                ),
                &labels,
            ),
            started: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl<T: SignalData> Component for MemoryLimiterProcessor<T> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if !self.started.swap(true, Ordering::SeqCst) {
            self.limiter.attach();
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if self.started.swap(false, Ordering::SeqCst) {
            self.limiter.detach().await;
        }
        Ok(())
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for MemoryLimiterProcessor<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        let items = data.item_count() as u64;
        if self.limiter.is_refusing() {
            self.refused.add(items);
            return Err(self.limiter.refusal());
        }
        self.accepted.add(items);
        self.next.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            mutates_data: false,
        }
    }
}
