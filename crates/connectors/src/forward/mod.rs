//! The `forward` connector: passes data from the pipelines that export to it on to every
//! pipeline that lists it as a receiver, unchanged, within one signal.
//!
//! It joins pipelines that need different processing of the same data, or merges several
//! pipelines into one:
//!
//! ```yaml
//! receivers:
//!   otlp: { protocols: { grpc: {} } }
//! processors:
//!   resource/a: { attributes: [{ key: tier, value: a, action: upsert }] }
//! exporters:
//!   otlp: { endpoint: backend:4317 }
//! connectors:
//!   forward: {}
//! service:
//!   pipelines:
//!     traces/in:
//!       receivers: [otlp]
//!       exporters: [forward]
//!     traces/out:
//!       receivers: [forward]
//!       processors: [batch]
//!       exporters: [otlp]
//! ```
//!
//! It has no settings (an empty map, or nothing at all, as in the Go Collector):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | (none) | | |
//!
//! | exporter pipeline | receiver pipeline | stability |
//! |---|---|---|
//! | traces | traces | beta |
//! | metrics | metrics | beta |
//! | logs | logs | beta |
//!
//! A call returns when every downstream pipeline has accepted the data, with their
//! combined error otherwise (a retry re-delivers only to the pipelines that failed).
//!
//! ```
//! use tributary_pipeline_core::component::Stability;
//! use tributary_pipeline_core::pdata::Signal;
//!
//! let factory = tributary_connectors::forward::factory();
//! assert_eq!(factory.component_type(), "forward");
//! assert_eq!(factory.stability(Signal::Logs, Signal::Logs), Stability::Beta);
//! assert_eq!(factory.stability(Signal::Traces, Signal::Metrics), Stability::Undefined);
//! ```

mod config;
mod connector;
mod factory;
#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
