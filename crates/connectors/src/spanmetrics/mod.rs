//! The `spanmetrics` connector: request, error and duration (R.E.D.) metrics from spans,
//! as the Go Collector's `spanmetricsconnector` computes them.
//!
//! Listed as an exporter of a traces pipeline and a receiver of a metrics pipeline. Every
//! span adds one to the **calls** counter (`<namespace>.calls`, a monotonic sum) and its
//! duration to the **duration** histogram (`<namespace>.duration`, in `histogram::unit`)
//! of its series; with `events` enabled each span event adds one to `<namespace>.events`.
//! A series is one combination of `service.name` (from the resource), `span.name`,
//! `span.kind` (`SPAN_KIND_SERVER`...), `status.code` (`STATUS_CODE_ERROR`...) and the
//! configured dimensions; series are grouped by resource (identified by its attributes,
//! or those named in `resource_metrics_key_attributes`) and sent under a copy of that
//! resource, scope `spanmetricsconnector`, every `metrics_flush_interval` and at shutdown.
//! Spans whose resource has no `service.name` are skipped, as in Go.
//!
//! ```yaml
//! connectors:
//!   spanmetrics:
//!     histogram:
//!       unit: ms
//!       explicit:
//!         buckets: [100us, 1ms, 2ms, 6ms, 10ms, 100ms, 250ms]
//!     dimensions:
//!       - name: http.method
//!         default: GET
//!       - name: http.status_code
//!     exemplars:
//!       enabled: true
//!     aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE
//!     aggregation_cardinality_limit: 1000
//!     metrics_flush_interval: 15s
//!     metrics_expiration: 5m
//!     events:
//!       enabled: true
//!       dimensions:
//!         - name: exception.type
//! service:
//!   pipelines:
//!     traces:
//!       receivers: [otlp]
//!       exporters: [spanmetrics]
//!     metrics:
//!       receivers: [spanmetrics]
//!       exporters: [prometheus]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `dimensions` | `[]` | `{name, default}` list: attributes looked up on the span, then its resource; without a value or `default` the dimension is left out of that series |
//! | `calls_dimensions` | `[]` | dimensions of the calls metric only |
//! | `histogram::dimensions` | `[]` | dimensions of the duration metric only |
//! | `exclude_dimensions` | `[]` | built-in dimensions to leave out |
//! | `histogram::disable` | `false` | no duration metric |
//! | `histogram::unit` | `s` | `s` or `ms` |
//! | `histogram::explicit::buckets` | `[2ms, 4ms, 6ms, 8ms, 10ms, 50ms, 100ms, 200ms, 400ms, 800ms, 1s, 1400ms, 2s, 5s, 10s, 15s]` | upper bounds (inclusive), as durations |
//! | `histogram::exponential::max_size` | `160` | exponential buckets instead, at most this many per range |
//! | `aggregation_temporality` | `AGGREGATION_TEMPORALITY_CUMULATIVE` | or `AGGREGATION_TEMPORALITY_DELTA` |
//! | `metrics_flush_interval` | `60s` | how often metrics are sent |
//! | `metrics_expiration` | `0` | cumulative: drop series no span updated for this long (`0`: never) |
//! | `metric_timestamp_cache_size` | `1000` | delta: series whose last flush time is kept as their next start time |
//! | `namespace` | `traces.span.metrics` | metric name prefix (`""`: bare `calls`, `duration`) |
//! | `resource_metrics_key_attributes` | `[]` | resource attributes that identify a resource (`[]`: all) |
//! | `resource_metrics_cache_size` | `1000` | most resources held; the least recently seen is dropped |
//! | `aggregation_cardinality_limit` | `0` | most series per metric and resource (`0`: 10 000, see *Bounded memory*); beyond it spans count in one series `otel.metric.overflow=true` |
//! | `exemplars::enabled` | `false` | attach trace and span IDs (value: the duration) as exemplars |
//! | `exemplars::max_per_data_point` | `5` | most exemplars per data point per flush |
//! | `events::enabled` | `false` | the events metric |
//! | `events::dimensions` | `[]` | event attributes as dimensions (required when enabled); looked up on the span, the event, then the resource |
//! | `include_instrumentation_scope` | `[]` | scope names that add `span.instrumentation.scope.name`/`.version` dimensions |
//! | `dimensions_cache_size` | – | deprecated in Go; accepted with a warning, no effect |
//! | `add_resource_attributes` | `false` | accepted; resource attributes are always copied (Go's default without its alpha `excludeResourceMetrics` gate) |
//!
//! **Timestamps**, as Go sets them: a point's time is the flush time. Cumulative points
//! start when their series was created (the first span of it arrived); delta points start
//! at the series' previous flush (remembered for `metric_timestamp_cache_size` series),
//! or at creation for a new series. Delta state is cleared at every flush; cumulative
//! state keeps growing until `metrics_expiration` removes idle series. As in Go, a new
//! cumulative calls or events series is sent as 0 at its first flush and with its count
//! from the next one, so that Prometheus sees it rise from 0 (Go #38537); the last flush,
//! at shutdown, sends the counts.
//!
//! **Bounded memory.** At most `resource_metrics_cache_size` resources are held. Series
//! per resource are bounded by `aggregation_cardinality_limit`; Go's default `0` means
//! "no limit" there, but here it means a ceiling of 10 000 series per metric and resource
//! ([`UNLIMITED_CARDINALITY_CEILING`]), so that what peers send can never grow the state
//! without bound. The overflow series is created once the limit is reached, as in Go: a
//! metric then has at most `limit + 1` series.
//!
//! **Differences from Go.** An unknown `aggregation_temporality` is refused (Go silently
//! uses cumulative). The spanmetrics processor's removed keys `metrics_exporter` and
//! `latency_histogram_buckets` are refused naming their replacement. Included
//! instrumentation scopes are part of the series identity (Go keys the series without
//! them, so two scopes could share a series that names only the first). A flush with no
//! series sends nothing (Go sends an empty request), and shutdown sends a last flush.
//! The alpha feature gates `connector.spanmetrics.legacyMetricNames`,
//! `includeServiceInstanceID`/`includeCollectorInstanceID` and `excludeResourceMetrics`
//! are not offered; their default (off) behaviour is what this connector does.
//!
//! Exponential histograms are our own implementation of the OpenTelemetry base-2
//! layout (start at scale 20, halve the resolution when more than `max_size` buckets
//! would be needed): small and dependency-free, where Go uses `go-expohisto`.

mod aggregator;
mod config;
mod connector;
mod factory;
mod histogram;
mod identity;
mod series;
#[cfg(test)]
mod tests;

pub use aggregator::{
    OVERFLOW_KEY, SCOPE, SCOPE_NAME_KEY, SCOPE_VERSION_KEY, UNLIMITED_CARDINALITY_CEILING,
};
pub use config::{
    Bound, Config, DEFAULT_BUCKETS_MS, DEFAULT_EXPONENTIAL_MAX_SIZE, DEFAULT_NAMESPACE, Dimension,
    EventsConfig, ExemplarsConfig, ExplicitHistogramConfig, ExponentialHistogramConfig,
    HistogramConfig, SERVICE_NAME, SPAN_KIND, SPAN_NAME, STATUS_CODE, Unit,
};
pub use connector::SpanMetricsConnector;
pub use factory::factory;
