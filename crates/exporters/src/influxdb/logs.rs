//! Log records to line protocol, as `otel2influx` writes them: measurement `logs`.

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;

use super::lines::{FieldValue, LineBuffer};
use super::schema::{Written, json, tag_value};

/// Writes every log record of `request` as a line of measurement `logs`, as
/// `otel2influx` does: attributes named in `dimensions` (from the resource, the scope or
/// the record) are tags, the others one JSON field `attributes`; the trace and span IDs
/// are tags; body, severity and observed time are fields. A record without a time gets
/// `now`.
pub(crate) fn write_logs(
    request: &ExportLogsServiceRequest,
    dimensions: &[String],
    now_unix_nano: u64,
    out: &mut LineBuffer,
) -> Written {
    let mut written = Written::default();
    for resource_logs in &request.resource_logs {
        let resource = resource_logs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs
                .scope
                .as_ref()
                .map(|s| s.attributes.as_slice())
                .unwrap_or_default();
            for record in &scope_logs.log_records {
                let mut tags = BTreeMap::new();
                let mut fields = Vec::new();
                if record.observed_time_unix_nano != 0 {
                    fields.push((
                        "observed_time_unix_nano".into(),
                        FieldValue::Int(record.observed_time_unix_nano as i64),
                    ));
                }
                if is_set(&record.trace_id) && is_set(&record.span_id) {
                    tags.insert("trace_id".into(), hex(&record.trace_id));
                    tags.insert("span_id".into(), hex(&record.span_id));
                }
                if record.severity_number != 0 {
                    fields.push((
                        "severity_number".into(),
                        FieldValue::Int(record.severity_number.into()),
                    ));
                }
                if !record.severity_text.is_empty() {
                    fields.push((
                        "severity_text".into(),
                        FieldValue::Str(record.severity_text.clone()),
                    ));
                }
                let body = record.body.as_ref().and_then(tag_value).unwrap_or_default();
                fields.push(("body".into(), FieldValue::Str(body)));
                let mut dropped = u64::from(record.dropped_attributes_count);
                let mut others = serde_json::Map::new();
                for kv in resource.iter().chain(scope).chain(&record.attributes) {
                    if kv.key.is_empty() {
                        continue;
                    }
                    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    if dimensions.contains(&kv.key) {
                        let text = kv.value.as_ref().and_then(tag_value).unwrap_or_default();
                        tags.insert(kv.key.clone(), text);
                    } else {
                        others.insert(kv.key.clone(), value.map_or(serde_json::Value::Null, json));
                    }
                }
                if !others.is_empty() {
                    fields.push((
                        "attributes".into(),
                        FieldValue::Str(serde_json::Value::Object(others).to_string()),
                    ));
                }
                // A field named as a tag would be ambiguous: the tag wins, as in Go.
                fields.retain(|(key, _)| {
                    let clash = tags.contains_key(key);
                    dropped += u64::from(clash);
                    !clash
                });
                if dropped > 0 {
                    fields.push((
                        "dropped_attributes_count".into(),
                        FieldValue::Int(dropped as i64),
                    ));
                }
                let time = if record.time_unix_nano != 0 {
                    record.time_unix_nano
                } else {
                    now_unix_nano
                };
                written.add(out.push("logs", &tags, &fields, time));
            }
        }
    }
    written
}

pub(super) fn is_set(id: &[u8]) -> bool {
    id.iter().any(|b| *b != 0)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
