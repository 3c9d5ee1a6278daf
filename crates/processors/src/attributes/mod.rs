//! The `attributes` processor: inserts, updates, deletes, hashes, extracts and converts
//! attributes of spans, log records and metric data points, optionally only of the items
//! that match `include` / `exclude`.
//!
//! ```yaml
//! processors:
//!   attributes/example:
//!     include:
//!       match_type: strict
//!       services: [checkout]
//!     actions:
//!       - {key: environment, value: production, action: insert}
//!       - {key: db.statement, action: delete}
//!       - {key: user.email, action: hash}
//!       - {key: http.url, pattern: '^(?P<http_protocol>.*):\/\/(?P<http_domain>[^\/]*)', action: extract}
//!       - {key: http.status_code, converted_type: int, action: convert}
//!       - {key: tenant, from_context: metadata.x-tenant, action: upsert}
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `actions` | none, at least one | the actions, applied in order; see [`attraction`](crate::attraction) for each action's keys |
//! | `include` | none | only items matching these [match properties](crate::filterconfig) are acted on |
//! | `exclude` | none | items matching these are left alone |
//!
//! The keys, defaults and semantics are the Go Collector's `attributesprocessor`: span
//! attributes for traces (not those of events or links), log record attributes for logs,
//! data point attributes (of every metric type) for metrics. Match properties that do not
//! apply to a signal (`log_bodies` in a traces pipeline, `span_names` in a metrics one) make
//! that pipeline fail to build, with Go's message. A request is copied (when another
//! pipeline shares it) only if some item is selected.
//!
//! Regular expressions use the `regex` crate: RE2 syntax as Go's `regexp`, linear time;
//! hashing uses RustCrypto's `sha2`.
//!
//! ```
//! use tributary_pipeline_core::graph::Factories;
//! use tributary_processors::attributes;
//!
//! let factory = attributes::factory();
//! assert_eq!(factory.component_type(), "attributes");
//! let mut factories = Factories::new();
//! factories.add_processor(factory);
//! assert!(factories.problems().is_empty());
//! ```

mod config;
mod factory;
mod processor;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
