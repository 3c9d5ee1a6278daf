//! The `resourcedetection` processor's configuration: the Go
//! `resourcedetectionprocessor`'s keys and defaults for the detectors built here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

/// The detectors this processor builds.
pub const BUILT_DETECTORS: [&str; 2] = ["env", "system"];

/// The other detectors of the Go processor (cloud and platform metadata), refused with a
/// message that says so.
pub const NOT_BUILT_DETECTORS: [&str; 27] = [
    "akamai",
    "aks",
    "alibaba_ecs",
    "azure",
    "consul",
    "digitalocean",
    "docker",
    "dynatrace",
    "ec2",
    "ecs",
    "eks",
    "elasticbeanstalk",
    "gcp",
    "heroku",
    "hetzner",
    "ibmcloud",
    "k8snode",
    "kubeadm",
    "lambda",
    "nova",
    "openshift",
    "openstacknova",
    "oraclecloud",
    "scaleway",
    "upcloud",
    "vultr",
    "gke",
];

/// The `resourcedetection` processor's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `detectors`: which detectors run, in order; an earlier one wins when two detect
    /// the same attribute (default `[env]`).
    pub detectors: Vec<String>,
    /// `attributes`: Go's deprecated allow-list; when set, only these detected attributes
    /// are added.
    pub attributes: Option<Vec<String>>,
    /// `override`: detected attributes replace the data's own (default true).
    #[serde(rename = "override")]
    pub override_: bool,
    /// `timeout`: how long detection may take at start (default 5s, Go's HTTP client's).
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
    /// `refresh_interval`: Go's periodic re-detection; only `0s` (detect at start and on
    /// reload) is supported.
    #[serde(with = "tributary_confmap::duration")]
    pub refresh_interval: Duration,
    /// `system`: the `system` detector's settings.
    pub system: SystemConfig,
    /// Settings blocks of detectors this processor does not build (`ec2:`, `gcp:`...),
    /// refused at validation.
    #[serde(rename = "other_detectors,squash")]
    pub other_detectors: BTreeMap<String, tributary_confmap::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            detectors: vec!["env".to_string()],
            attributes: None,
            override_: true,
            timeout: Duration::from_secs(5),
            refresh_interval: Duration::ZERO,
            system: SystemConfig::default(),
            other_detectors: BTreeMap::new(),
        }
    }
}

/// `{enabled: bool}` for one resource attribute.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Toggle {
    /// `enabled`: detect and add it.
    pub enabled: bool,
}

/// `system`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemConfig {
    /// `hostname_sources`: where `host.name` comes from, tried in order: `dns` (the FQDN),
    /// `os` (the kernel's host name), `lookup` (reverse DNS of the host's addresses),
    /// `cname` (the host name's canonical name). Default `[dns, os]`.
    pub hostname_sources: Vec<String>,
    /// `resource_attributes`: per-attribute enablement over Go's defaults.
    pub resource_attributes: BTreeMap<String, Toggle>,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            hostname_sources: vec!["dns".into(), "os".into()],
            resource_attributes: BTreeMap::new(),
        }
    }
}

/// The `system` detector's attributes and whether Go enables each by default.
pub const SYSTEM_ATTRIBUTES: &[(&str, bool)] = &[
    ("host.name", true),
    ("os.type", true),
    ("host.id", false),
    ("host.arch", false),
    ("host.ip", false),
    ("host.mac", false),
    ("host.cpu.vendor.id", false),
    ("host.cpu.family", false),
    ("host.cpu.model.id", false),
    ("host.cpu.model.name", false),
    ("host.cpu.stepping", false),
    ("host.cpu.cache.l2.size", false),
    ("os.description", false),
    ("os.name", false),
    ("os.version", false),
    ("os.build.id", false),
];

const HOSTNAME_SOURCES: [&str; 4] = ["dns", "os", "lookup", "cname"];

impl SystemConfig {
    /// Whether attribute `name` is enabled.
    pub fn enabled(&self, name: &str) -> bool {
        let default = SYSTEM_ATTRIBUTES
            .iter()
            .find(|(n, _)| *n == name)
            .is_some_and(|(_, on)| *on);
        self.resource_attributes
            .get(name)
            .map_or(default, |t| t.enabled)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        for (i, detector) in self.detectors.iter().enumerate() {
            if BUILT_DETECTORS.contains(&detector.as_str()) {
                continue;
            }
            let message = if NOT_BUILT_DETECTORS.contains(&detector.as_str()) {
                format!(
                    "the {detector:?} detector is not built into Tributary (only env and system \
                     are); remove it, or add its attributes with the resource processor"
                )
            } else {
                format!("invalid detector key: {detector:?}; valid detectors here: env, system")
            };
            return Err(ConfigError::at(format!("detectors::{i}"), message));
        }
        if let Some(key) = self.other_detectors.keys().next() {
            let why = if NOT_BUILT_DETECTORS.contains(&key.as_str()) {
                format!("settings of the {key:?} detector, which is not built into Tributary")
            } else {
                "unknown key".to_string()
            };
            return Err(ConfigError::at(key.clone(), why));
        }
        if !self.refresh_interval.is_zero() {
            return Err(ConfigError::at(
                "refresh_interval",
                "periodic re-detection is not supported: detection runs at start and on \
                 every reload; leave it at 0s",
            ));
        }
        for (i, source) in self.system.hostname_sources.iter().enumerate() {
            if !HOSTNAME_SOURCES.contains(&source.as_str()) {
                return Err(ConfigError::at(
                    format!("system::hostname_sources::{i}"),
                    format!(
                        "hostname_sources contains invalid value: {source:?}; use dns, os, lookup or cname"
                    ),
                ));
            }
        }
        if let Some(name) = self
            .system
            .resource_attributes
            .keys()
            .find(|name| !SYSTEM_ATTRIBUTES.iter().any(|(known, _)| known == name))
        {
            return Err(ConfigError::at(
                format!("system::resource_attributes::{name}"),
                "unknown resource attribute of the system detector",
            ));
        }
        Ok(())
    }
}
