//! A record's value decoded as its encoding says, into the signal's batch.

use bytes::Bytes;
use prost::Message;
use tributary_pipeline_core::pdata::builder::now_unix_nano;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::prelude::*;
use tributary_translator_jaeger::model::{Batch, Span};
use tributary_translator_jaeger::{batches_to_otlp, span_from_json};

use super::config::Encoding;

/// A signal the `kafka` receiver reads, and how each encoding of it is read.
pub trait KafkaRecord: JsonData {
    /// Decodes one record value.
    fn decode_record(value: &[u8], encoding: Encoding) -> Result<Self, String> {
        decode_otlp(value, encoding)
    }

    /// Calls `each` with every resource of the batch, to change it.
    fn for_each_resource(&mut self, each: &mut dyn FnMut(&mut Option<Resource>));
}

/// The OTLP encodings, the ones every signal has (the config refuses the others where
/// they do not apply).
fn decode_otlp<T: JsonData>(value: &[u8], encoding: Encoding) -> Result<T, String> {
    match encoding {
        Encoding::OtlpJson => T::from_otlp_json(value).map_err(|e| e.to_string()),
        _ => T::decode(Bytes::copy_from_slice(value)).map_err(|e| e.to_string()),
    }
}

impl KafkaRecord for Metrics {
    fn for_each_resource(&mut self, each: &mut dyn FnMut(&mut Option<Resource>)) {
        for rm in &mut self.make_mut().resource_metrics {
            each(&mut rm.resource);
        }
    }
}

impl KafkaRecord for Traces {
    fn for_each_resource(&mut self, each: &mut dyn FnMut(&mut Option<Resource>)) {
        for rs in &mut self.make_mut().resource_spans {
            each(&mut rs.resource);
        }
    }

    fn decode_record(value: &[u8], encoding: Encoding) -> Result<Self, String> {
        match encoding {
            Encoding::ZipkinJson => {
                tributary_translator_zipkin::decode_v2_json(value, false).map_err(|e| e.to_string())
            }
            Encoding::ZipkinProto => tributary_translator_zipkin::decode_v2_proto(value, false)
                .map_err(|e| e.to_string()),
            Encoding::JaegerProto => jaeger_span_to_traces(Span::decode(value)),
            Encoding::JaegerJson => jaeger_span_to_traces(span_from_json(value)),
            _ => decode_otlp(value, encoding),
        }
    }
}

/// Go's `jaeger_proto` and `jaeger_json`: one `model.Span` per record, its process inside.
fn jaeger_span_to_traces<E: std::fmt::Display>(span: Result<Span, E>) -> Result<Traces, String> {
    let mut span = span.map_err(|e| e.to_string())?;
    let batch = Batch {
        process: span.process.take(),
        spans: vec![span],
    };
    batches_to_otlp([batch])
        .map(Traces::new)
        .map_err(|e| e.to_string())
}

impl KafkaRecord for Logs {
    fn for_each_resource(&mut self, each: &mut dyn FnMut(&mut Option<Resource>)) {
        for rl in &mut self.make_mut().resource_logs {
            each(&mut rl.resource);
        }
    }

    fn decode_record(value: &[u8], encoding: Encoding) -> Result<Self, String> {
        let body = match encoding {
            Encoding::Raw => AnyValue {
                value: Some(Value::BytesValue(value.to_vec())),
            },
            Encoding::Text => {
                let text = std::str::from_utf8(value)
                    .map_err(|e| format!("the record is not UTF-8 text: {e}"))?;
                AnyValue {
                    value: Some(Value::StringValue(text.to_string())),
                }
            }
            Encoding::Json => {
                let json: serde_json::Value = serde_json::from_slice(value)
                    .map_err(|e| format!("the record is not JSON: {e}"))?;
                json_to_any_value(json)
            }
            _ => return decode_otlp(value, encoding),
        };
        let mut builder = LogsBuilder::new();
        builder.record(body).observed_time(now_unix_nano());
        Ok(builder.build())
    }
}

/// A JSON value as an OTLP value: objects as maps, arrays as arrays, integers that fit
/// as ints, other numbers as doubles.
fn json_to_any_value(json: serde_json::Value) -> AnyValue {
    use serde_json::Value as Json;
    let value = match json {
        Json::Null => None,
        Json::Bool(b) => Some(Value::BoolValue(b)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::IntValue(i),
            None => Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Json::String(s) => Some(Value::StringValue(s)),
        Json::Array(items) => Some(Value::ArrayValue(ArrayValue {
            values: items.into_iter().map(json_to_any_value).collect(),
        })),
        Json::Object(fields) => Some(Value::KvlistValue(KeyValueList {
            values: fields
                .into_iter()
                .map(|(key, value)| KeyValue {
                    key,
                    value: Some(json_to_any_value(value)),
                    ..Default::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}

/// Adds `attributes` to every resource of a batch (header extraction).
pub(crate) fn add_resource_attributes<T: KafkaRecord>(data: &mut T, attributes: &[KeyValue]) {
    if attributes.is_empty() {
        return;
    }
    data.for_each_resource(&mut |resource| {
        let resource = resource.get_or_insert_with(Default::default);
        for kv in attributes {
            resource.attributes.retain(|have| have.key != kv.key);
            resource.attributes.push(kv.clone());
        }
    });
}
