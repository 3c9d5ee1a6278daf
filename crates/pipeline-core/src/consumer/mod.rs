//! The consumer contract: how data moves from one component to the next.
//!
//! Every stage of a pipeline after the receiver is a [`Consumer`]: processors, exporters and
//! the [`Fanout`] that feeds several of them. A consumer is called concurrently, takes the
//! data by value (cheap: a [`Payload`](crate::pdata::Payload) is a shared handle), and
//! answers only once the data was handed off — queued, exported, or passed on and accepted
//! downstream. Its error says whether a retry can help ([`ConsumeError`]).

mod error;
mod fanout;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;

use crate::pdata::SignalData;

pub use error::{ConsumeError, ErrorKind};
pub use fanout::Fanout;

/// What a consumer does with the data it is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether the consumer edits the data. Edits go through
    /// [`Payload::make_mut`](crate::pdata::Payload::make_mut), which copies data that is
    /// still shared, so this is informational: it never decides who gets a copy.
    pub mutates_data: bool,
}

/// The next stage of a pipeline, as a component holds it.
pub type Next<T> = Arc<dyn Consumer<T>>;

/// A stage that accepts telemetry of one signal.
///
/// `consume` may be called concurrently from many tasks. It returns `Ok` only once the data
/// was handed off (queued, exported, or accepted downstream); a receiver then acknowledges
/// its client. Errors keep their [class](ErrorKind) so every layer above can act on them.
///
/// ```
/// use async_trait::async_trait;
/// use tributary_pipeline_core::consumer::{Consumer, ConsumeError};
/// use tributary_pipeline_core::pdata::Traces;
///
/// /// Refuses empty batches, accepts everything else.
/// struct NonEmpty;
///
/// #[async_trait]
/// impl Consumer<Traces> for NonEmpty {
///     async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
///         if data.is_empty() {
///             return Err(ConsumeError::permanent("empty batch"));
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Consumer<T: SignalData>: Send + Sync + 'static {
    /// Accepts `data`, or says why not.
    async fn consume(&self, data: T) -> Result<(), ConsumeError>;

    /// What this consumer does with data.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// Sends `data` again after `previous`, the error an earlier call with the same data
    /// returned. A consumer that delivers to several destinations (a [`Fanout`]) overrides
    /// this to re-deliver only where the earlier call failed; the default simply consumes
    /// again. Components that retry on behalf of their clients must call this, not
    /// `consume`, so that a retry never duplicates data where it already arrived.
    async fn retry(&self, data: T, previous: &ConsumeError) -> Result<(), ConsumeError> {
        let _ = previous;
        self.consume(data).await
    }
}
