//! `PersistentQueue`: a sending queue kept in a storage extension.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{
    Completion, Delivery, Outcome, Queue, decode_record, encode_record, queue_full, shutting_down,
    too_large,
};
use crate::consumer::ConsumeError;
use crate::exporterhelper::{
    AppendError, Limit, RecordContent, Sizer, StorageError, StoredQueue, StoredRecord,
};
use crate::pdata::SignalData;
use crate::telemetry::{Counter, Gauge};

/// How long a reader waits before trying again after the storage failed to read.
const READ_RETRY: Duration = Duration::from_secs(1);

/// A sending queue whose requests live in a [`StoredQueue`].
///
/// Delivered and dropped requests are acknowledged (deleted); interrupted ones are
/// released, to be delivered again (after the restart, when shutdown interrupted them).
pub(crate) struct PersistentQueue<T> {
    store: RwLock<Option<Arc<dyn StoredQueue>>>,
    limit: Limit,
    block_on_overflow: bool,
    closed: CancellationToken,
    size_gauge: Gauge,
    enqueue_failed: Counter,
    _data: std::marker::PhantomData<fn() -> T>,
}

impl<T: SignalData> PersistentQueue<T> {
    pub fn new(
        store: Arc<dyn StoredQueue>,
        limit: Limit,
        block_on_overflow: bool,
        size_gauge: Gauge,
        enqueue_failed: Counter,
    ) -> Self {
        size_gauge.set(store.usage().get(limit.sizer) as i64);
        PersistentQueue {
            store: RwLock::new(Some(store)),
            limit,
            block_on_overflow,
            closed: CancellationToken::new(),
            size_gauge,
            enqueue_failed,
            _data: std::marker::PhantomData,
        }
    }

    fn store(&self) -> Option<Arc<dyn StoredQueue>> {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes everything so far durable and lets go of the storage (it closes once the
    /// last delivery still holding it completes).
    pub async fn release_storage(&self) -> Result<(), StorageError> {
        let store = self
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match store {
            Some(store) => store.sync().await,
            None => Ok(()),
        }
    }

    fn update_gauge(&self, store: &dyn StoredQueue) {
        self.size_gauge
            .set(store.usage().get(self.limit.sizer) as i64);
    }

    fn delivery(&self, store: Arc<dyn StoredQueue>, record: StoredRecord) -> Option<Delivery<T>> {
        let seq = record.seq;
        let decoded = match record.content {
            RecordContent::Cached(value) => value
                .downcast::<T>()
                .map(|data| (*data).clone())
                .map_err(|_| "cached value of another type".to_string()),
            RecordContent::Stored(bytes) => decode_record::<T>(bytes),
        };
        let data = match decoded {
            Ok(data) => data,
            Err(reason) => {
                tracing::error!(seq, %reason, "dropping an unreadable record from the persistent queue");
                store.ack(seq);
                return None;
            }
        };
        let gauge = self.size_gauge.clone();
        let sizer = self.limit.sizer;
        let done = Completion::new(move |outcome| {
            match outcome {
                Outcome::Delivered | Outcome::Dropped => store.ack(seq),
                Outcome::Interrupted => store.release(seq),
            }
            gauge.set(store.usage().get(sizer) as i64);
        });
        Some(Delivery { data, done })
    }
}

#[async_trait]
impl<T: SignalData> Queue<T> for PersistentQueue<T> {
    async fn offer(&self, data: T) -> Result<(), ConsumeError> {
        let items = data.item_count() as u64;
        let refuse = |error: ConsumeError| {
            self.enqueue_failed.add(items);
            Err(error)
        };
        let Some(store) = self.store().filter(|_| !self.closed.is_cancelled()) else {
            return refuse(shutting_down());
        };
        let record = encode_record(&data);
        let size = match self.limit.sizer {
            Sizer::Requests => 1,
            Sizer::Items => u64::from(record.items),
            Sizer::Bytes => record.len() as u64,
        };
        if size > self.limit.capacity {
            return refuse(too_large(size, self.limit.capacity, self.limit.sizer));
        }
        if items == 0 {
            return Ok(());
        }
        let appended = tokio::select! {
            appended = store.append(record, self.limit, self.block_on_overflow) => appended,
            () = self.closed.cancelled() => return refuse(shutting_down()),
        };
        self.update_gauge(&*store);
        match appended {
            Ok(()) => Ok(()),
            Err(AppendError::Full) => refuse(queue_full()),
            Err(AppendError::Storage(error)) => {
                tracing::warn!(%error, "cannot store data in the persistent queue; refusing it");
                refuse(ConsumeError::retryable(format!(
                    "the persistent queue cannot store the data: {error}"
                )))
            }
        }
    }

    async fn next(&self) -> Option<Delivery<T>> {
        loop {
            let store = self.store().filter(|_| !self.closed.is_cancelled())?;
            let record = tokio::select! {
                record = store.next() => record,
                () = self.closed.cancelled() => return None,
            };
            match record {
                Ok(record) => {
                    if let Some(delivery) = self.delivery(store, record) {
                        return Some(delivery);
                    }
                }
                Err(StorageError::Closed) => return None,
                Err(error) => {
                    tracing::error!(%error, "cannot read from the persistent queue; retrying in {READ_RETRY:?}");
                    tokio::select! {
                        () = tokio::time::sleep(READ_RETRY) => {}
                        () = self.closed.cancelled() => return None,
                    }
                }
            }
        }
    }

    fn close(&self) {
        self.closed.cancel();
    }

    fn is_durable(&self) -> bool {
        true
    }

    fn discard(&self) -> usize {
        0
    }
}
