//! The `prometheus` exporter's configuration: the Go `prometheusexporter` keys and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;
use tributary_pipeline_core::exporterhelper::{ExporterHelperConfig, QueueConfig};
use tributary_translator_prometheus::labels::is_valid_label_name;
use tributary_translator_prometheus::normalize::TranslationStrategy;

/// The default `metric_expiration`, as Go's.
pub const DEFAULT_METRIC_EXPIRATION: Duration = Duration::from_secs(5 * 60);

/// The `prometheus` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `endpoint` and the rest of Go's `confighttp` server block (TLS, auth,
    /// `response_headers`, timeouts) for the `/metrics` server.
    #[serde(rename = "server,squash")]
    pub server: HttpServerConfig,
    /// Put in front of every metric name, joined by `_`.
    pub namespace: String,
    /// Labels added to every series.
    pub const_labels: BTreeMap<String, String>,
    /// Write each sample with the timestamp of its data point.
    pub send_timestamps: bool,
    /// A series not updated for this long is no longer served.
    #[serde(with = "tributary_confmap::duration")]
    pub metric_expiration: Duration,
    /// Every resource attribute as a label of every series.
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
    /// Answer OpenMetrics to a scraper that asks for it (exemplars, `_created`, units).
    pub enable_open_metrics: bool,
    /// The older switch for unit and type suffixes; `translation_strategy` wins when set.
    pub add_metric_suffixes: bool,
    /// How OTLP names become Prometheus names (empty: from `add_metric_suffixes`).
    pub translation_strategy: String,
    /// Go's optional queue in front of the accumulator: off when left out, as in Go; a
    /// `sending_queue` block given takes the helper's defaults for its other keys.
    pub sending_queue: QueueConfig,
}

/// `resource_to_telemetry_conversion`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceToTelemetryConfig {
    /// Add every resource attribute to every series' labels.
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::default(),
            namespace: String::new(),
            const_labels: BTreeMap::new(),
            send_timestamps: false,
            metric_expiration: DEFAULT_METRIC_EXPIRATION,
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
            enable_open_metrics: false,
            add_metric_suffixes: true,
            translation_strategy: String::new(),
            sending_queue: ExporterHelperConfig::disabled().sending_queue,
        }
    }
}

impl Config {
    /// The naming strategy: `translation_strategy` when set, else what
    /// `add_metric_suffixes` stands for (Go's `getTranslationConfiguration`).
    pub fn strategy(&self) -> Result<TranslationStrategy, ConfigError> {
        if self.translation_strategy.is_empty() {
            return Ok(TranslationStrategy::from_add_metric_suffixes(
                self.add_metric_suffixes,
            ));
        }
        self.translation_strategy
            .parse()
            .map_err(|e| ConfigError::at("translation_strategy", format!("{e}")))
    }

    /// The exporter helper around the accumulator: Go's `sending_queue` only; no timeout
    /// or retries (accumulating cannot fail for a reason a retry would fix).
    pub(crate) fn helper(&self) -> ExporterHelperConfig {
        ExporterHelperConfig {
            sending_queue: self.sending_queue.clone(),
            ..ExporterHelperConfig::disabled()
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.server.endpoint.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "must be set: the host:port to serve /metrics on",
            ));
        }
        self.server.validate()?;
        self.strategy()?;
        for name in self.const_labels.keys() {
            if !is_valid_label_name(name) || name.starts_with("__") {
                return Err(ConfigError::at(
                    format!("const_labels::{name}"),
                    "not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)",
                ));
            }
        }
        if self.metric_expiration.is_zero() {
            return Err(ConfigError::at(
                "metric_expiration",
                "must be positive: series would expire as soon as they arrive",
            ));
        }
        self.helper().validate()
    }
}
