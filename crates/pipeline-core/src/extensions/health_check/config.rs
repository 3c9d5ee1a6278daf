//! The `health_check` configuration: the Go Collector's keys, plus what makes the answer
//! reflect progress.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use serde::Deserializer;

use crate::component::{ComponentConfig, ConfigError, parse_endpoint};
use crate::confighttp::HttpServerConfig;

/// Where the health check listens by default: loopback only, the Go Collector's port.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:13133";

/// The `health_check` extension's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `endpoint` (default `127.0.0.1:13133`), `tls`, `auth`, `response_headers`, timeouts:
    /// the HTTP server block, at the extension's top level as in Go.
    #[serde(rename = "server,squash", deserialize_with = "server_over_defaults")]
    pub server: HttpServerConfig,
    /// The URL path answered. Default `/`.
    pub path: String,
    /// Fixed bodies replacing the JSON report, as in the Go Collector.
    pub response_body: Option<ResponseBody>,
    /// The Go Collector's exporter-failure check, implemented as it was meant to work.
    pub check_collector_pipeline: CheckCollectorPipeline,
    /// How long a pipeline may have calls in flight with none completing before it counts
    /// as stalled. Default 30s.
    #[serde(with = "tributary_confmap::duration")]
    pub stall_timeout: Duration,
    /// Which component statuses count against health (the Go health check v2's keys).
    pub component_health: ComponentHealth,
    /// Whether a configuration reload that was refused makes the collector unhealthy.
    /// Default false: the running pipelines are intact, and the failure is reported in the
    /// body either way.
    pub unhealthy_on_failed_reload: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: HttpServerConfig::with_endpoint(DEFAULT_ENDPOINT),
            path: "/".into(),
            response_body: None,
            check_collector_pipeline: CheckCollectorPipeline::default(),
            stall_timeout: Duration::from_secs(30),
            component_health: ComponentHealth::default(),
            unhealthy_on_failed_reload: false,
        }
    }
}

/// Decodes the server block over the health check's defaults (its endpoint).
fn server_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HttpServerConfig, D::Error> {
    HttpServerConfig::deserialize_over(Config::default().server, deserializer)
}

/// `response_body`: fixed bodies instead of the JSON report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseBody {
    /// The body answered with 200.
    pub healthy: String,
    /// The body answered with 503.
    pub unhealthy: String,
}

/// `check_collector_pipeline`: unhealthy while exporters fail too much.
///
/// The Go Collector's version counted OpenCensus view exports that no longer exist and is
/// documented as broken (its v2 ignores the keys). Here it counts what the exporters
/// themselves count: items they failed to send or to queue
/// (`otelcol_exporter_send_failed_*` and `otelcol_exporter_enqueue_failed_*`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckCollectorPipeline {
    /// Whether the check runs. Default false.
    pub enabled: bool,
    /// The window failures are counted over. Default 5m.
    #[serde(with = "tributary_confmap::duration")]
    pub interval: Duration,
    /// An exporter that failed more items than this within `interval` makes the
    /// collector unhealthy. Default 5.
    pub exporter_failure_threshold: u64,
}

impl Default for CheckCollectorPipeline {
    fn default() -> Self {
        CheckCollectorPipeline {
            enabled: false,
            interval: Duration::from_secs(300),
            exporter_failure_threshold: 5,
        }
    }
}

/// `component_health`: which error statuses count against health.
///
/// A `FatalError` always does. Every error status is listed in the body either way.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentHealth {
    /// Whether a `PermanentError` (a panicked task or pipeline, a component that gave up)
    /// makes the collector unhealthy. Default true; the Go health check v2 defaults to
    /// false.
    pub include_permanent_errors: bool,
    /// Whether a `RecoverableError` makes the collector unhealthy once it has lasted
    /// `recovery_duration`. Default false, as in the Go health check v2.
    pub include_recoverable_errors: bool,
    /// How long a recoverable error may last before it counts. Default 5m.
    #[serde(with = "tributary_confmap::duration")]
    pub recovery_duration: Duration,
}

impl Default for ComponentHealth {
    fn default() -> Self {
        ComponentHealth {
            include_permanent_errors: true,
            include_recoverable_errors: false,
            recovery_duration: Duration::from_secs(300),
        }
    }
}

impl Config {
    /// The socket address `endpoint` names.
    pub fn socket_addr(&self) -> Result<SocketAddr, ConfigError> {
        parse_endpoint(&self.server.endpoint)
            .map_err(|message| ConfigError::at("endpoint", message))
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        // A host name is looked up at start; here only the form is checked.
        self.server.validate()?;
        if !self.path.starts_with('/') {
            return Err(ConfigError::at(
                "path",
                format!("must start with \"/\", got {:?}", self.path),
            ));
        }
        if self.stall_timeout.is_zero() {
            return Err(ConfigError::at(
                "stall_timeout",
                "must be greater than 0 (a pipeline with calls in flight and none completing \
                 for this long is reported as stalled)",
            ));
        }
        let check = &self.check_collector_pipeline;
        if check.exporter_failure_threshold == 0 {
            return Err(ConfigError::at(
                "check_collector_pipeline::exporter_failure_threshold",
                "must be a positive number",
            ));
        }
        if check.interval < Duration::from_secs(1) {
            return Err(ConfigError::at(
                "check_collector_pipeline::interval",
                "must be at least 1s (failures are sampled every second)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tributary_confmap::Conf;

    use super::*;

    fn decode(yaml: &str) -> Result<Config, ConfigError> {
        crate::component::load_config(yaml)
    }

    #[test]
    fn an_empty_section_is_the_default() {
        let config = decode("{}").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(
            config.socket_addr().unwrap(),
            "127.0.0.1:13133".parse().unwrap()
        );
        assert_eq!(config.path, "/");
        assert_eq!(config.stall_timeout, Duration::from_secs(30));
        assert!(!config.check_collector_pipeline.enabled);
        assert_eq!(
            config.check_collector_pipeline.interval,
            Duration::from_secs(300)
        );
        assert_eq!(
            config.check_collector_pipeline.exporter_failure_threshold,
            5
        );
        assert!(config.component_health.include_permanent_errors);
        assert!(!config.component_health.include_recoverable_errors);
        assert!(!config.unhealthy_on_failed_reload);
        assert!(config.response_body.is_none());
    }

    #[test]
    fn the_testdata_config_decodes_every_key() {
        let conf = Conf::from_yaml(include_str!("testdata/config.yaml")).unwrap();
        let default: Config = conf.decode_at("health_check").unwrap();
        assert_eq!(default, Config::default());
        let full: Config = conf.decode_at("health_check/full").unwrap();
        full.validate().unwrap();
        assert_eq!(
            full,
            Config {
                server: HttpServerConfig::with_endpoint("localhost:13134"),
                path: "/health/status".into(),
                response_body: Some(ResponseBody {
                    healthy: "I'm OK".into(),
                    unhealthy: "I'm not well".into(),
                }),
                check_collector_pipeline: CheckCollectorPipeline {
                    enabled: true,
                    interval: Duration::from_secs(60),
                    exporter_failure_threshold: 10,
                },
                stall_timeout: Duration::from_secs(45),
                component_health: ComponentHealth {
                    include_permanent_errors: false,
                    include_recoverable_errors: true,
                    recovery_duration: Duration::from_secs(120),
                },
                unhealthy_on_failed_reload: true,
            }
        );
        assert_eq!(
            full.socket_addr().unwrap(),
            "127.0.0.1:13134".parse().unwrap()
        );
        let go: Config = conf.decode_at("health_check/go").unwrap();
        go.validate().unwrap();
        assert_eq!(go.path, "/health/status");
        assert!(go.check_collector_pipeline.enabled);
    }

    /// Issue 13: host names are accepted, and looked up at start.
    #[test]
    fn host_names_validate_and_bad_names_do_not() {
        let check = |endpoint: &str| {
            Config {
                server: HttpServerConfig::with_endpoint(endpoint),
                ..Config::default()
            }
            .validate()
        };
        assert!(check("collector.internal:13133").is_ok());
        let error = check("bad_host:13133").unwrap_err().to_string();
        assert!(
            error.starts_with("endpoint: invalid socket address"),
            "{error}"
        );
    }

    #[test]
    fn endpoints_are_read_as_the_go_collector_reads_them() {
        let addr = |endpoint: &str| {
            Config {
                server: HttpServerConfig::with_endpoint(endpoint),
                ..Config::default()
            }
            .socket_addr()
        };
        assert_eq!(addr(":13133").unwrap(), "0.0.0.0:13133".parse().unwrap());
        assert_eq!(addr("[::1]:80").unwrap(), "[::1]:80".parse().unwrap());
        assert_eq!(addr("0.0.0.0:0").unwrap(), "0.0.0.0:0".parse().unwrap());
        for bad in [
            "x",
            "localhost",
            "collector.internal:13133",
            "127.0.0.1:99999",
        ] {
            let error = addr(bad).unwrap_err();
            assert_eq!(error.path(), "endpoint", "{bad}");
            assert!(error.message().contains(bad), "{error}");
        }
    }

    #[test]
    fn invalid_values_name_their_key() {
        let cases = [
            ("path: health", "path"),
            ("stall_timeout: 0s", "stall_timeout"),
            (
                "check_collector_pipeline: { exporter_failure_threshold: 0 }",
                "check_collector_pipeline::exporter_failure_threshold",
            ),
            (
                "check_collector_pipeline: { interval: 10ms }",
                "check_collector_pipeline::interval",
            ),
            ("endpoint: nowhere", "endpoint"),
            ("stall_timeout: soon", "stall_timeout"),
            ("tls: {}", "tls::cert_file"),
            ("response_body: { ok: yes }", "response_body::ok"),
            (
                "component_health: { include_permanent_errors: maybe }",
                "component_health::include_permanent_errors",
            ),
        ];
        for (yaml, path) in cases {
            let error = decode(yaml).unwrap_err();
            assert_eq!(error.path(), path, "{yaml}: {error}");
        }
    }
}
