//! What several receivers share: one piece of code where their logic is the same.
//!
//! A build with only some of a module's users leaves parts of it unused; that is expected,
//! so dead code is allowed there unless every user is built.

#[cfg(any(
    feature = "otlp",
    feature = "jaeger",
    feature = "zipkin",
    feature = "prometheus_push",
    feature = "prometheusremotewrite",
    feature = "opentsdb"
))]
#[cfg_attr(
    not(all(
        feature = "otlp",
        feature = "jaeger",
        feature = "zipkin",
        feature = "prometheus_push",
        feature = "prometheusremotewrite"
    )),
    allow(dead_code)
)]
pub(crate) mod admission;
#[cfg(any(
    feature = "influxdb",
    feature = "collectd",
    feature = "prometheus_push",
    feature = "prometheusremotewrite",
    feature = "falcon",
    feature = "opentsdb",
    feature = "lookout"
))]
#[cfg_attr(
    not(all(
        feature = "influxdb",
        feature = "collectd",
        feature = "prometheus_push",
        feature = "prometheusremotewrite",
        feature = "falcon"
    )),
    allow(dead_code)
)]
pub(crate) mod http_server;
#[cfg(any(
    feature = "otlp",
    feature = "jaeger",
    feature = "zipkin",
    feature = "falcon"
))]
pub(crate) mod protocols;
#[cfg(any(
    feature = "otlp",
    feature = "jaeger",
    feature = "zipkin",
    feature = "influxdb",
    feature = "collectd",
    feature = "prometheus_push",
    feature = "prometheusremotewrite",
    feature = "falcon",
    feature = "opentsdb",
    feature = "lookout"
))]
#[cfg_attr(
    not(all(
        feature = "otlp",
        feature = "jaeger",
        feature = "zipkin",
        feature = "influxdb",
        feature = "collectd",
        feature = "prometheus_push",
        feature = "prometheusremotewrite",
        feature = "falcon"
    )),
    allow(dead_code, unused_imports)
)]
pub(crate) mod refusal;
#[cfg(any(
    feature = "influxdb",
    feature = "collectd",
    feature = "prometheus_push",
    feature = "prometheusremotewrite",
    feature = "falcon",
    feature = "opentsdb",
    feature = "lookout"
))]
#[cfg_attr(
    not(all(
        feature = "influxdb",
        feature = "collectd",
        feature = "prometheus_push",
        feature = "prometheusremotewrite",
        feature = "falcon"
    )),
    allow(dead_code)
)]
pub(crate) mod request_body;
