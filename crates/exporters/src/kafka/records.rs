//! Which records a batch becomes: the topic of each part (the configured one, a client
//! metadata value, or a resource attribute) and its partition key (trace ID or resource
//! attributes), and how each part is encoded.

use std::sync::Arc;

use bytes::Bytes;
use prost::Message as _;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::value_text::as_string;
use tributary_pipeline_core::pdata::{OtlpRequest, Payload};
use tributary_pipeline_core::prelude::*;
use tributary_translator_jaeger as jaeger;

use super::config::{Config, Encoding};
use crate::resource_identity::resource_identity;
use crate::split_to_fit::otlp_json;

/// The Zipkin service name of spans whose resource has none (the zipkin exporter's
/// default too).
const ZIPKIN_DEFAULT_SERVICE_NAME: &str = "<missing service name>";

/// What decides a record's partition key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PartitionKey {
    /// No key: librdkafka spreads the records.
    None,
    /// The trace ID, hex.
    TraceId,
    /// A hash of the resource's attributes.
    Resource,
}

/// How one signal's batches are divided into records.
pub(crate) struct RecordPlan {
    topic: Arc<str>,
    topic_from_metadata_key: String,
    topic_from_attribute: String,
    key: PartitionKey,
}

/// One part of a batch: its topic, its partition key, and its data.
pub(crate) type Part<T> = (Arc<str>, Option<Vec<u8>>, T);

impl RecordPlan {
    pub(crate) fn new(config: &Config, signal: Signal) -> Self {
        let key = match signal {
            Signal::Traces if config.partition_traces_by_id => PartitionKey::TraceId,
            Signal::Metrics if config.partition_metrics_by_resource_attributes => {
                PartitionKey::Resource
            }
            Signal::Logs if config.partition_logs_by_resource_attributes => PartitionKey::Resource,
            Signal::Logs if config.partition_logs_by_trace_id => PartitionKey::TraceId,
            _ => PartitionKey::None,
        };
        RecordPlan {
            topic: config.topic(signal).into(),
            topic_from_metadata_key: config.topic_from_metadata_key(signal).to_string(),
            topic_from_attribute: config.topic_from_attribute.clone(),
            key,
        }
    }

    /// Divides `data` into parts of one topic and one key each, records in order.
    pub(crate) fn divide<T: KafkaData>(&self, data: T) -> Vec<Part<T>> {
        // The client metadata's topic takes precedence over the attribute's and the
        // configured one, as in Go.
        let from_metadata = (!self.topic_from_metadata_key.is_empty())
            .then(|| data.metadata())
            .flatten()
            .and_then(|m| m.get(&self.topic_from_metadata_key).first().cloned())
            .filter(|topic| !topic.is_empty());
        let by_attribute = from_metadata.is_none() && !self.topic_from_attribute.is_empty();
        let batch_topic: Arc<str> = match from_metadata {
            Some(topic) => topic.into(),
            None => Arc::clone(&self.topic),
        };
        if !by_attribute && self.key == PartitionKey::None {
            return vec![(batch_topic, None, data)];
        }
        let mut keys = Vec::with_capacity(data.item_count());
        data.record_keys(
            &mut |resource: Option<&Resource>, trace_id: Option<&[u8]>| {
                let topic = if by_attribute {
                    resource
                        .and_then(|r| {
                            r.attributes
                                .iter()
                                .find(|kv| kv.key == self.topic_from_attribute)
                        })
                        .map(|kv| as_string(kv.value.as_ref()))
                        .filter(|topic| !topic.is_empty())
                } else {
                    None
                };
                let key = match self.key {
                    PartitionKey::None => Vec::new(),
                    PartitionKey::TraceId => {
                        trace_id.map(hex::encode).unwrap_or_default().into_bytes()
                    }
                    PartitionKey::Resource => {
                        format!("{:016x}", fnv1a(resource_identity(resource).as_bytes()))
                            .into_bytes()
                    }
                };
                keys.push((topic.unwrap_or_default(), key));
            },
        );
        let first = keys.first().cloned();
        if keys.iter().all(|k| Some(k) == first.as_ref()) {
            let (topic, key) = first.unwrap_or_default();
            return vec![(topic_or(&topic, &batch_topic), nonempty(key), data)];
        }
        data.partition(keys)
            .into_iter()
            .map(|((topic, key), part)| (topic_or(&topic, &batch_topic), nonempty(key), part))
            .collect()
    }
}

fn topic_or(topic: &str, batch_topic: &Arc<str>) -> Arc<str> {
    if topic.is_empty() {
        Arc::clone(batch_topic)
    } else {
        topic.into()
    }
}

fn nonempty(key: Vec<u8>) -> Option<Vec<u8>> {
    (!key.is_empty()).then_some(key)
}

/// 64-bit FNV-1a: a stable hash, so a resource keeps its partition across restarts.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The batch as OTLP/JSON when `encoding` says so, else as OTLP protobuf (the other
/// encodings are refused by the config for this signal).
fn encode_otlp<T: JsonData>(data: &T, encoding: Encoding) -> Result<Bytes, ConsumeError> {
    if encoding == Encoding::OtlpJson {
        otlp_json(data)
    } else {
        Ok(data.encoded())
    }
}

/// Called once per record with its resource and trace ID (if it has one).
type RecordVisitor<'a> = dyn FnMut(Option<&Resource>, Option<&[u8]>) + 'a;

/// A topic and a partition key (empty: none).
type RecordKey = (String, Vec<u8>);

/// Divides a batch among keys, one per record in order (see `OtlpRequest::partition`);
/// each part keeps the batch's client metadata.
fn partition_payload<R: OtlpRequest>(
    data: Payload<R>,
    keys: Vec<RecordKey>,
) -> Vec<(RecordKey, Payload<R>)> {
    let metadata = data.metadata().cloned();
    data.into_request()
        .partition(keys)
        .into_iter()
        .map(|(key, request)| {
            let mut part = Payload::new(request);
            if let Some(metadata) = &metadata {
                part = part.with_metadata(Arc::clone(metadata));
            }
            (key, part)
        })
        .collect()
}

/// A signal the `kafka` exporter can write.
pub(crate) trait KafkaData: JsonData {
    /// Divides the batch among keys, one per record (span, metric, log record) in order.
    fn partition(self, keys: Vec<RecordKey>) -> Vec<(RecordKey, Self)>;

    /// Calls `each` once per record (span, metric, log record), in order, with its
    /// resource and trace ID (if it has one).
    fn record_keys(&self, each: &mut RecordVisitor<'_>);

    /// Encodes the batch as one record value.
    fn encode_as(&self, encoding: Encoding) -> Result<Bytes, ConsumeError> {
        encode_otlp(self, encoding)
    }

    /// Encodings of one record per item (raw log bodies, Jaeger spans): the records;
    /// `None` for the encodings of one record per batch.
    fn encode_each(&self, _encoding: Encoding) -> Result<Option<Vec<ItemRecord>>, ConsumeError> {
        Ok(None)
    }
}

/// The record of one item, in the encodings of one record per item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ItemRecord {
    /// Its own partition key, if the encoding gives it one (a Jaeger span's trace ID);
    /// else the part's.
    pub(crate) key: Option<Vec<u8>>,
    /// The record's value.
    pub(crate) value: Bytes,
}

impl KafkaData for Traces {
    fn partition(self, keys: Vec<RecordKey>) -> Vec<(RecordKey, Self)> {
        partition_payload(self, keys)
    }

    fn record_keys(&self, each: &mut RecordVisitor<'_>) {
        for rs in &self.request().resource_spans {
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    each(rs.resource.as_ref(), Some(&span.trace_id));
                }
            }
        }
    }

    fn encode_each(&self, encoding: Encoding) -> Result<Option<Vec<ItemRecord>>, ConsumeError> {
        let encode: fn(&jaeger::model::Span) -> Vec<u8> = match encoding {
            Encoding::JaegerProto => |span: &jaeger::model::Span| span.encode_to_vec(),
            Encoding::JaegerJson => jaeger::span_to_json,
            _ => return Ok(None),
        };
        // Go's Jaeger marshaler: one span per record, its process inside, keyed by its
        // trace ID as Jaeger writes it.
        let records = jaeger::traces_to_spans(self.request())
            .iter()
            .map(|span| ItemRecord {
                key: Some(jaeger::trace_id_string(&span.trace_id).into_bytes()),
                value: encode(span).into(),
            })
            .collect();
        Ok(Some(records))
    }

    fn encode_as(&self, encoding: Encoding) -> Result<Bytes, ConsumeError> {
        let format = match encoding {
            Encoding::ZipkinJson => tributary_translator_zipkin::Format::Json,
            Encoding::ZipkinProto => tributary_translator_zipkin::Format::Proto,
            _ => return encode_otlp(self, encoding),
        };
        let encoded = tributary_translator_zipkin::encode(
            self.request(),
            format,
            ZIPKIN_DEFAULT_SERVICE_NAME,
        );
        Ok(encoded.body.into())
    }
}

impl KafkaData for Metrics {
    fn partition(self, keys: Vec<RecordKey>) -> Vec<(RecordKey, Self)> {
        partition_payload(self, keys)
    }

    fn record_keys(&self, each: &mut RecordVisitor<'_>) {
        for rm in &self.request().resource_metrics {
            for sm in &rm.scope_metrics {
                for _ in &sm.metrics {
                    each(rm.resource.as_ref(), None);
                }
            }
        }
    }
}

impl KafkaData for Logs {
    fn partition(self, keys: Vec<RecordKey>) -> Vec<(RecordKey, Self)> {
        partition_payload(self, keys)
    }

    fn record_keys(&self, each: &mut RecordVisitor<'_>) {
        for rl in &self.request().resource_logs {
            for sl in &rl.scope_logs {
                for record in &sl.log_records {
                    let trace_id = Some(record.trace_id.as_slice()).filter(|id| !id.is_empty());
                    each(rl.resource.as_ref(), trace_id);
                }
            }
        }
    }

    fn encode_each(&self, encoding: Encoding) -> Result<Option<Vec<ItemRecord>>, ConsumeError> {
        use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value;
        if encoding != Encoding::Raw {
            return Ok(None);
        }
        let mut values = Vec::with_capacity(self.item_count());
        for rl in &self.request().resource_logs {
            for sl in &rl.scope_logs {
                for record in &sl.log_records {
                    // Go's raw marshaler: bytes as they are, strings as their UTF-8, any
                    // other value as its JSON.
                    let value = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                        Some(Value::BytesValue(bytes)) => Bytes::copy_from_slice(bytes),
                        _ => as_string(record.body.as_ref()).into(),
                    };
                    values.push(ItemRecord { key: None, value });
                }
            }
        }
        Ok(Some(values))
    }
}
