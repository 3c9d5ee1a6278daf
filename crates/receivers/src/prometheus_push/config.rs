//! The `prometheus_push` receiver's configuration: the HTTP server block, where pushes are
//! taken (`path_prefix`), what a grouping key must name (`required_labels`), the status of
//! a successful push, and the bounds of the per-group record.

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::confighttp::HttpServerConfig;

/// Where the receiver listens when `endpoint` is left out: the Pushgateway's port.
pub const DEFAULT_ENDPOINT: &str = "localhost:9091";

/// The `prometheus_push` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP server (`endpoint`, `tls`, `auth`, `max_request_body_size`, ...);
    /// `endpoint` defaults to `localhost:9091`.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// The path pushes go under, followed by `/job/<JOB>{/<LABEL>/<VALUE>}`: `/metrics` as
    /// the Pushgateway, `/prom/metrics` for SOFALookout clients.
    pub path_prefix: String,
    /// Labels every grouping key must carry besides `job` (SOFALookout: `[app, step]`).
    pub required_labels: Vec<String>,
    /// The status of a successful `PUT` or `POST`: `200` as the Pushgateway, `202` as
    /// SOFALookout. `DELETE` always answers `202`.
    pub success_status: u16,
    /// The most groups recorded at once.
    pub max_groups: usize,
    /// The most series recorded over all groups.
    pub max_series: usize,
    /// The most memory the record may take over all groups, in bytes, as estimated from
    /// each series' name and labels.
    pub max_recorded_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            path_prefix: "/metrics".into(),
            required_labels: Vec::new(),
            success_status: 200,
            max_groups: 10_000,
            max_series: 100_000,
            max_recorded_bytes: 128 << 20,
        }
    }
}

fn server_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, d)
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let prefix = &self.path_prefix;
        if !prefix.starts_with('/') || prefix.ends_with('/') || prefix.contains("//") {
            return Err(ConfigError::at(
                "path_prefix",
                format!("{prefix:?} must start with `/` and not end with one, such as `/metrics`"),
            ));
        }
        for (i, label) in self.required_labels.iter().enumerate() {
            if !tributary_translator_prometheus::text::is_label_name(label)
                || label.starts_with("__")
            {
                return Err(ConfigError::at(
                    format!("required_labels::{i}"),
                    format!("{label:?} is not a label name a grouping key can carry"),
                ));
            }
        }
        if !(200..300).contains(&self.success_status) {
            return Err(ConfigError::at(
                "success_status",
                format!("{} is not a success status (200-299)", self.success_status),
            ));
        }
        for (key, value) in [
            ("max_groups", self.max_groups),
            ("max_series", self.max_series),
            ("max_recorded_bytes", self.max_recorded_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError::at(
                    key,
                    "must be positive: the record of pushed groups is always bounded",
                ));
            }
        }
        if self.server.cors.is_some() {
            return Err(ConfigError::at(
                "cors",
                "not supported by the prometheus_push receiver: browsers do not push metrics",
            ));
        }
        self.server.validate()
    }
}
