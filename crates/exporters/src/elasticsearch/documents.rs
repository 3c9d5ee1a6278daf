//! Telemetry as bulk documents: the index each goes to and its JSON source, by mapping
//! mode.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    DataPointFlags, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::{Logs, Metrics};

use super::config::{Config, MappingMode};
use crate::flat_samples::flat_samples;

/// One document of a bulk request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Document {
    /// The index or data stream.
    pub(crate) index: String,
    /// The source line (JSON, no newline).
    pub(crate) source: String,
}

/// How documents are routed, from the configuration.
pub(crate) struct Routing<'a> {
    pub(crate) kind: &'static str,
    pub(crate) index: &'a str,
    pub(crate) dynamic: bool,
    pub(crate) config: &'a Config,
}

impl Routing<'_> {
    /// The index of a document with these attribute levels (most specific first) and
    /// time: `data_stream.*` → `<kind>-<dataset>-<namespace>`; else
    /// `elasticsearch.index.{prefix,suffix}` around the configured index; then the
    /// Logstash date suffix.
    fn index(&self, levels: [&[KeyValue]; 3], time_ns: u64) -> String {
        let find = |key: &str, levels: &mut dyn Iterator<Item = &[KeyValue]>| {
            levels
                .flat_map(|attrs| attrs.iter())
                .find(|kv| kv.key == key)
                .map(|kv| tributary_pipeline_core::pdata::value_text::as_string(kv.value.as_ref()))
        };
        let mut index = self.index.to_owned();
        if self.dynamic {
            let dataset = find("data_stream.dataset", &mut levels.iter().copied());
            let namespace = find("data_stream.namespace", &mut levels.iter().copied());
            if dataset.is_some() || namespace.is_some() {
                index = format!(
                    "{}-{}-{}",
                    self.kind,
                    dataset.unwrap_or_else(|| "generic".into()),
                    namespace.unwrap_or_else(|| "default".into())
                );
            } else {
                // Prefix and suffix: the resource's first.
                let prefix = find(
                    "elasticsearch.index.prefix",
                    &mut levels.iter().rev().copied(),
                );
                let suffix = find(
                    "elasticsearch.index.suffix",
                    &mut levels.iter().rev().copied(),
                );
                if prefix.is_some() || suffix.is_some() {
                    index = format!(
                        "{}{index}{}",
                        prefix.unwrap_or_default(),
                        suffix.unwrap_or_default()
                    );
                }
            }
        }
        let logstash = &self.config.logstash_format;
        if logstash.enabled {
            let date = timestamp(time_ns).format(&logstash.date_format).to_string();
            index = format!("{index}{}{date}", logstash.prefix_separator);
        }
        index
    }
}

fn timestamp(time_ns: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(i64::try_from(time_ns).unwrap_or(i64::MAX))
}

fn rfc3339(time_ns: u64) -> String {
    timestamp(time_ns).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An attribute value as JSON; non-finite doubles as their names (JSON has no NaN).
pub(crate) fn any_to_json(value: Option<&AnyValue>) -> Value {
    match value.and_then(|v| v.value.as_ref()) {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(d.to_string())),
        Some(any_value::Value::BytesValue(b)) => {
            use base64::Engine as _;
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(|v| any_to_json(Some(v))).collect())
        }
        Some(any_value::Value::KvlistValue(l)) => Value::Object(
            l.values
                .iter()
                .map(|kv| (kv.key.clone(), any_to_json(kv.value.as_ref())))
                .collect(),
        ),
        Some(any_value::Value::StringValueStrindex(i)) => Value::from(*i),
    }
}

/// Puts `value` at `key` of `map`: with `dedot`, `a.b` becomes `{"a":{"b":..}}` (a key
/// whose path is taken by a non-object stays dotted). A later key replaces an earlier one.
fn put(map: &mut Map<String, Value>, key: &str, value: Value, dedot: bool) {
    if !dedot || !key.contains('.') {
        map.insert(key.to_owned(), value);
        return;
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        map.insert(key.to_owned(), value);
        return;
    }
    let mut node = &mut *map;
    for part in &parts[..parts.len() - 1] {
        let slot = node
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        match slot {
            Value::Object(inner) => node = inner,
            _ => {
                map.insert(key.to_owned(), value);
                return;
            }
        }
    }
    node.insert(parts[parts.len() - 1].to_owned(), value);
}

fn attributes(attrs: &[KeyValue], dedot: bool) -> Map<String, Value> {
    let mut map = Map::new();
    for kv in attrs {
        put(&mut map, &kv.key, any_to_json(kv.value.as_ref()), dedot);
    }
    map
}

/// The points of one document: their attributes, and the fields by metric name.
type Group = (Vec<KeyValue>, Map<String, Value>);

/// The metric documents of a batch, and how many points no document could carry
/// (exponential histograms, no recorded value, non-finite values).
pub(crate) fn metric_documents(
    metrics: &Metrics,
    mode: MappingMode,
    routing: &Routing<'_>,
) -> (Vec<Document>, usize) {
    if mode == MappingMode::Lookout {
        return lookout_documents(metrics, routing);
    }
    let dedot = routing.config.mapping.dedot;
    let mut documents = Vec::new();
    let mut skipped = 0;
    for resource in &metrics.request().resource_metrics {
        let resource_attrs = resource
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope in &resource.scope_metrics {
            let scope_attrs = scope
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or_default();
            // Points of one time and attribute set share a document, as in Go.
            let mut grouped: BTreeMap<(u64, String), Group> = BTreeMap::new();
            for metric in &scope.metrics {
                let mut add = |attrs: &[KeyValue], time: u64, value: Value| {
                    let key = (
                        time,
                        serde_json::to_string(&attributes(attrs, false)).unwrap_or_default(),
                    );
                    let entry = grouped
                        .entry(key)
                        .or_insert_with(|| (attrs.to_vec(), Map::new()));
                    put(&mut entry.1, &metric.name, value, dedot);
                };
                match &metric.data {
                    Some(Data::Gauge(g)) => {
                        g.data_points
                            .iter()
                            .for_each(|p| match number(p.flags, &p.value) {
                                Some(v) => add(&p.attributes, p.time_unix_nano, v),
                                None => skipped += 1,
                            })
                    }
                    Some(Data::Sum(s)) => {
                        s.data_points
                            .iter()
                            .for_each(|p| match number(p.flags, &p.value) {
                                Some(v) => add(&p.attributes, p.time_unix_nano, v),
                                None => skipped += 1,
                            })
                    }
                    Some(Data::Histogram(h)) => {
                        for p in &h.data_points {
                            if p.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
                                skipped += 1;
                                continue;
                            }
                            add(
                                &p.attributes,
                                p.time_unix_nano,
                                histogram(&p.explicit_bounds, &p.bucket_counts),
                            );
                        }
                    }
                    Some(Data::Summary(s)) => {
                        for p in &s.data_points {
                            match serde_json::Number::from_f64(p.sum) {
                                Some(sum) => add(
                                    &p.attributes,
                                    p.time_unix_nano,
                                    json!({"sum": sum, "value_count": p.count}),
                                ),
                                None => skipped += 1,
                            }
                        }
                    }
                    Some(Data::ExponentialHistogram(h)) => skipped += h.data_points.len(),
                    None => {}
                }
            }
            for ((time, _), (attrs, fields)) in grouped {
                let mut doc = Map::new();
                doc.insert("@timestamp".into(), Value::String(rfc3339(time)));
                doc.insert(
                    "Resource".into(),
                    Value::Object(attributes(resource_attrs, dedot)),
                );
                if let Some(s) = &scope.scope
                    && (!s.name.is_empty() || !s.version.is_empty())
                {
                    doc.insert(
                        "Scope".into(),
                        json!({"name": s.name, "version": s.version}),
                    );
                }
                if mode == MappingMode::Raw {
                    for (k, v) in attributes(&attrs, dedot) {
                        doc.insert(k, v);
                    }
                } else if !attrs.is_empty() {
                    doc.insert(
                        "Attributes".into(),
                        Value::Object(attributes(&attrs, dedot)),
                    );
                }
                for (k, v) in fields {
                    doc.insert(k, v);
                }
                documents.push(Document {
                    index: routing.index([&attrs, scope_attrs, resource_attrs], time),
                    source: Value::Object(doc).to_string(),
                });
            }
        }
    }
    (documents, skipped)
}

fn number(flags: u32, value: &Option<number_data_point::Value>) -> Option<Value> {
    if flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
        return None;
    }
    match value {
        Some(number_data_point::Value::AsInt(i)) => Some(Value::from(*i)),
        Some(number_data_point::Value::AsDouble(d)) => {
            serde_json::Number::from_f64(*d).map(Value::Number)
        }
        None => None,
    }
}

/// A histogram as Elasticsearch's `histogram` field: bucket midpoints and counts, empty
/// buckets left out; the open buckets take their finite bound.
fn histogram(bounds: &[f64], counts: &[u64]) -> Value {
    let mut values = Vec::new();
    let mut out_counts = Vec::new();
    for (i, count) in counts.iter().enumerate() {
        if *count == 0 {
            continue;
        }
        let value = match (i.checked_sub(1).and_then(|j| bounds.get(j)), bounds.get(i)) {
            (Some(lo), Some(hi)) => lo + (hi - lo) / 2.0,
            (None, Some(hi)) => *hi,
            (Some(lo), None) => *lo,
            (None, None) => 0.0,
        };
        values.push(value);
        out_counts.push(*count);
    }
    json!({"counts": out_counts, "values": values})
}

/// SOFALookout's layout: `{"time","id","value","tags":["k=v",..]}` per sample.
fn lookout_documents(metrics: &Metrics, routing: &Routing<'_>) -> (Vec<Document>, usize) {
    let (samples, skipped) = flat_samples(metrics);
    let documents = samples
        .into_iter()
        .map(|sample| {
            let time_ns = u64::try_from(sample.time_ms)
                .unwrap_or(0)
                .saturating_mul(1_000_000);
            let tags: Vec<String> = sample
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let kv: Vec<KeyValue> = sample
                .tags
                .iter()
                .map(|(k, v)| {
                    tributary_pipeline_core::pdata::attributes::key_value(k.as_str(), v.as_str())
                })
                .collect();
            Document {
                index: routing.index([&kv, &[], &[]], time_ns),
                source: json!({
                    "time": timestamp(time_ns).to_rfc3339_opts(SecondsFormat::Millis, false),
                    "id": sample.name,
                    "value": sample.value,
                    "tags": tags,
                })
                .to_string(),
            }
        })
        .collect();
    (documents, skipped)
}

/// The log documents of a batch.
pub(crate) fn log_documents(
    logs: &Logs,
    mode: MappingMode,
    routing: &Routing<'_>,
) -> Vec<Document> {
    let dedot = routing.config.mapping.dedot;
    let mut documents = Vec::new();
    for resource in &logs.request().resource_logs {
        let resource_attrs = resource
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope in &resource.scope_logs {
            let scope_attrs = scope
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or_default();
            for record in &scope.log_records {
                let time = if record.time_unix_nano != 0 {
                    record.time_unix_nano
                } else {
                    record.observed_time_unix_nano
                };
                let mut doc = Map::new();
                doc.insert("@timestamp".into(), Value::String(rfc3339(time)));
                if record.observed_time_unix_nano != 0 {
                    doc.insert(
                        "ObservedTimestamp".into(),
                        Value::String(rfc3339(record.observed_time_unix_nano)),
                    );
                }
                if record.body.is_some() {
                    doc.insert("Body".into(), any_to_json(record.body.as_ref()));
                }
                if record.severity_number != 0 {
                    doc.insert("SeverityNumber".into(), Value::from(record.severity_number));
                }
                if !record.severity_text.is_empty() {
                    doc.insert(
                        "SeverityText".into(),
                        Value::String(record.severity_text.clone()),
                    );
                }
                if !record.trace_id.is_empty() {
                    doc.insert("TraceId".into(), Value::String(hex(&record.trace_id)));
                }
                if !record.span_id.is_empty() {
                    doc.insert("SpanId".into(), Value::String(hex(&record.span_id)));
                }
                if record.flags != 0 {
                    doc.insert("TraceFlags".into(), Value::from(record.flags & 0xff));
                }
                doc.insert(
                    "Resource".into(),
                    Value::Object(attributes(resource_attrs, dedot)),
                );
                if let Some(s) = &scope.scope
                    && (!s.name.is_empty() || !s.version.is_empty())
                {
                    doc.insert(
                        "Scope".into(),
                        json!({"name": s.name, "version": s.version}),
                    );
                }
                if mode == MappingMode::Raw {
                    for (k, v) in attributes(&record.attributes, dedot) {
                        doc.insert(k, v);
                    }
                } else if !record.attributes.is_empty() {
                    doc.insert(
                        "Attributes".into(),
                        Value::Object(attributes(&record.attributes, dedot)),
                    );
                }
                documents.push(Document {
                    index: routing.index([&record.attributes, scope_attrs, resource_attrs], time),
                    source: Value::Object(doc).to_string(),
                });
            }
        }
    }
    documents
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
