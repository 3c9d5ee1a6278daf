//! The `prometheusremotewrite` exporter's configuration: the Go exporter's keys and
//! defaults (`exporter/prometheusremotewriteexporter`, `config.go` and `factory.go`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ComponentId, ConfigError};
use tributary_pipeline_core::confighttp::{HttpClientConfig, check_http_url};
use tributary_pipeline_core::exporterhelper::{ExporterHelperConfig, QueueConfig, RetryConfig};

use crate::client::Compression;

/// `remote_write_queue`: the Go exporter's queue block (it has no `sending_queue`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteWriteQueue {
    /// Whether batches are queued (true) or sent in the caller's task.
    pub enabled: bool,
    /// How many batches the queue holds (10000).
    pub queue_size: usize,
    /// How many requests of one batch are sent at once, each to its own shard of series
    /// (5); a batch is split into only as many shards as its size needs requests.
    pub num_consumers: usize,
    /// A Tributary addition: keep the queue in this storage extension (`file_storage`),
    /// so an outage of the backend loses nothing across restarts. The Go exporter's
    /// persistence is its `wal`, which is refused (see the module docs).
    pub storage: Option<ComponentId>,
    /// Go's partitioning of batches by client metadata keys: refused (see `validate`).
    pub include_metadata_keys: Vec<String>,
}

impl Default for RemoteWriteQueue {
    fn default() -> Self {
        RemoteWriteQueue {
            enabled: true,
            queue_size: 10_000,
            num_consumers: 5,
            storage: None,
            include_metadata_keys: Vec::new(),
        }
    }
}

/// `retry_on_failure` with the Go exporter's defaults (50ms, at most 200ms between tries,
/// give up after 1m), which differ from the exporter helper's.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryOnFailure {
    /// Whether failed requests are retried.
    pub enabled: bool,
    /// Delay before the first retry (50ms).
    #[serde(with = "tributary_confmap::duration")]
    pub initial_interval: Duration,
    /// Random jitter around each delay (0.5).
    pub randomization_factor: f64,
    /// Growth of the delay after each retry (1.5).
    pub multiplier: f64,
    /// Upper bound on one delay (200ms).
    #[serde(with = "tributary_confmap::duration")]
    pub max_interval: Duration,
    /// Give up after this long (1m); 0 retries forever.
    #[serde(with = "tributary_confmap::duration")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryOnFailure {
    fn default() -> Self {
        RetryOnFailure {
            enabled: true,
            initial_interval: Duration::from_millis(50),
            randomization_factor: 0.5,
            multiplier: 1.5,
            max_interval: Duration::from_millis(200),
            max_elapsed_time: Duration::from_secs(60),
        }
    }
}

impl From<&RetryOnFailure> for RetryConfig {
    fn from(r: &RetryOnFailure) -> RetryConfig {
        RetryConfig {
            enabled: r.enabled,
            initial_interval: r.initial_interval,
            randomization_factor: r.randomization_factor,
            multiplier: r.multiplier,
            max_interval: r.max_interval,
            max_elapsed_time: r.max_elapsed_time,
        }
    }
}

/// `resource_to_telemetry_conversion`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceToTelemetry {
    /// Copy every resource attribute onto every series as a label.
    pub enabled: bool,
    /// Leave `service.name`, `service.namespace` and `service.instance.id` out (they are
    /// `job` and `instance` already).
    pub exclude_service_attributes: bool,
}

/// `target_info`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetInfo {
    /// Write a `target_info` series per resource (true).
    pub enabled: bool,
}

impl Default for TargetInfo {
    fn default() -> Self {
        TargetInfo { enabled: true }
    }
}

/// `export_created_metric`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportCreatedMetric {
    /// Write a `_created` series for sums, histograms and summaries with a start time.
    pub enabled: bool,
}

/// The remote-write message written: only Remote-Write 1.0's.
pub const PROTOBUF_MESSAGE_V1: &str = "prometheus.WriteRequest";

/// The `prometheusremotewrite` exporter's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP client block: `endpoint` (required), `timeout` (5s), `headers`, `tls`,
    /// `auth`, `proxy_url`, the pool's keys.
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// The newer nested client block; when present it replaces the squashed keys, as in Go.
    pub http: Option<HttpClientConfig>,
    /// Retries of failed requests, with the Go exporter's defaults.
    pub retry_on_failure: RetryOnFailure,
    /// The queue (`enabled`, `queue_size`, `num_consumers`, and Tributary's `storage`).
    pub remote_write_queue: RemoteWriteQueue,
    /// Prefix of every metric name (`<namespace>_<name>`).
    pub namespace: String,
    /// Labels added to every series (a series' own label of the same name wins).
    pub external_labels: BTreeMap<String, String>,
    /// How names are translated; replaces `add_metric_suffixes` when set.
    pub translation_strategy: Option<String>,
    /// Add unit and type suffixes (`_seconds`, `_total`) to names (true).
    pub add_metric_suffixes: bool,
    /// Send type, help and unit of each family in the request's metadata (false).
    pub send_metadata: bool,
    /// The message written: `prometheus.WriteRequest` (RW 1.0) only.
    pub protobuf_message: String,
    /// The most bytes of protobuf in one request (3000000); a batch is split to fit.
    pub max_batch_size_bytes: usize,
    /// How many requests of one batch are sent at once; `num_consumers` when unset.
    pub max_batch_request_parallelism: Option<usize>,
    /// Resource attributes as labels.
    pub resource_to_telemetry_conversion: ResourceToTelemetry,
    /// The `target_info` series.
    pub target_info: TargetInfo,
    /// `_created` series.
    pub export_created_metric: ExportCreatedMetric,
    /// Leave the `otel_scope_name`/`otel_scope_version` labels out (false).
    pub disable_scope_info: bool,
    /// The Go exporter's write-ahead log: refused (use `remote_write_queue::storage`).
    pub wal: Option<serde::de::IgnoredAny>,
}

/// The Go exporter's `max_batch_size_bytes` default.
pub const DEFAULT_MAX_BATCH_SIZE_BYTES: usize = 3_000_000;

/// The deadline of one request when `timeout` is left out, as in Go.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for Config {
    fn default() -> Self {
        Config {
            client: HttpClientConfig::default(),
            http: None,
            retry_on_failure: RetryOnFailure::default(),
            remote_write_queue: RemoteWriteQueue::default(),
            namespace: String::new(),
            external_labels: BTreeMap::new(),
            translation_strategy: None,
            add_metric_suffixes: true,
            send_metadata: false,
            protobuf_message: PROTOBUF_MESSAGE_V1.into(),
            max_batch_size_bytes: DEFAULT_MAX_BATCH_SIZE_BYTES,
            max_batch_request_parallelism: None,
            resource_to_telemetry_conversion: ResourceToTelemetry::default(),
            target_info: TargetInfo::default(),
            export_created_metric: ExportCreatedMetric::default(),
            disable_scope_info: false,
            wal: None,
        }
    }
}

impl Config {
    /// The HTTP client block in effect: `http` when present, else the squashed keys.
    pub fn client(&self) -> &HttpClientConfig {
        self.http.as_ref().unwrap_or(&self.client)
    }

    /// The deadline of one request: `timeout`, 5s when left out.
    pub fn timeout(&self) -> Duration {
        self.client().timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// How many requests of a batch are sent at once (each a shard of its series).
    pub fn parallelism(&self) -> usize {
        self.max_batch_request_parallelism
            .unwrap_or(self.remote_write_queue.num_consumers)
            .max(1)
    }

    /// The exporter helper's settings: the queue has a single consumer, so batches go out
    /// in order (samples of a series must arrive in time order); the parallelism is within
    /// a batch, by series shard (see the module docs).
    pub fn helper(&self) -> ExporterHelperConfig {
        let queue = &self.remote_write_queue;
        ExporterHelperConfig {
            timeout: self.timeout(),
            retry_on_failure: (&self.retry_on_failure).into(),
            sending_queue: QueueConfig {
                enabled: queue.enabled,
                queue_size: queue.queue_size,
                num_consumers: 1,
                storage: queue.storage.clone(),
                ..QueueConfig::default()
            },
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let client_key = if self.http.is_some() { "http::" } else { "" };
        let client = self.client();
        if client.endpoint.is_empty() {
            return Err(ConfigError::at(
                format!("{client_key}endpoint"),
                "required: the remote-write URL (Prometheus: http://host:9090/api/v1/write)",
            ));
        }
        check_http_url(&format!("{client_key}endpoint"), &client.endpoint)?;
        match client.compression {
            None | Some(Compression::None) | Some(Compression::Snappy) => {}
            Some(other) => {
                return Err(ConfigError::at(
                    format!("{client_key}compression"),
                    format!(
                        "{:?} is not supported: remote write bodies are always snappy \
                         (block format), as the protocol requires",
                        other.as_str()
                    ),
                ));
            }
        }
        client.validate(Compression::None).map_err(|e| {
            if client_key.is_empty() {
                e
            } else {
                e.within("http")
            }
        })?;
        if self.wal.is_some() {
            return Err(ConfigError::at(
                "wal",
                "the write-ahead log is not supported: use remote_write_queue::storage with a \
                 file_storage extension, which keeps queued batches across restarts and crashes",
            ));
        }
        if self.protobuf_message != PROTOBUF_MESSAGE_V1 {
            return Err(ConfigError::at(
                "protobuf_message",
                format!(
                    "{:?} is not supported: only Remote-Write 1.0 ({PROTOBUF_MESSAGE_V1}) is \
                     written; Remote-Write 2.0 is still a release candidate",
                    self.protobuf_message
                ),
            ));
        }
        if let Some(strategy) = &self.translation_strategy {
            strategy
                .parse::<tributary_translator_prometheus::normalize::TranslationStrategy>()
                .map_err(|e| ConfigError::at("translation_strategy", e.to_string()))?;
        }
        if self.max_batch_size_bytes == 0 {
            return Err(ConfigError::at(
                "max_batch_size_bytes",
                "must be greater than 0",
            ));
        }
        if self.max_batch_request_parallelism == Some(0) {
            return Err(ConfigError::at(
                "max_batch_request_parallelism",
                "must be greater than 0",
            ));
        }
        let queue = &self.remote_write_queue;
        if queue.enabled && queue.queue_size == 0 {
            return Err(ConfigError::at(
                "remote_write_queue::queue_size",
                "must be greater than 0",
            ));
        }
        if queue.num_consumers == 0 {
            return Err(ConfigError::at(
                "remote_write_queue::num_consumers",
                "must be greater than 0",
            ));
        }
        if !queue.include_metadata_keys.is_empty() {
            return Err(ConfigError::at(
                "remote_write_queue::include_metadata_keys",
                "not supported: batches are not partitioned by client metadata, so no \
                 per-tenant headers can be forwarded; run one exporter per tenant with its \
                 headers instead",
            ));
        }
        if queue.storage.is_some() && !queue.enabled {
            return Err(ConfigError::at(
                "remote_write_queue::storage",
                "needs the queue: set remote_write_queue::enabled to true",
            ));
        }
        for (name, value) in &self.external_labels {
            if name.is_empty() || value.is_empty() {
                return Err(ConfigError::at(
                    "external_labels",
                    format!("label {name:?}: names and values must not be empty"),
                ));
            }
        }
        RetryConfig::from(&self.retry_on_failure)
            .validate()
            .map_err(|e| e.within("retry_on_failure"))?;
        self.helper().validate()
    }
}
