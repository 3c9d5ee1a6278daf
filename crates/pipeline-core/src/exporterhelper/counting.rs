//! `CountingSender`: the `otelcol_exporter_sent_*` and `..._send_failed_*` counters, and
//! the send's span (`exporter/<id>/<signal>`).
//!
//! It wraps the retry stage, so it counts outcomes, not attempts: items the backend
//! finally accepted, and items given up on (a permanent error, or retries exhausted).
//! Requests interrupted by shutdown are counted where their fate is known: not at all
//! when a persistent queue keeps them, as failed when a memory queue drops them.

use async_trait::async_trait;

use super::sender::{SendError, Sender};
use crate::pdata::SignalData;
use crate::telemetry::ExporterMetrics;

/// Counts what the wrapped sender delivered and what it gave up on.
pub(crate) struct CountingSender<S> {
    inner: S,
    metrics: ExporterMetrics,
}

impl<S> CountingSender<S> {
    pub fn new(inner: S, metrics: ExporterMetrics) -> Self {
        CountingSender { inner, metrics }
    }
}

#[async_trait]
impl<T: SignalData, S: Sender<T>> Sender<T> for CountingSender<S> {
    async fn send(&self, data: T) -> Result<(), SendError> {
        let items = data.item_count() as u64;
        let started = std::time::SystemTime::now();
        let outcome = self.inner.send(data).await;
        match &outcome {
            Ok(()) => self.metrics.sent.add(items),
            Err(error) if !error.interrupted => self.metrics.send_failed.add(items),
            Err(_) => {}
        }
        let error = outcome.as_ref().err().map(|e| e.error.to_string());
        self.metrics.record_send_span(started, items, error);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::consumer::ConsumeError;
    use crate::exporterhelper::testing::{Script, spans};

    #[tokio::test]
    async fn counts_items_by_outcome() {
        let backend = Script::failing(vec![ConsumeError::permanent("bad")]);
        let registry = crate::telemetry::MetricsRegistry::new();
        let metrics = ExporterMetrics::new(&registry, &"otlp", crate::pdata::Signal::Traces);
        let (sent, failed) = (metrics.sent.clone(), metrics.send_failed.clone());
        let sender = CountingSender::new(Arc::clone(&backend), metrics);
        assert!(sender.send(spans(3)).await.is_err());
        sender.send(spans(5)).await.unwrap();
        assert_eq!((sent.get(), failed.get()), (5, 3));
    }
}
