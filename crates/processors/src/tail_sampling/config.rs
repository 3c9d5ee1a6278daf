//! The `tail_sampling` processor's configuration: the Go Collector's keys and defaults
//! (`processor/tailsamplingprocessor/config.go`).

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use super::policy;

/// Configuration of the `tail_sampling` processor. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How long after its first span a trace is decided (30s).
    #[serde(with = "tributary_confmap::duration")]
    pub decision_wait: Duration,
    /// Most traces held undecided (50000); the oldest is decided early beyond it.
    pub num_traces: u64,
    /// Expected new traces per second: sizes the trace map up front (0).
    pub expected_new_traces_per_sec: u64,
    /// Caches of decisions kept after a trace's spans are released.
    pub decision_cache: DecisionCacheConfig,
    /// The policies, evaluated in order.
    pub policies: Vec<PolicyCfg>,
    /// Stop at the first policy that samples.
    pub sample_on_first_match: bool,
    /// On shutdown, drop undecided traces instead of deciding them with what arrived.
    pub drop_pending_traces_on_shutdown: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            decision_wait: Duration::from_secs(30),
            num_traces: 50000,
            expected_new_traces_per_sec: 0,
            decision_cache: DecisionCacheConfig::default(),
            policies: Vec::new(),
            sample_on_first_match: false,
            drop_pending_traces_on_shutdown: false,
        }
    }
}

/// `decision_cache`: LRU caches of trace IDs by decision (0: off).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionCacheConfig {
    /// Trace IDs remembered as sampled.
    pub sampled_cache_size: u64,
    /// Trace IDs remembered as not sampled.
    pub non_sampled_cache_size: u64,
}

/// A top-level policy: the shared policy kinds plus `and`, `drop` and `composite`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyCfg {
    /// Name, type and the simple policies' blocks.
    #[serde(rename = "shared,squash")]
    pub shared: SharedPolicyCfg,
    /// `composite`: sub-policies with rate allocation.
    pub composite: CompositeCfg,
    /// `and`: all sub-policies must sample.
    pub and: AndCfg,
    /// `drop`: drops the trace when all sub-policies match.
    pub drop: DropCfg,
}

/// The keys every policy (and sub-policy) has: `name`, `type` and one block per kind.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedPolicyCfg {
    /// The policy's name (metrics, composite `rate_allocation`).
    pub name: String,
    /// The policy kind: `always_sample`, `latency`, `numeric_attribute`, ...
    #[serde(rename = "type")]
    pub policy_type: String,
    /// `latency` settings.
    pub latency: LatencyCfg,
    /// `numeric_attribute` settings.
    pub numeric_attribute: NumericAttributeCfg,
    /// `probabilistic` settings.
    pub probabilistic: ProbabilisticCfg,
    /// `status_code` settings.
    pub status_code: StatusCodeCfg,
    /// `string_attribute` settings.
    pub string_attribute: StringAttributeCfg,
    /// `rate_limiting` settings.
    pub rate_limiting: RateLimitingCfg,
    /// `bytes_limiting` settings.
    pub bytes_limiting: BytesLimitingCfg,
    /// `span_count` settings.
    pub span_count: SpanCountCfg,
    /// `boolean_attribute` settings.
    pub boolean_attribute: BooleanAttributeCfg,
    /// `trace_state` settings.
    pub trace_state: TraceStateCfg,
    /// `ottl_condition` settings.
    pub ottl_condition: OttlConditionCfg,
}

/// `latency`: the trace's duration, earliest start to latest end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyCfg {
    /// Lower bound in ms (inclusive without an upper bound, exclusive with one).
    pub threshold_ms: i64,
    /// Upper bound in ms, inclusive (0: none).
    pub upper_threshold_ms: i64,
}

/// `numeric_attribute`: an integer resource or span attribute in a range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NumericAttributeCfg {
    /// The attribute key.
    pub key: String,
    /// Smallest value matched (none: no lower bound).
    pub min_value: Option<i64>,
    /// Largest value matched (none: no upper bound).
    pub max_value: Option<i64>,
    /// Sample traces where nothing matches (a deprecated "inverted" decision).
    pub invert_match: bool,
}

/// `probabilistic`: a hash of the trace ID under a threshold.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbabilisticCfg {
    /// Salt of the FNV-1a hash (empty: Go's `default-hash-seed`).
    pub hash_salt: String,
    /// Percentage of traces sampled.
    pub sampling_percentage: f64,
}

/// `status_code`: a span with one of these status codes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusCodeCfg {
    /// `OK`, `ERROR`, `UNSET`.
    pub status_codes: Vec<String>,
}

/// `string_attribute`: a string resource or span attribute among values or patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StringAttributeCfg {
    /// The attribute key.
    pub key: String,
    /// Exact values, or regular expressions with `enabled_regex_matching`.
    pub values: Vec<String>,
    /// Treat `values` as regular expressions (unanchored, as Go's `MatchString`).
    pub enabled_regex_matching: bool,
    /// Regex results remembered (0: 128, Go's default).
    pub cache_max_size: usize,
    /// Sample traces where nothing matches (a deprecated "inverted" decision).
    pub invert_match: bool,
}

/// `rate_limiting`: spans per second.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitingCfg {
    /// Spans sampled per second at most.
    pub spans_per_second: i64,
}

/// `bytes_limiting`: a token bucket over the traces' encoded size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BytesLimitingCfg {
    /// Sustained rate.
    pub bytes_per_second: i64,
    /// Bucket size (0: twice `bytes_per_second`).
    pub burst_capacity: i64,
}

/// `span_count`: the number of spans in the trace, inclusive bounds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanCountCfg {
    /// Fewest spans.
    pub min_spans: i32,
    /// Most spans (0: no upper bound).
    pub max_spans: i32,
}

/// `boolean_attribute`: a boolean resource or span attribute equal to `value`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BooleanAttributeCfg {
    /// The attribute key.
    pub key: String,
    /// The value matched.
    pub value: bool,
    /// Sample traces where nothing matches (a deprecated "inverted" decision).
    pub invert_match: bool,
}

/// `trace_state`: a span whose W3C trace state has `key` with one of `values`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceStateCfg {
    /// The list member key.
    pub key: String,
    /// The values matched.
    pub values: Vec<String>,
}

/// What a failing OTTL condition does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// Log it and go on with the next condition.
    Ignore,
    /// Go on without logging.
    Silent,
    /// The policy fails for this trace (its decision is left out).
    #[default]
    Propagate,
}

/// `ottl_condition`: OTTL conditions over spans and span events, ORed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OttlConditionCfg {
    /// What a failing condition does (`propagate`).
    pub error_mode: ErrorMode,
    /// Conditions in the `span` context.
    pub span: Vec<String>,
    /// Conditions in the `spanevent` context.
    pub spanevent: Vec<String>,
}

/// `and`: the sub-policies.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AndCfg {
    /// Sub-policies, all of which must sample.
    pub and_sub_policy: Vec<SubPolicyCfg>,
}

/// `drop`: the sub-policies.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropCfg {
    /// Sub-policies, all of which must match for the trace to be dropped.
    pub drop_sub_policy: Vec<SubPolicyCfg>,
}

/// A sub-policy of `and` or `drop`: the shared kinds only.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubPolicyCfg {
    /// Name, type and settings.
    #[serde(rename = "shared,squash")]
    pub shared: SharedPolicyCfg,
}

/// A sub-policy of `composite`: the shared kinds and `and`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompositeSubPolicyCfg {
    /// Name, type and settings.
    #[serde(rename = "shared,squash")]
    pub shared: SharedPolicyCfg,
    /// `and` settings.
    pub and: AndCfg,
}

/// `composite`: sub-policies in order, each with a share of a spans-per-second budget.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompositeCfg {
    /// The total budget.
    pub max_total_spans_per_second: i64,
    /// The sub-policies' names in evaluation order.
    pub policy_order: Vec<String>,
    /// The sub-policies.
    pub composite_sub_policy: Vec<CompositeSubPolicyCfg>,
    /// Each sub-policy's share, in percent of the budget.
    pub rate_allocation: Vec<RateAllocationCfg>,
}

/// A composite sub-policy's share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateAllocationCfg {
    /// The sub-policy's name.
    pub policy: String,
    /// Percent of `max_total_spans_per_second` (0: an equal share).
    pub percent: i64,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.num_traces == 0 {
            return Err(ConfigError::at("num_traces", "must be greater than 0"));
        }
        if self.decision_wait.is_zero() {
            return Err(ConfigError::at("decision_wait", "must be greater than 0"));
        }
        let mut names = HashSet::new();
        for (i, p) in self.policies.iter().enumerate() {
            if !p.shared.name.is_empty() && !names.insert(p.shared.name.as_str()) {
                return Err(ConfigError::at(
                    format!("policies::{i}::name"),
                    format!("duplicate policy name {:?}", p.shared.name),
                ));
            }
        }
        // Building the evaluators is the validation: types, regexes, OTTL, ranges.
        policy::build_all(self).map(|_| ())
    }
}
