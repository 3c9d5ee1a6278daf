//! What a record carries besides its body: the configured and computed attributes, the
//! `log.file.*` attributes, the header's attributes, and the stanza entry form.

use std::path::Path;

use tributary_pipeline_core::pdata::Logs;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

use super::Tracker;
use crate::filelog::owner;
use crate::stanza::{self, Entry, Pipeline};

impl Tracker {
    /// The `attributes` given as expressions, evaluated on an entry with `body`.
    pub(super) fn computed_attributes(&self, body: &AnyValue) -> Vec<KeyValue> {
        if self.attribute_exprs.is_empty() {
            return Vec::new();
        }
        let entry = Entry::new(stanza::Value::from_any_value(body.clone()));
        self.attribute_exprs
            .iter()
            .map(|(key, expr)| key_value(key, expr.evaluate(&entry).into_any_value()))
            .collect()
    }

    /// The stanza entry of one token.
    pub(super) fn entry(
        &self,
        bytes: &[u8],
        observed: u64,
        file_attributes: &[KeyValue],
        record_number: u64,
    ) -> Entry {
        let body = match self.encoding.body(bytes).value {
            Some(any_value::Value::BytesValue(b)) => stanza::Value::Bytes(b),
            Some(any_value::Value::StringValue(s)) => stanza::Value::String(s),
            _ => stanza::Value::Null,
        };
        let mut entry = Entry::new(body);
        entry.observed_timestamp = i64::try_from(observed).unwrap_or(i64::MAX);
        for (key, expr) in &self.attribute_exprs {
            let value = expr.evaluate(&entry);
            entry.attributes.insert(key.clone(), value);
        }
        let pairs = self.attributes.iter().chain(file_attributes);
        for kv in pairs {
            entry
                .attributes
                .insert(kv.key.clone(), plain_value(kv.value.as_ref()));
        }
        if self.config.include_file_record_number {
            let number = i64::try_from(record_number).unwrap_or(i64::MAX);
            entry
                .attributes
                .insert("log.file.record_number".into(), stanza::Value::Int(number));
        }
        for kv in &self.resource {
            entry
                .resource
                .insert(kv.key.clone(), plain_value(kv.value.as_ref()));
        }
        entry
    }

    /// The `log.file.*` attributes the configuration asks for.
    pub(super) fn file_attributes(&self, index: usize) -> Vec<KeyValue> {
        let config = &self.config;
        let path = &self.known[index].path;
        let mut attributes = Vec::new();
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        if config.include_file_name
            && let Some(name) = name(path)
        {
            attributes.push(key_value("log.file.name", name));
        }
        if config.include_file_path {
            attributes.push(key_value(
                "log.file.path",
                path.to_string_lossy().into_owned(),
            ));
        }
        if (config.include_file_name_resolved || config.include_file_path_resolved)
            && let Ok(resolved) = std::fs::canonicalize(path)
        {
            if config.include_file_name_resolved
                && let Some(name) = name(&resolved)
            {
                attributes.push(key_value("log.file.name_resolved", name));
            }
            if config.include_file_path_resolved {
                let resolved = resolved.to_string_lossy().into_owned();
                attributes.push(key_value("log.file.path_resolved", resolved));
            }
        }
        if (config.include_file_owner_name
            || config.include_file_owner_group_name
            || config.include_file_permissions)
            && let Ok(metadata) = std::fs::metadata(path)
        {
            owner::attributes(&metadata, config, &mut attributes);
        }
        attributes
    }
}

/// Runs one header line through the metadata operators and keeps the attributes they
/// set (a later line's value replaces an earlier one's).
pub(super) fn read_header(metadata: &mut Pipeline, body: AnyValue, attributes: &mut Vec<KeyValue>) {
    let mut out = Vec::new();
    metadata.process(Entry::new(stanza::Value::from_any_value(body)), &mut out);
    metadata.flush(i64::MAX, &mut out);
    for entry in out {
        for (key, value) in entry.attributes {
            attributes.retain(|kv| kv.key != key);
            attributes.push(key_value(&key, value.to_string()));
        }
    }
}

/// A string or integer attribute as a stanza value.
pub(super) fn plain_value(value: Option<&AnyValue>) -> stanza::Value {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => stanza::Value::String(s.clone()),
        Some(any_value::Value::IntValue(i)) => stanza::Value::Int(*i),
        _ => stanza::Value::Null,
    }
}

/// The batch of what the operators emitted, grouped by resource and scope, encoded on
/// the poller thread (with each length computed once) and the records freed there: a
/// pipeline that does not edit the records exports the bytes without encoding again.
pub(super) fn entries_to_logs(entries: Vec<Entry>) -> Logs {
    let built = Logs::new(ExportLogsServiceRequest {
        resource_logs: stanza::group_entries(entries),
    });
    // prost's encoding of a request built here: nothing to check again.
    Logs::from_own_encoding(built.encoded(), built.item_count())
}
