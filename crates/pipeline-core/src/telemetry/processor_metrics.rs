//! The Go Collector's processor metrics: `otelcol_processor_{incoming,outgoing}_items`.

use super::{Counter, MetricsRegistry};
use std::fmt::Display;

use crate::pdata::Signal;

/// Counts the items one processor was given and the items it handed on, for one signal.
/// The framework records them for every processor in every pipeline.
///
/// Names and labels are the Go Collector's processorhelper ones
/// (`otelcol_processor_incoming_items{processor, otel_signal}`), summed over the
/// pipelines the processor is in.
#[derive(Clone, Debug)]
pub struct ProcessorMetrics {
    /// Items given to the processor.
    pub incoming: Counter,
    /// Items the processor handed to its next consumer.
    pub outgoing: Counter,
}

impl ProcessorMetrics {
    /// The counters of `processor` for `signal`.
    pub fn new(registry: &MetricsRegistry, processor: &impl Display, signal: Signal) -> Self {
        let id = processor.to_string();
        let labels = [("processor", id.as_str()), ("otel_signal", signal.as_str())];
        ProcessorMetrics {
            incoming: registry.counter(
                "otelcol_processor_incoming_items",
                "Number of items passed to the processor.",
                &labels,
            ),
            outgoing: registry.counter(
                "otelcol_processor_outgoing_items",
                "Number of items emitted from the processor.",
                &labels,
            ),
        }
    }
}
