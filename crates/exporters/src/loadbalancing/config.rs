//! The `loadbalancing` exporter's configuration: the Go `loadbalancingexporter` keys and
//! defaults.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretUrl};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

use crate::otlp;

/// The port added to a backend given without one, as Go's `endpointWithPort`.
pub const DEFAULT_PORT: &str = "4317";
/// `resolver::dns::interval`'s default, as Go's.
pub const DEFAULT_DNS_INTERVAL: Duration = Duration::from_secs(5);
/// `resolver::dns::timeout`'s default, as Go's.
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(1);

/// The `loadbalancing` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `routing_key`: what decides the backend: `traceID` (the default of traces and
    /// logs), `service` (the default of metrics), `resource`, `metric`, `attributes`.
    pub routing_key: String,
    /// `routing_attributes`: a composite key `name=value|…` from these attributes, used
    /// with `routing_key: attributes` (traces only).
    pub routing_attributes: Vec<String>,
    /// `protocol`: how backends are reached.
    pub protocol: ProtocolConfig,
    /// `resolver`: where the list of backends comes from; exactly one.
    pub resolver: ResolverConfig,
    /// `timeout`, `retry_on_failure`, `sending_queue` of the balancer itself: all off
    /// unless set, as in Go. This is the queue to enable (with `storage` for a persistent
    /// one): what it holds is routed on the ring of the moment it is sent, so a backend
    /// that leaves or fails does not take queued data with it.
    #[serde(rename = "helper,squash", deserialize_with = "helper_over_defaults")]
    pub helper: ExporterHelperConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            routing_key: String::new(),
            routing_attributes: Vec::new(),
            protocol: ProtocolConfig::default(),
            resolver: ResolverConfig::default(),
            helper: ExporterHelperConfig::disabled(),
        }
    }
}

/// Decodes the helper's keys over this exporter's defaults (everything off), as Go's
/// `createDefaultConfig` leaves them.
fn helper_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ExporterHelperConfig, D::Error> {
    ExporterHelperConfig::deserialize_over(ExporterHelperConfig::disabled(), deserializer)
}

/// `protocol`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtocolConfig {
    /// `protocol::otlp`: the `otlp` exporter's configuration, the template of every
    /// backend's client; its `endpoint` is replaced by the backend's.
    pub otlp: otlp::Config,
}

/// `resolver`: exactly one of these.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResolverConfig {
    /// `static`: a fixed list of backends.
    #[serde(rename = "static")]
    pub static_: Option<StaticResolverConfig>,
    /// `dns`: the addresses a hostname resolves to, re-resolved every `interval`.
    pub dns: Option<DnsResolverConfig>,
    /// `k8s`: refused (see [`ComponentConfig::validate`]).
    pub k8s: Option<serde::de::IgnoredAny>,
    /// `aws_cloud_map`: refused (see [`ComponentConfig::validate`]).
    pub aws_cloud_map: Option<serde::de::IgnoredAny>,
}

/// `resolver::static`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticResolverConfig {
    /// `hostnames`: `host[:port]` of each backend (port 4317 when left out).
    pub hostnames: Vec<String>,
}

/// `resolver::dns`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsResolverConfig {
    /// `hostname`: the name whose addresses are the backends.
    pub hostname: String,
    /// `port`: the backends' port (`4317`); a number or a string, as Go's decoder takes
    /// either.
    #[serde(deserialize_with = "port_text")]
    pub port: String,
    /// `interval`: how often the name is resolved again (5s).
    #[serde(with = "tributary_confmap::duration")]
    pub interval: Duration,
    /// `timeout`: how long one resolution may take (1s).
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
}

impl Default for DnsResolverConfig {
    fn default() -> Self {
        DnsResolverConfig {
            hostname: String::new(),
            port: DEFAULT_PORT.into(),
            interval: DEFAULT_DNS_INTERVAL,
            timeout: DEFAULT_DNS_TIMEOUT,
        }
    }
}

/// A port written as a number or a string.
fn port_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Port {
        Number(u64),
        Text(String),
    }
    Ok(match Port::deserialize(deserializer)? {
        Port::Number(n) => n.to_string(),
        Port::Text(t) => t,
    })
}

/// What `routing_key` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutingKey {
    /// `traceID`: a span's (or log record's) trace ID.
    TraceId,
    /// `service`: the resource's `service.name`.
    Service,
    /// `resource`: all of the resource's attributes.
    Resource,
    /// `metric`: the metric's name (and its resource's `service.name`).
    Metric,
    /// `streamID`: refused, see the module docs.
    StreamId,
    /// `attributes`: the values of `routing_attributes`.
    Attributes,
}

impl Config {
    /// The routing key named by `routing_key`; `None` when left out (then `traceID` for
    /// traces and logs, `service` for metrics).
    pub fn routing_key(&self) -> Result<Option<RoutingKey>, ConfigError> {
        Ok(Some(match self.routing_key.as_str() {
            "" => return Ok(None),
            "traceID" => RoutingKey::TraceId,
            "service" => RoutingKey::Service,
            "resource" => RoutingKey::Resource,
            "metric" => RoutingKey::Metric,
            "streamID" => RoutingKey::StreamId,
            "attributes" => RoutingKey::Attributes,
            other => {
                return Err(ConfigError::at(
                    "routing_key",
                    format!(
                        "unsupported routing_key {other:?}: use traceID, service, resource, metric or attributes"
                    ),
                ));
            }
        }))
    }

    /// The `protocol::otlp` template with `endpoint` set to `backend`.
    pub(crate) fn backend_config(&self, backend: &str) -> otlp::Config {
        let mut config = self.protocol.otlp.clone();
        config.client.endpoint = SecretUrl::new(backend.to_string());
        config
    }
}

/// `host:port` from `host[:port]`, as Go's `endpointWithPort` (no `:` → port 4317).
pub(crate) fn endpoint_with_port(endpoint: &str) -> String {
    if endpoint.contains(':') {
        endpoint.to_string()
    } else {
        format!("{endpoint}:{DEFAULT_PORT}")
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        match self.routing_key()? {
            Some(RoutingKey::StreamId) => {
                return Err(ConfigError::at(
                    "routing_key",
                    "streamID is not supported: Tributary routes whole metrics, not single \
                     data points; use metric or resource",
                ));
            }
            Some(RoutingKey::Attributes) if self.routing_attributes.is_empty() => {
                return Err(ConfigError::at(
                    "routing_attributes",
                    "routing_key: attributes needs at least one attribute name",
                ));
            }
            _ => {}
        }
        let resolver = &self.resolver;
        if resolver.k8s.is_some() {
            return Err(ConfigError::at(
                "resolver::k8s",
                "the k8s resolver is not supported: Tributary has no Kubernetes client; use \
                 the dns resolver with a headless service's name",
            ));
        }
        if resolver.aws_cloud_map.is_some() {
            return Err(ConfigError::at(
                "resolver::aws_cloud_map",
                "the aws_cloud_map resolver is not supported: Tributary has no AWS client; \
                 use the dns resolver with the Cloud Map namespace's DNS name",
            ));
        }
        match (&resolver.static_, &resolver.dns) {
            (None, None) => {
                return Err(ConfigError::at(
                    "resolver",
                    "no resolver specified: set static or dns",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::at(
                    "resolver",
                    "only one resolver should be specified",
                ));
            }
            (Some(s), None) => {
                if s.hostnames.is_empty() {
                    return Err(ConfigError::at(
                        "resolver::static::hostnames",
                        "at least one backend is needed",
                    ));
                }
                for host in &s.hostnames {
                    self.backend_config(&endpoint_with_port(host))
                        .validate()
                        .map_err(|e| {
                            ConfigError::at(
                                "resolver::static::hostnames",
                                format!("backend {host:?}: {e}"),
                            )
                        })?;
                }
            }
            (None, Some(d)) => {
                if d.hostname.is_empty() {
                    return Err(ConfigError::at(
                        "resolver::dns::hostname",
                        "must be set: the name whose addresses are the backends",
                    ));
                }
                if d.port.parse::<u16>().is_err() {
                    return Err(ConfigError::at(
                        "resolver::dns::port",
                        format!("invalid port {:?}", d.port),
                    ));
                }
                if d.interval.is_zero() {
                    return Err(ConfigError::at(
                        "resolver::dns::interval",
                        "must be positive",
                    ));
                }
                if d.timeout.is_zero() {
                    return Err(ConfigError::at(
                        "resolver::dns::timeout",
                        "must be positive",
                    ));
                }
            }
        }
        // The template checks everything but `endpoint`, which each backend replaces.
        let template = self.backend_config("placeholder:4317");
        template
            .validate()
            .map_err(|e| e.within("protocol::otlp"))?;
        if template.helper.sending_queue.enabled && template.helper.sending_queue.storage.is_some()
        {
            return Err(ConfigError::at(
                "protocol::otlp::sending_queue::storage",
                "backends have no queue of their own (it would strand data when a backend \
                 leaves the ring); set sending_queue::storage at the loadbalancing level",
            ));
        }
        self.helper.validate()
    }
}
