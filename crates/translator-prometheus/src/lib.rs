#![warn(missing_docs)]
//! Prometheus ⇄ OTLP metrics: the translation the `prometheus` receiver and exporter and the
//! `prometheusremotewrite` receiver and exporter share (the Go Collector's
//! `pkg/translator/prometheus`, `prometheus/otlptranslator` and
//! `pkg/translator/prometheusremotewrite`), following the OpenTelemetry specification's
//! Prometheus and OpenMetrics compatibility rules.
