//! The exporter helper's configuration: `timeout`, `retry_on_failure`, `sending_queue`.
//!
//! Exporters embed these as named fields of their own config (serde's `flatten` does not
//! work with `deny_unknown_fields`), with the Go Collector's names and defaults, and call
//! [`HelperConfig::validate`] from their own `validate`.

use std::time::Duration;

use serde::Deserialize;

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
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            flush_timeout: Duration::from_millis(200),
            min_size: 8192,
            max_size: 0,
            sizer: None,
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
    /// Make the queue persistent in this storage extension (`file_storage`).
    pub storage: Option<ComponentId>,
    /// Batch requests before export.
    pub batch: Option<BatchConfig>,
    /// How long shutdown spends draining the queue (memory) or waiting for exports in
    /// progress (persistent) before abandoning them (5s).
    #[serde(with = "tributary_confmap::duration")]
    pub drain_timeout: Duration,
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
            storage: None,
            batch: None,
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

/// The delivery settings every exporter shares, gathered from its own config's
/// `timeout`, `retry_on_failure` and `sending_queue` fields.
#[derive(Clone, Debug, PartialEq)]
pub struct HelperConfig {
    /// Deadline of one export attempt; zero disables it.
    pub timeout: Duration,
    /// Retries of failed attempts.
    pub retry_on_failure: RetryConfig,
    /// The sending queue.
    pub sending_queue: QueueConfig,
}

impl Default for HelperConfig {
    fn default() -> Self {
        HelperConfig {
            timeout: Duration::from_secs(5),
            retry_on_failure: RetryConfig::default(),
            sending_queue: QueueConfig::default(),
        }
    }
}

impl HelperConfig {
    /// Checks every part; errors name `retry_on_failure::...` or `sending_queue::...`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.retry_on_failure
            .validate()
            .map_err(|e| e.within("retry_on_failure"))?;
        self.sending_queue
            .validate()
            .map_err(|e| e.within("sending_queue"))
    }
}

/// The default per-attempt export timeout (5s), for exporters' config defaults.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
