#![warn(missing_docs)]
//! Prometheus ⇄ OTLP metrics: the translation the `prometheus` receiver and exporter and the
//! `prometheusremotewrite` receiver and exporter share (the Go Collector's
//! `pkg/translator/prometheus`, `prometheus/otlptranslator` and
//! `pkg/translator/prometheusremotewrite`), following the OpenTelemetry specification's
//! Prometheus and OpenMetrics compatibility rules.
//!
//! # OTLP → Prometheus names, labels and exposition
//!
//! - [`normalize`]: metric names (unit and type suffixes, escaping, the
//!   `translation_strategy` values and `add_metric_suffixes`), and the reverse trimming
//!   the receivers' `trim_metric_suffixes` does.
//! - [`labels`]: attributes, resource (`job`, `instance`, `target_info`) and scope
//!   (`otel_scope_*`) as labels, with Go's sanitising and `;`-joined collisions.
//! - [`exposition`]: families written as text 0.0.4 or OpenMetrics 1.0, and the
//!   `Accept` negotiation between them.
//!
//! # Remote write
//!
//! [`prompb`] holds the Remote-Write 1.0 messages (hand-written prost structs with
//! upstream's field numbers, native histograms and metadata included) and the snappy
//! block framing; [`remote_write`] turns requests into OTLP metrics (the
//! `prometheusremotewrite` receiver).

pub mod exposition;
pub mod labels;
pub mod normalize;
pub mod prompb;
pub mod remote_write;
