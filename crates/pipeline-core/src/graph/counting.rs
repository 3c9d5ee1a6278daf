//! [`Counting`]: a consumer that counts the items passing through it, so the graph records
//! every processor's incoming and outgoing items without the processor's help.

use std::sync::Arc;

use async_trait::async_trait;

use crate::consumer::{Capabilities, ConsumeError, Consumer, Next};
use crate::pdata::SignalData;
use crate::telemetry::Counter;

/// Counts the items of every call (whatever its outcome, as the Go Collector does) and
/// hands the call on unchanged.
pub(crate) struct Counting<T> {
    inner: Next<T>,
    items: Counter,
}

/// `inner`, counting into `items`.
pub(crate) fn counting<T: SignalData>(inner: Next<T>, items: Counter) -> Next<T> {
    Arc::new(Counting { inner, items })
}

#[async_trait]
impl<T: SignalData> Consumer<T> for Counting<T> {
    async fn consume(&self, data: T) -> Result<(), ConsumeError> {
        self.items.add(data.item_count() as u64);
        self.inner.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        self.items.add(data.item_count() as u64);
        self.inner.retry(data, previous).await
    }
}
