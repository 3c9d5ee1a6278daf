//! Client settings shared by the network exporters ([`otlp`](crate::otlp),
//! [`otlp_http`](crate::otlp_http), [`zipkin`](crate::zipkin), [`influxdb`](crate::influxdb)):
//! TLS, request headers, compression, `auth` and the HTTP client.
//!
//! They mirror the Go Collector's `configtls.ClientConfig`, the `headers` map and
//! `configcompression`, so the same YAML keys mean the same thing.

mod auth;
mod compression;
#[cfg(any(
    feature = "otlp_http",
    feature = "zipkin",
    feature = "influxdb",
    feature = "prometheusremotewrite",
    feature = "opentsdb",
    feature = "lookout",
    feature = "elasticsearch"
))]
mod http;
#[cfg(any(
    feature = "otlp_http",
    feature = "zipkin",
    feature = "influxdb",
    feature = "prometheusremotewrite",
    feature = "opentsdb",
    feature = "lookout",
    feature = "elasticsearch"
))]
#[cfg_attr(
    not(all(feature = "otlp_http", feature = "zipkin", feature = "influxdb")),
    allow(dead_code)
)]
mod response;

pub(crate) use auth::ClientAuth;
#[cfg(feature = "otlp")]
pub(crate) use compression::decompress;
pub use compression::{Compression, CompressionParams};
// prometheusremotewrite alone compresses with snappy itself, not with a `Compressor`.
#[cfg_attr(
    not(any(
        feature = "otlp",
        feature = "otlp_http",
        feature = "zipkin",
        feature = "influxdb"
    )),
    allow(unused_imports)
)]
pub(crate) use compression::{Compressor, OFFLOAD_THRESHOLD, run_cpu_bound};
#[cfg(any(
    feature = "otlp_http",
    feature = "zipkin",
    feature = "influxdb",
    feature = "prometheusremotewrite",
    feature = "opentsdb",
    feature = "lookout",
    feature = "elasticsearch"
))]
pub(crate) use http::http_client;
#[cfg(any(
    feature = "otlp_http",
    feature = "zipkin",
    feature = "prometheusremotewrite"
))]
pub(crate) use response::send_error;
#[cfg(any(
    feature = "otlp_http",
    feature = "zipkin",
    feature = "influxdb",
    feature = "prometheusremotewrite",
    feature = "opentsdb",
    feature = "lookout",
    feature = "elasticsearch"
))]
#[cfg_attr(
    not(all(
        feature = "otlp_http",
        feature = "zipkin",
        feature = "influxdb",
        feature = "prometheusremotewrite",
        feature = "opentsdb",
        feature = "lookout"
    )),
    allow(unused_imports)
)]
pub(crate) use response::{read_body, status_error};
pub use tributary_pipeline_core::confighttp::Headers;
pub use tributary_pipeline_core::configtls::{TlsClientConfig, TlsError, TlsVersion};

#[cfg(any(feature = "otlp", feature = "otlp_http", feature = "zipkin"))]
pub(crate) fn user_agent(build: &tributary_pipeline_core::component::BuildInfo) -> String {
    // The Go Collector's form: "<description>/<version> (<os>/<arch>)".
    format!(
        "{}/{} ({}/{})",
        build.description,
        build.version,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
