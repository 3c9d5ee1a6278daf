//! The wire walker against prost: for every byte string tried, `walker accepts ⇔
//! prost::Message::decode succeeds`, and an accepted request's item count is the decoded
//! request's `item_count()`. A lazily decoded payload relies on this (see `walker.rs`).
//!
//! Inputs: random valid requests of every signal (nested AnyValues, every metric kind,
//! exemplars, entity refs), those encodings mutated (byte flips, truncations, insertions,
//! deletions, splices, concatenations), structured garbage (random fields with random tags
//! and wire types, nested messages, groups), random bytes, and hand-written cases for each
//! rule.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use prost::Message;

use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use super::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use super::proto::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point, metric, number_data_point,
    summary_data_point,
};
use super::proto::resource::v1::Resource;
use super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use super::walker;
use super::{OtlpRequest, Signal};

// ---------------------------------------------------------------------------------------
// The differential check
// ---------------------------------------------------------------------------------------

/// Accepted and rejected inputs seen by the differential checks (reported by
/// `differential_exercise_report`).
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);
static REJECTED: AtomicUsize = AtomicUsize::new(0);

/// The walker and prost agree on `bytes` read as an `R`.
fn agrees<R: OtlpRequest>(bytes: &[u8]) -> Result<bool, String> {
    let walked = walker::validate(R::SIGNAL, bytes);
    let decoded = R::decode(bytes);
    match (walked, decoded) {
        (Ok(items), Ok(request)) => {
            ACCEPTED.fetch_add(1, Ordering::Relaxed);
            if items == request.item_count() {
                Ok(true)
            } else {
                Err(format!(
                    "{}: walker counted {items} items, prost decoded {}: {}",
                    R::SIGNAL,
                    request.item_count(),
                    hex(bytes)
                ))
            }
        }
        (Err(_), Err(_)) => {
            REJECTED.fetch_add(1, Ordering::Relaxed);
            Ok(false)
        }
        (Ok(items), Err(error)) => Err(format!(
            "{}: walker accepted ({items} items), prost refused ({error}): {}",
            R::SIGNAL,
            hex(bytes)
        )),
        (Err(refusal), Ok(_)) => Err(format!(
            "{}: walker refused ({}), prost accepted: {}",
            R::SIGNAL,
            refusal.0,
            hex(bytes)
        )),
    }
}

/// The walker and prost agree on `bytes` read as each of the three request types.
fn agrees_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    agrees::<ExportTraceServiceRequest>(bytes).map_err(TestCaseError::fail)?;
    agrees::<ExportMetricsServiceRequest>(bytes).map_err(TestCaseError::fail)?;
    agrees::<ExportLogsServiceRequest>(bytes).map_err(TestCaseError::fail)?;
    Ok(())
}

/// Panics unless the walker and prost agree; returns whether they accept.
fn check<R: OtlpRequest>(bytes: &[u8]) -> bool {
    agrees::<R>(bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// Random valid requests
// ---------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z.]{0,6}",
        1 => "\\PC{0,4}",
    ]
}

fn id() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..17)
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    use any_value::Value;
    let leaf = prop_oneof![
        1 => Just(None),
        3 => text().prop_map(|s| Some(Value::StringValue(s))),
        1 => any::<bool>().prop_map(|b| Some(Value::BoolValue(b))),
        2 => any::<i64>().prop_map(|i| Some(Value::IntValue(i))),
        1 => any::<f64>().prop_map(|d| Some(Value::DoubleValue(d))),
        1 => id().prop_map(|b| Some(Value::BytesValue(b))),
        1 => any::<i32>().prop_map(|i| Some(Value::StringValueStrindex(i))),
    ]
    .prop_map(|value| AnyValue { value });
    leaf.prop_recursive(5, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|values| AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
            }),
            prop::collection::vec((text(), prop::option::of(inner), any::<i32>()), 0..3).prop_map(
                |pairs| AnyValue {
                    value: Some(any_value::Value::KvlistValue(KeyValueList {
                        values: pairs
                            .into_iter()
                            .map(|(key, value, key_strindex)| KeyValue {
                                key,
                                value,
                                key_strindex,
                            })
                            .collect(),
                    })),
                }
            ),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(
        (
            text(),
            prop::option::of(any_value()),
            prop_oneof![3 => Just(0), 1 => any::<i32>()],
        ),
        0..3,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(key, value, key_strindex)| KeyValue {
                key,
                value,
                key_strindex,
            })
            .collect()
    })
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    let entity = (
        text(),
        text(),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(
            |(schema_url, r#type, id_keys, description_keys)| EntityRef {
                schema_url,
                r#type,
                id_keys,
                description_keys,
            },
        );
    prop::option::of(
        (
            attributes(),
            any::<u32>(),
            prop::collection::vec(entity, 0..2),
        )
            .prop_map(
                |(attributes, dropped_attributes_count, entity_refs)| Resource {
                    attributes,
                    dropped_attributes_count,
                    entity_refs,
                },
            ),
    )
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    prop::option::of((text(), text(), attributes(), any::<u32>()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    ))
}

fn span() -> impl Strategy<Value = Span> {
    let event = (any::<u64>(), text(), attributes(), any::<u32>()).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| span::Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    );
    let link = (id(), id(), text(), attributes(), any::<u32>(), any::<u32>()).prop_map(
        |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| {
            span::Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count,
                flags,
            }
        },
    );
    let status = prop::option::of(
        (text(), any::<i32>()).prop_map(|(message, code)| Status { message, code }),
    );
    (
        (id(), id(), text(), id(), any::<u32>(), text(), any::<i32>()),
        (any::<u64>(), any::<u64>(), attributes(), any::<u32>()),
        (
            prop::collection::vec(event, 0..2),
            any::<u32>(),
            prop::collection::vec(link, 0..2),
            any::<u32>(),
            status,
        ),
    )
        .prop_map(
            |(
                (trace_id, span_id, trace_state, parent_span_id, flags, name, kind),
                (start_time_unix_nano, end_time_unix_nano, attributes, dropped_attributes_count),
                (events, dropped_events_count, links, dropped_links_count, status),
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano,
                end_time_unix_nano,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status,
            },
        )
}

fn traces_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    let scope_spans = (scope(), prop::collection::vec(span(), 0..4), text()).prop_map(
        |(scope, spans, schema_url)| ScopeSpans {
            scope,
            spans,
            schema_url,
        },
    );
    let resource_spans = (resource(), prop::collection::vec(scope_spans, 0..3), text()).prop_map(
        |(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    );
    prop::collection::vec(resource_spans, 0..3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        (any::<u64>(), any::<u64>(), any::<i32>(), text()),
        (prop::option::of(any_value()), attributes(), any::<u32>()),
        (any::<u32>(), id(), id(), text()),
    )
        .prop_map(
            |(
                (time_unix_nano, observed_time_unix_nano, severity_number, severity_text),
                (body, attributes, dropped_attributes_count),
                (flags, trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano,
                observed_time_unix_nano,
                severity_number,
                severity_text,
                body,
                attributes,
                dropped_attributes_count,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn logs_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    let scope_logs = (scope(), prop::collection::vec(log_record(), 0..4), text()).prop_map(
        |(scope, log_records, schema_url)| ScopeLogs {
            scope,
            log_records,
            schema_url,
        },
    );
    let resource_logs = (resource(), prop::collection::vec(scope_logs, 0..3), text()).prop_map(
        |(resource, scope_logs, schema_url)| ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        },
    );
    prop::collection::vec(resource_logs, 0..3)
        .prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

fn exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    let value = prop_oneof![
        Just(None),
        any::<f64>().prop_map(|d| Some(exemplar::Value::AsDouble(d))),
        any::<i64>().prop_map(|i| Some(exemplar::Value::AsInt(i))),
    ];
    prop::collection::vec(
        (attributes(), any::<u64>(), id(), id(), value).prop_map(
            |(filtered_attributes, time_unix_nano, span_id, trace_id, value)| Exemplar {
                filtered_attributes,
                time_unix_nano,
                span_id,
                trace_id,
                value,
            },
        ),
        0..2,
    )
}

fn number_points() -> impl Strategy<Value = Vec<NumberDataPoint>> {
    let value = prop_oneof![
        Just(None),
        any::<f64>().prop_map(|d| Some(number_data_point::Value::AsDouble(d))),
        any::<i64>().prop_map(|i| Some(number_data_point::Value::AsInt(i))),
    ];
    prop::collection::vec(
        (
            attributes(),
            any::<u64>(),
            any::<u64>(),
            exemplars(),
            any::<u32>(),
            value,
        )
            .prop_map(
                |(attributes, start_time_unix_nano, time_unix_nano, exemplars, flags, value)| {
                    NumberDataPoint {
                        attributes,
                        start_time_unix_nano,
                        time_unix_nano,
                        exemplars,
                        flags,
                        value,
                    }
                },
            ),
        0..4,
    )
}

fn histogram_points() -> impl Strategy<Value = Vec<HistogramDataPoint>> {
    prop::collection::vec(
        (
            (attributes(), any::<u64>(), any::<u64>(), any::<u64>()),
            (
                prop::option::of(any::<f64>()),
                prop::collection::vec(any::<u64>(), 0..5),
                prop::collection::vec(any::<f64>(), 0..5),
            ),
            (
                exemplars(),
                any::<u32>(),
                prop::option::of(any::<f64>()),
                prop::option::of(any::<f64>()),
            ),
        )
            .prop_map(
                |(
                    (attributes, start_time_unix_nano, time_unix_nano, count),
                    (sum, bucket_counts, explicit_bounds),
                    (exemplars, flags, min, max),
                )| HistogramDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    count,
                    sum,
                    bucket_counts,
                    explicit_bounds,
                    exemplars,
                    flags,
                    min,
                    max,
                },
            ),
        0..4,
    )
}

fn exponential_points() -> impl Strategy<Value = Vec<ExponentialHistogramDataPoint>> {
    let buckets = prop::option::of(
        (any::<i32>(), prop::collection::vec(any::<u64>(), 0..5)).prop_map(
            |(offset, bucket_counts)| exponential_histogram_data_point::Buckets {
                offset,
                bucket_counts,
            },
        ),
    );
    prop::collection::vec(
        (
            (attributes(), any::<u64>(), any::<u64>(), any::<u64>()),
            (
                prop::option::of(any::<f64>()),
                any::<i32>(),
                any::<u64>(),
                buckets.clone(),
                buckets,
            ),
            (
                any::<u32>(),
                exemplars(),
                prop::option::of(any::<f64>()),
                prop::option::of(any::<f64>()),
                any::<f64>(),
            ),
        )
            .prop_map(
                |(
                    (attributes, start_time_unix_nano, time_unix_nano, count),
                    (sum, scale, zero_count, positive, negative),
                    (flags, exemplars, min, max, zero_threshold),
                )| ExponentialHistogramDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    count,
                    sum,
                    scale,
                    zero_count,
                    positive,
                    negative,
                    flags,
                    exemplars,
                    min,
                    max,
                    zero_threshold,
                },
            ),
        0..4,
    )
}

fn summary_points() -> impl Strategy<Value = Vec<SummaryDataPoint>> {
    let quantiles = prop::collection::vec(
        (any::<f64>(), any::<f64>())
            .prop_map(|(quantile, value)| summary_data_point::ValueAtQuantile { quantile, value }),
        0..3,
    );
    prop::collection::vec(
        (
            attributes(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<f64>(),
            quantiles,
            any::<u32>(),
        )
            .prop_map(
                |(
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    count,
                    sum,
                    quantile_values,
                    flags,
                )| SummaryDataPoint {
                    attributes,
                    start_time_unix_nano,
                    time_unix_nano,
                    count,
                    sum,
                    quantile_values,
                    flags,
                },
            ),
        0..4,
    )
}

fn metric_data() -> impl Strategy<Value = Option<metric::Data>> {
    use metric::Data;
    prop_oneof![
        1 => Just(None),
        2 => number_points().prop_map(|data_points| Some(Data::Gauge(Gauge { data_points }))),
        2 => (number_points(), any::<i32>(), any::<bool>()).prop_map(
            |(data_points, aggregation_temporality, is_monotonic)| Some(Data::Sum(Sum {
                data_points,
                aggregation_temporality,
                is_monotonic,
            }))
        ),
        2 => (histogram_points(), any::<i32>()).prop_map(
            |(data_points, aggregation_temporality)| Some(Data::Histogram(Histogram {
                data_points,
                aggregation_temporality,
            }))
        ),
        2 => (exponential_points(), any::<i32>()).prop_map(
            |(data_points, aggregation_temporality)| Some(Data::ExponentialHistogram(
                ExponentialHistogram {
                    data_points,
                    aggregation_temporality,
                }
            ))
        ),
        2 => summary_points().prop_map(|data_points| Some(Data::Summary(Summary { data_points }))),
    ]
}

fn metric() -> impl Strategy<Value = Metric> {
    (text(), text(), text(), attributes(), metric_data()).prop_map(
        |(name, description, unit, metadata, data)| Metric {
            name,
            description,
            unit,
            metadata,
            data,
        },
    )
}

fn metrics_request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let scope_metrics = (scope(), prop::collection::vec(metric(), 0..4), text()).prop_map(
        |(scope, metrics, schema_url)| ScopeMetrics {
            scope,
            metrics,
            schema_url,
        },
    );
    let resource_metrics = (
        resource(),
        prop::collection::vec(scope_metrics, 0..3),
        text(),
    )
        .prop_map(|(resource, scope_metrics, schema_url)| ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        });
    prop::collection::vec(resource_metrics, 0..3)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}

/// The encoding of a random valid request of any signal.
fn valid_encoding() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        traces_request().prop_map(|r| r.encode_to_vec()),
        metrics_request().prop_map(|r| r.encode_to_vec()),
        logs_request().prop_map(|r| r.encode_to_vec()),
    ]
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte.
    Flip(Index, u8),
    /// Set one byte.
    Set(Index, u8),
    /// Cut the tail off.
    Truncate(Index),
    /// Insert bytes.
    Insert(Index, Vec<u8>),
    /// Delete up to this many bytes.
    Delete(Index, usize),
    /// Replace the tail from a point with the tail of another encoding from a point.
    Splice(Index, Vec<u8>, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1u8..=255).prop_map(|(at, x)| Mutation::Flip(at, x)),
        1 => (any::<Index>(), prop_oneof![Just(0u8), Just(0x80), Just(0xff), Just(0x02), any::<u8>()])
            .prop_map(|(at, b)| Mutation::Set(at, b)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..4))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        1 => (any::<Index>(), 1usize..8).prop_map(|(at, n)| Mutation::Delete(at, n)),
        2 => (any::<Index>(), valid_encoding(), any::<Index>())
            .prop_map(|(at, other, from)| Mutation::Splice(at, other, from)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::Flip(at, x) if len > 0 => bytes[at.index(len)] ^= x,
        Mutation::Set(at, b) if len > 0 => bytes[at.index(len)] = *b,
        Mutation::Truncate(at) if len > 0 => bytes.truncate(at.index(len)),
        Mutation::Insert(at, new) => {
            let at = at.index(len + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Delete(at, n) if len > 0 => {
            let at = at.index(len);
            bytes.drain(at..(at + n).min(len));
        }
        Mutation::Splice(at, other, from) => {
            bytes.truncate(at.index(len + 1));
            if !other.is_empty() {
                bytes.extend_from_slice(&other[from.index(other.len())..]);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Structured garbage: random fields, random tags and wire types
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Raw {
    Varint(u32, u64),
    Fixed64(u32),
    Fixed32(u32),
    /// Length-delimited bytes (often not UTF-8).
    Bytes(u32, Vec<u8>),
    /// Length-delimited nested fields.
    Message(u32, Vec<Raw>),
    /// A group with its end key.
    Group(u32, Vec<Raw>),
    /// A lone end-group key.
    EndGroup(u32),
    /// Any bytes.
    Junk(Vec<u8>),
}

fn raw_tag() -> impl Strategy<Value = u32> {
    prop_oneof![
        8 => 1u32..=3,
        6 => 1u32..=16,
        1 => 17u32..2000,
        1 => Just((1 << 29) - 1),
    ]
}

fn raw_fields() -> impl Strategy<Value = Vec<Raw>> {
    let leaf = prop_oneof![
        3 => (raw_tag(), prop_oneof![any::<u64>(), 0u64..300]).prop_map(|(t, v)| Raw::Varint(t, v)),
        2 => raw_tag().prop_map(Raw::Fixed64),
        2 => raw_tag().prop_map(Raw::Fixed32),
        3 => (raw_tag(), prop_oneof![
                "[a-z]{0,4}".prop_map(String::into_bytes),
                prop::collection::vec(any::<u8>(), 0..8),
            ]).prop_map(|(t, b)| Raw::Bytes(t, b)),
        1 => raw_tag().prop_map(Raw::EndGroup),
        1 => prop::collection::vec(any::<u8>(), 1..4).prop_map(Raw::Junk),
    ];
    let field = leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            6 => (raw_tag(), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(t, fields)| Raw::Message(t, fields)),
            1 => (raw_tag(), prop::collection::vec(inner, 0..3))
                .prop_map(|(t, fields)| Raw::Group(t, fields)),
        ]
    });
    prop::collection::vec(field, 0..6)
}

fn put_varint(value: u64, out: &mut Vec<u8>) {
    prost::encoding::encode_varint(value, out);
}

fn put_key(tag: u32, wire_type: u8, out: &mut Vec<u8>) {
    put_varint(u64::from(tag) << 3 | u64::from(wire_type), out);
}

fn encode_raw(fields: &[Raw], out: &mut Vec<u8>) {
    for field in fields {
        match field {
            Raw::Varint(tag, value) => {
                put_key(*tag, 0, out);
                put_varint(*value, out);
            }
            Raw::Fixed64(tag) => {
                put_key(*tag, 1, out);
                out.extend_from_slice(&7u64.to_le_bytes());
            }
            Raw::Fixed32(tag) => {
                put_key(*tag, 5, out);
                out.extend_from_slice(&7u32.to_le_bytes());
            }
            Raw::Bytes(tag, bytes) => {
                put_key(*tag, 2, out);
                put_varint(bytes.len() as u64, out);
                out.extend_from_slice(bytes);
            }
            Raw::Message(tag, fields) => {
                let mut body = Vec::new();
                encode_raw(fields, &mut body);
                put_key(*tag, 2, out);
                put_varint(body.len() as u64, out);
                out.extend_from_slice(&body);
            }
            Raw::Group(tag, fields) => {
                put_key(*tag, 3, out);
                encode_raw(fields, out);
                put_key(*tag, 4, out);
            }
            Raw::EndGroup(tag) => put_key(*tag, 4, out),
            Raw::Junk(bytes) => out.extend_from_slice(bytes),
        }
    }
}

fn raw(fields: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_raw(fields, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

/// `default` cases, or `PROPTEST_CASES` from the environment (for a longer soak, best with
/// `--release`).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1500)))]

    /// (a) Random valid requests: accepted, with the right count.
    #[test]
    fn valid_traces_agree(request in traces_request()) {
        let bytes = request.encode_to_vec();
        prop_assert_eq!(walker::validate(Signal::Traces, &bytes), Ok(request.item_count()));
        agrees_all(&bytes)?;
    }

    #[test]
    fn valid_metrics_agree(request in metrics_request()) {
        let bytes = request.encode_to_vec();
        prop_assert_eq!(walker::validate(Signal::Metrics, &bytes), Ok(request.item_count()));
        agrees_all(&bytes)?;
    }

    #[test]
    fn valid_logs_agree(request in logs_request()) {
        let bytes = request.encode_to_vec();
        prop_assert_eq!(walker::validate(Signal::Logs, &bytes), Ok(request.item_count()));
        agrees_all(&bytes)?;
    }

    /// Concatenated encodings are merged requests: counts add.
    #[test]
    fn concatenations_agree(parts in prop::collection::vec(valid_encoding(), 1..4)) {
        agrees_all(&parts.concat())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(6000)))]

    /// (b) Valid encodings with random flips, truncations, insertions, deletions, splices.
    #[test]
    fn mutated_encodings_agree(
        mut bytes in valid_encoding(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        agrees_all(&bytes)?;
    }

    /// Structured garbage: fields with random tags and wire types, nested messages, groups.
    #[test]
    fn random_fields_agree(fields in raw_fields()) {
        agrees_all(&raw(&fields))?;
    }

    /// Structured garbage inside a valid request's known messages: wrong wire types and
    /// unknown fields at every level of the schema.
    #[test]
    fn random_fields_inside_known_messages_agree(
        path in prop::collection::vec(prop_oneof![Just(1u32), Just(2), Just(5), Just(7), Just(9), Just(10), Just(11), 1u32..16], 0..7),
        fields in raw_fields(),
    ) {
        // Wrap the fields in messages along `path` (outermost first).
        let mut bytes = raw(&fields);
        for &tag in path.iter().rev() {
            let mut outer = Vec::new();
            put_key(tag, 2, &mut outer);
            put_varint(bytes.len() as u64, &mut outer);
            outer.extend_from_slice(&bytes);
            bytes = outer;
        }
        agrees_all(&bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]

    /// (c) Random byte strings.
    #[test]
    fn random_bytes_agree(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        agrees_all(&bytes)?;
    }

    /// A metric's `data` oneof given several times: prost keeps the last variant, merged
    /// with earlier occurrences of the same variant; the count follows.
    #[test]
    fn repeated_metric_oneof_agrees(datas in prop::collection::vec(metric_data(), 1..5)) {
        let mut metric = Vec::new();
        for data in datas {
            Metric { data, ..Default::default() }.encode(&mut metric).unwrap();
        }
        let mut scope = Vec::new();
        prost::encoding::bytes::encode(2, &metric, &mut scope);
        let mut resource = Vec::new();
        prost::encoding::bytes::encode(2, &scope, &mut resource);
        let mut request = Vec::new();
        prost::encoding::bytes::encode(1, &resource, &mut request);
        agrees_all(&request)?;
    }
}

// ---------------------------------------------------------------------------------------
// Systematic mutations of fixed rich requests
// ---------------------------------------------------------------------------------------

/// A request with something of everything.
fn rich_requests() -> Vec<Vec<u8>> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(
            traces_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
        );
        out.push(
            metrics_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
        );
        out.push(
            logs_request()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .encode_to_vec(),
        );
    }
    out
}

/// Every truncation, and every byte of the encoding replaced by each of a few values.
#[test]
fn every_truncation_and_byte_edit_agrees() {
    let mut cases = 0usize;
    let mut accepted = 0usize;
    for bytes in rich_requests() {
        for cut in 0..bytes.len() {
            cases += 1;
            accepted += usize::from(check::<ExportTraceServiceRequest>(&bytes[..cut]));
            check::<ExportMetricsServiceRequest>(&bytes[..cut]);
            check::<ExportLogsServiceRequest>(&bytes[..cut]);
        }
        let mut edited = bytes.clone();
        for at in 0..bytes.len() {
            for value in [
                0x00,
                0x01,
                0x02,
                0x7f,
                0x80,
                0xff,
                bytes[at] ^ 0x07,
                bytes[at] ^ 0x80,
                bytes[at].wrapping_add(1),
                bytes[at].wrapping_sub(1),
            ] {
                edited[at] = value;
                cases += 1;
                accepted += usize::from(check::<ExportTraceServiceRequest>(&edited));
                check::<ExportMetricsServiceRequest>(&edited);
                check::<ExportLogsServiceRequest>(&edited);
            }
            edited[at] = bytes[at];
        }
    }
    eprintln!("systematic: {cases} byte strings × 3 signals, {accepted} accepted as traces");
    assert!(
        cases > 1000,
        "the rich requests are not rich: {cases} cases"
    );
}

// ---------------------------------------------------------------------------------------
// Hand-written cases, one per rule
// ---------------------------------------------------------------------------------------

/// Encodes `fields` as a length-delimited field `tag`.
fn message(tag: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_key(tag, 2, &mut out);
    put_varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// A traces request holding one span whose encoding is `span`.
fn one_span(span: &[u8]) -> Vec<u8> {
    message(1, &message(2, &message(2, span)))
}

/// A metrics request holding one metric whose encoding is `metric`.
fn one_metric(metric: &[u8]) -> Vec<u8> {
    message(1, &message(2, &message(2, metric)))
}

/// A histogram metric with one data point whose encoding is `point`.
fn histogram_point(point: &[u8]) -> Vec<u8> {
    one_metric(&message(9, &message(1, point)))
}

fn traces(bytes: &[u8]) -> Result<usize, String> {
    assert_agree::<ExportTraceServiceRequest>(bytes)
}

fn metrics(bytes: &[u8]) -> Result<usize, String> {
    assert_agree::<ExportMetricsServiceRequest>(bytes)
}

fn logs(bytes: &[u8]) -> Result<usize, String> {
    assert_agree::<ExportLogsServiceRequest>(bytes)
}

/// The walker's verdict, after asserting prost's is the same.
fn assert_agree<R: OtlpRequest>(bytes: &[u8]) -> Result<usize, String> {
    check::<R>(bytes);
    walker::validate(R::SIGNAL, bytes).map_err(|e| e.0.to_string())
}

#[test]
fn a_zero_length_request_is_valid_and_empty() {
    assert_eq!(traces(&[]), Ok(0));
    assert_eq!(metrics(&[]), Ok(0));
    assert_eq!(logs(&[]), Ok(0));
    // Zero-length nested messages: an empty resource, scope, and span (which counts).
    assert_eq!(traces(&message(1, &[])), Ok(0));
    assert_eq!(traces(&message(1, &message(2, &[]))), Ok(0));
    assert_eq!(traces(&one_span(&[])), Ok(1));
    assert_eq!(logs(&message(1, &message(2, &message(2, &[])))), Ok(1));
}

#[test]
fn invalid_utf8_in_a_string_is_refused() {
    let mut span = message(5, b"ok");
    assert_eq!(traces(&one_span(&span)), Ok(1));
    span = message(5, &[0x66, 0xff, 0x6f]);
    assert!(traces(&one_span(&span)).is_err(), "span name");
    // A truncated multi-byte sequence, an overlong encoding, a surrogate.
    for bad in [&[0xe4, 0xb8][..], &[0xc0, 0x80], &[0xed, 0xa0, 0x80]] {
        assert!(traces(&one_span(&message(3, bad))).is_err(), "trace_state");
    }
    // Every string field, at several depths.
    let kv_key = message(9, &message(1, &[0xff]));
    assert!(traces(&one_span(&kv_key)).is_err(), "attribute key");
    let string_value = message(9, &message(2, &message(1, &[0xff])));
    assert!(traces(&one_span(&string_value)).is_err(), "AnyValue string");
    let entity_id_key = message(1, &message(1, &message(3, &message(3, &[0xff]))));
    assert!(traces(&entity_id_key).is_err(), "EntityRef.id_keys");
    let scope_version = message(1, &message(2, &message(1, &message(2, &[0xfe]))));
    assert!(traces(&scope_version).is_err(), "scope version");
    let schema_url = message(1, &message(3, &[0x80]));
    assert!(logs(&schema_url).is_err(), "resource schema_url");
    // Bytes fields take anything.
    assert_eq!(
        traces(&one_span(&message(1, &[0xff, 0xfe]))),
        Ok(1),
        "trace_id"
    );
    let bytes_value = message(9, &message(2, &message(7, &[0xff])));
    assert_eq!(traces(&one_span(&bytes_value)), Ok(1), "AnyValue bytes");
}

#[test]
fn a_known_field_with_the_wrong_wire_type_is_refused() {
    let mut name_as_varint = Vec::new();
    put_key(5, 0, &mut name_as_varint);
    put_varint(1, &mut name_as_varint);
    assert!(traces(&one_span(&name_as_varint)).is_err());

    let mut kind_as_bytes = Vec::new();
    put_key(6, 2, &mut kind_as_bytes);
    put_varint(0, &mut kind_as_bytes);
    assert!(traces(&one_span(&kind_as_bytes)).is_err());

    let mut start_as_fixed32 = Vec::new();
    put_key(7, 5, &mut start_as_fixed32);
    start_as_fixed32.extend_from_slice(&[0; 4]);
    assert!(traces(&one_span(&start_as_fixed32)).is_err());

    let mut flags_as_fixed64 = Vec::new();
    put_key(16, 1, &mut flags_as_fixed64);
    flags_as_fixed64.extend_from_slice(&[0; 8]);
    assert!(traces(&one_span(&flags_as_fixed64)).is_err());

    let mut spans_as_group = Vec::new();
    put_key(2, 3, &mut spans_as_group);
    put_key(2, 4, &mut spans_as_group);
    assert!(traces(&message(1, &message(2, &spans_as_group))).is_err());

    // A oneof variant: AnyValue.int_value (varint) given as fixed64.
    let mut int_as_fixed = Vec::new();
    put_key(3, 1, &mut int_as_fixed);
    int_as_fixed.extend_from_slice(&[0; 8]);
    assert!(traces(&one_span(&message(9, &message(2, &int_as_fixed)))).is_err());

    // The right wire types.
    let mut right = message(5, b"n");
    put_key(6, 0, &mut right);
    put_varint(u64::MAX, &mut right); // an enum takes any varint
    put_key(7, 1, &mut right);
    right.extend_from_slice(&[1; 8]);
    put_key(16, 5, &mut right);
    right.extend_from_slice(&[1; 4]);
    assert_eq!(traces(&one_span(&right)), Ok(1));
}

#[test]
fn repeated_scalars_packed_and_unpacked() {
    // HistogramDataPoint.bucket_counts (repeated fixed64 = 6), explicit_bounds (double = 7).
    for tag in [6u32, 7] {
        let mut packed = Vec::new();
        put_key(tag, 2, &mut packed);
        put_varint(16, &mut packed);
        packed.extend_from_slice(&[3; 16]);
        assert_eq!(metrics(&histogram_point(&packed)), Ok(1), "packed {tag}");

        let mut unpacked = Vec::new();
        for _ in 0..3 {
            put_key(tag, 1, &mut unpacked);
            unpacked.extend_from_slice(&[3; 8]);
        }
        assert_eq!(
            metrics(&histogram_point(&unpacked)),
            Ok(1),
            "unpacked {tag}"
        );

        let mut mixed = packed.clone();
        mixed.extend_from_slice(&unpacked);
        mixed.extend_from_slice(&packed);
        assert_eq!(metrics(&histogram_point(&mixed)), Ok(1), "mixed {tag}");

        let mut ragged = Vec::new();
        put_key(tag, 2, &mut ragged);
        put_varint(12, &mut ragged);
        ragged.extend_from_slice(&[3; 12]);
        assert!(
            metrics(&histogram_point(&ragged)).is_err(),
            "packed {tag} not a multiple of 8"
        );

        let mut as_varint = Vec::new();
        put_key(tag, 0, &mut as_varint);
        put_varint(3, &mut as_varint);
        assert!(
            metrics(&histogram_point(&as_varint)).is_err(),
            "{tag} as varint"
        );

        let mut as_fixed32 = Vec::new();
        put_key(tag, 5, &mut as_fixed32);
        as_fixed32.extend_from_slice(&[3; 4]);
        assert!(
            metrics(&histogram_point(&as_fixed32)).is_err(),
            "{tag} as fixed32"
        );
    }

    // Buckets.bucket_counts (repeated uint64 = 2), inside an exponential histogram point.
    let exponential = |buckets: &[u8]| one_metric(&message(10, &message(1, &message(8, buckets))));
    let mut packed = Vec::new();
    put_key(2, 2, &mut packed);
    put_varint(4, &mut packed);
    packed.extend_from_slice(&[0x01, 0x80, 0x01, 0x7f]);
    assert_eq!(metrics(&exponential(&packed)), Ok(1), "packed varints");
    let mut unpacked = Vec::new();
    put_key(2, 0, &mut unpacked);
    put_varint(300, &mut unpacked);
    assert_eq!(metrics(&exponential(&unpacked)), Ok(1), "unpacked varint");
    let mut cut = Vec::new();
    put_key(2, 2, &mut cut);
    put_varint(2, &mut cut);
    cut.extend_from_slice(&[0x01, 0x80]);
    assert!(
        metrics(&exponential(&cut)).is_err(),
        "a packed varint cut by the length"
    );
}

/// A logs request whose one log record's body nests AnyValues in ArrayValues so that the
/// innermost (empty) message is at depth `depth`, the request being at depth 0:
/// ExportLogsServiceRequest (0) → ResourceLogs (1) → ScopeLogs (2) → LogRecord (3) → body
/// AnyValue (4) → ArrayValue (5) → AnyValue (6) → ... (odd depths are ArrayValues, held in
/// AnyValue field 5; even ones AnyValues, held in ArrayValue field 1).
fn nested_body(depth: usize) -> Vec<u8> {
    let mut inner = Vec::new();
    for level in (5..=depth).rev() {
        inner = message(if level % 2 == 1 { 5 } else { 1 }, &inner);
    }
    // `inner` is the content of the body AnyValue (depth 4).
    let record = message(5, &inner);
    message(1, &message(2, &message(2, &record)))
}

#[test]
fn nesting_depth_at_99_100_and_101() {
    // The deepest message is at depth `d` (the request is depth 0). prost allows 100.
    assert_eq!(logs(&nested_body(99)), Ok(1));
    assert_eq!(logs(&nested_body(100)), Ok(1));
    assert!(
        logs(&nested_body(101)).is_err(),
        "101 is past prost's limit"
    );
    assert!(logs(&nested_body(150)).is_err());

    // A message at depth 100 may hold known scalar fields but no unknown field (prost's
    // skip_field checks the limit too); one level up it may.
    let with_field = |depth: usize, field: &[u8]| {
        // As `nested_body`, with `field` inside the innermost message.
        let mut inner = field.to_vec();
        for level in (5..=depth).rev() {
            inner = message(if level % 2 == 1 { 5 } else { 1 }, &inner);
        }
        let record = message(5, &inner);
        message(1, &message(2, &message(2, &record)))
    };
    // depth 100 is even: an AnyValue (fields: 1 string, 2 bool, ...).
    let mut known = Vec::new();
    put_key(2, 0, &mut known);
    put_varint(1, &mut known);
    let mut unknown = Vec::new();
    put_key(99, 0, &mut unknown);
    put_varint(1, &mut unknown);
    assert_eq!(logs(&with_field(100, &known)), Ok(1));
    assert!(logs(&with_field(100, &unknown)).is_err());
    assert_eq!(logs(&with_field(98, &unknown)), Ok(1));
    // Unknown groups spend one level per nesting.
    let group = |levels: usize| {
        let mut g = Vec::new();
        for _ in 0..levels {
            put_key(99, 3, &mut g);
        }
        put_key(98, 0, &mut g);
        put_varint(1, &mut g);
        for _ in 0..levels {
            put_key(99, 4, &mut g);
        }
        g
    };
    assert_eq!(logs(&with_field(96, &group(2))), Ok(1));
    assert!(logs(&with_field(98, &group(2))).is_err());
    assert!(logs(&with_field(97, &group(3))).is_err());
}

/// Attributes have a walk of their own (`walk_key_value`): nesting through key-value
/// lists (AnyValue → KeyValueList → KeyValue → AnyValue ...) around prost's limit, with a
/// known field, an unknown field or a string that is not UTF-8 at the bottom, agrees with
/// prost at every depth.
#[test]
fn nesting_through_key_value_lists_agrees_at_every_depth() {
    let mut known = Vec::new();
    put_key(3, 0, &mut known); // KeyValue.key_strindex, AnyValue.int_value, a list: unknown
    put_varint(7, &mut known);
    let mut unknown = Vec::new();
    put_key(99, 0, &mut unknown);
    put_varint(1, &mut unknown);
    let not_utf8 = message(1, &[0xff, 0xfe]);
    let mut accepted = 0;
    for depth in 90..=104 {
        for bottom in [&known, &unknown, &not_utf8] {
            // The record's body (depth 4) is an AnyValue; each level below cycles through
            // KeyValueList (AnyValue field 6), KeyValue (list field 1), AnyValue (field 2).
            let mut inner = bottom.clone();
            for level in (5..=depth).rev() {
                let tag = match (level - 5) % 3 {
                    0 => 6,
                    1 => 1,
                    _ => 2,
                };
                inner = message(tag, &inner);
            }
            let record = message(5, &inner);
            let request = message(1, &message(2, &message(2, &record)));
            if logs(&request).is_ok() {
                accepted += 1;
            }
            // The same nesting as a span attribute's value (one level deeper).
            check::<ExportTraceServiceRequest>(&one_span(&message(9, &message(2, &inner))));
        }
    }
    assert!(accepted > 10, "only {accepted} of the nestings were valid");
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let mut unknown = Vec::new();
    put_key(100, 0, &mut unknown);
    put_varint(u64::MAX, &mut unknown);
    put_key(101, 1, &mut unknown);
    unknown.extend_from_slice(&[9; 8]);
    put_key(102, 2, &mut unknown);
    put_varint(3, &mut unknown);
    unknown.extend_from_slice(&[0xff; 3]); // unknown bytes need not be UTF-8
    put_key(103, 3, &mut unknown);
    put_key(1, 0, &mut unknown);
    put_varint(5, &mut unknown);
    put_key(104, 3, &mut unknown); // a nested group
    put_key(104, 4, &mut unknown);
    put_key(103, 4, &mut unknown);
    put_key(105, 5, &mut unknown);
    unknown.extend_from_slice(&[9; 4]);
    put_key((1 << 29) - 1, 0, &mut unknown); // the largest tag
    put_varint(0, &mut unknown);

    // At the top level, in a span, in a status (tag 1 is unknown there), in an AnyValue.
    let mut request = unknown.clone();
    request.extend(one_span(&unknown));
    assert_eq!(traces(&request), Ok(1));
    assert_eq!(traces(&one_span(&message(15, &unknown))), Ok(1));
    assert_eq!(traces(&one_span(&message(9, &message(2, &unknown)))), Ok(1));
    assert_eq!(metrics(&unknown), Ok(0));
    assert_eq!(logs(&unknown), Ok(0));

    // Malformed unknown fields.
    let mut lone_end = Vec::new();
    put_key(100, 4, &mut lone_end);
    assert!(traces(&lone_end).is_err(), "an end-group key alone");
    let mut mismatched = Vec::new();
    put_key(100, 3, &mut mismatched);
    put_key(101, 4, &mut mismatched);
    assert!(
        traces(&mismatched).is_err(),
        "an end-group key of another group"
    );
    let mut open = Vec::new();
    put_key(100, 3, &mut open);
    assert!(traces(&open).is_err(), "a group never closed");
    let mut short = Vec::new();
    put_key(100, 1, &mut short);
    short.extend_from_slice(&[0; 7]);
    assert!(traces(&short).is_err(), "fixed64 cut short");
    let mut short = Vec::new();
    put_key(100, 5, &mut short);
    short.extend_from_slice(&[0; 3]);
    assert!(traces(&short).is_err(), "fixed32 cut short");
    let mut long = Vec::new();
    put_key(100, 2, &mut long);
    put_varint(5, &mut long);
    long.extend_from_slice(&[0; 4]);
    assert!(traces(&long).is_err(), "bytes past the end");
    for wire_type in [6u8, 7] {
        let mut bad = Vec::new();
        put_key(100, wire_type, &mut bad);
        assert!(traces(&bad).is_err(), "wire type {wire_type}");
    }
}

#[test]
fn keys_and_varints() {
    // Tag 0 is invalid; a key above u32::MAX is invalid.
    assert!(traces(&[0x00]).is_err());
    assert!(traces(&[0x02, 0x00]).is_err());
    let mut huge_key = Vec::new();
    put_varint(u64::from(u32::MAX) + 1, &mut huge_key);
    put_varint(0, &mut huge_key);
    assert!(traces(&huge_key).is_err());
    let mut max_key = Vec::new();
    put_varint(u64::from(u32::MAX) & !0x7, &mut max_key);
    put_varint(0, &mut max_key);
    assert_eq!(traces(&max_key), Ok(0), "the largest tag, varint");

    // A 10-byte varint is fine if its last byte is 0 or 1; 11 bytes never are.
    let mut span = Vec::new();
    put_key(10, 0, &mut span);
    span.extend_from_slice(&[0xff; 9]);
    span.push(0x01);
    assert_eq!(traces(&one_span(&span)), Ok(1), "u64::MAX");
    *span.last_mut().unwrap() = 0x02;
    assert!(traces(&one_span(&span)).is_err(), "overflows 64 bits");
    span.pop();
    span.extend_from_slice(&[0x80, 0x00]);
    assert!(traces(&one_span(&span)).is_err(), "11 bytes");
    // Non-minimal encodings are fine.
    let mut padded = Vec::new();
    put_key(10, 0, &mut padded);
    padded.extend_from_slice(&[0x80, 0x80, 0x00]);
    assert_eq!(traces(&one_span(&padded)), Ok(1));
    // An overlong length prefix.
    let mut overlong_len = vec![0x0a];
    overlong_len.extend_from_slice(&[0x80; 10]);
    overlong_len.push(0x00);
    assert!(traces(&overlong_len).is_err());
    // A varint cut by the end of the buffer.
    assert!(traces(&[0x08, 0x80]).is_err());
}

#[test]
fn lengths_must_stay_inside_their_message() {
    // A span whose name claims more bytes than the span has (but the request has them).
    let mut span = Vec::new();
    put_key(5, 2, &mut span);
    put_varint(4, &mut span);
    span.extend_from_slice(b"ab");
    let mut request = one_span(&span);
    request.extend_from_slice(b"cd");
    assert!(traces(&request).is_err());
    // A nested length longer than the rest of the request.
    let mut request = vec![0x0a, 0x05, 0x12, 0x10];
    request.extend_from_slice(&[0; 3]);
    assert!(traces(&request).is_err());
}

#[test]
fn a_metrics_data_oneof_keeps_the_last_variant() {
    let points = |tag: u32, n: usize| {
        let mut data = Vec::new();
        for _ in 0..n {
            data.extend(message(1, &[]));
        }
        message(tag, &data)
    };
    let metric = |parts: &[Vec<u8>]| one_metric(&parts.concat());
    assert_eq!(metrics(&metric(&[points(5, 3)])), Ok(3), "gauge");
    assert_eq!(
        metrics(&metric(&[points(5, 3), points(7, 2)])),
        Ok(2),
        "gauge then sum"
    );
    assert_eq!(
        metrics(&metric(&[points(5, 3), points(5, 2)])),
        Ok(5),
        "gauge merged"
    );
    assert_eq!(
        metrics(&metric(&[points(5, 3), points(7, 2), points(5, 1)])),
        Ok(1),
        "gauge, sum, gauge"
    );
    for tag in [5, 7, 9, 10, 11] {
        assert_eq!(metrics(&metric(&[points(tag, 4)])), Ok(4), "kind {tag}");
    }
    // A metric without data counts nothing; one with an empty data message counts nothing.
    assert_eq!(metrics(&metric(&[message(1, b"name")])), Ok(0));
    assert_eq!(metrics(&metric(&[message(11, &[])])), Ok(0));
}

#[test]
fn items_are_counted_per_signal() {
    let request = ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                scope_spans: vec![
                    ScopeSpans {
                        spans: vec![Span::default(); 3],
                        ..Default::default()
                    },
                    ScopeSpans::default(),
                    ScopeSpans {
                        spans: vec![Span::default(); 2],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            ResourceSpans::default(),
        ],
    };
    assert_eq!(traces(&request.encode_to_vec()), Ok(5));
    let twice = [request.encode_to_vec(), request.encode_to_vec()].concat();
    assert_eq!(traces(&twice), Ok(10), "concatenated requests are merged");
}

/// How many inputs the differential checks saw, to read with
/// `cargo test -p tributary-pipeline-core walker_tests -- --test-threads=1 --nocapture`
/// (tests then run in name order, so this one runs last and reports all of them).
#[test]
fn zz_differential_exercise_report() {
    eprintln!(
        "differential checks in this process, as (byte string, request type) pairs: \
         {} accepted by both, {} refused by both",
        ACCEPTED.load(Ordering::Relaxed),
        REJECTED.load(Ordering::Relaxed),
    );
}
