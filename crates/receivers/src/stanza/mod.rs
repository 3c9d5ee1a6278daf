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
//! | `add` | `field`, `value` (a constant or `EXPR(...)`) |
//! | `move`, `copy` | `from`, `to` |
//! | `remove`, `flatten` | `field` |
//! | `retain` | `fields` |
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
mod tests;

pub use config::{
    CacheConfig, OnError, OperatorConfig, Outputs, ParseFrom, RouteConfig, SeverityConfig,
    TimeConfig, TraceConfig,
};
pub use entry::{Entry, group_entries, now_nanos};
pub use expr::{Expr, ExprError};
pub use field::{Field, FieldError, Root};
pub use operators::{match_named, parse_json_object};
pub use pipeline::{BuildError, Pipeline};
pub use value::{Map, Value, map_into_key_values};
