//! The `cumulativetodelta` processor's configuration: Go's keys and defaults.

use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::filterconfig::{MatchType, RegexpCache};

/// Configuration of the `cumulativetodelta` processor. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How long a stream's state lives past its last point (0: forever).
    #[serde(with = "tributary_confmap::duration")]
    pub max_staleness: Duration,
    /// What happens to the first point of a stream.
    pub initial_value: InitialValue,
    /// The metrics to convert (none given: all).
    pub include: MatchMetrics,
    /// The metrics not to convert; wins over `include`.
    pub exclude: MatchMetrics,
    /// Most streams tracked at once (0: no limit). A Tributary key, not Go's: points of
    /// further streams are dropped and counted, so a peer cannot grow the state forever.
    pub max_streams: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_staleness: Duration::ZERO,
            initial_value: InitialValue::Auto,
            include: MatchMetrics::default(),
            exclude: MatchMetrics::default(),
            max_streams: DEFAULT_MAX_STREAMS,
        }
    }
}

/// The default `max_streams`: far above what one collector converts, low enough that the
/// state (a few hundred bytes a stream) stays within a few hundred megabytes.
pub const DEFAULT_MAX_STREAMS: usize = 1_000_000;

/// Go's `initial_value`: the fate of a stream's first point, whose delta is unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitialValue {
    /// Send it only if its start time is set, after the processor started, and different
    /// from its timestamp: a counter born after the processor started.
    #[default]
    Auto,
    /// Send its value as the delta.
    Keep,
    /// Remember it, send nothing.
    Drop,
}

/// The metric types `metric_types` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    /// Monotonic cumulative sums.
    Sum,
    /// Cumulative explicit-bucket histograms.
    Histogram,
}

/// Go's `MatchMetrics`: metric names (with `match_type`) and metric types.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchMetrics {
    /// `strict` or `regexp`; required when `metrics` is given.
    pub match_type: MatchType,
    /// Go's regexp cache settings; accepted, without effect on results.
    pub regexp: Option<RegexpCache>,
    /// Metric names (strict) or patterns (regexp, matching anywhere in the name).
    pub metrics: Vec<String>,
    /// Metric types (`sum`, `histogram`).
    pub metric_types: Vec<MetricType>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        MetricFilter::compile(self).map(drop)
    }
}

/// `include` and `exclude` compiled.
#[derive(Debug)]
pub(crate) struct MetricFilter {
    include: Option<Selector>,
    exclude: Option<Selector>,
}

#[derive(Debug)]
struct Selector {
    names: Option<Names>,
    types: Vec<MetricType>,
}

#[derive(Debug)]
enum Names {
    Strict(Vec<String>),
    Regexp(Vec<Regex>),
}

impl MetricFilter {
    /// Compiles the blocks of `config`; an error names the key.
    pub fn compile(config: &Config) -> Result<Self, ConfigError> {
        Ok(MetricFilter {
            include: Selector::compile(&config.include).map_err(|e| e.within("include"))?,
            exclude: Selector::compile(&config.exclude).map_err(|e| e.within("exclude"))?,
        })
    }

    /// Whether the metric named `name` of type `kind` is converted.
    pub fn converts(&self, name: &str, kind: MetricType) -> bool {
        self.include.as_ref().is_none_or(|s| s.matches(name, kind))
            && !self.exclude.as_ref().is_some_and(|s| s.matches(name, kind))
    }
}

impl Selector {
    fn compile(block: &MatchMetrics) -> Result<Option<Self>, ConfigError> {
        // Go's Validate: names and match_type come together.
        if !block.metrics.is_empty() && block.match_type == MatchType::Unset {
            return Err(ConfigError::at(
                "match_type",
                "match_type must be set if metrics are supplied",
            ));
        }
        if block.metrics.is_empty() && block.match_type != MatchType::Unset {
            return Err(ConfigError::at(
                "metrics",
                "metrics must be supplied if match_type is set",
            ));
        }
        let names = match block.match_type {
            MatchType::Unset => None,
            MatchType::Strict => Some(Names::Strict(block.metrics.clone())),
            MatchType::Regexp => Some(Names::Regexp(
                block
                    .metrics
                    .iter()
                    .enumerate()
                    .map(|(i, pattern)| {
                        Regex::new(pattern).map_err(|error| {
                            ConfigError::at(
                                format!("metrics::{i}"),
                                format!("invalid regexp {pattern:?}: {error}"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            )),
        };
        if names.is_none() && block.metric_types.is_empty() {
            return Ok(None);
        }
        Ok(Some(Selector {
            names,
            types: block.metric_types.clone(),
        }))
    }

    fn matches(&self, name: &str, kind: MetricType) -> bool {
        let name_matches = match &self.names {
            None => true,
            Some(Names::Strict(names)) => names.iter().any(|n| n == name),
            Some(Names::Regexp(patterns)) => patterns.iter().any(|re| re.is_match(name)),
        };
        name_matches && (self.types.is_empty() || self.types.contains(&kind))
    }
}
