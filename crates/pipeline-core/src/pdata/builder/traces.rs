//! The traces builder: spans with their IDs, times, kind, attributes, events and status.

use super::Batch;
use crate::pdata::Traces;
use crate::pdata::attributes::{IntoAnyValue, key_value};
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::KeyValue;
use crate::pdata::proto::trace::v1::span::{Event, SpanKind};
use crate::pdata::proto::trace::v1::status::StatusCode;
use crate::pdata::proto::trace::v1::{Span, Status};

/// Builds a [`Traces`] batch; see the [module docs](super).
///
/// ```
/// use tributary_pipeline_core::pdata::attributes::key_value;
/// use tributary_pipeline_core::pdata::builder::TracesBuilder;
/// use tributary_pipeline_core::pdata::proto::trace::v1::span::SpanKind;
/// use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
///
/// let mut builder = TracesBuilder::new();
/// builder
///     .resource(vec![key_value("service.name", "frontend")])
///     .scope("tributary/zipkin", "0.1.0");
/// builder
///     .span("GET /cart", [1; 16], [2; 8])
///     .kind(SpanKind::Server)
///     .times(1_000, 5_000)
///     .attribute("http.response.status_code", 500)
///     .event("exception", 4_000, vec![key_value("exception.type", "Timeout")])
///     .status(StatusCode::Error, "upstream timed out");
/// builder.span("SELECT cart", [1; 16], [3; 8]).parent([2; 8]).times(2_000, 3_000);
/// assert_eq!(builder.build().item_count(), 2);
/// ```
#[derive(Debug, Default)]
pub struct TracesBuilder {
    batch: Batch<ExportTraceServiceRequest>,
}

impl TracesBuilder {
    /// An empty batch.
    pub fn new() -> Self {
        TracesBuilder::default()
    }

    /// Starts a resource with these attributes; what follows goes into it.
    pub fn resource(&mut self, attributes: Vec<KeyValue>) -> &mut Self {
        self.batch.resource(attributes);
        self
    }

    /// Starts an instrumentation scope (name and version, either may be empty) in the
    /// current resource; what follows goes into it.
    pub fn scope(&mut self, name: &str, version: &str) -> &mut Self {
        self.batch.scope(name, version);
        self
    }

    /// Adds a span of trace `trace_id` with ID `span_id` to the current scope; set the rest
    /// on the returned builder.
    pub fn span(&mut self, name: &str, trace_id: [u8; 16], span_id: [u8; 8]) -> SpanBuilder<'_> {
        SpanBuilder(self.batch.push(Span {
            name: name.to_owned(),
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            ..Default::default()
        }))
    }

    /// Number of spans added so far.
    pub fn span_count(&self) -> usize {
        self.batch.item_count()
    }

    /// The batch.
    pub fn build(self) -> Traces {
        self.batch.build()
    }
}

/// Sets the fields of a span added by [`TracesBuilder::span`]. Times are nanoseconds since
/// the Unix epoch.
#[derive(Debug)]
pub struct SpanBuilder<'a>(&'a mut Span);

impl SpanBuilder<'_> {
    /// Sets the parent span (none: a root span).
    pub fn parent(&mut self, parent_span_id: [u8; 8]) -> &mut Self {
        self.0.parent_span_id = parent_span_id.to_vec();
        self
    }

    /// Sets the span kind (server, client, ...).
    pub fn kind(&mut self, kind: SpanKind) -> &mut Self {
        self.0.kind = kind as i32;
        self
    }

    /// Sets when the span started and ended.
    pub fn times(&mut self, start_time_unix_nano: u64, end_time_unix_nano: u64) -> &mut Self {
        self.0.start_time_unix_nano = start_time_unix_nano;
        self.0.end_time_unix_nano = end_time_unix_nano;
        self
    }

    /// Adds an attribute (without checking that the key is new).
    pub fn attribute(&mut self, key: &str, value: impl IntoAnyValue) -> &mut Self {
        self.0.attributes.push(key_value(key, value));
        self
    }

    /// Adds attributes (without checking that the keys are new).
    pub fn attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) -> &mut Self {
        self.0.attributes.extend(attributes);
        self
    }

    /// Adds an event that happened during the span.
    pub fn event(
        &mut self,
        name: &str,
        time_unix_nano: u64,
        attributes: Vec<KeyValue>,
    ) -> &mut Self {
        self.0.events.push(Event {
            name: name.to_owned(),
            time_unix_nano,
            attributes,
            ..Default::default()
        });
        self
    }

    /// Sets the status: OK, or error with a message (empty for unset).
    pub fn status(&mut self, code: StatusCode, message: &str) -> &mut Self {
        self.0.status = Some(Status {
            code: code as i32,
            message: message.to_owned(),
        });
        self
    }

    /// Sets the W3C trace state (`vendor=value,...`).
    pub fn trace_state(&mut self, trace_state: &str) -> &mut Self {
        self.0.trace_state = trace_state.to_owned();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::attributes::Attributes;

    #[test]
    fn spans_carry_what_was_set_in_the_scope_started_last() {
        let mut builder = TracesBuilder::new();
        builder.resource(vec![]).scope("a", "").scope("b", "");
        builder
            .span("s", [1; 16], [2; 8])
            .parent([3; 8])
            .kind(SpanKind::Client)
            .times(10, 20)
            .attribute("k", "v")
            .event("e", 15, vec![])
            .status(StatusCode::Ok, "")
            .trace_state("x=1");
        assert_eq!(builder.span_count(), 1);
        let request = builder.build().into_request();
        let scopes = &request.resource_spans[0].scope_spans;
        assert!(scopes[0].spans.is_empty());
        let span = &scopes[1].spans[0];
        assert_eq!((span.trace_id.len(), span.span_id.len()), (16, 8));
        assert_eq!(span.parent_span_id, [3; 8]);
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (10, 20)
        );
        assert_eq!(span.attributes.get_str("k"), Some("v"));
        assert_eq!(span.events[0].time_unix_nano, 15);
        assert_eq!(
            span.status.as_ref().map(|s| s.code),
            Some(StatusCode::Ok as i32)
        );
        assert_eq!(span.trace_state, "x=1");
    }
}
