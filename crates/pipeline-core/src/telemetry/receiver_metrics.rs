//! The Go Collector's receiver metrics: `otelcol_receiver_{accepted,refused}_<items>`.

use super::{Counter, MetricsRegistry};
use std::fmt::Display;
use std::time::SystemTime;

use super::FinishedSpan;

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
    spans: OperationSpans,
}

/// What a receive span is named and attributed with.
#[derive(Clone, Debug)]
struct OperationSpans {
    tracer: super::Tracer,
    /// `receiver/<id>/TraceDataReceived`.
    name: String,
    transport: String,
    accepted_key: String,
    refused_key: String,
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
        let operation = match signal {
            Signal::Traces => "TraceDataReceived",
            Signal::Metrics => "MetricsReceived",
            Signal::Logs => "LogsReceived",
        };
        let spans = OperationSpans {
            tracer: registry.tracer().clone(),
            name: format!("receiver/{id}/{operation}"),
            transport: transport.to_string(),
            accepted_key: format!("accepted_{item}"),
            refused_key: format!("refused_{item}"),
        };
        ReceiverMetrics {
            spans,
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

    /// Records the outcome as [`record`](Self::record) does, and the operation's span, as
    /// the Go Collector's receiver obsreport does: `receiver/<id>/TraceDataReceived` (or
    /// `MetricsReceived`, `LogsReceived`) with `transport`, `accepted_<items>` and
    /// `refused_<items>`, and the error as its status.
    pub fn record_operation(
        &self,
        started: SystemTime,
        items: usize,
        outcome: &Result<(), ConsumeError>,
    ) {
        self.record(items, outcome);
        let spans = &self.spans;
        spans.tracer.record(|| {
            let (accepted, refused) = match outcome {
                Ok(()) => (items as i64, 0),
                Err(_) => (0, items as i64),
            };
            let mut span = FinishedSpan::new(&spans.name, started, SystemTime::now())
                .with_str("transport", &spans.transport)
                .with_int(&spans.accepted_key, accepted)
                .with_int(&spans.refused_key, refused);
            span.error = outcome.as_ref().err().map(ToString::to_string);
            span
        });
    }

    /// Records `items` items the receiver could not read (malformed lines, datagrams or
    /// values), which never reached the pipeline.
    pub fn record_failed(&self, items: usize) {
        self.failed.add(items as u64);
    }
}
