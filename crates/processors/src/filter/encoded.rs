//! Filtering a payload still held as the bytes it arrived as.
//!
//! Dropping records does not need them decoded into owned structs and encoded again:
//! [`Payload::retain_encoded`](tributary_pipeline_core::pdata::Payload::retain_encoded)
//! hands each record over as its encoding, and the payload is rebuilt by copying the
//! bytes of what is kept. Each record is decoded with only the fields the conditions read
//! (a [`Projection`]): for `log.attributes["http.status"] < 400`, the attribute of that
//! key and the scalar fields, not the body, the other attributes or the ids. That is
//! most of a filter's cost: the decode allocates per string and per attribute.

use std::collections::BTreeSet;

use prost::Message;
use tributary_ottl::reads::FieldReads;
use tributary_ottl::{CompiledCondition, Field};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::encoded::{RecordFilter, fields};
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::metrics::v1::Metric;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

use super::processor::{Filters, drops_upper};

/// The protobuf wire type of length-delimited fields (strings, bytes, messages).
const LEN: u8 = 2;

/// Which fields of a record are decoded to decide on it. Scalar fields (numbers,
/// enums, timestamps) always are: they cost nothing to decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Projection {
    /// Length-delimited fields decoded, by field number (bit n: field n); `None`: the
    /// whole record.
    len_fields: Option<u64>,
    /// The record's attributes field number.
    attributes_tag: u32,
    /// When only some attributes are read: their keys.
    attribute_keys: Option<BTreeSet<String>>,
}

/// What reading a field of a record needs decoded.
enum Needs {
    /// Nothing beyond the scalars (or not a field of the record).
    Nothing,
    /// This length-delimited field.
    Field(u32),
    /// The attributes (some or all).
    Attributes,
    /// Everything (a field this module does not know).
    Everything,
}

/// A `LogRecord`'s length-delimited fields, by the OTTL fields that read them.
fn log_needs(field: Field) -> Needs {
    use Field::*;
    match field {
        LogSeverityText => Needs::Field(3),
        LogBody => Needs::Field(5),
        LogAttributes => Needs::Attributes,
        LogTraceId | LogTraceIdString => Needs::Field(9),
        LogSpanId | LogSpanIdString => Needs::Field(10),
        LogEventName => Needs::Field(12),
        LogTimeUnixNano
        | LogObservedTimeUnixNano
        | LogSeverityNumber
        | LogTime
        | LogObservedTime
        | LogDroppedAttributesCount
        | LogFlags => Needs::Nothing,
        _ => outside_the_record(field),
    }
}

/// A `Span`'s length-delimited fields, by the OTTL fields that read them.
fn span_needs(field: Field) -> Needs {
    use Field::*;
    match field {
        SpanTraceId | SpanTraceIdString => Needs::Field(1),
        SpanSpanId | SpanSpanIdString => Needs::Field(2),
        SpanTraceState => Needs::Field(3),
        SpanParentSpanId | SpanParentSpanIdString => Needs::Field(4),
        SpanName => Needs::Field(5),
        SpanAttributes => Needs::Attributes,
        SpanStatusCode | SpanStatusMessage => Needs::Field(15),
        SpanKind
        | SpanStartTimeUnixNano
        | SpanEndTimeUnixNano
        | SpanStartTime
        | SpanEndTime
        | SpanDroppedAttributesCount
        | SpanDroppedEventsCount
        | SpanDroppedLinksCount
        | SpanFlags => Needs::Nothing,
        _ => outside_the_record(field),
    }
}

/// Fields of the resource, the scope and the cache are not in the record; any other
/// needs the whole record, to be safe.
fn outside_the_record(field: Field) -> Needs {
    match field.context() {
        None
        | Some(tributary_ottl::ContextKind::Resource)
        | Some(tributary_ottl::ContextKind::Scope) => Needs::Nothing,
        Some(_) => Needs::Everything,
    }
}

impl Default for Projection {
    fn default() -> Self {
        Projection::whole()
    }
}

impl Projection {
    /// The whole record.
    pub(crate) fn whole() -> Projection {
        Projection {
            len_fields: None,
            attributes_tag: 0,
            attribute_keys: None,
        }
    }

    /// What the log record conditions read.
    pub(crate) fn logs<'a>(conditions: impl IntoIterator<Item = &'a CompiledCondition>) -> Self {
        Projection::of(conditions, 6, log_needs)
    }

    /// What the span conditions read.
    pub(crate) fn spans<'a>(conditions: impl IntoIterator<Item = &'a CompiledCondition>) -> Self {
        Projection::of(conditions, 9, span_needs)
    }

    fn of<'a>(
        conditions: impl IntoIterator<Item = &'a CompiledCondition>,
        attributes_tag: u32,
        needs: fn(Field) -> Needs,
    ) -> Projection {
        let mut len_fields = 0u64;
        let mut attribute_keys = Some(BTreeSet::new());
        for condition in conditions {
            let reads = condition.reads();
            if reads.whole_item {
                return Projection::whole();
            }
            for (field, how) in reads.fields {
                match needs(field) {
                    Needs::Nothing => {}
                    Needs::Field(tag) => len_fields |= 1 << tag,
                    Needs::Attributes => {
                        len_fields |= 1 << attributes_tag;
                        match (how, &mut attribute_keys) {
                            (FieldReads::Keys(keys), Some(known)) => known.extend(keys),
                            _ => attribute_keys = None,
                        }
                    }
                    Needs::Everything => return Projection::whole(),
                }
            }
        }
        Projection {
            len_fields: Some(len_fields),
            attributes_tag,
            attribute_keys,
        }
    }

    /// Decodes a record with the projected fields only (`scratch` holds their bytes).
    pub(crate) fn decode<M: Message + Default>(
        &self,
        record: &[u8],
        scratch: &mut Vec<u8>,
    ) -> Result<M, ConsumeError> {
        let Some(len_fields) = self.len_fields else {
            return M::decode(record).map_err(undecodable);
        };
        scratch.clear();
        for field in fields(record) {
            let field = field.map_err(undecodable)?;
            let keep = field.wire_type != LEN
                || (field.tag < 64
                    && len_fields & (1 << field.tag) != 0
                    && (field.tag != self.attributes_tag || self.wants_attribute(field.value)));
            if keep {
                scratch.extend_from_slice(field.encoded);
            }
        }
        M::decode(&scratch[..]).map_err(undecodable)
    }

    /// Whether an attribute (an encoded `KeyValue`) is one of those read.
    fn wants_attribute(&self, key_value: &[u8]) -> bool {
        let Some(keys) = &self.attribute_keys else {
            return true;
        };
        // The key is field 1; given twice, the last one counts. Bytes equal to a key are
        // that key: no UTF-8 check is needed to compare.
        let mut key: &[u8] = &[];
        for field in fields(key_value) {
            match field {
                Ok(field) if field.tag == 1 && field.wire_type == LEN => key = field.value,
                Ok(_) => {}
                // Not reached for bytes checked on receipt; keeping it is always right.
                Err(_) => return true,
            }
        }
        keys.iter().any(|wanted| wanted.as_bytes() == key)
    }
}

/// Records accepted on receipt always decode; should one not, the request is refused.
fn undecodable(error: impl std::fmt::Display) -> ConsumeError {
    ConsumeError::permanent(format!("filter: cannot decode a record: {error}"))
}

/// Which records of a signal an [`EncodedFilter`] decides on.
#[derive(Clone, Copy)]
pub(crate) enum Records {
    Spans,
    Metrics,
    Logs,
}

/// A filter's decisions on an encoded payload of one signal.
pub(crate) struct EncodedFilter<'a> {
    filters: &'a Filters,
    records: Records,
    cache: Vec<KeyValue>,
    scratch: Vec<u8>,
}

impl<'a> EncodedFilter<'a> {
    pub(crate) fn new(filters: &'a Filters, records: Records) -> Self {
        EncodedFilter {
            filters,
            records,
            cache: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl RecordFilter for EncodedFilter<'_> {
    type Error = ConsumeError;

    fn keep_resource(&mut self, resource: &mut Option<Resource>) -> Result<bool, ConsumeError> {
        let lists = self.filters.resource_lists(self.records);
        Ok(!drops_upper(lists, resource, None, &mut self.cache)?)
    }

    fn keep_scope(
        &mut self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
    ) -> Result<bool, ConsumeError> {
        let lists = self.filters.scope_lists(self.records);
        Ok(!drops_upper(lists, resource, Some(scope), &mut self.cache)?)
    }

    fn keep_record(
        &mut self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        record: &[u8],
    ) -> Result<bool, ConsumeError> {
        let filters = self.filters;
        let (cache, scratch) = (&mut self.cache, &mut self.scratch);
        match self.records {
            Records::Spans => {
                let mut span: Span = filters.span_projection.decode(record, scratch)?;
                filters.keep_span(resource, scope, &mut span, cache)
            }
            Records::Metrics => {
                let mut metric = Metric::decode(record).map_err(undecodable)?;
                filters.keep_metric(resource, scope, &mut metric, cache)
            }
            Records::Logs => {
                let mut log: LogRecord = filters.log_projection.decode(record, scratch)?;
                filters.keep_log(resource, scope, &mut log, cache)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tributary_ottl::{ContextKind, compile_condition};
    use tributary_pipeline_core::pdata::attributes::key_value;

    use super::*;

    fn projection(conditions: &[&str]) -> Projection {
        let compiled: Vec<CompiledCondition> = conditions
            .iter()
            .map(|c| compile_condition(c, ContextKind::Log).unwrap())
            .collect();
        Projection::logs(&compiled)
    }

    fn record() -> LogRecord {
        LogRecord {
            time_unix_nano: 7,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(tributary_pipeline_core::pdata::proto::common::v1::AnyValue {
                value: Some(
                    tributary_pipeline_core::pdata::proto::common::v1::any_value::Value::StringValue(
                        "a long body".into(),
                    ),
                ),
            }),
            attributes: vec![key_value("a", 1i64), key_value("b", "x"), key_value("a", 2i64)],
            trace_id: vec![1; 16],
            ..Default::default()
        }
    }

    fn decode(projection: &Projection) -> LogRecord {
        projection
            .decode(&record().encode_to_vec(), &mut Vec::new())
            .unwrap()
    }

    #[test]
    fn only_the_keys_read_are_decoded_with_every_scalar() {
        let decoded = decode(&projection(&[r#"log.attributes["a"] > 1"#]));
        assert_eq!(
            decoded,
            LogRecord {
                time_unix_nano: 7,
                severity_number: 9,
                attributes: vec![key_value("a", 1i64), key_value("a", 2i64)],
                ..Default::default()
            }
        );
    }

    #[test]
    fn fields_read_are_decoded_and_a_whole_read_takes_every_attribute() {
        let decoded = decode(&projection(&[
            r#"log.severity_text == "INFO""#,
            r#"Len(log.attributes) > 0"#,
        ]));
        assert_eq!(decoded.severity_text, "INFO");
        assert_eq!(decoded.attributes, record().attributes);
        assert_eq!(decoded.body, None);
        assert!(decoded.trace_id.is_empty());
    }

    #[test]
    fn resource_and_scope_reads_need_nothing_of_the_record() {
        let decoded = decode(&projection(&[
            r#"resource.attributes["service.name"] == "x" and instrumentation_scope.name == "y""#,
        ]));
        assert!(decoded.attributes.is_empty());
        assert_eq!(decoded.severity_number, 9);
    }

    #[test]
    fn functions_that_read_the_item_get_all_of_it() {
        let compiled = compile_condition("IsRootSpan()", ContextKind::Span).unwrap();
        assert_eq!(Projection::spans([&compiled]), Projection::whole());
    }
}
