//! An entry: Go's `entry.Entry`, the unit the operators pass along, and its conversion to
//! OTLP log records grouped by resource and scope.

use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::value::{Map, Value, map_into_key_values};

/// One log entry on its way through the operators.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// When the entry was read, in nanoseconds since the Unix epoch.
    pub observed_timestamp: i64,
    /// When the event happened (0: unknown), in nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// The body.
    pub body: Value,
    /// The attributes.
    pub attributes: Map,
    /// The resource attributes.
    pub resource: Map,
    /// The OTLP severity number (0 unspecified .. 24 fatal4).
    pub severity: i32,
    /// The severity as written in the source.
    pub severity_text: String,
    /// The trace id (empty or 16 bytes).
    pub trace_id: Vec<u8>,
    /// The span id (empty or 8 bytes).
    pub span_id: Vec<u8>,
    /// The W3C trace flags.
    pub trace_flags: u8,
    /// The instrumentation scope name.
    pub scope_name: String,
    /// Where the entry was read, when its reader checkpoints (not exported).
    pub origin: Option<Origin>,
}

/// Where an entry was read: what a reader that checkpoints its position (filelog) must
/// not store past while an operator still holds the entry or it waits to be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The reader's id of the source (filelog: the file's checkpoint id).
    pub source: u64,
    /// Where the entry starts in the source (filelog: the byte offset, decompressed for
    /// gzip).
    pub offset: u64,
    /// How many records of the source came before it.
    pub record_number: u64,
}

impl Entry {
    /// A new entry with `body`, observed now.
    pub fn new(body: impl Into<Value>) -> Entry {
        Entry {
            observed_timestamp: now_nanos(),
            body: body.into(),
            ..Entry::default()
        }
    }

    /// Converts into an OTLP log record (resource and scope are left to the caller, see
    /// [`group_entries`]).
    pub fn into_log_record(self) -> LogRecord {
        LogRecord {
            time_unix_nano: u64::try_from(self.timestamp).unwrap_or(0),
            observed_time_unix_nano: u64::try_from(self.observed_timestamp).unwrap_or(0),
            severity_number: self.severity,
            severity_text: self.severity_text,
            body: match self.body {
                Value::Null => None,
                body => Some(body.into_any_value()),
            },
            attributes: map_into_key_values(self.attributes),
            dropped_attributes_count: 0,
            flags: u32::from(self.trace_flags),
            trace_id: self.trace_id,
            span_id: self.span_id,
            event_name: String::new(),
        }
    }
}

/// The current time in nanoseconds since the Unix epoch.
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Entries grouped by resource, then by scope name, in the order each first appears (as
/// Go's stanza adapter groups them); each entry's resource and scope name are moved into
/// its group.
type Grouped = Vec<(Map, Vec<(String, Vec<Entry>)>)>;

/// Groups entries as [`Grouped`] says.
fn group(entries: impl IntoIterator<Item = Entry>) -> Grouped {
    let mut groups: Grouped = Vec::new();
    for mut entry in entries {
        let resource = std::mem::take(&mut entry.resource);
        let scope = std::mem::take(&mut entry.scope_name);
        let index = match groups.iter().position(|(r, _)| *r == resource) {
            Some(index) => index,
            None => {
                groups.push((resource, Vec::new()));
                groups.len() - 1
            }
        };
        let scopes = &mut groups[index].1;
        match scopes.iter_mut().find(|(name, _)| *name == scope) {
            Some((_, entries)) => entries.push(entry),
            None => scopes.push((scope, vec![entry])),
        }
    }
    groups
}

/// Converts a batch of entries into `ResourceLogs`, one per distinct resource and, inside
/// it, one `ScopeLogs` per scope name, in the order they first appear (as Go's stanza
/// adapter groups them).
pub fn group_entries(entries: impl IntoIterator<Item = Entry>) -> Vec<ResourceLogs> {
    group(entries)
        .into_iter()
        .map(|(resource, scopes)| ResourceLogs {
            resource: Some(Resource {
                attributes: map_into_key_values(resource),
                ..Resource::default()
            }),
            scope_logs: scopes
                .into_iter()
                .map(|(name, entries)| ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name,
                        ..InstrumentationScope::default()
                    }),
                    log_records: entries.into_iter().map(Entry::into_log_record).collect(),
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect()
}
