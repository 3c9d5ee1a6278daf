//! The `carbon` exporter's configuration: the Go `carbonexporter` keys and defaults.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};
use tributary_pipeline_core::confignet::DialerConfig;
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

/// The default `endpoint`, as Go's.
pub const DEFAULT_ENDPOINT: &str = "localhost:2003";

/// The default `max_idle_conns`, as Go's.
pub const DEFAULT_MAX_IDLE_CONNS: usize = 100;

/// The `carbon` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `host:port` of the Carbon (Graphite) plaintext listener.
    pub endpoint: String,
    /// How connections are opened: `dialer::timeout` bounds connecting (the export's
    /// `timeout` when unset).
    pub dialer: DialerConfig,
    /// Connections kept open between exports; more are closed after use.
    pub max_idle_conns: usize,
    /// Resource attributes as tags of every point.
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
    /// `timeout` (5s: connecting and sending one batch), `retry_on_failure`,
    /// `sending_queue`.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

/// `resource_to_telemetry_conversion`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceToTelemetryConfig {
    /// Add every resource attribute to every point's tags (over a point attribute of the
    /// same name, as Go does).
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: DEFAULT_ENDPOINT.into(),
            dialer: DialerConfig::default(),
            max_idle_conns: DEFAULT_MAX_IDLE_CONNS,
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
            helper: ExporterHelperConfig::default(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.endpoint.is_empty() {
            return Err(ConfigError::at("endpoint", "must be set (host:port)"));
        }
        check_endpoint(&self.endpoint)
            .map_err(|e| ConfigError::at("endpoint", format!("invalid TCP endpoint: {e}")))?;
        self.helper.validate()
    }
}
