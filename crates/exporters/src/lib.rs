#![warn(missing_docs)]
//! Tributary's built-in exporters, one module and one cargo feature each:
//!
//! | module | type name | what it does |
//! |---|---|---|
//! | [`otlp`] | `otlp` (alias `otlp_grpc`) | OTLP over gRPC |
//! | [`otlp_http`] | `otlp_http` (alias `otlphttp`) | OTLP over HTTP, protobuf or JSON |
//! | [`carbon`] | `carbon` | Graphite plaintext over TCP |
//! | [`falcon`] | `falcon` | Open-Falcon: to a transfer, or to graph and judge by Falcon's hash ring |
//! | [`debug`] | `debug` | prints what passes through, at three verbosities |
//! | [`file`](mod@file) | `file` | OTLP/JSON lines or length-prefixed protobuf in a rotating file |
//! | [`zipkin`] | `zipkin` | spans to Zipkin, v2 JSON or protobuf |
//! | [`prometheus`] | `prometheus` | serves metrics on `/metrics` for Prometheus to scrape |
//! | [`influxdb`] | `influxdb` | metrics, logs and traces as InfluxDB line protocol, to InfluxDB 1.x or 2.x |
//! | [`prometheusremotewrite`] | `prometheusremotewrite` | metrics as Prometheus Remote-Write 1.0 |
//! | [`opentsdb`] | `opentsdb` | metrics to OpenTSDB's `/api/put` (or telnet `put` lines) |
//! | [`loadbalancing`] | `loadbalancing` | each trace (service, metric) to one backend of a tier, on a consistent-hash ring |
//! | [`nats`] | `nats` | OTLP published to NATS JetStream, acknowledged |
//! | [`kafka`] | `kafka` | OTLP or Zipkin produced to Kafka, acknowledged (feature `kafka`, not in `all`) |
//!
//! Each module offers `factory()`, to register on the collector builder, and its `Config`.
//! Configuration keys, defaults and behaviour follow the Go Collector's components of the
//! same name, so existing configurations run unchanged; each module's documentation lists
//! where and why Tributary differs.
//!
//! ```
//! # #[cfg(all(feature = "otlp", feature = "file"))] {
//!
//! assert_eq!(tributary_exporters::otlp::factory().component_type(), "otlp");
//! assert_eq!(tributary_exporters::file::factory().component_type(), "file");
//! # }
//! ```

#[cfg(any(
    feature = "otlp",
    feature = "otlp_http",
    feature = "zipkin",
    feature = "influxdb",
    feature = "prometheusremotewrite",
    feature = "opentsdb",
    feature = "lookout",
    feature = "elasticsearch"
))]
pub mod client;
#[cfg(any(feature = "lookout", feature = "elasticsearch"))]
mod flat_samples;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "loadbalancing")]
pub mod loadbalancing;
#[cfg(any(feature = "otlp", feature = "otlp_http"))]
mod otlp_signal;
#[cfg(any(feature = "loadbalancing", feature = "kafka"))]
mod resource_identity;
#[cfg(any(feature = "nats", feature = "kafka"))]
mod split_to_fit;

#[cfg(feature = "carbon")]
pub mod carbon;
#[cfg(feature = "debug")]
pub mod debug;
#[cfg(feature = "elasticsearch")]
pub mod elasticsearch;
#[cfg(feature = "falcon")]
pub mod falcon;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "influxdb")]
pub mod influxdb;
#[cfg(feature = "lookout")]
pub mod lookout;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "opentsdb")]
pub mod opentsdb;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "otlp_http")]
pub mod otlp_http;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "prometheusremotewrite")]
pub mod prometheusremotewrite;
#[cfg(feature = "zipkin")]
pub mod zipkin;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod testing;

use tributary_pipeline_core::graph::Factories;

/// Every exporter enabled in this build.
pub fn factories() -> Factories {
    #[allow(unused_mut)]
    let mut factories = Factories::new();
    #[cfg(feature = "carbon")]
    factories.add_exporter(carbon::factory());
    #[cfg(feature = "falcon")]
    factories.add_exporter(falcon::factory());
    #[cfg(feature = "debug")]
    factories.add_exporter(debug::factory());
    #[cfg(feature = "file")]
    factories.add_exporter(file::factory());
    #[cfg(feature = "influxdb")]
    factories.add_exporter(influxdb::factory());
    #[cfg(feature = "opentsdb")]
    factories.add_exporter(opentsdb::factory());
    #[cfg(feature = "loadbalancing")]
    factories.add_exporter(loadbalancing::factory());
    #[cfg(feature = "nats")]
    factories.add_exporter(nats::factory());
    #[cfg(feature = "kafka")]
    factories.add_exporter(kafka::factory());
    #[cfg(feature = "otlp")]
    factories.add_exporter(otlp::factory());
    #[cfg(feature = "otlp_http")]
    factories.add_exporter(otlp_http::factory());
    #[cfg(feature = "prometheus")]
    factories.add_exporter(prometheus::factory());
    #[cfg(feature = "prometheusremotewrite")]
    factories.add_exporter(prometheusremotewrite::factory());
    #[cfg(feature = "zipkin")]
    factories.add_exporter(zipkin::factory());
    #[cfg(feature = "lookout")]
    factories.add_exporter(lookout::factory());
    #[cfg(feature = "elasticsearch")]
    factories.add_exporter(elasticsearch::factory());
    factories
}
