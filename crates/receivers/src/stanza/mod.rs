//! Stanza operators: the log parsing pipeline of the `filelog` receiver (and any
//! receiver with an `operators:` list), with the Go Collector's operator types, keys and
//! defaults (`pkg/stanza/docs/operators/*.md` upstream).
//!
//! An [`Entry`] (Go's `entry.Entry`) enters the first operator; each operator sends what
//! it emits to its `output` (by default the next operator in the list; the last one sends
//! out of the pipeline). Entries carry `body`, `attributes` and `resource`, addressed by
//! [`Field`] paths as Go writes them: `body`, `body.a.b`, `attributes.x`,
//! `attributes["dotted.key"]`, `resource.x`.
//!
//! ```yaml
//! receivers:
//!   filelog:
//!     include: [/var/log/app/*.log]
//!     operators:
//!       - type: regex_parser
//!         regex: '^(?P<time>\S+) (?P<sev>[A-Z]+) (?P<msg>.*)$'
//!         timestamp: {parse_from: attributes.time, layout: '%Y-%m-%dT%H:%M:%S%z'}
//!         severity: {parse_from: attributes.sev}
//!       - type: move
//!         from: attributes.msg
//!         to: body
//!       - type: remove
//!         field: attributes.time
//! ```
//!
//! ```
//! use tributary_receivers::stanza::{Entry, OperatorConfig, Pipeline, Value};
//!
//! let mut parse = OperatorConfig::new("json_parser");
//! parse.parse_ints = Some(true);
//! let mut pipeline = Pipeline::build(&[parse]).unwrap();
//! let mut out = Vec::new();
//! pipeline.process(Entry::new(r#"{"user":"ann","n":3}"#), &mut out);
//! assert_eq!(out[0].attributes["user"], Value::from("ann"));
//! assert_eq!(out[0].attributes["n"], Value::Int(3));
//! ```
//!
//! # Operators and their keys
//!
//! Every operator takes `type`, `id` (default: its type) and `output`; transformers and
//! parsers also `if` (an expression, see [`Expr`]) and `on_error` (`send`, default,
//! `send_quiet`, `drop`, `drop_quiet`). Parsers take `parse_from` (default `body`),
//! `parse_to` (default `attributes`), `body`, and the embedded blocks `timestamp:`
//! (`parse_from`, `layout_type: strptime|gotime|epoch`, `layout`, `location`),
//! `severity:` (`parse_from`, `preset`, `mapping`, `overwrite_text`), `trace:`
//! (`trace_id`/`span_id`/`trace_flags: {parse_from}`) and `scope_name:` (`parse_from`).
//!
//! | type | keys (default) |
//! |---|---|
//! | `json_parser` | `parse_ints` (false: numbers are doubles, as Go) |
//! | `regex_parser` | `regex` (required, named groups), `cache.size` (0) |
//! | `key_value_parser` | `delimiter` (`=`), `pair_delimiter` (whitespace) |
//! | `csv_parser` | `header` or `header_attribute`, `delimiter` (`,`), `header_delimiter` (`delimiter`), `lazy_quotes` (false), `ignore_quotes` (false) |
//! | `syslog_parser` | `protocol` (required: `rfc3164`, `rfc5424`), `location` (`UTC`), `enable_octet_counting`, `allow_skip_pri_header`, `non_transparent_framing_trailer` (`LF`, `NUL`), `max_octets` (8192) |
//! | `container` | `format` (detected: `docker`, `crio`, `containerd`), `add_metadata_from_filepath` (true), `max_log_size` (1MiB), `severity`; no `timestamp`/`trace`/`scope_name` blocks, as Go |
//! | `recombine` | `is_first_entry` or `is_last_entry`, `combine_field` (required), `combine_with` (`"\n"`), `max_batch_size` (1000), `max_unmatched_batch_size` (100), `max_log_size` (0: none), `max_sources` (1000), `source_identifier` (`attributes["log.file.path"]`), `force_flush_period` (5s), `overwrite_with` (`newest`) |
//! | `add` | `field`, `value` (a constant or `EXPR(...)`) |
//! | `move`, `copy` | `from`, `to` |
//! | `remove`, `flatten` | `field` |
//! | `retain` | `fields` |
//! | `filter` | `expr` (required), `drop_ratio` (1.0) |
//! | `noop` | (none: passes entries on) |
//! | `router` | `routes: [{expr, output, attributes}]`, `default` (none: dropped) |
//! | `severity_parser` | `parse_from` (`body`), `preset` (`default`, `otel`, `none`), `mapping`, `overwrite_text` (false) |
//! | `time_parser` | `parse_from` (`body`), `layout_type` (`strptime`, `gotime`, `epoch`), `layout` (required), `location` (`Local`) |
//! | `trace_parser` | `trace_id`/`span_id`/`trace_flags: {parse_from}` (`attributes.trace_id`, …) |
//! | `scope_name_parser` | `parse_from` (required) |
//! | `unquote` | `field` (`body`) |
//! | `regex_replace` | `field` (required), `regex` or `regex_name` (`ansi_control_sequences`), `replace_with` (`""`) |
//!
//! `pipeline.flush(now, …)` emits what `recombine` and `container` hold for longer than
//! `force_flush_period` (call it on a timer, as Go's ticker does) and, with `i64::MAX`,
//! everything (end of input, shutdown).
//!
//! ## Differences from Go
//!
//! - `container` recombines Docker lines split by the json-file driver (a `log` without a
//!   trailing newline waits for the rest, as the CRI `P` tag does); Go joins only CRI
//!   partials. Parts are joined per file *and stream*, since stdout and stderr interleave.
//! - Expressions implement the subset of `expr` listed at [`Expr`]; others are refused
//!   when the pipeline is built.
//! - strptime `%Z` and Go's `MST` accept zone names and offsets (`UTC`, `Europe/Paris`),
//!   not abbreviations such as `PST`, which are ambiguous.
//!
//! A key that no operator has is refused by the config decoder with its path; a key of
//! another operator type is refused by [`Pipeline::build`], naming the operator.
//!
//! # Crates
//!
//! Regular expressions use `regex` (RE2 syntax, as Go's `regexp`, linear time); times
//! use `jiff`'s strptime and its time zone database (the system's, as Go's
//! `time.LoadLocation`).

mod config;
mod entry;
mod expr;
mod field;
mod operators;
mod pipeline;
mod value;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use config::{
    CacheConfig, OnError, OperatorConfig, Outputs, ParseFrom, RouteConfig, SeverityConfig,
    TimeConfig, TraceConfig,
};
pub use entry::{Entry, Origin, group_entries, now_nanos};
pub use expr::{Expr, ExprError};
pub use field::{Field, FieldError, Root};
pub use operators::{
    ContainerFormat, ContainerLine, CsvQuotes, detect_container_format, k8s_metadata_from_path,
    match_named, parse_container_line, parse_csv_line, parse_json_object, parse_key_values,
    syslog_attributes, unquote,
};
pub use pipeline::{BuildError, Pipeline};
pub use value::{Map, Value, map_into_key_values};
