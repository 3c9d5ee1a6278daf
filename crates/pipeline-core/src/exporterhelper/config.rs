//! The exporter helper's configuration: `timeout`, `retry_on_failure`, `sending_queue`.
//!
//! Exporters squash an [`ExporterHelperConfig`] into their own config, so these keys sit at
//! the exporter's top level with the Go Collector's names and defaults, and call its
//! [`validate`](ExporterHelperConfig::validate) from their own.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::component::{ComponentId, ConfigError};

/// `retry_on_failure`: exponential backoff for retryable export failures.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Whether failed exports are retried.
    pub enabled: bool,
    /// Delay before the first retry (5s).
    #[serde(with = "tributary_confmap::duration")]
    pub initial_interval: Duration,
    /// Random jitter around each delay, as a fraction of it (0.5).
    pub randomization_factor: f64,
    /// Growth of the delay after each retry (1.5).
    pub multiplier: f64,
    /// Upper bound on one delay (30s).
    #[serde(with = "tributary_confmap::duration")]
    pub max_interval: Duration,
    /// Give up after this long since the first attempt (300s); 0 retries forever.
    #[serde(with = "tributary_confmap::duration")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            randomization_factor: 0.5,
            multiplier: 1.5,
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

impl RetryConfig {
    /// Checks the ranges the Go Collector checks.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if !(0.0..=1.0).contains(&self.randomization_factor) {
            return Err(ConfigError::at(
                "randomization_factor",
                "must be between 0 and 1",
            ));
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(ConfigError::at("multiplier", "must be at least 1"));
        }
        if self.initial_interval.is_zero() {
            return Err(ConfigError::at(
                "initial_interval",
                "must be greater than 0",
            ));
        }
        if self.max_interval < self.initial_interval {
            return Err(ConfigError::at(
                "max_interval",
                "must be greater than or equal to initial_interval",
            ));
        }
        if !self.max_elapsed_time.is_zero()
            && (self.max_elapsed_time < self.initial_interval
                || self.max_elapsed_time < self.max_interval)
        {
            return Err(ConfigError::at(
                "max_elapsed_time",
                "must be 0 (retry forever) or at least initial_interval and max_interval",
            ));
        }
        Ok(())
    }
}

/// How a queue or batch measures its size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sizer {
    /// Export requests (batches as received).
    #[default]
    Requests,
    /// Items: spans, metric data points, log records.
    Items,
    /// Bytes of the protobuf encoding.
    Bytes,
}

/// `sending_queue::batch`: exporter-side batching.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Send a batch that has waited this long even if smaller than `min_size` (200ms).
    #[serde(with = "tributary_confmap::duration")]
    pub flush_timeout: Duration,
    /// Send as soon as a batch reaches this size (8192).
    pub min_size: usize,
    /// Split requests so no batch exceeds this size; 0 means no limit.
    pub max_size: usize,
    /// How `min_size` and `max_size` are measured: `items` or `bytes` (default: the
    /// queue's sizer when that is not `requests`, else `items`).
    pub sizer: Option<Sizer>,
    /// `partition`: batch requests apart by the values of some client metadata keys
    /// (Go's `metadata_keys`). Absent: requests are kept apart by all their metadata.
    pub partition: Option<PartitionConfig>,
}

/// `sending_queue::batch::partition`: which requests may share a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartitionConfig {
    /// Client metadata keys (case-insensitive) whose values key a batch: requests with the
    /// same values share batches, and a batch carries only these keys' metadata (what an
    /// exporter forwards, e.g. through `headers_setter`). A receiver keeps metadata with
    /// `include_metadata: true`.
    pub metadata_keys: Vec<String>,
}

impl PartitionConfig {
    /// Keys must be non-empty and distinct (case-insensitively, as metadata is).
    fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for (index, key) in self.metadata_keys.iter().enumerate() {
            let at = format!("metadata_keys::{index}");
            if key.is_empty() {
                return Err(ConfigError::at(at, "must be non-empty"));
            }
            if !seen.insert(key.to_ascii_lowercase()) {
                return Err(ConfigError::at(
                    at,
                    format!("{key:?} is listed twice (keys are case-insensitive)"),
                ));
            }
        }
        Ok(())
    }
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            flush_timeout: Duration::from_millis(200),
            min_size: 8192,
            max_size: 0,
            sizer: None,
            partition: None,
        }
    }
}

/// `sending_queue`: the buffer between the pipeline and the export workers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Whether data is queued (true) or exported in the caller's task (false).
    pub enabled: bool,
    /// Export workers reading from the queue (10).
    pub num_consumers: usize,
    /// Capacity, in `sizer` units (1000). What is being exported or retried still counts.
    pub queue_size: usize,
    /// What `queue_size` counts.
    pub sizer: Sizer,
    /// When full: wait for room (true) or refuse at once with a retryable error (false).
    pub block_on_overflow: bool,
    /// A memory queue's second bound, whatever `sizer` counts: the requests it holds may
    /// take at most this many MiB, measured as their protobuf encoding (256); 0: no bound.
    /// A Tributary addition: `queue_size` alone bounds memory only by requests × their
    /// size. A persistent queue keeps its requests on disk and ignores it.
    pub memory_limit_mib: usize,
    /// A memory queue's pacing (true): while the backend is healthy (the last delivery
    /// that ended was delivered, within the last second) and the backlog waiting for a
    /// consumer is above a sixteenth of `queue_size`, or the data held (queued or being
    /// exported) above a sixteenth of `memory_limit_mib`, offers wait for it to shrink
    /// instead of growing it, so a process out of CPU pushes back on its clients rather
    /// than filling its memory; when deliveries fail or stall, the queue fills to its
    /// limits as usual. A Tributary addition; a persistent queue ignores it.
    pub wait_while_behind: bool,
    /// Make the queue persistent in this storage extension (`file_storage`).
    pub storage: Option<ComponentId>,
    /// Batch requests before export. The key present, even with no value (`batch:`),
    /// turns batching on with the defaults, as in the Go Collector; absent, it is off.
    #[serde(rename = "batch,present", deserialize_with = "present_means_on")]
    pub batch: Option<BatchConfig>,
    /// Whether a request is answered only once exported rather than once queued. Only
    /// `false` (the default) is supported: see [`QueueConfig::validate`].
    pub wait_for_result: bool,
    /// How long shutdown spends draining the queue (memory) or waiting for exports in
    /// progress (persistent) before abandoning them (5s).
    #[serde(with = "tributary_confmap::duration")]
    pub drain_timeout: Duration,
}

/// `sending_queue::batch`: present (with a value or none) means on.
fn present_means_on<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BatchConfig>, D::Error> {
    Ok(Some(
        Option::<BatchConfig>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            sizer: Sizer::Requests,
            block_on_overflow: false,
            memory_limit_mib: DEFAULT_MEMORY_LIMIT_MIB,
            wait_while_behind: true,
            storage: None,
            batch: None,
            wait_for_result: false,
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// The default `sending_queue::memory_limit_mib`: 256 MiB per queue (per exporter and
/// signal). Roomy for the default 1000 requests as SDKs and agents send them (up to 256
/// KiB each), so the Go Collector's `queue_size` keeps deciding for them; it is large
/// batches that meet it, which would otherwise fill up to 1000 × 20 MiB.
pub const DEFAULT_MEMORY_LIMIT_MIB: usize = 256;

impl QueueConfig {
    /// `memory_limit_mib` in bytes; `None` when there is no such bound.
    pub fn memory_limit_bytes(&self) -> Option<u64> {
        (self.memory_limit_mib != 0).then(|| (self.memory_limit_mib as u64).saturating_mul(1 << 20))
    }

    /// Checks sizes and combinations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if self.wait_for_result {
            return Err(ConfigError::at(
                "wait_for_result",
                "true is not supported: Tributary answers a request once it is queued (and, \
                 with a persistent queue, stored), which is what the Go Collector does with \
                 false; disable the queue (enabled: false) to answer only after the export",
            ));
        }
        if self.num_consumers == 0 {
            return Err(ConfigError::at("num_consumers", "must be greater than 0"));
        }
        if self.queue_size == 0 {
            return Err(ConfigError::at("queue_size", "must be greater than 0"));
        }
        if let Some(batch) = &self.batch {
            let batch_sizer = batch.sizer.unwrap_or(match self.sizer {
                Sizer::Requests => Sizer::Items,
                other => other,
            });
            if batch_sizer == Sizer::Requests {
                return Err(ConfigError::at("batch::sizer", "must be items or bytes"));
            }
            if batch.flush_timeout.is_zero() {
                return Err(ConfigError::at(
                    "batch::flush_timeout",
                    "must be greater than 0",
                ));
            }
            if batch.max_size != 0 && batch.max_size < batch.min_size {
                return Err(ConfigError::at(
                    "batch::max_size",
                    "must be 0 (no limit) or greater than or equal to min_size",
                ));
            }
            if let Some(partition) = &batch.partition {
                partition
                    .validate()
                    .map_err(|e| e.within("batch::partition"))?;
            }
            if batch_sizer == self.sizer && batch.min_size > self.queue_size {
                return Err(ConfigError::at(
                    "batch::min_size",
                    "must be less than or equal to queue_size when both use the same sizer",
                ));
            }
        }
        Ok(())
    }
}

/// The exporter helper's settings, which every exporter embeds in its own config:
/// `timeout`, `retry_on_failure` and `sending_queue`, at the exporter's top level as in the
/// Go Collector, with its defaults (5s; retries and a queue of 1000 requests, enabled).
///
/// An exporter squashes it into its config (see
/// [squashing](tributary_confmap#squashing)) and hands it to [`build`](super::build):
///
/// ```
/// use serde::Deserialize;
/// use tributary_pipeline_core::component::{ComponentConfig, ConfigError, load_config};
/// use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
///
/// #[derive(Debug, Default, Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     endpoint: String,
///     /// `timeout`, `retry_on_failure` and `sending_queue`.
///     #[serde(rename = "helper,squash")]
///     helper: ExporterHelperConfig,
/// }
///
/// impl ComponentConfig for Config {
///     fn validate(&self) -> Result<(), ConfigError> {
///         self.helper.validate()
///     }
/// }
///
/// let config: Config = load_config("endpoint: h:4317\nsending_queue: {queue_size: 10}").unwrap();
/// assert_eq!(config.helper.sending_queue.queue_size, 10);
/// assert!(config.helper.retry_on_failure.enabled);
/// let error = load_config::<Config>("endpoint: h\nsending_queue: {queue_size: 0}").unwrap_err();
/// assert_eq!(error.to_string(), "sending_queue::queue_size: must be greater than 0");
/// let error = load_config::<Config>("endpoint: h\nretry_on_faillure: {}").unwrap_err();
/// assert!(error.to_string().starts_with("retry_on_faillure: unknown key"), "{error}");
/// ```
///
/// A squashed part is decoded whether or not its keys are present, so a key the user
/// leaves out takes the value of [`ExporterHelperConfig::default`], not of the exporter's
/// `Default`. An exporter whose defaults differ (no queue, a longer timeout) decodes it over
/// them with [`deserialize_over`](Self::deserialize_over):
///
/// ```
/// use serde::{Deserialize, Deserializer};
/// use tributary_pipeline_core::component::{ComponentConfig, load_config};
/// use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;
///
/// #[derive(Debug, Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {
///     path: String,
///     #[serde(rename = "helper,squash", deserialize_with = "helper_over_defaults")]
///     helper: ExporterHelperConfig,
/// }
///
/// impl Default for Config {
///     fn default() -> Self {
///         Config { path: String::new(), helper: ExporterHelperConfig::disabled() }
///     }
/// }
///
/// /// Keys left out keep this exporter's defaults.
/// fn helper_over_defaults<'de, D: Deserializer<'de>>(
///     deserializer: D,
/// ) -> Result<ExporterHelperConfig, D::Error> {
///     ExporterHelperConfig::deserialize_over(Config::default().helper, deserializer)
/// }
///
/// impl ComponentConfig for Config {}
///
/// let config: Config = load_config("path: x\nretry_on_failure: {initial_interval: 1s}").unwrap();
/// assert!(config.helper.retry_on_failure.enabled, "set: the key's own defaults");
/// assert!(!config.helper.sending_queue.enabled, "left out: the exporter's");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExporterHelperConfig {
    /// `timeout`: deadline of one export attempt (5s); zero disables it.
    pub timeout: Duration,
    /// `retry_on_failure`: retries of failed attempts.
    pub retry_on_failure: RetryConfig,
    /// `sending_queue`: the sending queue.
    pub sending_queue: QueueConfig,
}

impl Default for ExporterHelperConfig {
    fn default() -> Self {
        ExporterHelperConfig {
            timeout: DEFAULT_TIMEOUT,
            retry_on_failure: RetryConfig::default(),
            sending_queue: QueueConfig::default(),
        }
    }
}

impl ExporterHelperConfig {
    /// No deadline, no retries, no queue: each batch is exported once, in the caller's
    /// task, however long it takes. The defaults of exporters that write locally (`debug`,
    /// `file`), as the Go Collector builds its `debug` exporter.
    pub fn disabled() -> Self {
        ExporterHelperConfig {
            timeout: Duration::ZERO,
            retry_on_failure: RetryConfig {
                enabled: false,
                ..RetryConfig::default()
            },
            sending_queue: QueueConfig {
                enabled: false,
                ..QueueConfig::default()
            },
        }
    }

    /// Decodes the keys present over `base`: a key left out (or null) keeps `base`'s value,
    /// a key present is decoded with its own type's defaults (`sending_queue: {queue_size:
    /// 10}` is an enabled queue of 10). For a `deserialize_with` function of an exporter
    /// whose defaults differ from [`ExporterHelperConfig::default`].
    pub fn deserialize_over<'de, D: Deserializer<'de>>(
        base: ExporterHelperConfig,
        deserializer: D,
    ) -> Result<ExporterHelperConfig, D::Error> {
        let present = PresentKeys::deserialize(deserializer)?;
        Ok(ExporterHelperConfig {
            timeout: present.timeout.unwrap_or(base.timeout),
            retry_on_failure: present.retry_on_failure.unwrap_or(base.retry_on_failure),
            sending_queue: present.sending_queue.unwrap_or(base.sending_queue),
        })
    }

    /// Checks every part; errors name `retry_on_failure::...` or `sending_queue::...`,
    /// relative to the exporter's section (where these keys sit).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.retry_on_failure
            .validate()
            .map_err(|e| e.within("retry_on_failure"))?;
        self.sending_queue
            .validate()
            .map_err(|e| e.within("sending_queue"))
    }
}

/// Decodes the keys present over [`ExporterHelperConfig::default`].
impl<'de> Deserialize<'de> for ExporterHelperConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ExporterHelperConfig::deserialize_over(ExporterHelperConfig::default(), deserializer)
    }
}

/// The keys of an [`ExporterHelperConfig`] that a configuration sets.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PresentKeys {
    #[serde(with = "tributary_confmap::duration::option")]
    timeout: Option<Duration>,
    retry_on_failure: Option<RetryConfig>,
    sending_queue: Option<QueueConfig>,
}

/// The default per-attempt export timeout (5s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Deserializer};

    use super::*;
    use crate::component::{ComponentConfig, load_config};

    /// An exporter with the Go Collector's helper defaults.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Standard {
        endpoint: String,
        #[serde(rename = "helper,squash")]
        helper: ExporterHelperConfig,
    }

    impl ComponentConfig for Standard {
        fn validate(&self) -> Result<(), ConfigError> {
            self.helper.validate()
        }
    }

    /// An exporter that starts with everything off.
    #[derive(Debug, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Local {
        #[serde(rename = "helper,squash", deserialize_with = "local_helper")]
        helper: ExporterHelperConfig,
    }

    impl Default for Local {
        fn default() -> Self {
            Local {
                helper: ExporterHelperConfig::disabled(),
            }
        }
    }

    fn local_helper<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ExporterHelperConfig, D::Error> {
        ExporterHelperConfig::deserialize_over(Local::default().helper, deserializer)
    }

    impl ComponentConfig for Local {
        fn validate(&self) -> Result<(), ConfigError> {
            self.helper.validate()
        }
    }

    /// Issue 13: `batch:` with no value turned batching off; Go turns it on with defaults.
    #[test]
    fn a_batch_key_without_value_turns_batching_on_with_defaults() {
        let queue = |yaml: &str| load_config::<Standard>(yaml).unwrap().helper.sending_queue;
        assert_eq!(
            queue("endpoint: h\nsending_queue: { batch: }").batch,
            Some(BatchConfig::default())
        );
        assert_eq!(
            queue("endpoint: h\nsending_queue: { batch: {} }").batch,
            Some(BatchConfig::default())
        );
        assert_eq!(queue("endpoint: h\nsending_queue: {}").batch, None);
        let sized = queue("endpoint: h\nsending_queue: { sizer: items, batch: { min_size: 10 } }");
        assert_eq!(sized.batch.map(|b| b.min_size), Some(10));
    }

    #[test]
    fn batch_partition_takes_metadata_keys() {
        let queue = |yaml: &str| load_config::<Standard>(yaml).map(|c| c.helper.sending_queue);
        let batch = queue(
            "endpoint: h\nsending_queue: {batch: {partition: {metadata_keys: [tenant_id, X-Org]}}}",
        )
        .unwrap()
        .batch
        .unwrap();
        assert_eq!(
            batch.partition.unwrap().metadata_keys,
            ["tenant_id", "X-Org"]
        );
        assert_eq!(
            queue("endpoint: h\nsending_queue: {batch: {}}")
                .unwrap()
                .batch
                .unwrap()
                .partition,
            None
        );
        for (keys, path) in [
            (
                "[a, '']",
                "sending_queue::batch::partition::metadata_keys::1",
            ),
            (
                "[Tenant, tenant]",
                "sending_queue::batch::partition::metadata_keys::1",
            ),
        ] {
            let error = queue(&format!(
                "endpoint: h\nsending_queue: {{batch: {{partition: {{metadata_keys: {keys}}}}}}}"
            ))
            .unwrap_err();
            assert_eq!(error.path(), path, "{error}");
        }
    }

    #[test]
    fn wait_for_result_false_is_accepted_and_true_refused_with_the_reason() {
        let queue =
            load_config::<Standard>("endpoint: h\nsending_queue: { wait_for_result: false }");
        assert!(!queue.unwrap().helper.sending_queue.wait_for_result);
        let error =
            load_config::<Standard>("endpoint: h\nsending_queue: { wait_for_result: true }")
                .unwrap_err()
                .to_string();
        assert!(
            error.contains("sending_queue::wait_for_result") && error.contains("not supported"),
            "{error}"
        );
    }

    #[test]
    fn defaults_are_the_go_collectors() {
        let helper = load_config::<Standard>("endpoint: h").unwrap().helper;
        assert_eq!(helper, ExporterHelperConfig::default());
        assert_eq!(helper.timeout, Duration::from_secs(5));
        let retry = &helper.retry_on_failure;
        assert!(retry.enabled);
        assert_eq!(retry.initial_interval, Duration::from_secs(5));
        assert_eq!(retry.randomization_factor, 0.5);
        assert_eq!(retry.multiplier, 1.5);
        assert_eq!(retry.max_interval, Duration::from_secs(30));
        assert_eq!(retry.max_elapsed_time, Duration::from_secs(300));
        let queue = &helper.sending_queue;
        assert!(queue.enabled);
        assert_eq!((queue.num_consumers, queue.queue_size), (10, 1000));
        assert_eq!(queue.sizer, Sizer::Requests);
        assert!(!queue.block_on_overflow);
        assert_eq!(queue.batch, None);
        assert_eq!(queue.storage, None);
        assert_eq!(queue.drain_timeout, Duration::from_secs(5));
        // Tributary's additions.
        assert!(queue.wait_while_behind);
        let plain =
            load_config::<Standard>("{endpoint: h, sending_queue: {wait_while_behind: false}}")
                .unwrap()
                .helper;
        assert!(!plain.sending_queue.wait_while_behind);
    }

    #[test]
    fn keys_sit_at_the_exporters_top_level() {
        let helper = load_config::<Standard>(
            "endpoint: h\ntimeout: 10s\nretry_on_failure: {max_elapsed_time: 0s}\n\
             sending_queue: {queue_size: 5, storage: file_storage, batch: {}}",
        )
        .unwrap()
        .helper;
        assert_eq!(helper.timeout, Duration::from_secs(10));
        assert!(helper.retry_on_failure.max_elapsed_time.is_zero());
        assert_eq!(helper.sending_queue.queue_size, 5);
        assert_eq!(
            helper.sending_queue.storage.map(|id| id.to_string()),
            Some("file_storage".to_owned())
        );
        assert_eq!(helper.sending_queue.batch, Some(BatchConfig::default()));
    }

    #[test]
    fn keys_left_out_keep_the_exporters_defaults() {
        let helper = load_config::<Local>("").unwrap().helper;
        assert_eq!(helper, ExporterHelperConfig::disabled());
        let helper = load_config::<Local>("timeout: 1s\nretry_on_failure:")
            .unwrap()
            .helper;
        assert_eq!(helper.timeout, Duration::from_secs(1));
        assert!(!helper.retry_on_failure.enabled, "null is left out");
        assert!(!helper.sending_queue.enabled);
        // A key present is decoded with its own type's defaults, as any struct key is.
        let helper = load_config::<Local>("sending_queue: {queue_size: 3}")
            .unwrap()
            .helper;
        assert!(helper.sending_queue.enabled);
        assert_eq!(helper.sending_queue.queue_size, 3);
        assert!(!helper.retry_on_failure.enabled);
    }

    #[test]
    fn errors_name_their_path_in_the_exporters_section() {
        let cases = [
            ("timeout: -5", "timeout"),
            (
                "retry_on_failure: {multiplier: 0.5}",
                "retry_on_failure::multiplier",
            ),
            (
                "retry_on_failure: {enabled: maybe}",
                "retry_on_failure::enabled",
            ),
            (
                "sending_queue: {queue_sise: 5}",
                "sending_queue::queue_sise",
            ),
            (
                "sending_queue: {num_consumers: 0}",
                "sending_queue::num_consumers",
            ),
            (
                "sending_queue: {batch: {sizer: requests}}",
                "sending_queue::batch::sizer",
            ),
            ("sending_queues: {}", "sending_queues"),
        ];
        for (yaml, path) in cases {
            let error = load_config::<Standard>(&format!("endpoint: h\n{yaml}")).expect_err(yaml);
            assert_eq!(error.path(), path, "{yaml}: {error}");
        }
        let error = load_config::<Standard>("endpoint: h\nsending_queues: {}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "sending_queues: unknown key; valid keys: `endpoint`, `timeout`, \
             `retry_on_failure`, `sending_queue`"
        );
    }
}
