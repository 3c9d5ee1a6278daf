#![warn(missing_docs)]
//! Tributary's built-in receivers: components that bring telemetry into a pipeline.
//!
//! Each receiver is a module behind a cargo feature of the same name (all on by default),
//! exposing a `factory()` to register on the collector builder; [`factories`] gives every
//! receiver enabled in this build.

#[cfg(feature = "carbon")]
pub mod carbon;
#[cfg(feature = "collectd")]
pub mod collectd;
#[cfg(feature = "deepflow")]
pub mod deepflow;
#[cfg(feature = "falcon")]
pub mod falcon;
#[cfg(feature = "filelog")]
pub mod filelog;
#[cfg(feature = "hostmetrics")]
pub mod hostmetrics;
#[cfg(feature = "influxdb")]
pub mod influxdb;
#[cfg(feature = "jaeger")]
pub mod jaeger;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "lookout")]
pub mod lookout;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "opentsdb")]
pub mod opentsdb;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "prometheus_push")]
pub mod prometheus_push;
#[cfg(feature = "prometheusremotewrite")]
pub mod prometheusremotewrite;
#[cfg(feature = "stanza")]
pub mod stanza;
#[cfg(feature = "statsd")]
pub mod statsd;
#[cfg(feature = "syslog")]
pub mod syslog;
#[cfg(feature = "zipkin")]
pub mod zipkin;

mod shared;

use tributary_pipeline_core::graph::Factories;

/// Every receiver enabled in this build.
pub fn factories() -> Factories {
    #[allow(unused_mut)]
    let mut factories = Factories::new();
    #[cfg(feature = "carbon")]
    factories.add_receiver(carbon::factory());
    #[cfg(feature = "collectd")]
    factories.add_receiver(collectd::factory());
    #[cfg(feature = "falcon")]
    factories.add_receiver(falcon::factory());
    #[cfg(feature = "otlp")]
    factories.add_receiver(otlp::factory());
    #[cfg(feature = "statsd")]
    factories.add_receiver(statsd::factory());
    #[cfg(feature = "jaeger")]
    factories.add_receiver(jaeger::factory());
    #[cfg(feature = "syslog")]
    factories.add_receiver(syslog::factory());
    #[cfg(feature = "zipkin")]
    factories.add_receiver(zipkin::factory());
    #[cfg(feature = "influxdb")]
    factories.add_receiver(influxdb::factory());
    #[cfg(feature = "prometheus")]
    factories.add_receiver(prometheus::factory());
    #[cfg(feature = "prometheus_push")]
    factories.add_receiver(prometheus_push::factory());
    #[cfg(feature = "prometheusremotewrite")]
    factories.add_receiver(prometheusremotewrite::factory());
    #[cfg(feature = "hostmetrics")]
    factories.add_receiver(hostmetrics::factory());
    #[cfg(feature = "filelog")]
    factories.add_receiver(filelog::factory());
    #[cfg(feature = "opentsdb")]
    factories.add_receiver(opentsdb::factory());
    #[cfg(feature = "deepflow")]
    factories.add_receiver(deepflow::factory());
    #[cfg(feature = "lookout")]
    factories.add_receiver(lookout::factory());
    #[cfg(feature = "nats")]
    factories.add_receiver(nats::factory());
    #[cfg(feature = "kafka")]
    factories.add_receiver(kafka::factory());
    factories
}
