//! The operators' configuration: one `OperatorConfig` per item of a receiver's
//! `operators:` list, with Go's keys and defaults.
//!
//! An operator's keys sit in one map with its `type`; the keys that several operators
//! share (`parse_from`, `field`, `regex`, …) mean the same thing in each. The struct holds
//! the union of every operator's keys so the confmap decoder refuses a key no operator has
//! with its full path; [`Pipeline::build`](super::Pipeline::build) then refuses a key that
//! exists but does not belong to the operator's type, naming the operator.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::field::Field;
use super::value::Value;

/// What an operator does with an entry it fails to process (Go's `on_error`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Send the entry on unchanged and log the error (the default).
    #[default]
    Send,
    /// Send the entry on unchanged, logging only at debug level.
    SendQuiet,
    /// Drop the entry and log the error.
    Drop,
    /// Drop the entry, logging only at debug level.
    DropQuiet,
}

/// One or several operator ids (`output: next` or `output: [a, b]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outputs(pub Vec<String>);

impl<'de> Deserialize<'de> for Outputs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(Outputs(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(id) => vec![id],
            OneOrMany::Many(ids) => ids,
        }))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Value::from_json)
    }
}

/// The `timestamp:` block of a parser, and the keys of `time_parser`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeConfig {
    /// Where the time is read (required for the block; `body` for `time_parser`).
    pub parse_from: Option<Field>,
    /// `strptime` (default), `gotime` or `epoch`.
    pub layout_type: Option<String>,
    /// The layout in the syntax of `layout_type`; for `epoch` one of `s`, `ms`, `us`,
    /// `ns`, `s.ms`, `s.us`, `s.ns`.
    pub layout: Option<String>,
    /// The time zone of times without one (Go's default: the machine's, `Local`).
    pub location: Option<String>,
}

/// The `severity:` block of a parser, and the keys of `severity_parser`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeverityConfig {
    /// Where the severity is read.
    pub parse_from: Option<Field>,
    /// `default` (Go's default) or `none`.
    pub preset: Option<String>,
    /// Severity name → value, list of values, or `{min, max}` status code ranges.
    pub mapping: Option<BTreeMap<String, Value>>,
    /// Replace the severity text with the mapped severity's name.
    pub overwrite_text: Option<bool>,
}

/// One `parse_from` holder (`trace.trace_id`, `scope_name`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParseFrom {
    /// Where the value is read.
    pub parse_from: Option<Field>,
}

/// The `trace:` block of a parser, and the keys of `trace_parser`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    /// Default `attributes.trace_id`.
    pub trace_id: Option<ParseFrom>,
    /// Default `attributes.span_id`.
    pub span_id: Option<ParseFrom>,
    /// Default `attributes.trace_flags`.
    pub trace_flags: Option<ParseFrom>,
}

/// `regex_parser`'s `cache:` block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// How many parsed values to remember (0: no cache).
    pub size: u32,
}

/// One route of a `router`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The condition (an `expr` expression).
    pub expr: String,
    /// Where matching entries go.
    pub output: Outputs,
    /// Attributes added to matching entries.
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

/// One item of an `operators:` list.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// The operator type (`json_parser`, `move`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The operator's id (default: its type).
    #[serde(default)]
    pub id: Option<String>,
    /// Where entries go next (default: the next operator in the list).
    #[serde(default)]
    pub output: Option<Outputs>,
    /// Only entries for which this expression holds are processed; others pass unchanged.
    #[serde(default, rename = "if")]
    pub if_expr: Option<String>,
    /// What to do with an entry that fails.
    #[serde(default)]
    pub on_error: Option<OnError>,

    // Parsers.
    /// Where a parser reads (default `body`).
    #[serde(default)]
    pub parse_from: Option<Field>,
    /// Where a parser writes (default `attributes`).
    #[serde(default)]
    pub parse_to: Option<Field>,
    /// A parsed field that becomes the body.
    #[serde(default)]
    pub body: Option<Field>,
    /// A parser's embedded time parser.
    #[serde(default)]
    pub timestamp: Option<TimeConfig>,
    /// A parser's embedded severity parser.
    #[serde(default)]
    pub severity: Option<SeverityConfig>,
    /// A parser's embedded trace parser.
    #[serde(default)]
    pub trace: Option<TraceConfig>,
    /// A parser's embedded scope name parser.
    #[serde(default)]
    pub scope_name: Option<ParseFrom>,
    /// `json_parser`: keep integers as integers (Go's default: all numbers are doubles).
    #[serde(default)]
    pub parse_ints: Option<bool>,
    /// `regex_parser`, `regex_replace`: the regular expression (RE2 syntax).
    #[serde(default)]
    pub regex: Option<String>,
    /// `regex_parser`: a cache of parsed values.
    #[serde(default)]
    pub cache: Option<CacheConfig>,
    /// `key_value_parser` (default `=`), `csv_parser` (default `,`).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// `key_value_parser`: between pairs (default: whitespace).
    #[serde(default)]
    pub pair_delimiter: Option<String>,
    /// `csv_parser`: the header line.
    #[serde(default)]
    pub header: Option<String>,
    /// `csv_parser`: the header's delimiter (default: `delimiter`).
    #[serde(default)]
    pub header_delimiter: Option<String>,
    /// `csv_parser`: the attribute holding each entry's header.
    #[serde(default)]
    pub header_attribute: Option<String>,
    /// `csv_parser`: accept quotes inside unquoted fields.
    #[serde(default)]
    pub lazy_quotes: Option<bool>,
    /// `csv_parser`: treat quotes as ordinary characters.
    #[serde(default)]
    pub ignore_quotes: Option<bool>,
    /// `syslog_parser`: `rfc3164` or `rfc5424`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `syslog_parser`, `time_parser`: the time zone.
    #[serde(default)]
    pub location: Option<String>,
    /// `syslog_parser`: octet-counted framing (rfc5424).
    #[serde(default)]
    pub enable_octet_counting: Option<bool>,
    /// `syslog_parser`: accept messages without a PRI header.
    #[serde(default)]
    pub allow_skip_pri_header: Option<bool>,
    /// `syslog_parser`: the longest octet-counted message (default 8192).
    #[serde(default)]
    pub max_octets: Option<usize>,
    /// `syslog_parser`: `LF` or `NUL`.
    #[serde(default)]
    pub non_transparent_framing_trailer: Option<String>,
    /// `container`: `docker`, `crio`, `containerd` (default: detected per entry).
    #[serde(default)]
    pub format: Option<String>,
    /// `container`: `k8s.*` resource attributes from `log.file.path` (default true).
    #[serde(default)]
    pub add_metadata_from_filepath: Option<bool>,
    /// `container`, `recombine`: the largest combined entry.
    #[serde(default, deserialize_with = "optional_byte_size")]
    pub max_log_size: Option<usize>,
    /// `recombine`: an expression that holds for the first entry of a batch.
    #[serde(default)]
    pub is_first_entry: Option<String>,
    /// `recombine`: an expression that holds for the last entry of a batch.
    #[serde(default)]
    pub is_last_entry: Option<String>,
    /// `recombine`: the field combined (required).
    #[serde(default)]
    pub combine_field: Option<Field>,
    /// `recombine`: the separator (default `"\n"`).
    #[serde(default)]
    pub combine_with: Option<String>,
    /// `recombine`: most entries per batch (default 1000).
    #[serde(default)]
    pub max_batch_size: Option<usize>,
    /// `recombine`: entries that match neither expression flushed after this many
    /// (default 100).
    #[serde(default)]
    pub max_unmatched_batch_size: Option<usize>,
    /// `recombine`: most sources combined at once (default 1000).
    #[serde(default)]
    pub max_sources: Option<usize>,
    /// `recombine`: what separates sources (default `attributes["log.file.path"]`).
    #[serde(default)]
    pub source_identifier: Option<Field>,
    /// `recombine`: a partial batch is flushed after this long without new entries
    /// (default 5s).
    #[serde(default, with = "tributary_confmap::duration::option")]
    pub force_flush_period: Option<Duration>,
    /// `recombine`: whose fields the combined entry keeps (`newest`, default, or
    /// `oldest`).
    #[serde(default)]
    pub overwrite_with: Option<String>,

    // Transformers.
    /// `move`, `copy`: the source field.
    #[serde(default)]
    pub from: Option<Field>,
    /// `move`, `copy`: the destination field.
    #[serde(default)]
    pub to: Option<Field>,
    /// `add`, `remove`, `flatten`, `unquote`, `regex_replace`: the field.
    #[serde(default)]
    pub field: Option<Field>,
    /// `add`: the value (or `EXPR(...)`).
    #[serde(default)]
    pub value: Option<Value>,
    /// `retain`: the fields kept.
    #[serde(default)]
    pub fields: Option<Vec<Field>>,
    /// `filter`: entries for which this holds are dropped.
    #[serde(default)]
    pub expr: Option<String>,
    /// `filter`: the share of matching entries dropped (default 1.0).
    #[serde(default)]
    pub drop_ratio: Option<f64>,
    /// `router`: the routes, tried in order.
    #[serde(default)]
    pub routes: Option<Vec<RouteConfig>>,
    /// `router`: where entries that match no route go.
    #[serde(default)]
    pub default: Option<Outputs>,
    /// `severity_parser`: the preset.
    #[serde(default)]
    pub preset: Option<String>,
    /// `severity_parser`: the mapping.
    #[serde(default)]
    pub mapping: Option<BTreeMap<String, Value>>,
    /// `severity_parser`: replace the text with the mapped name.
    #[serde(default)]
    pub overwrite_text: Option<bool>,
    /// `time_parser`: `strptime`, `gotime` or `epoch`.
    #[serde(default)]
    pub layout_type: Option<String>,
    /// `time_parser`: the layout.
    #[serde(default)]
    pub layout: Option<String>,
    /// `trace_parser`: where the trace id is read.
    #[serde(default)]
    pub trace_id: Option<ParseFrom>,
    /// `trace_parser`: where the span id is read.
    #[serde(default)]
    pub span_id: Option<ParseFrom>,
    /// `trace_parser`: where the trace flags are read.
    #[serde(default)]
    pub trace_flags: Option<ParseFrom>,
    /// `regex_replace`: a built-in pattern instead of `regex` (`ansi_control_sequences`).
    #[serde(default)]
    pub regex_name: Option<String>,
    /// `regex_replace`: the replacement (`$1`, `${name}` refer to groups).
    #[serde(default)]
    pub replace_with: Option<String>,
}

fn optional_byte_size<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<usize>, D::Error> {
    crate::syslog::byte_size(deserializer).map(Some)
}

impl OperatorConfig {
    /// An operator of type `kind` with every key at its default.
    pub fn new(kind: &str) -> OperatorConfig {
        OperatorConfig {
            kind: kind.to_string(),
            ..OperatorConfig::default()
        }
    }

    /// The operator's id: `id`, or its type when none was given.
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.kind)
    }

    /// The keys set in this config (beyond `type`), in declaration order.
    pub(crate) fn present_keys(&self) -> Vec<&'static str> {
        macro_rules! present {
            ($($field:ident => $key:literal),* $(,)?) => {{
                let mut keys = Vec::new();
                $(if self.$field.is_some() { keys.push($key); })*
                keys
            }};
        }
        present!(
            id => "id", output => "output", if_expr => "if", on_error => "on_error",
            parse_from => "parse_from", parse_to => "parse_to", body => "body",
            timestamp => "timestamp", severity => "severity", trace => "trace",
            scope_name => "scope_name", parse_ints => "parse_ints", regex => "regex",
            cache => "cache", delimiter => "delimiter", pair_delimiter => "pair_delimiter",
            header => "header", header_delimiter => "header_delimiter",
            header_attribute => "header_attribute", lazy_quotes => "lazy_quotes",
            ignore_quotes => "ignore_quotes", protocol => "protocol", location => "location",
            enable_octet_counting => "enable_octet_counting",
            allow_skip_pri_header => "allow_skip_pri_header",
            non_transparent_framing_trailer => "non_transparent_framing_trailer",
            max_octets => "max_octets",
            format => "format", add_metadata_from_filepath => "add_metadata_from_filepath",
            max_log_size => "max_log_size", is_first_entry => "is_first_entry",
            is_last_entry => "is_last_entry", combine_field => "combine_field",
            combine_with => "combine_with", max_batch_size => "max_batch_size",
            max_unmatched_batch_size => "max_unmatched_batch_size",
            max_sources => "max_sources", source_identifier => "source_identifier", force_flush_period => "force_flush_period",
            overwrite_with => "overwrite_with", from => "from", to => "to", field => "field",
            value => "value", fields => "fields", expr => "expr", drop_ratio => "drop_ratio",
            routes => "routes", default => "default", preset => "preset", mapping => "mapping",
            overwrite_text => "overwrite_text", layout_type => "layout_type", layout => "layout",
            trace_id => "trace_id", span_id => "span_id", trace_flags => "trace_flags",
            regex_name => "regex_name", replace_with => "replace_with",
        )
    }
}
