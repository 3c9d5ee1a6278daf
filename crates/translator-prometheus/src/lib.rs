#![warn(missing_docs)]
//! Prometheus ⇄ OTLP metrics: the translation the `prometheus` receiver and exporter and the
//! `prometheusremotewrite` receiver and exporter share (the Go Collector's
//! `pkg/translator/prometheus`, `prometheus/otlptranslator` and
//! `pkg/translator/prometheusremotewrite`), following the OpenTelemetry specification's
//! Prometheus and OpenMetrics compatibility rules.
//!
//! # Remote write
//!
//! [`prompb`] holds the Remote-Write 1.0 messages (hand-written prost structs with
//! upstream's field numbers, native histograms and metadata included) and the snappy
//! block framing; [`remote_write`] turns requests into OTLP metrics (the
//! `prometheusremotewrite` receiver).

pub mod prompb;
pub mod remote_write;
