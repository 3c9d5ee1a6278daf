//! The logs builder: records with body, severity, attributes, times and trace context.

use super::Batch;
use crate::pdata::Logs;
use crate::pdata::attributes::{IntoAnyValue, key_value};
use crate::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::pdata::proto::common::v1::KeyValue;
use crate::pdata::proto::logs::v1::{LogRecord, SeverityNumber};

/// Builds a [`Logs`] batch; see the [module docs](super).
///
/// ```
/// use tributary_pipeline_core::pdata::attributes::key_value;
/// use tributary_pipeline_core::pdata::builder::LogsBuilder;
/// use tributary_pipeline_core::pdata::proto::logs::v1::SeverityNumber;
///
/// let mut builder = LogsBuilder::new();
/// builder
///     .resource(vec![key_value("host.name", "db-1")])
///     .scope("tributary/syslog", "0.1.0");
/// builder
///     .record("disk almost full")
///     .severity(SeverityNumber::Warn, "warning")
///     .time(1_700_000_000_000_000_000)
///     .attribute("disk", "/dev/sda1")
///     .attribute("used.ratio", 0.93)
///     .trace_context([1; 16], [2; 8], 1);
/// let logs = builder.build();
/// assert_eq!(logs.item_count(), 1);
/// ```
#[derive(Debug, Default)]
pub struct LogsBuilder {
    batch: Batch<ExportLogsServiceRequest>,
}

impl LogsBuilder {
    /// An empty batch.
    pub fn new() -> Self {
        LogsBuilder::default()
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

    /// Adds a record with this body (a string, number, bool or any OTLP value) to the
    /// current scope; set the rest on the returned builder.
    pub fn record(&mut self, body: impl IntoAnyValue) -> LogRecordBuilder<'_> {
        LogRecordBuilder(self.batch.push(LogRecord {
            body: Some(body.into_any_value()),
            ..Default::default()
        }))
    }

    /// Number of log records added so far.
    pub fn record_count(&self) -> usize {
        self.batch.item_count()
    }

    /// The batch.
    pub fn build(self) -> Logs {
        self.batch.build()
    }
}

/// Sets the fields of a record added by [`LogsBuilder::record`]. Times are nanoseconds
/// since the Unix epoch.
#[derive(Debug)]
pub struct LogRecordBuilder<'a>(&'a mut LogRecord);

impl LogRecordBuilder<'_> {
    /// Sets the severity: the number (what backends compare) and the text as the source
    /// wrote it (`"warning"`, `"E"`), which may be empty.
    pub fn severity(&mut self, number: SeverityNumber, text: &str) -> &mut Self {
        self.0.severity_number = number as i32;
        self.0.severity_text = text.to_owned();
        self
    }

    /// Sets only the severity text, leaving the number unspecified.
    pub fn severity_text(&mut self, text: &str) -> &mut Self {
        self.0.severity_text = text.to_owned();
        self
    }

    /// Sets when the event happened.
    pub fn time(&mut self, time_unix_nano: u64) -> &mut Self {
        self.0.time_unix_nano = time_unix_nano;
        self
    }

    /// Sets when the collector saw the event.
    pub fn observed_time(&mut self, observed_time_unix_nano: u64) -> &mut Self {
        self.0.observed_time_unix_nano = observed_time_unix_nano;
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

    /// Sets the trace context: the trace and span the record was emitted in, and the W3C
    /// trace flags (1: sampled).
    pub fn trace_context(&mut self, trace_id: [u8; 16], span_id: [u8; 8], flags: u8) -> &mut Self {
        self.0.trace_id = trace_id.to_vec();
        self.0.span_id = span_id.to_vec();
        self.0.flags = u32::from(flags);
        self
    }

    /// Sets the event name, for records that are events.
    pub fn event_name(&mut self, name: &str) -> &mut Self {
        self.0.event_name = name.to_owned();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::attributes::{Attributes, any_value};

    #[test]
    fn records_carry_what_was_set() {
        let mut builder = LogsBuilder::new();
        builder.scope("app", "2");
        builder
            .record(42)
            .severity(SeverityNumber::Error, "E")
            .time(5)
            .observed_time(6)
            .attribute("a", true)
            .attributes([key_value("b", "x")])
            .trace_context([7; 16], [8; 8], 1)
            .event_name("boom");
        builder.record("second");
        assert_eq!(builder.record_count(), 2);
        let request = builder.build().into_request();
        let scope = &request.resource_logs[0].scope_logs[0];
        assert_eq!(scope.scope.as_ref().map(|s| s.version.as_str()), Some("2"));
        let record = &scope.log_records[0];
        assert_eq!(record.body, Some(any_value(42)));
        assert_eq!(record.severity_number, SeverityNumber::Error as i32);
        assert_eq!(record.severity_text, "E");
        assert_eq!(
            (record.time_unix_nano, record.observed_time_unix_nano),
            (5, 6)
        );
        assert_eq!(record.attributes.get_bool("a"), Some(true));
        assert_eq!(record.attributes.get_str("b"), Some("x"));
        assert_eq!(record.trace_id, [7; 16]);
        assert_eq!(record.span_id, [8; 8]);
        assert_eq!(record.flags, 1);
        assert_eq!(record.event_name, "boom");
    }
}
