//! The `groupbyattrs` processor: moves the record attributes named in `keys` (of spans,
//! log records and metric data points) to the resource, regrouping the records under
//! resources of equal attributes, scopes of equal name and version, and (for metrics)
//! metrics of equal name and kind. With no `keys` it only compacts: records of equal
//! resources and scopes are gathered under one. The keys and semantics are the Go
//! Collector's `groupbyattrsprocessor`.
//!
//! ```yaml
//! processors:
//!   groupbyattrs:
//!     keys: [host.name, k8s.pod.name]
//!   groupbyattrs/compact: {}
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `keys` | none | the attributes moved from records to their resource; a record carrying none of them stays under its own resource |
//!
//! A record's new resource is its old resource's attributes with the moved ones added
//! (a moved value replaces the resource's). Resources are told apart by their attributes
//! whatever their order, as Go's map hash does. Records, scopes and metrics keep the
//! order they arrived in. As in Go, resources and scopes left without records are
//! dropped, and the request is always rebuilt (so copied when another pipeline shares it).
//!
//! Metrics, as Go's: `otelcol_processor_groupbyattrs_num_grouped_{spans,logs,metrics}`,
//! `..._num_non_grouped_...`, and the sum and count of `..._{span,log,metric}_groups`
//! (resources per request).
//!
//! ```
//! use tributary_processors::groupbyattrs;
//!
//! assert_eq!(groupbyattrs::factory().component_type(), "groupbyattrs");
//! ```

mod config;
mod factory;
mod group;
mod telemetry;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
