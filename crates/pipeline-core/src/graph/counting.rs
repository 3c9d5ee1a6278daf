//! [`Counting`]: a consumer that counts the items passing through it, so the graph records
//! every processor's incoming and outgoing items without the processor's help.

use std::sync::Arc;

use async_trait::async_trait;

use crate::consumer::{Capabilities, ConsumeError, Consumer, Next};
use crate::pdata::SignalData;
use crate::telemetry::Counter;

/// Counts the items of every call into each of its counters (whatever the outcome, as
/// the Go Collector does) and hands the call on unchanged.
pub(crate) struct Counting<T> {
    inner: Next<T>,
    counters: Box<[Counter]>,
}

/// `inner`, counting into every one of `counters`.
pub(crate) fn counting<T: SignalData>(inner: Next<T>, counters: Vec<Counter>) -> Next<T> {
    Arc::new(Counting {
        inner,
        counters: counters.into_boxed_slice(),
    })
}

impl<T: SignalData> Counting<T> {
    fn count(&self, data: &T) {
        let items = data.item_count() as u64;
        for counter in &self.counters {
            counter.add(items);
        }
    }
}

#[async_trait]
impl<T: SignalData> Consumer<T> for Counting<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        self.count(&data);
        self.inner.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        self.count(&data);
        self.inner.retry(data, previous).await
    }
}
