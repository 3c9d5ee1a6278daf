//! The Go Collector's receiver metrics: `otelcol_receiver_{accepted,refused}_<items>`.

use super::{Counter, MetricsRegistry};
use std::fmt::Display;

use crate::consumer::ConsumeError;
use crate::pdata::Signal;

/// Counts what one receiver, on one transport, handed to its pipeline.
///
/// Names and labels are the Go Collector's (`otelcol_receiver_accepted_spans{receiver,
/// transport}`), so existing dashboards work.
#[derive(Clone, Debug)]
pub struct ReceiverMetrics {
    accepted: Counter,
    refused: Counter,
    failed: Counter,
}

impl ReceiverMetrics {
    /// The counters for `receiver`'s `signal` items arriving over `transport` (`grpc`,
    /// `http`, ...).
    pub fn new(
        registry: &MetricsRegistry,
        receiver: &impl Display,
        transport: &str,
        signal: Signal,
    ) -> Self {
        let id = receiver.to_string();
        let labels = [("receiver", id.as_str()), ("transport", transport)];
        let item = signal.item_name();
        ReceiverMetrics {
            accepted: registry.counter(
                &format!("otelcol_receiver_accepted_{item}"),
                &format!("Number of {item} successfully pushed into the pipeline."),
                &labels,
            ),
            refused: registry.counter(
                &format!("otelcol_receiver_refused_{item}"),
                &format!("Number of {item} that could not be pushed into the pipeline."),
                &labels,
            ),
            failed: registry.counter(
                &format!("otelcol_receiver_failed_{item}"),
                &format!("Number of {item} the receiver could not read (malformed input)."),
                &labels,
            ),
        }
    }

    /// Records the outcome of handing `items` items to the pipeline.
    pub fn record(&self, items: usize, outcome: &Result<(), ConsumeError>) {
        match outcome {
            Ok(()) => self.accepted.add(items as u64),
            Err(_) => self.refused.add(items as u64),
        }
    }

    /// Records `items` items the receiver could not read (malformed lines, datagrams or
    /// values), which never reached the pipeline.
    pub fn record_failed(&self, items: usize) {
        self.failed.add(items as u64);
    }
}
