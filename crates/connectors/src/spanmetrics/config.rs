//! The spanmetrics connector's configuration: the Go Collector's keys and defaults.

use std::collections::HashSet;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// The dimensions every series has, unless excluded.
pub const SERVICE_NAME: &str = "service.name";
/// The span's name.
pub const SPAN_NAME: &str = "span.name";
/// The span's kind, `SPAN_KIND_SERVER` and so on.
pub const SPAN_KIND: &str = "span.kind";
/// The span's status code, `STATUS_CODE_UNSET`, `STATUS_CODE_OK` or `STATUS_CODE_ERROR`.
pub const STATUS_CODE: &str = "status.code";

/// Go's default namespace of the metric names.
pub const DEFAULT_NAMESPACE: &str = "traces.span.metrics";

/// Go's default explicit bucket bounds, in milliseconds.
pub const DEFAULT_BUCKETS_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10_000.0, 15_000.0,
];

/// Go's default largest number of buckets per range of an exponential histogram.
pub const DEFAULT_EXPONENTIAL_MAX_SIZE: u32 = 160;

const CUMULATIVE: &str = "AGGREGATION_TEMPORALITY_CUMULATIVE";
const DELTA: &str = "AGGREGATION_TEMPORALITY_DELTA";

/// Configuration of the `spanmetrics` connector. See the [module docs](super) for the table.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Dimensions added to every series after the four built-in ones.
    pub dimensions: Vec<Dimension>,
    /// Dimensions added to the calls metric only.
    pub calls_dimensions: Vec<Dimension>,
    /// Built-in dimensions (`service.name`, `span.name`, `span.kind`, `status.code`) to
    /// leave out; other names have no effect, as in Go.
    pub exclude_dimensions: Vec<String>,
    /// Deprecated in Go (replaced by `aggregation_cardinality_limit`); accepted, has no
    /// effect: attributes are built once per new series, so there is nothing to cache.
    pub dimensions_cache_size: Option<i64>,
    /// Most resources held at once (1000); the least recently seen is dropped beyond it.
    pub resource_metrics_cache_size: usize,
    /// Resource attributes that identify a resource (empty: all of them).
    pub resource_metrics_key_attributes: Vec<String>,
    /// `AGGREGATION_TEMPORALITY_CUMULATIVE` (default) or `AGGREGATION_TEMPORALITY_DELTA`.
    pub aggregation_temporality: String,
    /// The duration histogram.
    pub histogram: HistogramConfig,
    /// How often the metrics are sent (60s).
    #[serde(with = "tributary_confmap::duration")]
    pub metrics_flush_interval: Duration,
    /// Series not updated for this long are no longer sent (0: never expire).
    #[serde(with = "tributary_confmap::duration")]
    pub metrics_expiration: Duration,
    /// With delta temporality, how many series remember their last flush time, the start
    /// time of their next point (1000).
    pub metric_timestamp_cache_size: Option<i64>,
    /// Prefix of the metric names (`traces.span.metrics`): `<namespace>.calls`.
    pub namespace: String,
    /// Exemplars on the data points.
    pub exemplars: ExemplarsConfig,
    /// The span events metric.
    pub events: EventsConfig,
    /// Instrumentation scope names whose name and version become dimensions.
    pub include_instrumentation_scope: Vec<String>,
    /// Most series per metric and resource (0: no limit); further series are counted in
    /// one overflow series with the only attribute `otel.metric.overflow=true`.
    pub aggregation_cardinality_limit: i64,
    /// Copy the spans' resource attributes onto the metrics' resource. Go's default
    /// (without its alpha `connector.spanmetrics.excludeResourceMetrics` gate) copies them
    /// anyway, and so does Tributary; the key is accepted so Go configurations run.
    pub add_resource_attributes: bool,
    /// The spanmetrics *processor*'s key, removed: refused with what replaced it.
    pub metrics_exporter: Option<IgnoredAny>,
    /// The spanmetrics *processor*'s key, removed: refused with what replaced it.
    pub latency_histogram_buckets: Option<IgnoredAny>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dimensions: Vec::new(),
            calls_dimensions: Vec::new(),
            exclude_dimensions: Vec::new(),
            dimensions_cache_size: None,
            resource_metrics_cache_size: 1000,
            resource_metrics_key_attributes: Vec::new(),
            aggregation_temporality: CUMULATIVE.to_owned(),
            histogram: HistogramConfig::default(),
            metrics_flush_interval: Duration::from_secs(60),
            metrics_expiration: Duration::ZERO,
            metric_timestamp_cache_size: None,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            exemplars: ExemplarsConfig::default(),
            events: EventsConfig::default(),
            include_instrumentation_scope: Vec::new(),
            aggregation_cardinality_limit: 0,
            add_resource_attributes: false,
            metrics_exporter: None,
            latency_histogram_buckets: None,
        }
    }
}

/// A dimension: an attribute looked up on the span, then its resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dimension {
    /// The attribute.
    pub name: String,
    /// The value for spans without the attribute; without it the dimension is left out.
    pub default: Option<String>,
}

/// The duration histogram.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistogramConfig {
    /// No duration histogram at all.
    pub disable: bool,
    /// `s` (default, as Go now has it) or `ms`: the unit durations are recorded in.
    pub unit: Unit,
    /// Exponential buckets.
    pub exponential: Option<ExponentialHistogramConfig>,
    /// Explicit buckets (the default, with Go's bounds).
    pub explicit: Option<ExplicitHistogramConfig>,
    /// Dimensions added to the duration metric only.
    pub dimensions: Vec<Dimension>,
}

impl Default for HistogramConfig {
    fn default() -> Self {
        HistogramConfig {
            disable: false,
            unit: Unit::Seconds,
            exponential: None,
            explicit: None,
            dimensions: Vec::new(),
        }
    }
}

/// The unit durations are recorded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `ms`
    Milliseconds,
    /// `s`
    Seconds,
}

impl Unit {
    /// The unit as written in the config and on the metric.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
        }
    }

    /// Nanoseconds per unit.
    pub fn nanos(self) -> f64 {
        match self {
            Unit::Milliseconds => 1e6,
            Unit::Seconds => 1e9,
        }
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "ms" => Ok(Unit::Milliseconds),
            "s" => Ok(Unit::Seconds),
            other => Err(serde::de::Error::custom(format!(
                "unknown unit {other:?}: use \"ms\" or \"s\""
            ))),
        }
    }
}

/// Exponential buckets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExponentialHistogramConfig {
    /// Most buckets per range (0: Go's default, 160).
    pub max_size: i32,
}

/// Explicit buckets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplicitHistogramConfig {
    /// Upper bounds as durations (`[2ms, 4ms, 1s]`); absent: Go's defaults.
    pub buckets: Option<Vec<Bound>>,
}

/// One bucket bound, a Go duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound(pub Duration);

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        tributary_confmap::duration::deserialize(deserializer).map(Bound)
    }
}

/// Exemplars on the data points.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExemplarsConfig {
    /// Attach the spans' trace and span IDs as exemplars.
    pub enabled: bool,
    /// Most exemplars per data point and flush (5).
    pub max_per_data_point: i64,
}

impl Default for ExemplarsConfig {
    fn default() -> Self {
        ExemplarsConfig {
            enabled: false,
            max_per_data_point: 5,
        }
    }
}

/// The span events metric.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// Count span events into `<namespace>.events`.
    pub enabled: bool,
    /// Event attributes added as dimensions (required when enabled).
    pub dimensions: Vec<Dimension>,
}

impl Config {
    /// Whether the metrics are delta sums and histograms.
    pub fn is_delta(&self) -> bool {
        self.aggregation_temporality == DELTA
    }

    /// The explicit bucket bounds in the configured unit (unused for exponential histograms).
    pub fn bounds(&self) -> Vec<f64> {
        let unit = self.histogram.unit;
        match self
            .histogram
            .explicit
            .as_ref()
            .and_then(|e| e.buckets.as_ref())
        {
            Some(buckets) => buckets
                .iter()
                .map(|b| b.0.as_nanos() as f64 / unit.nanos())
                .collect(),
            None => DEFAULT_BUCKETS_MS
                .iter()
                .map(|ms| ms * 1e6 / unit.nanos())
                .collect(),
        }
    }

    /// The delta start-time cache size.
    pub fn timestamp_cache_size(&self) -> i64 {
        self.metric_timestamp_cache_size.unwrap_or(1000)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.metrics_exporter.is_some() {
            return Err(ConfigError::at(
                "metrics_exporter",
                "removed with the spanmetrics processor: list the spanmetrics connector as an \
                 exporter of a traces pipeline and a receiver of a metrics pipeline instead",
            ));
        }
        if self.latency_histogram_buckets.is_some() {
            return Err(ConfigError::at(
                "latency_histogram_buckets",
                "removed with the spanmetrics processor: use histogram::explicit::buckets",
            ));
        }
        validate_dimensions("dimensions", &self.dimensions, &[])?;
        validate_dimensions("calls_dimensions", &self.calls_dimensions, &self.dimensions)?;
        validate_dimensions(
            "histogram::dimensions",
            &self.histogram.dimensions,
            &self.dimensions,
        )?;
        if self.events.enabled {
            if self.events.dimensions.is_empty() {
                return Err(ConfigError::at(
                    "events::dimensions",
                    "failed validating event dimensions: no dimensions configured for events",
                ));
            }
            validate_dimensions("events::dimensions", &self.events.dimensions, &[])?;
        }
        if self.histogram.explicit.is_some() && self.histogram.exponential.is_some() {
            return Err(ConfigError::at(
                "histogram",
                "use either `explicit` or `exponential` buckets histogram",
            ));
        }
        if let Some(exponential) = &self.histogram.exponential
            && exponential.max_size < 0
        {
            return Err(ConfigError::at(
                "histogram::exponential::max_size",
                format!(
                    "must be positive (0: the default, 160), found {}",
                    exponential.max_size
                ),
            ));
        }
        let bounds = self.bounds();
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ConfigError::at(
                "histogram::explicit::buckets",
                "bucket bounds must be strictly increasing",
            ));
        }
        if self.aggregation_temporality != CUMULATIVE && self.aggregation_temporality != DELTA {
            return Err(ConfigError::at(
                "aggregation_temporality",
                format!(
                    "unknown temporality {:?}: use {CUMULATIVE} or {DELTA} (Go would silently use cumulative)",
                    self.aggregation_temporality
                ),
            ));
        }
        if self.is_delta() && self.timestamp_cache_size() <= 0 {
            return Err(ConfigError::at(
                "metric_timestamp_cache_size",
                format!(
                    "invalid delta timestamp cache size: {}, the maximum number of the items in the cache should be positive",
                    self.timestamp_cache_size()
                ),
            ));
        }
        if self.metrics_flush_interval.is_zero() {
            return Err(ConfigError::at(
                "metrics_flush_interval",
                "must be longer than 0",
            ));
        }
        if self.resource_metrics_cache_size == 0 {
            return Err(ConfigError::at(
                "resource_metrics_cache_size",
                "must be positive",
            ));
        }
        if self.aggregation_cardinality_limit < 0 {
            return Err(ConfigError::at(
                "aggregation_cardinality_limit",
                format!(
                    "invalid aggregation_cardinality_limit: {}, the limit should be positive",
                    self.aggregation_cardinality_limit
                ),
            ));
        }
        if let Some(size) = self.dimensions_cache_size
            && size < 0
        {
            return Err(ConfigError::at("dimensions_cache_size", "must be positive"));
        }
        Ok(())
    }
}

/// Checks that `dimensions` repeat neither a built-in dimension, nor one of `base`, nor
/// each other, as Go does.
fn validate_dimensions(
    path: &str,
    dimensions: &[Dimension],
    base: &[Dimension],
) -> Result<(), ConfigError> {
    let mut seen: HashSet<&str> = [SERVICE_NAME, SPAN_NAME, SPAN_KIND, STATUS_CODE].into();
    seen.extend(base.iter().map(|d| d.name.as_str()));
    for (index, dimension) in dimensions.iter().enumerate() {
        if dimension.name.is_empty() {
            return Err(ConfigError::at(
                format!("{path}::{index}::name"),
                "dimension name missing",
            ));
        }
        if !seen.insert(dimension.name.as_str()) {
            return Err(ConfigError::at(
                format!("{path}::{index}::name"),
                format!(
                    "failed validating dimensions: duplicate dimension name {}",
                    dimension.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::component::load_config;

    use super::*;

    #[test]
    fn defaults_are_gos() {
        let config: Config = load_config("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.namespace, "traces.span.metrics");
        assert_eq!(config.metrics_flush_interval, Duration::from_secs(60));
        assert!(!config.is_delta());
        assert_eq!(config.histogram.unit, Unit::Seconds);
        assert_eq!(config.bounds()[0], 0.002);
        assert_eq!(config.bounds()[15], 15.0);
        assert_eq!(config.exemplars.max_per_data_point, 5);
    }

    #[test]
    fn the_readme_example_decodes() {
        let config: Config = load_config(
            r#"
histogram:
  explicit:
    buckets: [100us, 1ms, 2ms, 6ms, 10ms, 100ms, 250ms]
  unit: ms
dimensions:
  - name: http.method
    default: GET
  - name: http.status_code
exemplars:
  enabled: true
exclude_dimensions: ['status.code']
dimensions_cache_size: 1000
aggregation_temporality: "AGGREGATION_TEMPORALITY_CUMULATIVE"
metrics_flush_interval: 15s
metrics_expiration: 5m
events:
  enabled: true
  dimensions:
    - name: exception.type
    - name: exception.message
resource_metrics_key_attributes:
  - service.name
  - telemetry.sdk.language
  - telemetry.sdk.name
"#,
        )
        .unwrap();
        assert_eq!(config.bounds(), [0.1, 1.0, 2.0, 6.0, 10.0, 100.0, 250.0]);
        assert_eq!(config.dimensions[0].default.as_deref(), Some("GET"));
        assert_eq!(config.metrics_expiration, Duration::from_secs(300));
    }

    /// The shapes of the Go connector's own test configurations
    /// (open-telemetry/opentelemetry-collector-contrib,
    /// connector/spanmetricsconnector/testdata/config.yaml): accepted or refused as there.
    #[test]
    fn go_test_configurations_decode_as_in_go() {
        let accepted = [
            "",
            "histogram:\n  explicit:\n",
            "histogram: {unit: s, explicit: {buckets: [10ms, 100ms, 250ms]}}\nexemplars: {enabled: true}\nresource_metrics_cache_size: 1600\ndimensions: [{name: http.method, default: GET}, {name: http.status_code}]\naggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\nmetrics_flush_interval: 30s\n",
            "histogram: {exponential: {max_size: 10}}",
            "exemplars: {enabled: true, max_per_data_point: 5}",
            "resource_metrics_key_attributes: [service.name, telemetry.sdk.language, telemetry.sdk.name]",
            "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\nmetric_timestamp_cache_size: 123",
            "calls_dimensions: [{name: a}]\nhistogram: {dimensions: [{name: b}]}\ninclude_instrumentation_scope: [lib]\nadd_resource_attributes: true\naggregation_cardinality_limit: 10\nevents: {enabled: true, dimensions: [{name: exception.type}]}",
        ];
        for yaml in accepted {
            load_config::<Config>(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        }
        let full = load_config::<Config>(accepted[2]).unwrap();
        assert_eq!(full.bounds(), [0.01, 0.1, 0.25]);
        assert!(full.is_delta());
        assert_eq!(
            load_config::<Config>(accepted[1]).unwrap().bounds().len(),
            16,
            "`explicit:` alone keeps the default buckets"
        );
        let refused = [
            "histogram: {exponential: {max_size: 10}, explicit: {buckets: [10ms]}}",
            "histogram: {unit: h}",
            "metrics_expiration: -20s",
            "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\nmetric_timestamp_cache_size: 0",
        ];
        for yaml in refused {
            assert!(
                load_config::<Config>(yaml).is_err(),
                "{yaml} should be refused"
            );
        }
    }

    #[test]
    fn invalid_configs_are_refused_naming_the_key() {
        let cases = [
            ("dimensions: [{name: span.kind}]", "dimensions::0::name"),
            ("dimensions: [{name: a}, {name: a}]", "dimensions::1::name"),
            (
                "calls_dimensions: [{name: a}]\ndimensions: [{name: a}]",
                "calls_dimensions::0::name",
            ),
            ("events: {enabled: true}", "events::dimensions"),
            ("histogram: {explicit: {}, exponential: {}}", "histogram"),
            (
                "histogram: {explicit: {buckets: [2ms, 1ms]}}",
                "histogram::explicit::buckets",
            ),
            ("aggregation_temporality: DELTA", "aggregation_temporality"),
            (
                "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\nmetric_timestamp_cache_size: 0",
                "metric_timestamp_cache_size",
            ),
            (
                "aggregation_cardinality_limit: -1",
                "aggregation_cardinality_limit",
            ),
            ("metrics_exporter: prometheus", "metrics_exporter"),
            (
                "latency_histogram_buckets: [2ms]",
                "latency_histogram_buckets",
            ),
        ];
        for (yaml, path) in cases {
            let error = load_config::<Config>(yaml).unwrap_err();
            assert_eq!(error.path(), path, "{yaml}: {error}");
        }
        let error = load_config::<Config>("histogram: {unit: us}").unwrap_err();
        assert!(error.to_string().contains("\"ms\" or \"s\""), "{error}");
        let error = load_config::<Config>("histogram: {explicit: {bucket: [1ms]}}").unwrap_err();
        assert!(error.to_string().contains("bucket"), "{error}");
    }
}
