//! The `transform` processor: edits telemetry with OTTL statements, as the Go
//! Collector's `transformprocessor` does.
//!
//! Each of `trace_statements`, `metric_statements` and `log_statements` is a list whose
//! entries are either groups (`context`, `conditions`, `statements`, optional
//! `error_mode`) or bare statements whose context is inferred from their path prefixes
//! (`span.name` → `span`). A group without `context` is inferred the same way. Groups
//! run in order; within a group, each item that matches one of the `conditions` (all
//! items when there are none) gets the statements in order.
//!
//! ```yaml
//! processors:
//!   transform:
//!     error_mode: ignore
//!     trace_statements:
//!       - context: span
//!         conditions:
//!           - kind == SPAN_KIND_SERVER
//!         statements:
//!           - set(attributes["tier"], "edge")
//!           - replace_pattern(name, "/users/\\d+", "/users/{id}")
//!       - set(resource.attributes["deployment.environment"], "prod")
//!     log_statements:
//!       - context: log
//!         statements:
//!           - merge_maps(attributes, ParseJSON(body), "upsert") where IsMatch(body, "^\\{")
//!           - set(severity_number, SEVERITY_NUMBER_ERROR) where severity_text == "ERROR"
//!     metric_statements:
//!       - context: datapoint
//!         statements:
//!           - delete_key(attributes, "pod.uid")
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `error_mode` | `propagate` | what a failing statement does: `propagate` refuses the request with a permanent error; `ignore` logs it and goes on with the next statement; `silent` goes on without logging |
//! | `trace_statements` | `[]` | groups/statements for traces; contexts `resource`, `scope`, `span`, `spanevent` |
//! | `metric_statements` | `[]` | for metrics; contexts `resource`, `scope`, `metric`, `datapoint` |
//! | `log_statements` | `[]` | for logs; contexts `resource`, `scope`, `log` |
//! | `<group>.context` | inferred | the group's context |
//! | `<group>.conditions` | `[]` | ORed conditions gating the group's statements |
//! | `<group>.statements` | `[]` | the statements |
//! | `<group>.error_mode` | top-level | the group's own error mode |
//! | `<group>.shared_cache` | `false` | refused when `true`: groups run one after another over all items, so a cache cannot be shared between them |
//! | `<group>.flatten` | `false` | refused when `true`: log flattening is not implemented |
//! | `flatten_data` | `false` | refused when `true`: log flattening is not implemented |
//!
//! Bare statements are inferred and run one by one (each its own group), where Go
//! infers one context for the whole list and runs the list item by item; the results
//! are the same except that Go refuses some mixes (`convert_sum_to_gauge()` next to a
//! `datapoint` path) that run here. The `exemplar` context is not implemented.
//!
//! Every statement is compiled at config validation (see `tributary-ottl`): an unknown
//! path, function, parameter or enum, or an invalid regex, is a config error with its
//! path (`processors::transform::trace_statements::0::statements::1`) and byte position.
//! The functions are the ones `tributary_ottl::funcs::EDITORS` and `CONVERTERS` list;
//! Go's metric functions are all implemented: in the metric context
//! `convert_sum_to_gauge`, `convert_gauge_to_sum`, `scale_metric`, `extract_sum_metric`,
//! `extract_count_metric`, `extract_avg_metric`, `copy_metric`, `aggregate_on_attributes`,
//! `aggregate_on_attribute_value`, `convert_summary_count_val_to_sum`,
//! `convert_summary_sum_val_to_sum` and `convert_summary_quantile_val_to_gauge` (see
//! `tributary_ottl::metric_functions`), `extract_percentile_metric` and
//! `convert_exponential_histogram_to_histogram`, and in the datapoint context
//! `merge_histogram_buckets` (see `tributary_ottl::histogram_functions`). A metric a
//! statement adds is appended to its scope and not run through the same group again. The
//! trace function `set_semconv_span_name` (span context, see
//! `tributary_ottl::semconv_span_name`) and the log converters `ParseCEF`, `ParseCLF`,
//! `ParseELF` and `ParseLEEF` (log context, see `tributary_ottl::log_parsers`) are
//! implemented too.

mod config;
mod factory;
#[cfg(test)]
mod histogram_tests;
#[cfg(test)]
mod metric_tests;
mod processor;
#[cfg(test)]
mod tests;

pub use config::{Config, ErrorMode, Group, StatementsEntry};
pub use factory::factory;
