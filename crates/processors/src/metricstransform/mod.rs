//! The `metricstransform` processor: renames metrics, adds, renames and deletes labels
//! and label values, toggles and scales values, and aggregates points across labels or
//! label values, or several metrics into one. The keys, defaults and semantics are the Go
//! Collector's `metricstransformprocessor`.
//!
//! ```yaml
//! processors:
//!   metricstransform:
//!     transforms:
//!       - include: system.cpu.usage
//!         action: update
//!         new_name: system.cpu.usage_time
//!         operations:
//!           - {action: update_label, label: state, new_label: cpu_state}
//!           - {action: aggregate_labels, label_set: [cpu_state], aggregation_type: sum}
//!       - include: ^system\.memory\.(.*)$$
//!         match_type: regexp
//!         action: insert
//!         new_name: host.memory.$${1}
//!       - include: '^Web Service \(\*\)/Total (?P<http_method>.*) Requests$$'
//!         match_type: regexp
//!         action: combine
//!         new_name: iis.requests
//!         aggregation_type: sum
//!         submatch_case: lower
//! ```
//!
//! Each transform:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `include` | required | the metric name, or a regular expression with `match_type: regexp` |
//! | `match_type` | `strict` | `strict` or `regexp` (unanchored, RE2 syntax) |
//! | `experimental_match_labels` | none | only points whose labels have these values (regexps with `regexp`); a missing label reads as "" |
//! | `action` | required | `update` (in place), `insert` (a transformed copy), `combine` (the selected metrics become one, labelled by the regexp's captures) or `group` (the selected metrics move to a resource of their own) |
//! | `new_name` | none | the new name; `$1`, `${name}` expand the regexp's captures; required for `insert` and (as the README says, though Go's code does not check it) `combine` |
//! | `aggregation_type` | none | `sum`, `mean`, `min`, `max`, `median` or `count`: how `combine` merges points; unset, a merged point keeps the first point's value (as in Go) |
//! | `submatch_case` | none | `lower` or `upper`: the case of the label values `combine` takes from captures |
//! | `group_resource_labels` | none | resource attributes of the resource `group` creates; required for `group` |
//! | `operations` | none | the operations below, applied in order to each resulting metric |
//!
//! Each operation (`action`, then its keys): `add_label` (`new_label`, `new_value`),
//! `update_label` (`label`, `new_label`, `value_actions: [{value, new_value}]`),
//! `delete_label_value` (`label`, `label_value`), `toggle_scalar_data_type` (int ⇄
//! double, gauges and sums), `experimental_scale_value` (`experimental_scale`; gauges,
//! sums, and histograms' sum, min, max, bounds and exemplars), `aggregate_labels`
//! (`label_set`, `aggregation_type`) and `aggregate_label_values` (`label`,
//! `aggregated_values`, `new_value`, `aggregation_type`); an operation missing a key its
//! action needs is refused, naming it. `{{version}}` in a new value
//! becomes the collector's version.
//!
//! Aggregation merges points with equal labels and timestamps (deltas also by start
//! time; histograms by bounds, exponential histograms by scale and offsets): numbers by
//! the aggregation type, histograms by adding counts, sums and buckets. When an `update`
//! selects only some of a metric's points (`experimental_match_labels`), renaming,
//! `add_label`, `delete_label_value` and the aggregations are skipped for that metric, as
//! in Go. Only what is within one request is aggregated.
//!
//! Where we differ from Go, on purpose: `count` counts the points of every group (Go
//! leaves a group of one point at its value); aggregation leaves summaries as they are
//! (Go drops them); `combine` and `group` leave a metric's unselected points where they
//! were (Go drops them); groups keep the order the points arrived in (Go's follows a map).
//! Regular expressions use the `regex` crate: RE2 syntax as Go's `regexp`, linear time.
//!
//! ```
//! use tributary_processors::metricstransform;
//!
//! assert_eq!(metricstransform::factory().component_type(), "metricstransform");
//! ```

mod aggregate;
mod config;
mod factory;
mod filter;
mod operations;
mod processor;

#[cfg(test)]
mod tests;

pub use config::{Config, Operation, Transform, ValueAction};
pub use factory::factory;
