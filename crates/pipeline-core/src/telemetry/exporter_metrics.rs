//! The Go Collector's exporter metrics: sent, send_failed, enqueue_failed, queue size.

use super::{Counter, Gauge, MetricsRegistry};
use std::fmt::Display;

use crate::pdata::Signal;

/// Counts what one exporter did with one signal's items.
///
/// Names and labels are the Go Collector's: `otelcol_exporter_sent_spans{exporter}`,
/// `otelcol_exporter_send_failed_spans{exporter}`,
/// `otelcol_exporter_enqueue_failed_spans{exporter}`, and the gauges
/// `otelcol_exporter_queue_size{exporter,data_type}` and
/// `otelcol_exporter_queue_capacity{exporter,data_type}`.
#[derive(Clone, Debug)]
pub struct ExporterMetrics {
    /// Items the backend accepted.
    pub sent: Counter,
    /// Items given up on: permanent errors, or retries exhausted.
    pub send_failed: Counter,
    /// Items refused at the sending queue (full, or storage failing).
    pub enqueue_failed: Counter,
    /// Current queue size, in the queue's sizer unit (requests in flight included).
    pub queue_size: Gauge,
    /// Queue capacity, in the same unit.
    pub queue_capacity: Gauge,
}

impl ExporterMetrics {
    /// The metrics for `exporter`'s `signal` items.
    pub fn new(registry: &MetricsRegistry, exporter: &impl Display, signal: Signal) -> Self {
        let id = exporter.to_string();
        let item = signal.item_name();
        let labels = [("exporter", id.as_str())];
        let queue_labels = [("exporter", id.as_str()), ("data_type", signal.as_str())];
        ExporterMetrics {
            sent: registry.counter(
                &format!("otelcol_exporter_sent_{item}"),
                &format!("Number of {item} successfully sent to destination."),
                &labels,
            ),
            send_failed: registry.counter(
                &format!("otelcol_exporter_send_failed_{item}"),
                &format!("Number of {item} in failed attempts to send to destination."),
                &labels,
            ),
            enqueue_failed: registry.counter(
                &format!("otelcol_exporter_enqueue_failed_{item}"),
                &format!("Number of {item} failed to be added to the sending queue."),
                &labels,
            ),
            queue_size: registry.gauge(
                "otelcol_exporter_queue_size",
                "Current size of the retry queue (in batches, items or bytes, per the queue's sizer).",
                &queue_labels,
            ),
            queue_capacity: registry.gauge(
                "otelcol_exporter_queue_capacity",
                "Fixed capacity of the retry queue (in batches, items or bytes, per the queue's sizer).",
                &queue_labels,
            ),
        }
    }
}
