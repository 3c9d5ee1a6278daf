//! The batch processor's own metrics, with the Go Collector's names.

use tributary_pipeline_core::component::ComponentId;
use tributary_pipeline_core::telemetry::{Counter, Gauge, MetricsRegistry};

/// Why a batch was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// `send_batch_size` items were pending (or `timeout` is 0).
    Size,
    /// The batch's `timeout` ran out, or the processor shut down with data pending.
    Timeout,
    /// No data arrived for `flush_when_quiet`.
    Quiet,
}

/// Counts what one batch processor sent, under `processor="<id>"`. Instances of the same
/// processor in several pipelines add to the same series.
///
/// `otelcol_processor_batch_batch_send_size` is a histogram in the Go Collector; its
/// `_sum` and `_count` series are kept here, enough for the mean batch size.
#[derive(Clone, Debug)]
pub(crate) struct BatchMetrics {
    send_size_sum: Counter,
    send_size_count: Counter,
    size_trigger: Counter,
    timeout_trigger: Counter,
    quiet_trigger: Counter,
    /// Partitions (distinct metadata-value combinations) alive now.
    pub cardinality: Gauge,
}

impl BatchMetrics {
    pub fn new(registry: &MetricsRegistry, processor: &ComponentId) -> Self {
        let id = processor.to_string();
        let labels = [("processor", id.as_str())];
        BatchMetrics {
            send_size_sum: registry.counter(
                "otelcol_processor_batch_batch_send_size_sum",
                "Number of units in the batches sent (sum of the batch size histogram).",
                &labels,
            ),
            send_size_count: registry.counter(
                "otelcol_processor_batch_batch_send_size_count",
                "Number of batches sent (count of the batch size histogram).",
                &labels,
            ),
            size_trigger: registry.counter(
                "otelcol_processor_batch_batch_size_trigger_send",
                "Number of times the batch was sent due to a size trigger.",
                &labels,
            ),
            timeout_trigger: registry.counter(
                "otelcol_processor_batch_timeout_trigger_send",
                "Number of times the batch was sent due to a timeout trigger.",
                &labels,
            ),
            quiet_trigger: registry.counter(
                "otelcol_processor_batch_quiet_trigger_send",
                "Number of times the batch was sent because no data arrived for flush_when_quiet.",
                &labels,
            ),
            cardinality: registry.gauge(
                "otelcol_processor_batch_metadata_cardinality",
                "Number of distinct metadata value combinations being processed.",
                &labels,
            ),
        }
    }

    /// Records a batch of `items` items handed downstream.
    pub fn record_send(&self, items: usize, trigger: Trigger) {
        self.send_size_sum.add(items as u64);
        self.send_size_count.inc();
        match trigger {
            Trigger::Size => self.size_trigger.inc(),
            Trigger::Timeout => self.timeout_trigger.inc(),
            Trigger::Quiet => self.quiet_trigger.inc(),
        }
    }
}
