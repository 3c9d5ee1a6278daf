//! The `probabilistic_sampler` processor's configuration: the Go Collector's keys and
//! defaults (`processor/probabilisticsamplerprocessor/config.go`, `factory.go`).

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::sampling::{MIN_SAMPLING_PROBABILITY, NUM_HEX_DIGITS};

/// How decisions are made (`mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Not set: `hash_seed` when `hash_seed` is set (or, for logs, when
    /// `attribute_source` is `record`), else `proportional` — Go's choice.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// The legacy FNV hash of the trace ID (or attribute) with `hash_seed`, 14 bits.
    HashSeed,
    /// Consistent sampling to an absolute probability: items already sampled below it
    /// pass unchanged.
    Equalizing,
    /// Consistent sampling that multiplies the arriving probability by the configured one.
    Proportional,
}

/// Where logs take their randomness from (`attribute_source`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum AttributeSource {
    /// The log record's trace ID (the default).
    #[default]
    #[serde(rename = "traceID")]
    TraceId,
    /// The record attribute named by `from_attribute`.
    #[serde(rename = "record")]
    Record,
}

/// Configuration of the `probabilistic_sampler` processor. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Percentage of items kept (0). Values above 100 mean 100. Go reads it as a 32-bit
    /// float; so does this.
    pub sampling_percentage: f32,
    /// Seed of the `hash_seed` mode's hash (0).
    pub hash_seed: u32,
    /// `hash_seed`, `equalizing` or `proportional` (unset: see [`Mode::Unset`]).
    pub mode: Mode,
    /// Drop items whose randomness is missing or whose trace state is invalid (true).
    pub fail_closed: bool,
    /// Hex digits of the thresholds written to `th` (4), 1 to 14.
    pub sampling_precision: u8,
    /// Logs: `traceID` or `record`.
    pub attribute_source: AttributeSource,
    /// Logs: the record attribute hashed when there is no trace ID or with `record`.
    pub from_attribute: String,
    /// Logs: a record attribute holding a minimum sampling percentage for that record
    /// (0 there drops the record).
    pub sampling_priority: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sampling_percentage: 0.0,
            hash_seed: 0,
            mode: Mode::Unset,
            fail_closed: true,
            sampling_precision: 4,
            attribute_source: AttributeSource::TraceId,
            from_attribute: String::new(),
            sampling_priority: String::new(),
        }
    }
}

impl Config {
    /// The mode used, with Go's choice when unset.
    pub(crate) fn effective_mode(&self, logs: bool) -> Mode {
        match self.mode {
            Mode::Unset
                if self.hash_seed != 0
                    || (logs && self.attribute_source != AttributeSource::TraceId) =>
            {
                Mode::HashSeed
            }
            Mode::Unset => Mode::Proportional,
            mode => mode,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let pct = f64::from(self.sampling_percentage);
        if !pct.is_finite() {
            return Err(ConfigError::at(
                "sampling_percentage",
                format!("sampling rate is invalid: {pct}%"),
            ));
        }
        let ratio = pct / 100.0;
        if ratio < 0.0 {
            return Err(ConfigError::at(
                "sampling_percentage",
                format!("sampling rate is negative: {pct}%"),
            ));
        }
        if ratio != 0.0 && ratio < MIN_SAMPLING_PROBABILITY {
            return Err(ConfigError::at(
                "sampling_percentage",
                format!("sampling rate is too small: {pct}%"),
            ));
        }
        if self.sampling_precision == 0 {
            return Err(ConfigError::at(
                "sampling_precision",
                "invalid sampling precision: 0",
            ));
        }
        if usize::from(self.sampling_precision) > NUM_HEX_DIGITS {
            return Err(ConfigError::at(
                "sampling_precision",
                format!(
                    "sampling precision is too great, should be <= 14: {}",
                    self.sampling_precision
                ),
            ));
        }
        Ok(())
    }
}
