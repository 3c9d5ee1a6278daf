//! The Go Collector's legacy match properties (`internal/filter/filterconfig.MatchProperties`):
//! the `include` / `exclude` blocks that the `attributes` processor (and the `filter`
//! processor's legacy form) use to choose which spans, log records and data points an
//! action applies to.
//!
//! ```yaml
//! include:
//!   match_type: regexp          # strict | regexp (required)
//!   services: ["auth.*"]
//!   span_names: ["^GET /"]
//!   attributes:
//!     - {key: http.method, value: "GET|POST"}
//! exclude:
//!   match_type: strict
//!   span_kinds: [SPAN_KIND_INTERNAL]
//! ```
//!
//! | key | applies to | matches when |
//! |---|---|---|
//! | `match_type` | all | `strict`: equality; `regexp`: the pattern matches anywhere in the text (Go's `MatchString`, unanchored) |
//! | `regexp` | all | accepted for Go compatibility (`cacheenabled`, `cachemaxnumentries`); results do not depend on it |
//! | `services` | spans | the resource's `service.name` matches one entry |
//! | `span_names` | spans | the span name matches one entry |
//! | `span_kinds` | spans | the kind (`SPAN_KIND_SERVER`, ...) matches one entry |
//! | `metric_names` | data points | the metric's name matches one entry |
//! | `log_bodies` | logs | the body, as a string, matches one entry |
//! | `log_severity_texts` | logs | the severity text matches one entry |
//! | `log_severity_number` | logs | `{min, match_undefined}`: the severity number is at least `min` (a number or `INFO`, `WARN2`, ...), or it is unset and `match_undefined` is true |
//! | `attributes` | spans, logs | every `{key, value}` is present on the item and equal (strict: same type and value; regexp: the value as a string matches); without `value`, presence alone |
//! | `resources` | all | the same over the resource's attributes |
//! | `libraries` | spans, logs | the scope's name (and `version`, if given) matches one entry |
//!
//! Which keys a block may use depends on the signal, exactly as Go's `ValidateForSpans`,
//! `ValidateForLogs` and `ValidateForMetrics`: metrics match by `metric_names` and
//! `resources` only; logs refuse `services`, `span_names`, `span_kinds` and `metric_names`;
//! spans refuse the `log_*` keys and `metric_names`; with `strict`, `span_kinds` must name a
//! real kind. A block with nothing to match for its signal is refused.
//!
//! Within one block every property given must match; a [`Matcher`] selects an item when it
//! matches `include` (if given) and does not match `exclude` (if given), exactly as Go. The
//! properties are compiled once, at creation: regular expressions (RE2 syntax, the `regex`
//! crate, linear time as Go's) are checked then and an error names the key.

mod config;
mod matcher;

#[cfg(test)]
mod tests;

pub use config::{
    AttributeProperty, LibraryProperty, MatchProperties, MatchType, RegexpCache,
    SeverityNumberProperties,
};
pub use matcher::{Item, Matcher, Properties, Subject};
