//! The `prometheus` receiver's configuration: the Go receiver's keys around an embedded
//! Prometheus configuration (`config:`), with Prometheus's own key names and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde::de::IgnoredAny;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretString};

use super::relabel::RelabelConfig;
use super::units::{duration, optional_duration, parse_bytes};

/// What `start_time_metric_regex` matches when unset: the name `process_start_time_seconds`, as in Go.
pub const DEFAULT_START_TIME_METRIC_REGEX: &str = "^process_start_time_seconds$";

/// The `prometheus` receiver's configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The embedded Prometheus configuration.
    pub config: PromConfig,
    /// Strip type and unit suffixes from metric names.
    pub trim_metric_suffixes: bool,
    /// Take start times from `start_time_metric_regex`'s metric.
    pub use_start_time_metric: bool,
    /// The metric whose value is the start time (default `process_start_time_seconds`).
    pub start_time_metric_regex: String,
    /// Also report `scrape_timeout_seconds`, `scrape_sample_limit`, `scrape_body_size_bytes`.
    pub report_extra_scrape_metrics: bool,
    /// Refused: the OpenTelemetry Operator's target allocator is not supported.
    pub target_allocator: Option<IgnoredAny>,
    /// Refused: the Prometheus-agent API server is not offered.
    pub api_server: Option<IgnoredAny>,
}

/// The embedded Prometheus configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromConfig {
    /// `global`: defaults for every scrape config.
    pub global: GlobalConfig,
    /// `scrape_configs`: the jobs.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Refused: scrape configs from files.
    pub scrape_config_files: Option<IgnoredAny>,
    /// Refused, as the Go receiver does.
    pub alerting: Option<IgnoredAny>,
    /// Refused, as the Go receiver does.
    pub rule_files: Option<IgnoredAny>,
    /// Refused, as the Go receiver does.
    pub remote_write: Option<IgnoredAny>,
    /// Refused, as the Go receiver does.
    pub remote_read: Option<IgnoredAny>,
    /// Refused: no storage here.
    pub storage: Option<IgnoredAny>,
    /// Refused: no tracing configuration.
    pub tracing: Option<IgnoredAny>,
}

/// `global`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    #[serde(deserialize_with = "duration")]
    pub scrape_interval: Duration,
    /// Default scrape timeout (10s).
    #[serde(deserialize_with = "duration")]
    pub scrape_timeout: Duration,
    /// Default scrape protocols.
    pub scrape_protocols: Option<Vec<String>>,
    /// Accepted; Prometheus adds them only to what leaves it (remote write, federation,
    /// alerts), never to scraped series, so they change nothing here.
    pub external_labels: BTreeMap<String, String>,
    /// Accepted and unused: no rules are evaluated.
    #[serde(deserialize_with = "duration")]
    pub evaluation_interval: Duration,
    /// Defaults for every job's limits.
    pub body_size_limit: Option<String>,
    /// Default `sample_limit`.
    pub sample_limit: Option<usize>,
    /// Default `label_limit`.
    pub label_limit: Option<usize>,
    /// Default `label_name_length_limit`.
    pub label_name_length_limit: Option<usize>,
    /// Default `label_value_length_limit`.
    pub label_value_length_limit: Option<usize>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            scrape_protocols: None,
            external_labels: BTreeMap::new(),
            evaluation_interval: Duration::from_secs(60),
            body_size_limit: None,
            sample_limit: None,
            label_limit: None,
            label_name_length_limit: None,
            label_value_length_limit: None,
        }
    }
}

/// One `scrape_configs` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The job's name: the `job` label.
    pub job_name: String,
    /// Keep scraped labels that clash with target labels (else `exported_` them).
    pub honor_labels: bool,
    /// Keep the timestamps the exposition carries.
    pub honor_timestamps: bool,
    /// Stale markers for series with explicit timestamps too.
    pub track_timestamps_staleness: bool,
    /// How often to scrape (global's when unset).
    #[serde(deserialize_with = "optional_duration")]
    pub scrape_interval: Option<Duration>,
    /// How long a scrape may take (global's, at most the interval, when unset).
    #[serde(deserialize_with = "optional_duration")]
    pub scrape_timeout: Option<Duration>,
    /// The formats to ask for, in order of preference.
    pub scrape_protocols: Option<Vec<String>>,
    /// Ask for gzip.
    pub enable_compression: bool,
    /// The path to scrape.
    pub metrics_path: String,
    /// `http` or `https`.
    pub scheme: String,
    /// URL parameters.
    pub params: BTreeMap<String, Vec<String>>,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// The `Authorization` header.
    pub authorization: Option<Authorization>,
    /// TLS for `https` targets.
    pub tls_config: TlsConfig,
    /// Follow HTTP redirects.
    pub follow_redirects: bool,
    /// Allow HTTP/2.
    pub enable_http2: bool,
    /// Refused: no proxy support.
    pub proxy_url: Option<String>,
    /// Refused: OAuth 2.0 is not supported.
    pub oauth2: Option<IgnoredAny>,
    /// Fixed targets.
    pub static_configs: Vec<StaticConfig>,
    /// Targets from JSON or YAML files, re-read when they change.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Targets from an HTTP endpoint, polled every `refresh_interval`.
    pub http_sd_configs: Vec<HttpSdConfig>,
    /// Refused: this service discovery is not implemented.
    pub kubernetes_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub consul_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub dns_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub ec2_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub azure_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub gce_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub docker_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub dockerswarm_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub openstack_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub nomad_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub eureka_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub digitalocean_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub hetzner_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub linode_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub marathon_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub scaleway_sd_configs: Option<IgnoredAny>,
    /// Refused: this service discovery is not implemented.
    pub puppetdb_sd_configs: Option<IgnoredAny>,
    /// Relabelling of targets.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabelling of scraped samples.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// The most samples a scrape may have after relabelling (0: any).
    pub sample_limit: Option<usize>,
    /// The most labels a sample may have (0: any).
    pub label_limit: Option<usize>,
    /// The longest label name (0: any).
    pub label_name_length_limit: Option<usize>,
    /// The longest label value (0: any).
    pub label_value_length_limit: Option<usize>,
    /// The largest uncompressed body, `10MB`-style (0: any).
    pub body_size_limit: Option<String>,
    /// The most targets the job may have after relabelling (0: any); over it, every
    /// scrape of the job fails.
    pub target_limit: usize,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            job_name: String::new(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            scrape_interval: None,
            scrape_timeout: None,
            scrape_protocols: None,
            enable_compression: true,
            metrics_path: "/metrics".into(),
            scheme: "http".into(),
            params: BTreeMap::new(),
            basic_auth: None,
            authorization: None,
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
            proxy_url: None,
            oauth2: None,
            static_configs: Vec::new(),
            file_sd_configs: Vec::new(),
            http_sd_configs: Vec::new(),
            kubernetes_sd_configs: None,
            consul_sd_configs: None,
            dns_sd_configs: None,
            ec2_sd_configs: None,
            azure_sd_configs: None,
            gce_sd_configs: None,
            docker_sd_configs: None,
            dockerswarm_sd_configs: None,
            openstack_sd_configs: None,
            nomad_sd_configs: None,
            eureka_sd_configs: None,
            digitalocean_sd_configs: None,
            hetzner_sd_configs: None,
            linode_sd_configs: None,
            marathon_sd_configs: None,
            scaleway_sd_configs: None,
            puppetdb_sd_configs: None,
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
            sample_limit: None,
            label_limit: None,
            label_name_length_limit: None,
            label_value_length_limit: None,
            body_size_limit: None,
            target_limit: 0,
        }
    }
}

/// `basic_auth`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicAuth {
    /// The user.
    pub username: String,
    /// A file holding the user.
    pub username_file: String,
    /// The password.
    pub password: SecretString,
    /// A file holding the password (read at every scrape, as Prometheus does).
    pub password_file: String,
}

/// `authorization`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Authorization {
    /// The scheme (`Bearer`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The credentials.
    pub credentials: SecretString,
    /// A file holding the credentials (read at every scrape).
    pub credentials_file: String,
}

impl Default for Authorization {
    fn default() -> Self {
        Authorization {
            kind: "Bearer".into(),
            credentials: SecretString::default(),
            credentials_file: String::new(),
        }
    }
}

/// `tls_config`, Prometheus's names.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// CA certificates file.
    pub ca_file: String,
    /// CA certificates, PEM.
    pub ca: String,
    /// Client certificate file.
    pub cert_file: String,
    /// Client certificate, PEM.
    pub cert: String,
    /// Client key file.
    pub key_file: String,
    /// Client key, PEM.
    pub key: SecretString,
    /// The name to verify the server's certificate against.
    pub server_name: String,
    /// Skip verifying the server's certificate.
    pub insecure_skip_verify: bool,
    /// `TLS12` or `TLS13`.
    pub min_version: String,
    /// `TLS12` or `TLS13`.
    pub max_version: String,
}

/// `static_configs` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels for all of them.
    pub labels: BTreeMap<String, String>,
}

/// `file_sd_configs` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSdConfig {
    /// Files (`*.json`, `*.yml`, `*.yaml`; `*` allowed in the last path element).
    pub files: Vec<String>,
    /// Re-read everything this often, besides on change (5m).
    #[serde(deserialize_with = "duration")]
    pub refresh_interval: Duration,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        FileSdConfig {
            files: Vec::new(),
            refresh_interval: Duration::from_secs(300),
        }
    }
}

/// `http_sd_configs` entry: Prometheus's HTTP service discovery.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSdConfig {
    /// The endpoint answering a JSON list of `{targets, labels}` groups.
    pub url: String,
    /// How often to ask it (1m).
    #[serde(deserialize_with = "duration")]
    pub refresh_interval: Duration,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// The `Authorization` header.
    pub authorization: Option<Authorization>,
    /// TLS for an `https` URL.
    pub tls_config: TlsConfig,
    /// Follow HTTP redirects.
    pub follow_redirects: bool,
    /// Allow HTTP/2.
    pub enable_http2: bool,
    /// Refused: no proxy support.
    pub proxy_url: Option<String>,
    /// Refused: OAuth 2.0 is not supported.
    pub oauth2: Option<IgnoredAny>,
}

impl Default for HttpSdConfig {
    fn default() -> Self {
        HttpSdConfig {
            url: String::new(),
            refresh_interval: Duration::from_secs(60),
            basic_auth: None,
            authorization: None,
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
            proxy_url: None,
            oauth2: None,
        }
    }
}

impl HttpSdConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(ConfigError::at(
                "url",
                format!("{:?}: URL scheme must be 'http' or 'https'", self.url),
            ));
        }
        if self.refresh_interval.is_zero() {
            return Err(ConfigError::at("refresh_interval", "must be above 0"));
        }
        if self.proxy_url.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(ConfigError::at(
                "proxy_url",
                "not supported: discovery connects directly",
            ));
        }
        if self.oauth2.is_some() {
            return Err(ConfigError::at(
                "oauth2",
                "not supported: use basic_auth or authorization",
            ));
        }
        if self.basic_auth.is_some() && self.authorization.is_some() {
            return Err(ConfigError::at(
                "basic_auth",
                "at most one of basic_auth and authorization",
            ));
        }
        Ok(())
    }
}

/// Prometheus's default `scrape_protocols`.
pub const DEFAULT_SCRAPE_PROTOCOLS: [&str; 4] = [
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

/// The media type each protocol asks for, as Prometheus's `ScrapeProtocolsHeaders`.
pub(crate) fn protocol_header(protocol: &str) -> Option<&'static str> {
    Some(match protocol {
        "OpenMetricsText1.0.0" => "application/openmetrics-text;version=1.0.0",
        "OpenMetricsText0.0.1" => "application/openmetrics-text;version=0.0.1",
        "PrometheusText1.0.0" => "text/plain;version=1.0.0",
        "PrometheusText0.0.4" => "text/plain;version=0.0.4",
        _ => return None,
    })
}

/// The job's settings with the global defaults applied.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) config: ScrapeConfig,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    pub(crate) protocols: Vec<String>,
    pub(crate) body_size_limit: usize,
    pub(crate) sample_limit: usize,
    pub(crate) label_limit: usize,
    pub(crate) label_name_length_limit: usize,
    pub(crate) label_value_length_limit: usize,
}

impl Job {
    pub(crate) fn resolve(
        global: &GlobalConfig,
        config: &ScrapeConfig,
    ) -> Result<Job, ConfigError> {
        let interval = config.scrape_interval.unwrap_or(global.scrape_interval);
        let timeout = match config.scrape_timeout {
            Some(timeout) => timeout,
            None => global.scrape_timeout.min(interval),
        };
        let body = config
            .body_size_limit
            .as_deref()
            .or(global.body_size_limit.as_deref())
            .unwrap_or("0");
        Ok(Job {
            config: config.clone(),
            interval,
            timeout,
            protocols: config
                .scrape_protocols
                .clone()
                .or_else(|| global.scrape_protocols.clone())
                .unwrap_or_else(|| DEFAULT_SCRAPE_PROTOCOLS.map(String::from).to_vec()),
            body_size_limit: parse_bytes(body).ok_or_else(|| {
                ConfigError::at(
                    "body_size_limit",
                    format!("{body:?} is not a size such as 10MB"),
                )
            })?,
            sample_limit: config.sample_limit.or(global.sample_limit).unwrap_or(0),
            label_limit: config.label_limit.or(global.label_limit).unwrap_or(0),
            label_name_length_limit: config
                .label_name_length_limit
                .or(global.label_name_length_limit)
                .unwrap_or(0),
            label_value_length_limit: config
                .label_value_length_limit
                .or(global.label_value_length_limit)
                .unwrap_or(0),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let c = &self.config;
        if c.job_name.is_empty() {
            return Err(ConfigError::at("job_name", "required"));
        }
        if self.interval.is_zero() {
            return Err(ConfigError::at("scrape_interval", "must be above 0"));
        }
        if self.timeout > self.interval {
            return Err(ConfigError::at(
                "scrape_timeout",
                format!(
                    "scrape timeout {:?} greater than scrape interval {:?}",
                    self.timeout, self.interval
                ),
            ));
        }
        if c.scheme != "http" && c.scheme != "https" {
            return Err(ConfigError::at(
                "scheme",
                format!("{:?}: must be http or https", c.scheme),
            ));
        }
        if self.protocols.is_empty() {
            return Err(ConfigError::at(
                "scrape_protocols",
                "name at least one protocol",
            ));
        }
        for p in &self.protocols {
            if p == "PrometheusProto" {
                return Err(ConfigError::at(
                    "scrape_protocols",
                    "PrometheusProto is not supported: this receiver parses the text formats only (no native histograms)",
                ));
            }
            if protocol_header(p).is_none() {
                return Err(ConfigError::at(
                    "scrape_protocols",
                    format!("unknown scrape protocol {p:?}"),
                ));
            }
        }
        if c.proxy_url.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(ConfigError::at(
                "proxy_url",
                "not supported: scrapes connect directly",
            ));
        }
        for (key, present) in [
            ("kubernetes_sd_configs", c.kubernetes_sd_configs.is_some()),
            ("consul_sd_configs", c.consul_sd_configs.is_some()),
            ("dns_sd_configs", c.dns_sd_configs.is_some()),
            ("ec2_sd_configs", c.ec2_sd_configs.is_some()),
            ("azure_sd_configs", c.azure_sd_configs.is_some()),
            ("gce_sd_configs", c.gce_sd_configs.is_some()),
            ("docker_sd_configs", c.docker_sd_configs.is_some()),
            ("dockerswarm_sd_configs", c.dockerswarm_sd_configs.is_some()),
            ("openstack_sd_configs", c.openstack_sd_configs.is_some()),
            ("nomad_sd_configs", c.nomad_sd_configs.is_some()),
            ("eureka_sd_configs", c.eureka_sd_configs.is_some()),
            (
                "digitalocean_sd_configs",
                c.digitalocean_sd_configs.is_some(),
            ),
            ("hetzner_sd_configs", c.hetzner_sd_configs.is_some()),
            ("linode_sd_configs", c.linode_sd_configs.is_some()),
            ("marathon_sd_configs", c.marathon_sd_configs.is_some()),
            ("scaleway_sd_configs", c.scaleway_sd_configs.is_some()),
            ("puppetdb_sd_configs", c.puppetdb_sd_configs.is_some()),
        ] {
            if present {
                return Err(ConfigError::at(
                    key,
                    "not supported by this receiver: use static_configs, file_sd_configs or http_sd_configs",
                ));
            }
        }
        if c.oauth2.is_some() {
            return Err(ConfigError::at(
                "oauth2",
                "not supported: use basic_auth or authorization",
            ));
        }
        for (i, sd) in c.http_sd_configs.iter().enumerate() {
            sd.validate()
                .map_err(|e| e.within(&format!("http_sd_configs::{i}")))?;
        }
        if let Some(auth) = &c.basic_auth {
            if c.authorization.is_some() {
                return Err(ConfigError::at(
                    "basic_auth",
                    "at most one of basic_auth and authorization",
                ));
            }
            if !auth.password.expose().is_empty() && !auth.password_file.is_empty() {
                return Err(ConfigError::at(
                    "basic_auth",
                    "at most one of password and password_file",
                ));
            }
        }
        if let Some(auth) = &c.authorization {
            if auth.kind.eq_ignore_ascii_case("basic") {
                return Err(ConfigError::at(
                    "authorization::type",
                    "use basic_auth for Basic",
                ));
            }
            if !auth.credentials.expose().is_empty() && !auth.credentials_file.is_empty() {
                return Err(ConfigError::at(
                    "authorization",
                    "at most one of credentials and credentials_file",
                ));
            }
        }
        for (key, value) in [
            ("min_version", &c.tls_config.min_version),
            ("max_version", &c.tls_config.max_version),
        ] {
            if !matches!(value.as_str(), "" | "TLS12" | "TLS13") {
                return Err(ConfigError::at(
                    format!("tls_config::{key}"),
                    format!("{value:?}: rustls offers TLS12 and TLS13 only"),
                ));
            }
        }
        for (i, file_sd) in c.file_sd_configs.iter().enumerate() {
            for (j, file) in file_sd.files.iter().enumerate() {
                let name = file.rsplit('/').next().unwrap_or(file);
                let ext_ok = [".json", ".yml", ".yaml"].iter().any(|e| name.ends_with(e));
                let dir_glob = file
                    .rsplit_once('/')
                    .is_some_and(|(dir, _)| dir.contains(['*', '?', '[']));
                if !ext_ok || dir_glob {
                    return Err(ConfigError::at(
                        format!("file_sd_configs::{i}::files::{j}"),
                        format!(
                            "{file:?}: must end in .json, .yml or .yaml, with patterns only in the file name"
                        ),
                    ));
                }
            }
        }
        for (which, list) in [
            ("relabel_configs", &c.relabel_configs),
            ("metric_relabel_configs", &c.metric_relabel_configs),
        ] {
            for (i, r) in list.iter().enumerate() {
                r.validate()
                    .map_err(|e| e.within(&format!("{which}::{i}")))?;
            }
        }
        Ok(())
    }
}

impl Config {
    /// The scrape configs with the global defaults applied.
    pub(crate) fn jobs(&self) -> Result<Vec<Job>, ConfigError> {
        self.config
            .scrape_configs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Job::resolve(&self.config.global, c)
                    .map_err(|e| e.within(&format!("config::scrape_configs::{i}")))
            })
            .collect()
    }

    /// The start-time metric's pattern: `start_time_metric_regex`, or Go's default.
    pub(crate) fn start_time_regex(&self) -> Result<regex::Regex, ConfigError> {
        let pattern = if self.start_time_metric_regex.is_empty() {
            DEFAULT_START_TIME_METRIC_REGEX
        } else {
            &self.start_time_metric_regex
        };
        regex::Regex::new(pattern)
            .map_err(|e| ConfigError::at("start_time_metric_regex", e.to_string()))
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, present) in [
            ("target_allocator", self.target_allocator.is_some()),
            ("api_server", self.api_server.is_some()),
        ] {
            if present {
                return Err(ConfigError::at(key, "not supported by this receiver"));
            }
        }
        let c = &self.config;
        for (key, present) in [
            ("alerting", c.alerting.is_some()),
            ("rule_files", c.rule_files.is_some()),
            ("remote_write", c.remote_write.is_some()),
            ("remote_read", c.remote_read.is_some()),
        ] {
            if present {
                return Err(ConfigError::at(
                    format!("config::{key}"),
                    format!("unsupported features:\n\t{key}"),
                ));
            }
        }
        for (key, present) in [
            ("scrape_config_files", c.scrape_config_files.is_some()),
            ("storage", c.storage.is_some()),
            ("tracing", c.tracing.is_some()),
        ] {
            if present {
                return Err(ConfigError::at(
                    format!("config::{key}"),
                    "not supported by this receiver",
                ));
            }
        }
        if c.scrape_configs.is_empty() {
            return Err(ConfigError::at(
                "config::scrape_configs",
                "no scrape configs: name at least one job",
            ));
        }
        let jobs = self.jobs()?;
        let mut names = std::collections::HashSet::new();
        for (i, job) in jobs.iter().enumerate() {
            let path = format!("config::scrape_configs::{i}");
            job.validate().map_err(|e| e.within(&path))?;
            if !names.insert(job.config.job_name.as_str()) {
                return Err(ConfigError::at(
                    format!("{path}::job_name"),
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        job.config.job_name
                    ),
                ));
            }
        }
        self.start_time_regex()?;
        Ok(())
    }
}
