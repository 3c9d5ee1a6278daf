//! The spanmetrics connector: aggregates spans as they come and sends the metrics on
//! every flush interval.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tributary_pipeline_core::prelude::*;

use super::aggregator::Aggregator;
use super::config::Config;

/// Aggregates the spans it consumes into calls, duration and events metrics, sent to the
/// next consumer every `metrics_flush_interval` once started, and once more at shutdown.
pub struct SpanMetricsConnector {
    aggregator: Arc<Mutex<Aggregator>>,
    next: Next<Metrics>,
    interval: Duration,
    settings: CreateSettings,
    flusher: Mutex<Option<(CancellationToken, JoinHandle<()>)>>,
}

impl SpanMetricsConnector {
    /// A connector aggregating as `config` says into `next`. Does no I/O and starts no task.
    pub fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        if config.dimensions_cache_size.is_some() {
            settings.span().in_scope(|| {
                tracing::warn!(
                    "dimensions_cache_size is deprecated (Go replaced it with aggregation_cardinality_limit) and has no effect"
                )
            });
        }
        SpanMetricsConnector {
            aggregator: Arc::new(Mutex::new(Aggregator::new(config))),
            next,
            interval: config.metrics_flush_interval,
            settings: settings.clone(),
            flusher: Mutex::new(None),
        }
    }

    /// Sends the metrics aggregated so far now, as a flush interval ending would, and
    /// returns what the next consumer answered (nothing is sent if there are none).
    pub async fn flush(&self) -> Result<(), ConsumeError> {
        flush(&self.aggregator, &self.next, false).await
    }
}

fn lock(aggregator: &Mutex<Aggregator>) -> MutexGuard<'_, Aggregator> {
    // A panic while aggregating leaves counts that are still counts: keep going.
    aggregator.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends what `aggregator` holds to `next`; `last` at shutdown (see [`Aggregator::flush`]).
async fn flush(
    aggregator: &Mutex<Aggregator>,
    next: &Next<Metrics>,
    last: bool,
) -> Result<(), ConsumeError> {
    let request = lock(aggregator).flush(now_unix_nano(), last);
    match request {
        Some(request) => next.consume(Metrics::new(request)).await,
        None => Ok(()),
    }
}

#[async_trait]
impl Component for SpanMetricsConnector {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let stop = CancellationToken::new();
        let (aggregator, next, interval) =
            (self.aggregator.clone(), self.next.clone(), self.interval);
        let span = self.settings.span().clone();
        let stopped = stop.clone();
        let task = self.settings.spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                if let Err(error) = flush(&aggregator, &next, false).await {
                    span.in_scope(|| tracing::error!(%error, "failed to send span metrics"));
                }
            }
        });
        let previous = self
            .flusher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace((stop, task));
        if let Some((stop, _)) = previous {
            stop.cancel();
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let flusher = self
            .flusher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((stop, task)) = flusher {
            stop.cancel();
            // The task only ends by cancellation or a reported panic: either way it is done.
            let _ = task.await;
            // What the last interval gathered is sent rather than lost.
            if let Err(error) = flush(&self.aggregator, &self.next, true).await {
                self.settings.span().in_scope(
                    || tracing::error!(%error, "failed to send span metrics at shutdown"),
                );
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer<Traces> for SpanMetricsConnector {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        lock(&self.aggregator).aggregate(data.request(), now_unix_nano());
        Ok(())
    }
}
