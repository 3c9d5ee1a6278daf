//! Dropping whole records of a payload on its protobuf encoding, without decoding it.
//!
//! A processor that only keeps or drops records (spans, log records, metrics) — a filter —
//! need not decode a request into owned structs and encode what is left: with
//! [`Payload::retain_encoded`] it sees each resource and scope decoded (once each) and each
//! record as its encoded bytes, decodes from those only what it needs to decide, and the
//! payload is rebuilt by copying the bytes of what is kept. A payload from which nothing is
//! dropped keeps the bytes it arrived as.
//!
//! [`fields`] reads the fields of one encoded message, for deciding on a record's bytes.

use bytes::Bytes;
use prost::Message;

use super::encode::{delimited_len, header};
use super::payload::{OtlpRequest, Payload};
use super::proto::common::v1::InstrumentationScope;
use super::proto::resource::v1::Resource;
use super::walker::{self, Invalid, LEN, RECURSION_LIMIT};

/// Decides, resource by resource, scope by scope and record by record, what
/// [`Payload::retain_encoded`] keeps.
///
/// `resource` and `scope` are `None` where the request leaves them out; they are given
/// mutably for callers whose evaluation needs it, but what is kept is the bytes as they
/// came, so a change to them is not kept. The two first methods keep everything unless
/// overridden.
pub trait RecordFilter {
    /// What stops the filtering (the payload is then left as it was).
    type Error;

    /// Whether to keep a resource; dropping it drops all its records unseen.
    fn keep_resource(&mut self, resource: &mut Option<Resource>) -> Result<bool, Self::Error> {
        let _ = resource;
        Ok(true)
    }

    /// Whether to keep a scope; dropping it drops all its records unseen.
    fn keep_scope(
        &mut self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
    ) -> Result<bool, Self::Error> {
        let _ = (resource, scope);
        Ok(true)
    }

    /// Whether to keep a record (a `Span`, `LogRecord` or `Metric`), given its encoding.
    fn keep_record(
        &mut self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        record: &[u8],
    ) -> Result<bool, Self::Error>;
}

/// One field of an encoded message.
#[derive(Clone, Copy, Debug)]
pub struct WireField<'a> {
    /// The field number.
    pub tag: u32,
    /// The wire type: 0 varint, 1 64-bit, 2 length-delimited, 3 group, 5 32-bit.
    pub wire_type: u8,
    /// A length-delimited field's content (without its length); empty for other types.
    pub value: &'a [u8],
    /// The whole field as encoded: key, length and value.
    pub encoded: &'a [u8],
}

/// The fields of one encoded message (without its length prefix), in order. Ends with an
/// `Err` on malformed bytes.
pub fn fields(message: &[u8]) -> impl Iterator<Item = Result<WireField<'_>, FieldError>> {
    let mut rest = message;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let next = next_field(&mut rest).map_err(|Invalid(reason)| FieldError(reason));
        if next.is_err() {
            rest = &[];
        }
        Some(next)
    })
}

/// Bytes that are not a well-formed protobuf message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf: {0}")]
pub struct FieldError(&'static str);

fn next_field<'a>(buf: &mut &'a [u8]) -> Result<WireField<'a>, Invalid> {
    let start = *buf;
    let (tag, wire_type) = walker::key(buf)?;
    let value = if wire_type == LEN {
        walker::delimited(buf)?
    } else {
        walker::skip_field(wire_type, tag, buf, RECURSION_LIMIT)?;
        &[]
    };
    let encoded = &start[..start.len() - buf.len()];
    Ok(WireField {
        tag,
        wire_type,
        value,
        encoded,
    })
}

/// The field number of the resource in a request, of the resource (or scope) in a
/// resource (or scope) entry, and of the scopes (or records) in those.
const LIST: u32 = 1;
const HEADER: u32 = 1;
const CHILDREN: u32 = 2;

/// What the first pass decided, read back in the same order by the second.
#[derive(Default)]
struct Plan {
    /// Per resource entry: kept, and its new content length.
    resources: Vec<(bool, usize)>,
    /// Per scope entry of a kept resource: kept, and its new content length.
    scopes: Vec<(bool, usize)>,
    /// Per record of a kept scope: kept. (A resource or scope left empty takes the
    /// decisions made inside it back: the writer skips it unread.)
    records: Vec<bool>,
    kept_items: usize,
    changed: bool,
}

/// Why planning stopped.
enum Stop<E> {
    Invalid,
    Filter(E),
}

impl<E> From<Invalid> for Stop<E> {
    fn from(_: Invalid) -> Self {
        Stop::Invalid
    }
}

/// Decodes a header (resource or scope) given as one or more fields, merged as the
/// protobuf decoder merges a repeated singular message field.
fn decode_header<M: Message + Default>(message: &[u8]) -> Result<Option<M>, Invalid> {
    let mut header: Option<M> = None;
    for field in fields(message) {
        let field = field.map_err(|FieldError(reason)| Invalid(reason))?;
        if field.tag == HEADER && field.wire_type == LEN {
            header
                .get_or_insert_default()
                .merge(field.value)
                .map_err(|_| Invalid("a header does not decode"))?;
        }
    }
    Ok(header)
}

impl Plan {
    fn request<F: RecordFilter>(
        &mut self,
        signal: super::Signal,
        request: &[u8],
        filter: &mut F,
    ) -> Result<(), Stop<F::Error>> {
        for field in fields(request) {
            let field = field.map_err(|_| Stop::Invalid)?;
            if field.tag == LIST && field.wire_type == LEN {
                self.resource(signal, field.value, filter)?;
            }
        }
        Ok(())
    }

    fn resource<F: RecordFilter>(
        &mut self,
        signal: super::Signal,
        entry: &[u8],
        filter: &mut F,
    ) -> Result<(), Stop<F::Error>> {
        let mut resource: Option<Resource> = decode_header(entry)?;
        let index = self.resources.len();
        self.resources.push((false, 0));
        if !filter.keep_resource(&mut resource).map_err(Stop::Filter)? {
            self.changed = true;
            return Ok(());
        }
        let (first_scope, first_record) = (self.scopes.len(), self.records.len());
        let (mut len, mut kept_scopes) = (0, 0);
        for field in fields(entry) {
            let field = field.map_err(|_| Stop::Invalid)?;
            if field.tag == CHILDREN && field.wire_type == LEN {
                if let Some(scope_len) = self.scope(signal, &mut resource, field.value, filter)? {
                    len += delimited_len(CHILDREN, scope_len);
                    kept_scopes += 1;
                }
            } else {
                len += field.encoded.len();
            }
        }
        if kept_scopes == 0 {
            // A resource left without scopes goes, as in the Go Collector; the writer
            // skips it whole, so it reads none of the decisions taken inside it.
            self.changed = true;
            self.scopes.truncate(first_scope);
            self.records.truncate(first_record);
            return Ok(());
        }
        self.resources[index] = (true, len);
        Ok(())
    }

    /// Plans a scope entry; returns its new content length if it is kept.
    fn scope<F: RecordFilter>(
        &mut self,
        signal: super::Signal,
        resource: &mut Option<Resource>,
        entry: &[u8],
        filter: &mut F,
    ) -> Result<Option<usize>, Stop<F::Error>> {
        let mut scope: Option<InstrumentationScope> = decode_header(entry)?;
        let index = self.scopes.len();
        self.scopes.push((false, 0));
        if !filter
            .keep_scope(resource, &mut scope)
            .map_err(Stop::Filter)?
        {
            self.changed = true;
            return Ok(None);
        }
        let first_record = self.records.len();
        let (mut len, mut kept) = (0, 0);
        for field in fields(entry) {
            let field = field.map_err(|_| Stop::Invalid)?;
            if field.tag == CHILDREN && field.wire_type == LEN {
                let keep = filter
                    .keep_record(resource, &mut scope, field.value)
                    .map_err(Stop::Filter)?;
                self.records.push(keep);
                if keep {
                    len += field.encoded.len();
                    kept += 1;
                    self.kept_items += walker::leaf_items(signal, field.value)?;
                } else {
                    self.changed = true;
                }
            } else {
                len += field.encoded.len();
            }
        }
        if kept == 0 {
            self.changed = true;
            self.records.truncate(first_record);
            return Ok(None);
        }
        self.scopes[index] = (true, len);
        Ok(Some(len))
    }
}

/// Writes what the plan keeps, reading its decisions back in order.
struct Writer<'p> {
    resources: std::slice::Iter<'p, (bool, usize)>,
    scopes: std::slice::Iter<'p, (bool, usize)>,
    records: std::slice::Iter<'p, bool>,
    out: Vec<u8>,
}

impl Writer<'_> {
    fn request(&mut self, request: &[u8]) {
        for field in fields(request).map_while(Result::ok) {
            if field.tag == LIST && field.wire_type == LEN {
                let Some(&(keep, len)) = self.resources.next() else {
                    return;
                };
                if keep {
                    header(LIST, len, &mut self.out);
                    self.resource(field.value);
                }
            } else {
                self.out.extend_from_slice(field.encoded);
            }
        }
    }

    fn resource(&mut self, entry: &[u8]) {
        for field in fields(entry).map_while(Result::ok) {
            if field.tag == CHILDREN && field.wire_type == LEN {
                let Some(&(keep, len)) = self.scopes.next() else {
                    return;
                };
                if keep {
                    header(CHILDREN, len, &mut self.out);
                    self.scope(field.value);
                }
            } else {
                self.out.extend_from_slice(field.encoded);
            }
        }
    }

    fn scope(&mut self, entry: &[u8]) {
        for field in fields(entry).map_while(Result::ok) {
            if field.tag == CHILDREN && field.wire_type == LEN {
                if self.records.next() == Some(&true) {
                    self.out.extend_from_slice(field.encoded);
                }
            } else {
                self.out.extend_from_slice(field.encoded);
            }
        }
    }
}

impl<R: OtlpRequest> Payload<R> {
    /// Keeps the records `filter` keeps, working on the payload's encoding: see the
    /// [module docs](super::encoded). Returns how many items were dropped, or `None`
    /// when the payload is not held as bytes (it was built or already decoded): the
    /// caller then edits the decoded request instead.
    ///
    /// Scopes and resources left without records are dropped, as the Go Collector's
    /// filter does. On an error from `filter` the payload is left as it was.
    pub fn retain_encoded<F: RecordFilter>(
        &mut self,
        filter: &mut F,
    ) -> Result<Option<usize>, F::Error> {
        if self.is_decoded() {
            return Ok(None);
        }
        let parts = self.encoded_parts();
        let mut plan = Plan::default();
        for part in parts {
            match plan.request(R::SIGNAL, part, filter) {
                Ok(()) => {}
                // Bytes accepted on receipt are well-formed: not reached.
                Err(Stop::Invalid) => return Ok(None),
                Err(Stop::Filter(error)) => return Err(error),
            }
        }
        if !plan.changed {
            return Ok(Some(0));
        }
        let kept_len: usize = plan
            .resources
            .iter()
            .filter(|(keep, _)| *keep)
            .map(|&(_, len)| delimited_len(LIST, len))
            .sum();
        let mut writer = Writer {
            resources: plan.resources.iter(),
            scopes: plan.scopes.iter(),
            records: plan.records.iter(),
            out: Vec::with_capacity(kept_len),
        };
        for part in parts {
            writer.request(part);
        }
        let before = self.item_count();
        let rebuilt = Payload::from_unchecked_bytes(Bytes::from(writer.out), plan.kept_items);
        *self = match self.metadata() {
            Some(metadata) => rebuilt.with_metadata(metadata.clone()),
            None => rebuilt,
        };
        Ok(Some(before.saturating_sub(plan.kept_items)))
    }
}

/// The parts [`Payload::partition_encoded`] makes: `(part, payload)`, parts ascending.
pub type Parts<R> = Vec<(usize, Payload<R>)>;

/// Records every record's part, keeping everything (the classifying pass of
/// [`Payload::partition_encoded`]).
struct Classify<'a, F> {
    classify: &'a mut F,
    parts: Vec<usize>,
}

impl<E, F> RecordFilter for Classify<'_, F>
where
    F: FnMut(&mut Option<Resource>, &mut Option<InstrumentationScope>, &[u8]) -> Result<usize, E>,
{
    type Error = E;

    fn keep_record(
        &mut self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        record: &[u8],
    ) -> Result<bool, E> {
        self.parts.push((self.classify)(resource, scope, record)?);
        Ok(true)
    }
}

/// Keeps the records of one part, reading the classifying pass's decisions back in
/// order (every pass sees every record: no resource or scope is dropped unseen).
struct KeepPart<'a> {
    parts: std::slice::Iter<'a, usize>,
    part: usize,
}

impl RecordFilter for KeepPart<'_> {
    type Error = std::convert::Infallible;

    fn keep_record(
        &mut self,
        _: &mut Option<Resource>,
        _: &mut Option<InstrumentationScope>,
        _: &[u8],
    ) -> Result<bool, Self::Error> {
        Ok(self.parts.next() == Some(&self.part))
    }
}

impl<R: OtlpRequest> Payload<R> {
    /// Splits a payload held as bytes into parts, without decoding it: `classify` gives
    /// each record (a `Span`, `LogRecord` or `Metric`, as its encoding, with its resource
    /// and scope decoded) the number of its part. Returns `(part, payload)` pairs, parts
    /// ascending, each with the records of its part in their order, inside their resource
    /// and scope; the payload itself, bytes included, when every record goes to one part;
    /// no pairs when it has no records. `None` when the payload is not held as bytes: the
    /// caller then partitions the decoded request. Each part keeps the client metadata.
    pub fn partition_encoded<E, F>(&self, mut classify: F) -> Result<Option<Parts<R>>, E>
    where
        F: FnMut(
            &mut Option<Resource>,
            &mut Option<InstrumentationScope>,
            &[u8],
        ) -> Result<usize, E>,
    {
        let mut pass = Classify {
            classify: &mut classify,
            parts: Vec::new(),
        };
        if self.clone().retain_encoded(&mut pass)?.is_none() {
            return Ok(None);
        }
        let parts = pass.parts;
        let Some(&first) = parts.first() else {
            return Ok(Some(Vec::new()));
        };
        if parts.iter().all(|&p| p == first) {
            return Ok(Some(vec![(first, self.clone())]));
        }
        let mut distinct = parts.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut out = Vec::with_capacity(distinct.len());
        for part in distinct {
            let mut piece = self.clone();
            let mut keep = KeepPart {
                parts: parts.iter(),
                part,
            };
            match piece.retain_encoded(&mut keep) {
                Ok(Some(_)) => out.push((part, piece)),
                // The first pass read these same bytes.
                Ok(None) => return Ok(None),
                Err(never) => match never {},
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
    use crate::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

    use crate::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use crate::pdata::{ClientMetadata, Logs, Metrics};

    /// Drops resources with a `drop` attribute, scopes named `drop`, and records whose
    /// severity number is a multiple of 3; counts what it was shown.
    #[derive(Default)]
    struct Marked {
        records_seen: usize,
    }

    fn resource_dropped(resource: &Option<Resource>) -> bool {
        resource
            .as_ref()
            .is_some_and(|r| r.attributes.iter().any(|kv| kv.key == "drop"))
    }

    fn scope_dropped(scope: &Option<InstrumentationScope>) -> bool {
        scope.as_ref().is_some_and(|s| s.name == "drop")
    }

    fn record_dropped(record: &LogRecord) -> bool {
        record.severity_number % 3 == 0
    }

    impl RecordFilter for Marked {
        type Error = String;
        fn keep_resource(&mut self, resource: &mut Option<Resource>) -> Result<bool, String> {
            Ok(!resource_dropped(resource))
        }
        fn keep_scope(
            &mut self,
            _: &mut Option<Resource>,
            scope: &mut Option<InstrumentationScope>,
        ) -> Result<bool, String> {
            Ok(!scope_dropped(scope))
        }
        fn keep_record(
            &mut self,
            _: &mut Option<Resource>,
            _: &mut Option<InstrumentationScope>,
            record: &[u8],
        ) -> Result<bool, String> {
            self.records_seen += 1;
            let record = LogRecord::decode(record).map_err(|e| e.to_string())?;
            if record.severity_number == 100 {
                return Err("refused".into());
            }
            Ok(!record_dropped(&record))
        }
    }

    /// The same decisions on the decoded request.
    fn expected(mut request: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
        request.resource_logs.retain_mut(|rl| {
            if resource_dropped(&rl.resource) {
                return false;
            }
            rl.scope_logs.retain_mut(|sl| {
                if scope_dropped(&sl.scope) {
                    return false;
                }
                sl.log_records.retain(|r| !record_dropped(r));
                !sl.log_records.is_empty()
            });
            !rl.scope_logs.is_empty()
        });
        request
    }

    fn attribute(key: &str) -> KeyValue {
        crate::pdata::attributes::key_value(key, "v")
    }

    prop_compose! {
        fn record()(severity in 1..12i32, body in "[a-z]{0,6}") -> LogRecord {
            LogRecord {
                severity_number: severity,
                body: Some(AnyValue { value: Some(any_value::Value::StringValue(body)) }),
                ..Default::default()
            }
        }
    }

    prop_compose! {
        fn scope()(
            header in prop::option::of(prop_oneof![Just("keep"), Just("drop")]),
            log_records in prop::collection::vec(record(), 0..5),
        ) -> ScopeLogs {
            ScopeLogs {
                scope: header.map(|name| InstrumentationScope { name: name.into(), ..Default::default() }),
                log_records,
                schema_url: "s".into(),
            }
        }
    }

    prop_compose! {
        fn request()(
            resources in prop::collection::vec(
                (prop::option::of(any::<bool>()), prop::collection::vec(scope(), 0..4)),
                0..4,
            ),
        ) -> ExportLogsServiceRequest {
            ExportLogsServiceRequest {
                resource_logs: resources
                    .into_iter()
                    .map(|(header, scope_logs)| ResourceLogs {
                        resource: header.map(|drop| Resource {
                            attributes: vec![attribute(if drop { "drop" } else { "keep" })],
                            ..Default::default()
                        }),
                        scope_logs,
                        schema_url: "r".into(),
                    })
                    .collect(),
            }
        }
    }

    fn lazy(request: &ExportLogsServiceRequest) -> Logs {
        Logs::decode(Bytes::from(request.encode_to_vec())).unwrap()
    }

    proptest! {
        #[test]
        fn keeps_what_the_decoded_filter_keeps(first in request(), second in request()) {
            // Two payloads merged: an encoding in two parts.
            let mut payload = lazy(&first);
            payload.merge(lazy(&second));
            prop_assume!(!payload.is_decoded());
            let before = payload.item_count();
            let mut whole = first.clone();
            whole.resource_logs.extend(second.resource_logs.clone());
            let expected = expected(whole);
            let dropped = payload.retain_encoded(&mut Marked::default()).unwrap().unwrap();
            prop_assert_eq!(payload.item_count(), before - dropped);
            prop_assert_eq!(payload.item_count(), expected.item_count());
            // The rebuilt bytes pass the receive-time check and decode to the same.
            let checked = Logs::decode(payload.encoded()).unwrap();
            prop_assert_eq!(checked.item_count(), expected.item_count());
            prop_assert_eq!(payload.request(), &expected);
        }
    }

    /// Without scopes and resources that hold no record (a part never has them).
    fn pruned(mut request: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
        request.resource_logs.retain_mut(|rl| {
            rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
            !rl.scope_logs.is_empty()
        });
        request
    }

    proptest! {
        #[test]
        fn partitions_as_the_decoded_request_partitions(first in request(), second in request()) {
            let mut payload = lazy(&first);
            payload.merge(lazy(&second));
            prop_assume!(!payload.is_decoded());
            let mut whole = first.clone();
            whole.resource_logs.extend(second.resource_logs.clone());
            let part_of = |record: &LogRecord| (record.severity_number % 3) as usize;
            let keys: Vec<usize> = whole
                .resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .flat_map(|sl| &sl.log_records)
                .map(part_of)
                .collect();
            let expected: Vec<(usize, ExportLogsServiceRequest)> = if keys.is_empty() {
                Vec::new()
            } else {
                whole.clone().partition(keys).into_iter().map(|(k, r)| (k, pruned(r))).collect()
            };
            let parts = payload
                .partition_encoded(|_, _, bytes| {
                    LogRecord::decode(bytes).map(|record| part_of(&record))
                })
                .unwrap()
                .unwrap();
            let got: Vec<(usize, ExportLogsServiceRequest)> = parts
                .iter()
                .map(|(k, p)| (*k, pruned(p.request().clone())))
                .collect();
            prop_assert_eq!(got, expected);
            for (_, part) in &parts {
                // Each part passes the receive-time check and counts its items.
                let checked = Logs::decode(part.encoded()).unwrap();
                prop_assert_eq!(checked.item_count(), part.item_count());
            }
        }
    }

    #[test]
    fn a_partition_that_goes_one_way_keeps_the_bytes_and_the_metadata() {
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord::default(), LogRecord::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let metadata = Arc::new(ClientMetadata::default());
        let payload = lazy(&request).with_metadata(Arc::clone(&metadata));
        let parts = payload
            .partition_encoded(|_, _, _| Ok::<_, ()>(7))
            .unwrap()
            .unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].0, 7);
        assert_eq!(parts[0].1.encoded().as_ptr(), payload.encoded().as_ptr());
        let mut n = 0;
        let split = payload
            .partition_encoded(|_, _, _| {
                n += 1;
                Ok::<_, ()>(n % 2)
            })
            .unwrap()
            .unwrap();
        assert_eq!(
            split
                .iter()
                .map(|(k, p)| (*k, p.item_count()))
                .collect::<Vec<_>>(),
            [(0, 1), (1, 1)]
        );
        assert!(split.iter().all(|(_, p)| p.metadata().is_some()));
        assert_eq!(
            Logs::new(request).partition_encoded(|_, _, _| Ok::<_, ()>(0)),
            Ok(None)
        );
    }

    #[test]
    fn a_payload_nothing_is_dropped_from_keeps_its_bytes() {
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        severity_number: 1,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut payload = lazy(&request);
        let bytes = payload.encoded();
        assert_eq!(payload.retain_encoded(&mut Marked::default()), Ok(Some(0)));
        assert!(!payload.is_decoded());
        assert_eq!(payload.encoded().as_ptr(), bytes.as_ptr());
    }

    #[test]
    fn a_decoded_payload_is_left_to_the_caller() {
        let mut payload = Logs::new(ExportLogsServiceRequest::default());
        assert_eq!(payload.retain_encoded(&mut Marked::default()), Ok(None));
    }

    #[test]
    fn an_error_leaves_the_payload_as_it_was() {
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: [3, 100]
                        .map(|severity_number| LogRecord {
                            severity_number,
                            ..Default::default()
                        })
                        .into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut payload = lazy(&request);
        assert_eq!(
            payload.retain_encoded(&mut Marked::default()),
            Err("refused".to_string())
        );
        assert_eq!(payload.request(), &request);
    }

    #[test]
    fn a_resource_after_its_scopes_and_the_metadata_are_kept() {
        // A resource entry with its `resource` field last, and given twice (merged).
        let scopes = ScopeLogs {
            log_records: [1, 3]
                .map(|severity_number| LogRecord {
                    severity_number,
                    ..Default::default()
                })
                .into(),
            ..Default::default()
        };
        let mut entry = ResourceLogs {
            scope_logs: vec![scopes],
            ..Default::default()
        }
        .encode_to_vec();
        for key in ["a", "b"] {
            let resource = Resource {
                attributes: vec![attribute(key)],
                ..Default::default()
            };
            prost::encoding::message::encode(HEADER, &resource, &mut entry);
        }
        let mut request = Vec::new();
        prost::encoding::bytes::encode(LIST, &entry, &mut request);
        let metadata = Arc::new(ClientMetadata::default());
        let mut payload = Logs::decode(request.into())
            .unwrap()
            .with_metadata(Arc::clone(&metadata));

        struct SeesResource(Vec<usize>);
        impl RecordFilter for SeesResource {
            type Error = ();
            fn keep_record(
                &mut self,
                resource: &mut Option<Resource>,
                _: &mut Option<InstrumentationScope>,
                record: &[u8],
            ) -> Result<bool, ()> {
                self.0
                    .push(resource.as_ref().map_or(0, |r| r.attributes.len()));
                Ok(LogRecord::decode(record).unwrap().severity_number == 1)
            }
        }
        let mut filter = SeesResource(Vec::new());
        assert_eq!(payload.retain_encoded(&mut filter), Ok(Some(1)));
        assert_eq!(
            filter.0,
            [2, 2],
            "both resource fields, merged, before any record"
        );
        assert!(Arc::ptr_eq(payload.metadata().unwrap(), &metadata));
        let request = payload.request();
        assert_eq!(
            request.resource_logs[0]
                .resource
                .as_ref()
                .unwrap()
                .attributes
                .len(),
            2
        );
        assert_eq!(request.item_count(), 1);
    }

    #[test]
    fn metrics_count_the_data_points_they_keep() {
        let mut builder = crate::pdata::builder::MetricsBuilder::new();
        builder.resource(vec![]).scope("s", "");
        builder
            .gauge("kept", "1")
            .int(vec![], 1, 1)
            .int(vec![], 2, 2);
        builder.gauge("dropped", "1").int(vec![], 1, 1);
        let encoded = builder.build().encoded();
        let mut metrics = Metrics::decode(encoded).unwrap();
        assert_eq!(metrics.item_count(), 3);

        struct ByName;
        impl RecordFilter for ByName {
            type Error = ();
            fn keep_record(
                &mut self,
                _: &mut Option<Resource>,
                _: &mut Option<InstrumentationScope>,
                record: &[u8],
            ) -> Result<bool, ()> {
                let metric = crate::pdata::proto::metrics::v1::Metric::decode(record).unwrap();
                Ok(metric.name == "kept")
            }
        }
        assert_eq!(metrics.retain_encoded(&mut ByName), Ok(Some(1)));
        assert_eq!(metrics.item_count(), 2);
        assert_eq!(metrics.request().item_count(), 2);
    }
}
