//! The `deltatorate` processor: turns the named delta sums into gauges of per-second
//! rates, each point's value divided by its interval (`time - start time`) in seconds.
//!
//! ```yaml
//! processors:
//!   deltatorate:
//!     metrics:
//!       - system.network.io
//!       - system.disk.operations
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `metrics` | none, at least one | names of the delta sums to convert |
//!
//! As Go's `deltatorateprocessor`: a listed metric that is not a delta sum is left as it is
//! (logged at debug level); rates are doubles, names and attributes stay. A point whose
//! interval is not positive is dropped and counted in
//! `otelcol_deltatorate_datapoints_dropped{reason="zero_interval"}` (Go divides by zero
//! and sends ±Inf or NaN). The processor is stateless: feed it deltas, for instance from
//! [`cumulativetodelta`](crate::cumulativetodelta).
//!
//! ```
//! use tributary_processors::deltatorate;
//!
//! assert_eq!(deltatorate::factory().component_type(), "deltatorate");
//! ```

mod config;
mod factory;
mod rate;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
