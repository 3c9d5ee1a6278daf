//! `RecordQueue`: the batch (or simple) processor of the declarative schema for the
//! collector's own spans and log records: a bounded queue drained by one export task.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::telemetry::config::BatchProcessorConfig;

/// Records waiting for export: at most `capacity`; more are dropped and counted, so a
/// slow or dead backend never makes the collector's memory grow.
pub(crate) struct RecordQueue<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    batch: usize,
    delay: Duration,
    timeout: Duration,
    notify: Notify,
    dropped: AtomicU64,
}

impl<T: Send + 'static> RecordQueue<T> {
    /// A queue for `batch` (or, for `None`, a simple processor: every record exported at
    /// once, in order). `default_delay` is the signal's `schedule_delay` default.
    pub(crate) fn new(batch: Option<&BatchProcessorConfig>, default_delay: Duration) -> Self {
        let (capacity, size, delay, timeout) = match batch {
            Some(b) => (
                b.max_queue_size,
                b.max_export_batch_size,
                b.schedule_delay
                    .map_or(default_delay, Duration::from_millis),
                Duration::from_millis(b.export_timeout.unwrap_or(30_000)),
            ),
            // The SDK's simple processor exports synchronously; here the caller must not
            // wait, so records queue (bounded like the batch default) and go one by one.
            None => (2048, 1, Duration::ZERO, Duration::from_secs(30)),
        };
        RecordQueue {
            items: Mutex::new(VecDeque::new()),
            capacity,
            batch: size,
            delay,
            timeout,
            notify: Notify::new(),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues `item`, or drops it when the queue is full.
    pub(crate) fn push(&self, item: T) {
        let len = {
            let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
            if items.len() >= self.capacity {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            items.push_back(item);
            items.len()
        };
        if len >= self.batch {
            self.notify.notify_one();
        }
    }

    /// Records dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn take(&self) -> Vec<T> {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let n = items.len().min(self.batch);
        items.drain(..n).collect()
    }

    /// Exports batches until `stop`, then exports what is left. Each export is bounded by
    /// the processor's `export_timeout`.
    pub(crate) async fn run<F, Fut>(&self, stop: CancellationToken, export: F)
    where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            let stopping = tokio::select! {
                _ = stop.cancelled() => true,
                _ = self.notify.notified() => false,
                _ = tokio::time::sleep(self.delay), if !self.delay.is_zero() => false,
            };
            loop {
                let batch = self.take();
                if batch.is_empty() {
                    break;
                }
                let full = batch.len() == self.batch;
                let _ = tokio::time::timeout(self.timeout, export(batch)).await;
                if !full && !stopping {
                    break;
                }
            }
            if stopping {
                let dropped = self.dropped();
                if dropped > 0 {
                    tracing::warn!(
                        target: super::SELF_TARGET,
                        dropped,
                        "records of the collector's own telemetry were dropped: the export queue was full"
                    );
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn batch(queue: usize, size: usize) -> BatchProcessorConfig {
        BatchProcessorConfig {
            schedule_delay: Some(60_000),
            export_timeout: None,
            max_queue_size: queue,
            max_export_batch_size: size,
            exporter: crate::telemetry::config::PushExporter {
                otlp: None,
                otlp_http: None,
                otlp_grpc: None,
                console: Some(serde_json::Value::Null),
            },
        }
    }

    #[tokio::test]
    async fn full_batches_go_at_once_and_the_rest_at_stop() {
        let queue = Arc::new(RecordQueue::new(Some(&batch(10, 2)), Duration::ZERO));
        let exported = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (queue, exported, stop) = (queue.clone(), exported.clone(), stop.clone());
            async move {
                queue
                    .run(stop, |b: Vec<i32>| {
                        exported.lock().unwrap().push(b);
                        async {}
                    })
                    .await
            }
        });
        for i in 0..5 {
            queue.push(i);
        }
        crate::testing::eventually("two full batches", Duration::from_secs(5), || {
            (exported.lock().unwrap().len() >= 2).then_some(())
        })
        .await;
        stop.cancel();
        task.await.unwrap();
        assert_eq!(*exported.lock().unwrap(), [vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let queue = RecordQueue::new(Some(&batch(3, 3)), Duration::ZERO);
        for i in 0..5 {
            queue.push(i);
        }
        assert_eq!(queue.dropped(), 2);
        assert_eq!(queue.take(), [0, 1, 2]);
    }
}
