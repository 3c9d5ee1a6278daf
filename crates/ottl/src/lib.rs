#![warn(missing_docs)]
//! The OpenTelemetry Transformation Language (OTTL), as the Go Collector's
//! `pkg/ottl` defines it: a parser for statements (`editor(args) where condition`) and
//! conditions, the contexts (`resource`, `scope`, `span`, `spanevent`, `metric`,
//! `datapoint`, `log`) with their paths over Tributary's pdata, and the functions.
//!
//! Statements are compiled once for a context ([`compile_statement`],
//! [`compile_condition`]): unknown paths, functions, parameters, bad regexes and bad
//! enum symbols are config errors naming the statement and the byte position. A
//! compiled statement runs on a [`TransformContext`], one item at a time.
//!
//! ```
//! use tributary_ottl::{ContextKind, Item, TransformContext, compile_statement};
//! use tributary_pipeline_core::pdata::proto::trace::v1::Span;
//!
//! let statement = compile_statement(
//!     r#"set(attributes["http.route"], "/users") where name == "GET /users/42""#,
//!     ContextKind::Span,
//! ).unwrap();
//! let mut span = Span { name: "GET /users/42".into(), ..Default::default() };
//! let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
//! let mut ctx = TransformContext {
//!     resource: &mut resource,
//!     scope: Some(&mut scope),
//!     item: Item::Span(&mut span),
//!     cache: &mut cache,
//! };
//! assert!(statement.execute(&mut ctx).unwrap());
//! assert_eq!(span.attributes[0].key, "http.route");
//! ```
//!
//! Conditions that compare paths with literals (`attributes["k"] == "v"`, `name !=
//! "x"`, `kind == SPAN_KIND_SERVER`) read the item in place and allocate nothing per item
//! (`tests/no_alloc.rs` checks with `allocation-counter`, a dev-dependency); editors,
//! converters and reads of whole maps build owned values.
//!
//! Every example of the upstream function reference runs as a golden test
//! (`tests/function_docs.rs`), which also lists the functions not implemented and why.
//! `Base64*`/`Decode` use the `base64` crate, `URL` the `url` crate (WHATWG parsing; the
//! path is kept as written, as Go's `net/url` does) and `UUID`/`UUIDv7` the `uuid` crate.
//!
//! The parser is hand-written (see [`parser`]); regular expressions use the `regex`
//! crate (RE2 syntax, as Go's `regexp`); hashes use RustCrypto's `sha1`, `md-5` (already in the
//! workspace) and `sha2`, one family on one `digest` version; times use `chrono`
//! (already in the workspace), whose `strftime` directives are the ones OTTL's
//! `Time`/`FormatTime` take, save `%L`, `%f` and `%s`, which [`time`] maps. `Time`'s
//! `location` is loaded with `jiff` (already in the workspace) from the system's IANA time
//! zone database, as Go's `time.LoadLocation` does; an unknown zone is a config error.
//!
//! The `replace_*` editors' `function` and `replacementFormat` arguments are in
//! [`replace`].
//!
//! The transform processor's own functions are here too: those that add metrics or
//! regroup data points in [`metric_functions`], those that read or reshape histogram
//! buckets in [`histogram_functions`], the span editor `set_semconv_span_name` in
//! [`semconv_span_name`] and the log converters (`ParseCEF`, `ParseCLF`, `ParseELF`,
//! `ParseLEEF`) in [`log_parsers`].
//!
//! Not implemented (refused at compile time): `Time`'s `locale` for languages other than
//! English (Go translates month and day names with CLDR data, which this crate does not
//! carry). Where Go reads a time without zone or `location` in the host's local zone, this
//! crate reads it in UTC. The functions of the reference this crate does not have are
//! listed, with the reason, in `tests/function_docs.rs`.

pub mod ast;
pub mod context;
pub mod enums;
pub mod eval;
mod flatten;
pub mod funcs;
pub mod histogram_functions;
pub mod infer;
pub mod log_parsers;
pub mod metric_functions;
pub mod parser;
pub mod reads;
pub mod replace;
pub mod semconv_span_name;
pub mod time;
pub mod value;
mod value_converters;

#[cfg(test)]
mod tests;

pub use context::{ContextKind, Field, Item, KeyVal, TransformContext};
pub use eval::{
    CompileError, CompiledCondition, CompiledStatement, EvalError, compile_condition,
    compile_statement, compile_statement_condition,
};
pub use parser::{ParseError, parse_condition, parse_expr, parse_statement};
pub use value::Value;
