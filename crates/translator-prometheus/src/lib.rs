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
//!
//! # Exposition parsing and Prometheus → OTLP
//!
//! [`text`] reads the text exposition format 0.0.4 and OpenMetrics 1.0 text into
//! [`text::Family`]s with our own line parser (no crate: `prometheus-parse` is regex based
//! and misses exemplars and `_created`; `openmetrics-parser` is pest based with one
//! maintainer). It is bounded by [`text::Limits`] and names the line of every error.
//! [`to_otlp`] turns families into OTLP metrics as the Go `prometheus` receiver does
//! (types, `target_info`, `otel_scope_*`, staleness, start times); the scrape receiver,
//! remote write and pushgateway bodies all go through [`to_otlp::to_metrics`].
//! The parser is checked against Prometheus itself in `tests/prometheus_receiver.rs`:
//! our receiver and a real Prometheus scrape the same targets and must see the same series.
//!
//! [`hash_id`] is the key both sides' series caches (the exporter's, the scrape receiver's)
//! hold instead of copies of texts and label sets.

pub mod exposition;
pub mod hash_id;
pub mod labels;
pub mod normalize;
pub mod prompb;
pub mod remote_write;
pub mod text;
pub mod to_otlp;
