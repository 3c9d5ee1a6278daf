//! What several receivers share: one piece of code where their logic is the same.
//!
//! A build with only some of a module's users leaves parts of it unused; that is expected,
//! so dead code is allowed there unless every user is built.

#[cfg(any(
    feature = "otlp",
    feature = "jaeger",
    feature = "zipkin",
    feature = "prometheusremotewrite"
))]
#[cfg_attr(
    not(all(feature = "otlp", feature = "jaeger", feature = "zipkin")),
    allow(dead_code)
)]
pub(crate) mod admission;
#[cfg(any(feature = "otlp", feature = "jaeger", feature = "zipkin"))]
pub(crate) mod protocols;
#[cfg(any(
    feature = "otlp",
    feature = "jaeger",
    feature = "zipkin",
    feature = "influxdb",
    feature = "collectd",
    feature = "prometheusremotewrite"
))]
#[cfg_attr(
    not(all(
        feature = "otlp",
        feature = "jaeger",
        feature = "zipkin",
        feature = "influxdb",
        feature = "collectd"
    )),
    allow(dead_code, unused_imports)
)]
pub(crate) mod refusal;
