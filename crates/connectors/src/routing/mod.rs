//! The `routing` connector: sends each resource, record or request to the pipelines whose
//! condition it matches, the rest to `default_pipelines`. With the Go routing
//! connector's keys, so its configurations run unchanged within the supported condition
//! language.
//!
//! ```yaml
//! receivers:
//!   otlp:
//!     protocols:
//!       http: { include_metadata: true }
//! exporters:
//!   file/acme: { path: /var/lib/otel/acme.jsonl }
//!   file/other: { path: /var/lib/otel/other.jsonl }
//! connectors:
//!   routing:
//!     default_pipelines: [traces/other]
//!     error_mode: ignore
//!     table:
//!       - condition: attributes["tenant"] == "acme"
//!         pipelines: [traces/acme]
//!       - statement: route() where resource.attributes["env"] == "prod" and not (attributes["debug"] == true)
//!         context: span
//!         pipelines: [traces/acme]
//!       - context: request
//!         condition: request["X-Tenant"] == "acme"
//!         pipelines: [traces/acme]
//! service:
//!   pipelines:
//!     traces/in: { receivers: [otlp], exporters: [routing] }
//!     traces/acme: { receivers: [routing], exporters: [file/acme] }
//!     traces/other: { receivers: [routing], exporters: [file/other] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `default_pipelines` | none | where data no route matches goes; without them it is dropped (as in Go) |
//! | `error_mode` | `propagate` | a condition that cannot be evaluated: `propagate` fails the call, `ignore` logs and treats it as no match, `silent` treats it as no match |
//! | `table` | required | the routes, tried in order |
//! | `table[].context` | `resource` | what the condition looks at: `resource`, `span` (traces), `metric` and `datapoint` (metrics), `log` (logs), `request` (the client metadata) |
//! | `table[].condition` | | a condition; exactly one of `condition` and `statement` |
//! | `table[].statement` | | `route() where <condition>`; not with `context: request` |
//! | `table[].pipelines` | required | the pipelines matching data goes to; each must list this connector as a receiver |
//! | `match_once` | | removed from Go (deprecated in v0.116.0): refused with that reason |
//!
//! | exporter pipeline | receiver pipeline | stability |
//! |---|---|---|
//! | traces | traces | alpha |
//! | metrics | metrics | alpha |
//! | logs | logs | alpha |
//!
//! **Matching.** Each route in turn takes the items of what is left that its condition
//! matches: whole resources (with their scopes and records) in resource context, single
//! spans, metrics, data points or log records in theirs (the resource and scope around
//! them are kept), the whole batch in request context. So the first route that matches
//! an item takes it (Go's behaviour since `match_once` was removed). The parts go to
//! their pipelines concurrently; the call returns the most actionable error of any part
//! (a retry then re-sends every part: routing is not idempotent under partial failure,
//! as in Go).
//!
//! **Conditions** are OTTL, as in Go ([`OttlLanguage`], compiled by `tributary-ottl`):
//! a route's `condition`, or the `where` clause of its `route()` statement, may use every
//! path of its context (`resource.attributes["k"]`, `name`, `kind`, `severity_number`,
//! `metric.type`, `value_double`, ...), the converters (`IsMatch`, `Len`, ...), enums,
//! comparisons, `and`/`or`/`not`. A statement with any other editor than `route()` is
//! refused. The `request` context takes Go's only form there, `request["key"] ==
//! "value"` (and `!=`), read by the [`BuiltinLanguage`] subset. Errors are refused when
//! the configuration is validated, naming the route and the column:
//!
//! ```text
//! connectors::routing::table::0::condition: cannot parse "span.name == \"x\"" at column 1: expected valid OTTL, found path "span.name" names the span context, which the log context cannot reach
//! ```
//!
//! The condition type stays pluggable ([`ConditionLanguage`], [`Condition`]); conditions
//! read the data through a `TransformContext`, which holds it mutably, so a batch another
//! pipeline shares is copied before a non-request route looks at it.
//!
//! `request["key"]` reads the client metadata the receiver kept (`include_metadata:
//! true` on the OTLP receiver); keys compare case-insensitively, and a key with several
//! values matches when any does.

mod condition;
mod config;
mod connector;
mod factory;
mod ottl;
mod parser;
mod split;
#[cfg(test)]
mod tests;

pub use condition::{BuiltinLanguage, Condition, ConditionLanguage, Context, EvalError, Item};
pub use config::{Config, ErrorMode, Route};
pub use factory::factory;
pub use ottl::{OttlCondition, OttlLanguage};
pub use parser::ParseError;
