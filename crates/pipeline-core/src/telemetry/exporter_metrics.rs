//! The Go Collector's exporter metrics: sent, send_failed, enqueue_failed, queue size.

use super::{Counter, Gauge, MetricsRegistry};
use std::fmt::Display;
use std::time::SystemTime;

use super::FinishedSpan;

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
    spans: ExportSpans,
}

/// What an export span is named and attributed with.
#[derive(Clone, Debug)]
struct ExportSpans {
    tracer: super::Tracer,
    exporter: String,
    /// `exporter/<id>/traces`.
    name: String,
    sent_key: String,
    failed_key: String,
}

impl ExporterMetrics {
    /// The metrics for `exporter`'s `signal` items.
    pub fn new(registry: &MetricsRegistry, exporter: &impl Display, signal: Signal) -> Self {
        let id = exporter.to_string();
        let item = signal.item_name();
        let labels = [("exporter", id.as_str())];
        let queue_labels = [("exporter", id.as_str()), ("data_type", signal.as_str())];
        let spans = ExportSpans {
            tracer: registry.tracer().clone(),
            exporter: id.clone(),
            name: format!("exporter/{id}/{}", signal.as_str()),
            sent_key: format!("sent_{item}"),
            failed_key: format!("send_failed_{item}"),
        };
        ExporterMetrics {
            spans,
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

    /// Records the span of one send (its retries included), as the Go Collector's
    /// exporter obsreport does: `exporter/<id>/<signal>` with `exporter`,
    /// `sent_<items>` and `send_failed_<items>`, and the error as its status.
    pub fn record_send_span(&self, started: SystemTime, items: u64, error: Option<String>) {
        let spans = &self.spans;
        spans.tracer.record(|| {
            let items = i64::try_from(items).unwrap_or(i64::MAX);
            let (sent, failed) = if error.is_some() {
                (0, items)
            } else {
                (items, 0)
            };
            let mut span = FinishedSpan::new(&spans.name, started, SystemTime::now())
                .with_str("exporter", &spans.exporter)
                .with_int(&spans.sent_key, sent)
                .with_int(&spans.failed_key, failed);
            span.error = error;
            span
        });
    }
}
