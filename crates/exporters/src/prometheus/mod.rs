//! The `prometheus` exporter: serves the metrics it receives on `/metrics` for Prometheus
//! to scrape, as the Go Collector's `prometheusexporter` does.
//!
//! Each batch folds into an accumulator keyed by series (metric, resource, scope and point
//! attributes): gauges and cumulative sums, histograms and summaries keep their latest
//! point; delta monotonic sums and delta histograms are added up into cumulative ones
//! while each point continues the last (its start is the last point's time), and start
//! afresh otherwise; delta up-down sums and points of unspecified temporality are dropped
//! and counted, as Go drops them. A point flagged "no recorded value" removes its series,
//! so Prometheus marks it stale. A series not updated for `metric_expiration` is no longer
//! served.
//!
//! A scrape writes the series with the OTLP → Prometheus translation of
//! [`tributary_translator_prometheus`]: names by `translation_strategy` (unit and type
//! suffixes), labels from point attributes, `job` and `instance` from the resource,
//! `otel_scope_name`/`_version`/`_schema_url` and `otel_scope_<attribute>`, one
//! `target_info` per (job, instance), and `const_labels`; a gauge whose metadata says
//! `prometheus.type: unknown` (what a Prometheus receiver read as untyped) is written
//! untyped. The answer is the text format
//! 0.0.4, or OpenMetrics 1.0 (exemplars with `trace_id`/`span_id`, `_created`, `# UNIT`)
//! when `enable_open_metrics` is set and the scraper's `Accept` header asks for it; gzipped
//! when `Accept-Encoding` allows. Exponential histograms are served as Go's text
//! exposition serves the native histograms it makes of them: a histogram with its
//! `+Inf` bucket, `_sum` and `_count` (the native buckets need the protobuf exposition,
//! which is not offered).
//!
//! **Bound**: at most [`MAX_SERIES`] series are kept; data points of new series beyond
//! it are dropped, counted (`otelcol_exporter_prometheus_refused_series_data_points`) and
//! logged once a minute, until series expire. Existing series keep updating.
//!
//! Dependencies: gzip with `flate2` (already the exporters' compressor); the exposition
//! is written by the translator crate, no Prometheus client crate (the `prometheus` and
//! `prometheus-client` crates own their registries and metric types; here the series are
//! OTLP's and written once per scrape).
//!
//! # Example
//!
//! ```yaml
//! exporters:
//!   prometheus:
//!     endpoint: 0.0.0.0:8889
//!     namespace: otel
//!     const_labels:
//!       cluster: eu-1
//!     send_timestamps: true
//!     metric_expiration: 180m
//!     enable_open_metrics: true
//!     resource_to_telemetry_conversion:
//!       enabled: true
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_exporters::prometheus::Config;
//! use tributary_pipeline_core::component::ComponentConfig;
//!
//! let config: Config = Conf::from_yaml("endpoint: 127.0.0.1:8889\nmetric_expiration: 1m")?.decode()?;
//! config.validate()?;
//! assert!(config.add_metric_suffixes);
//! assert_eq!(config.metric_expiration, std::time::Duration::from_secs(60));
//! let bad: Config = Conf::from_yaml("endpoint: 127.0.0.1:8889\ntranslation_strategy: Nope")?.decode()?;
//! assert!(bad.validate().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | none (required) | `host:port` of the `/metrics` server |
//! | `tls`, `auth`, `cors`, `response_headers`, `read_timeout`, `read_header_timeout`, `write_timeout`, `idle_timeout`, `keep_alives_enabled`, ... | as Go's `confighttp` server | the rest of the HTTP server block |
//! | `namespace` | `""` | prefix of every metric name (`<namespace>_<name>`), `target_info` included |
//! | `const_labels` | `{}` | labels on every series (a series' own label of the same name wins) |
//! | `send_timestamps` | `false` | write each sample with its data point's timestamp |
//! | `metric_expiration` | `5m` | a series not updated for this long is dropped |
//! | `resource_to_telemetry_conversion::enabled` | `false` | every resource attribute as a label of every series |
//! | `enable_open_metrics` | `false` | answer OpenMetrics when the scraper asks for it |
//! | `add_metric_suffixes` | `true` | add unit and type suffixes (used when `translation_strategy` is not set) |
//! | `translation_strategy` | `""` | `UnderscoreEscapingWithSuffixes`, `UnderscoreEscapingWithoutSuffixes`, `NoUTF8EscapingWithSuffixes` or `NoTranslation`; wins over `add_metric_suffixes` |
//! | `sending_queue` | disabled | the exporter helper's queue in front of the accumulator |
//!
//! # Where Tributary differs
//!
//! - `endpoint` must be set; Go listens on a random port of every interface without one.
//! - Attribute keys that sanitise to the same label name have their values joined with
//!   `;` (the specification's rule); Go's registry refuses such a series.
//! - Under the UTF-8 strategies, names the classic formats cannot carry are escaped to
//!   `_` in the answer: the UTF-8 exposition (`escaping=allow-utf-8`) is not offered.
//! - The number of series is bounded ([`MAX_SERIES`]); Go's accumulator grows with what
//!   peers send.
//! - A `sending_queue` block that leaves out `enabled` is enabled (the exporter helper's
//!   default); Go's zero-value queue stays off until `enabled: true`.
//! - OpenMetrics numbers are written as in the text format (`1`, not Go's `1.0`); both
//!   parse to the same value.
//! - The newer Go gate `exporter.prometheusexporter.ResourceConstantLabels` and its
//!   `resource_constant_labels` key are not offered (the key is refused as unknown).

mod accumulator;
mod config;
mod exporter;
mod factory;
mod families;
#[cfg(test)]
mod tests;

pub use accumulator::MAX_SERIES;
pub use config::{Config, DEFAULT_METRIC_EXPIRATION, ResourceToTelemetryConfig};
pub use factory::factory;
