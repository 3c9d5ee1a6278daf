//! The `zipkin` exporter: sends spans to a Zipkin server (or anything speaking its v2
//! API) as v2 JSON or protobuf.
//!
//! ```yaml
//! exporters:
//!   zipkin:
//!     endpoint: http://zipkin:9411/api/v2/spans
//!   zipkin/proto:
//!     endpoint: https://zipkin.example.com/api/v2/spans
//!     format: proto
//!     default_service_name: unnamed
//!     compression: gzip
//!     sending_queue: { queue_size: 5000 }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | — (required) | the URL spans are POSTed to, used as is; `user:password@` is sent as basic authentication and never shown |
//! | `format` | `json` | `json` (`application/json`) or `proto` (`application/x-protobuf`, `zipkin2.ListOfSpans`) |
//! | `default_service_name` | `<missing service name>` | the local service of spans whose resource has no `service.name` (nor `faas.name`, `k8s.deployment.name`, `process.executable.name`) |
//! | `timeout` | `5s` | deadline of each attempt, response included |
//! | `compression` | none | `gzip`, `zstd`, `zlib`, `deflate`, `snappy`, `lz4` (`Content-Encoding`) |
//! | `headers`, `tls`, `auth`, `proxy_url`, `dialer`, `idle_conn_timeout`, `max_idle_conns_per_host`, `disable_keep_alives`, `force_attempt_http2`, `http2_*` | | the shared HTTP client block, [`HttpClientConfig`](tributary_pipeline_core::confighttp::HttpClientConfig), with Go's `confighttp` keys |
//! | `retry_on_failure` | enabled, 5s → 30s, 300s total | the exporter helper's retry |
//! | `sending_queue` | enabled, 1000 requests, 10 consumers | the [exporter helper's](tributary_pipeline_core::exporterhelper) queue |
//!
//! # Behaviour
//!
//! * Spans are translated by the OpenTelemetry specification's Zipkin mapping, shared
//!   with the `zipkin` receiver in [`tributary_translator_zipkin`] (what it maps, and where
//!   it differs from Go, is documented there). A large batch is translated and compressed
//!   on a blocking thread.
//! * **Answers**: 2xx is success (Zipkin answers 202); 429 is throttling and any 5xx is
//!   retryable, each after `Retry-After` (seconds or an HTTP-date) when sent; any other
//!   status (4xx) is permanent, never retried. A connection that fails is retryable.
//! * Spans with an empty or all-zero trace or span ID cannot be written in Zipkin's
//!   format: they are left out and logged; the rest of the batch is sent.
//!
//! # Differences from the Go exporter
//!
//! * Go retries every non-2xx answer, 4xx included; here 4xx is permanent.
//! * Go accepts `default_service_name` but writes `OTLPResourceNoServiceName` for a
//!   resource without a service name; here `default_service_name` is used.
//! * Go fails the whole batch when one span has an invalid ID; here that span is left out.

mod config;
mod exporter;
mod factory;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_SERVICE_NAME, Format};
pub use factory::factory;
