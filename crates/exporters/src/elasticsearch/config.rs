//! The `elasticsearch` exporter's configuration: the Go exporter's keys and defaults.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretString};
use tributary_pipeline_core::confighttp::{HttpClientConfig, check_http_url};
use tributary_pipeline_core::exporterhelper::{
    BatchConfig, ExporterHelperConfig, RetryConfig, Sizer,
};

use crate::client::Compression;

/// The deadline of one request when `timeout` is left out, as the Go exporter's.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// How documents are laid out (`mapping::mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappingMode {
    /// `none` (Go's default): the OTLP structure, attributes under `Attributes`.
    None,
    /// `raw`: as `none`, with attributes at the top of the document.
    Raw,
    /// `lookout`: SOFALookout's `{time, id, value, tags: ["k=v"]}`, metrics only.
    Lookout,
}

impl MappingMode {
    /// The mode a `mapping::mode` value names.
    pub fn from_name(name: &str) -> Result<MappingMode, String> {
        match name {
            "none" | "" => Ok(MappingMode::None),
            "raw" => Ok(MappingMode::Raw),
            "lookout" => Ok(MappingMode::Lookout),
            "ecs" | "otel" | "bodymap" => Err(format!(
                "mode {name:?} is not supported by Tributary: its layout follows Elastic's \
                 evolving schemas (ECS field mapping, OTel-native data streams), which we do not \
                 track; use none, raw or lookout"
            )),
            other => Err(format!("unknown mode {other:?}: use none, raw or lookout")),
        }
    }
}

/// `mapping`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MappingConfig {
    /// `none` (default), `raw` or `lookout`.
    pub mode: String,
    /// Deprecated and non-operational in Go; keys are always deduplicated.
    pub dedup: bool,
    /// Attribute keys with `.` become nested objects (default true).
    pub dedot: bool,
}

impl Default for MappingConfig {
    fn default() -> Self {
        MappingConfig {
            mode: "none".into(),
            dedup: true,
            dedot: true,
        }
    }
}

/// `logs_dynamic_index`, `metrics_dynamic_index`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicIndex {
    /// Route by `data_stream.*` or `elasticsearch.index.{prefix,suffix}` attributes.
    pub enabled: bool,
}

/// `logstash_format`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogstashFormat {
    /// Append the document's date to the index name.
    pub enabled: bool,
    /// Between the index and the date (`-`).
    pub prefix_separator: String,
    /// strftime format of the date (`%Y.%m.%d`).
    pub date_format: String,
}

impl Default for LogstashFormat {
    fn default() -> Self {
        LogstashFormat {
            enabled: false,
            prefix_separator: "-".into(),
            date_format: "%Y.%m.%d".into(),
        }
    }
}

/// `flush`: how much one bulk request carries and how long documents wait.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlushConfig {
    /// The most bytes of NDJSON in one bulk request (5000000).
    pub bytes: usize,
    /// The longest documents wait to fill a request, when `sending_queue` is on (30s).
    #[serde(with = "tributary_confmap::duration")]
    pub interval: Duration,
}

impl Default for FlushConfig {
    fn default() -> Self {
        FlushConfig {
            bytes: 5_000_000,
            interval: Duration::from_secs(30),
        }
    }
}

/// `retry`: bulk request and document retries.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkRetryConfig {
    /// Retry at all (true).
    pub enabled: bool,
    /// Retries of a request or of its failed documents (3).
    pub max_requests: u32,
    /// Wait before the first retry (100ms), doubled each time.
    #[serde(with = "tributary_confmap::duration")]
    pub initial_interval: Duration,
    /// The longest wait (1m).
    #[serde(with = "tributary_confmap::duration")]
    pub max_interval: Duration,
    /// Statuses retried, of a request or a document (`[429]`); a document's `5xx` is
    /// retried too (see the module docs).
    pub retry_on_status: Vec<u16>,
}

impl Default for BulkRetryConfig {
    fn default() -> Self {
        BulkRetryConfig {
            enabled: true,
            max_requests: 3,
            initial_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(60),
            retry_on_status: vec![429],
        }
    }
}

/// The `elasticsearch` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP client block: `endpoint`, `timeout` (90s), `headers`, `tls`, `compression`
    /// (none), `auth`, ...
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// `sending_queue` (off by default, as in Go) and `retry_on_failure` (off: `retry`
    /// retries requests and documents).
    #[serde(rename = "helper,squash", deserialize_with = "helper_over_defaults")]
    pub helper: ExporterHelperConfig,
    /// More URLs, used in turn with `endpoint`.
    pub endpoints: Vec<String>,
    /// Elastic Cloud ID: refused.
    pub cloudid: String,
    /// Basic authentication user.
    pub user: String,
    /// Basic authentication password.
    pub password: SecretString,
    /// An Elasticsearch API key, encoded: `Authorization: ApiKey <key>`.
    pub api_key: SecretString,
    /// Deprecated: `logs_index`.
    pub index: String,
    /// The index or data stream of logs (`logs-generic-default`).
    pub logs_index: String,
    /// The index or data stream of metrics (`metrics-generic-default`).
    pub metrics_index: String,
    /// The index of traces: accepted for Go configs; traces are not exported.
    pub traces_index: String,
    /// Route logs by attributes (off).
    pub logs_dynamic_index: DynamicIndex,
    /// Route metrics by attributes (on).
    pub metrics_dynamic_index: DynamicIndex,
    /// Logstash-style dated index names.
    pub logstash_format: LogstashFormat,
    /// An ingest pipeline, `?pipeline=`.
    pub pipeline: String,
    /// The document layout.
    pub mapping: MappingConfig,
    /// Request size and waiting time.
    pub flush: FlushConfig,
    /// Request and document retries.
    pub retry: BulkRetryConfig,
    /// Go's concurrent bulk workers: refused unless 0; `sending_queue::num_consumers` is
    /// the concurrency here.
    pub num_workers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client: HttpClientConfig::default(),
            helper: ExporterHelperConfig {
                retry_on_failure: RetryConfig {
                    enabled: false,
                    ..RetryConfig::default()
                },
                sending_queue: tributary_pipeline_core::exporterhelper::QueueConfig {
                    enabled: false,
                    ..Default::default()
                },
                ..ExporterHelperConfig::default()
            },
            endpoints: Vec::new(),
            cloudid: String::new(),
            user: String::new(),
            password: SecretString::default(),
            api_key: SecretString::default(),
            index: String::new(),
            logs_index: "logs-generic-default".into(),
            metrics_index: "metrics-generic-default".into(),
            traces_index: "traces-generic-default".into(),
            logs_dynamic_index: DynamicIndex { enabled: false },
            metrics_dynamic_index: DynamicIndex { enabled: true },
            logstash_format: LogstashFormat::default(),
            pipeline: String::new(),
            mapping: MappingConfig::default(),
            flush: FlushConfig::default(),
            retry: BulkRetryConfig::default(),
            num_workers: 0,
        }
    }
}

fn helper_over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<ExporterHelperConfig, D::Error> {
    ExporterHelperConfig::deserialize_over(Config::default().helper, deserializer)
}

impl Config {
    /// The deadline of one request: `timeout`, 90s when left out.
    pub fn timeout(&self) -> Duration {
        self.client.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The exporter helper's settings: `timeout` bounds one export (with its document
    /// retries); with the queue on and no `batch` of its own, `flush` batches by bytes.
    pub fn helper(&self) -> ExporterHelperConfig {
        let mut helper = ExporterHelperConfig {
            timeout: self.timeout(),
            ..self.helper.clone()
        };
        if helper.sending_queue.enabled && helper.sending_queue.batch.is_none() {
            helper.sending_queue.batch = Some(BatchConfig {
                flush_timeout: self.flush.interval,
                min_size: self.flush.bytes,
                max_size: 0,
                sizer: Some(Sizer::Bytes),
                ..BatchConfig::default()
            });
        }
        helper
    }

    /// The mode `mapping::mode` names.
    pub fn mode(&self) -> Result<MappingMode, ConfigError> {
        MappingMode::from_name(&self.mapping.mode).map_err(|e| ConfigError::at("mapping::mode", e))
    }

    /// The logs index: `logs_index`, or the deprecated `index` when set.
    pub fn logs_index(&self) -> &str {
        if self.index.is_empty() {
            &self.logs_index
        } else {
            &self.index
        }
    }

    /// Every bulk URL, `endpoint` first: `<url>/_bulk` (`?pipeline=` when set).
    pub fn bulk_urls(&self) -> Result<Vec<reqwest::Url>, ConfigError> {
        let mut urls = Vec::new();
        let endpoint = self.client.endpoint.expose();
        let all = (!endpoint.is_empty())
            .then_some(("endpoint", endpoint))
            .into_iter()
            .chain(self.endpoints.iter().map(|e| ("endpoints", e.as_str())));
        for (key, text) in all {
            let mut url = reqwest::Url::parse(text)
                .map_err(|e| ConfigError::at(key, format!("invalid URL: {e}")))?;
            let path = format!("{}/_bulk", url.path().trim_end_matches('/'));
            url.set_path(&path);
            if !self.pipeline.is_empty() {
                url.query_pairs_mut()
                    .append_pair("pipeline", &self.pipeline);
            }
            urls.push(url);
        }
        Ok(urls)
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.cloudid.is_empty() {
            return Err(ConfigError::at(
                "cloudid",
                "not supported by Tributary: give the deployment's Elasticsearch URL in endpoint",
            ));
        }
        if self.client.endpoint.is_empty() && self.endpoints.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "required: the Elasticsearch URL (or a list in endpoints)",
            ));
        }
        if !self.client.endpoint.is_empty() {
            check_http_url("endpoint", &self.client.endpoint)?;
        }
        for endpoint in &self.endpoints {
            check_http_url("endpoints", &endpoint.clone().into())?;
        }
        self.bulk_urls()?;
        self.mode()?;
        if self.num_workers != 0 {
            return Err(ConfigError::at(
                "num_workers",
                "not supported: bulk requests run in sending_queue's consumers; set sending_queue::num_consumers",
            ));
        }
        for (key, index) in [
            ("logs_index", self.logs_index()),
            ("metrics_index", &self.metrics_index),
        ] {
            if index.is_empty()
                || index.contains(['/', '\\', '*', '?', '"', '<', '>', '|', ' ', ',', '#'])
            {
                return Err(ConfigError::at(
                    key,
                    format!("{index:?} is not an index name"),
                ));
            }
        }
        if self.flush.bytes == 0 {
            return Err(ConfigError::at("flush::bytes", "must be at least 1"));
        }
        if self.retry.initial_interval > self.retry.max_interval {
            return Err(ConfigError::at(
                "retry::initial_interval",
                "longer than retry::max_interval",
            ));
        }
        if self.user.is_empty() != self.password.expose().is_empty() {
            return Err(ConfigError::at("user", "user and password go together"));
        }
        self.client.validate(Compression::None)?;
        self.helper().validate()
    }
}
