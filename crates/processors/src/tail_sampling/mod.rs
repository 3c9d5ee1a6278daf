//! The `tail_sampling` processor: holds each trace's spans until `decision_wait` after
//! its first span, then keeps or drops the whole trace by policies, as the Go
//! Collector's `tailsamplingprocessor` does — with bounded memory.
//!
//! ```yaml
//! processors:
//!   tail_sampling:
//!     decision_wait: 10s
//!     num_traces: 100000
//!     expected_new_traces_per_sec: 1000
//!     decision_cache:
//!       sampled_cache_size: 500000
//!       non_sampled_cache_size: 500000
//!     policies:
//!       - name: errors
//!         type: status_code
//!         status_code: {status_codes: [ERROR]}
//!       - name: slow
//!         type: latency
//!         latency: {threshold_ms: 5000}
//!       - name: health-checks
//!         type: drop
//!         drop:
//!           drop_sub_policy:
//!             - name: health
//!               type: string_attribute
//!               string_attribute: {key: url.path, values: ["^/health"], enabled_regex_matching: true}
//!       - name: some
//!         type: probabilistic
//!         probabilistic: {sampling_percentage: 10}
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `decision_wait` | `30s` | time from a trace's first span to its decision |
//! | `num_traces` | `50000` | most traces held undecided; a new trace beyond it decides the oldest at once (counted in `otelcol_processor_tail_sampling_sampling_traces_decided_early`) |
//! | `expected_new_traces_per_sec` | `0` | sizes the trace map up front (capped at `num_traces`) |
//! | `decision_cache.sampled_cache_size` | `0` | trace IDs remembered as sampled (LRU; 0: off) |
//! | `decision_cache.non_sampled_cache_size` | `0` | trace IDs remembered as not sampled (LRU; 0: off) |
//! | `sample_on_first_match` | `false` | stop evaluating at the first policy that samples |
//! | `drop_pending_traces_on_shutdown` | `false` | on shutdown drop undecided traces instead of deciding them |
//! | `policies` | `[]` | the policies below, each with `name`, `type` and a block named after the type |
//!
//! | policy `type` | block keys | samples when |
//! |---|---|---|
//! | `always_sample` | – | always |
//! | `latency` | `threshold_ms`, `upper_threshold_ms` | earliest start to latest end ≥ threshold (or in (threshold, upper]) |
//! | `numeric_attribute` | `key`, `min_value`, `max_value`, `invert_match` | an int resource or span attribute in [min, max] |
//! | `probabilistic` | `hash_salt`, `sampling_percentage` | FNV-1a 64 of salt ‖ trace ID ≤ percentage × (2^64−1) |
//! | `status_code` | `status_codes` (`OK`, `ERROR`, `UNSET`) | a span has one of the codes |
//! | `string_attribute` | `key`, `values`, `enabled_regex_matching`, `cache_max_size`, `invert_match` | a string resource or span attribute equals (or matches) a value |
//! | `rate_limiting` | `spans_per_second` | the spans sampled this second stay below the limit |
//! | `bytes_limiting` | `bytes_per_second`, `burst_capacity` (2× rate) | a token bucket of encoded bytes has room |
//! | `span_count` | `min_spans`, `max_spans` | the span count is in range (max 0: none) |
//! | `trace_state` | `key`, `values` | a span's trace state has `key` with one of the values |
//! | `trace_flags` | – | a span has the sampled flag |
//! | `boolean_attribute` | `key`, `value`, `invert_match` | a bool resource or span attribute equals `value` |
//! | `ottl_condition` | `error_mode`, `span`, `spanevent` | an OTTL condition (ORed) holds for a span or span event |
//! | `and` | `and_sub_policy` | every sub-policy samples |
//! | `drop` | `drop_sub_policy` | every sub-policy samples: the trace is dropped, whatever the others say |
//! | `composite` | `max_total_spans_per_second`, `policy_order`, `composite_sub_policy`, `rate_allocation` | the first sampling sub-policy has budget left this second |
//!
//! The final decision is Go's: a `drop` wins; then an inverted not-sample
//! (`invert_match` with a match); then any sample; then an inverted sample when no
//! policy said not-sample; otherwise the trace is dropped. A policy that fails (an
//! `ottl_condition` error under `propagate`) is left out and counted.
//!
//! Like Go, attribute policies read values through Go's typed getters: a present
//! `numeric_attribute` key that is not an int counts as 0, a non-string value as `""`
//! and a non-bool as `false`. A composite sub-policy without a `rate_allocation` entry
//! gets no budget (Go's behaviour); `policy_order` is accepted and, as in Go, the
//! sub-policies run in `composite_sub_policy` order.
//!
//! ## Memory and late spans
//!
//! At most `num_traces` traces are held. Where Go drops the spans of a trace evicted
//! before its decision, this processor decides it early with what arrived. Decided
//! trace IDs are remembered — the last `num_traces` decisions (as Go keeps decided
//! traces in its map) plus the `decision_cache` LRUs — so late spans follow the
//! decision: forwarded at once when sampled, dropped otherwise. The spans of one trace
//! are not capped (Go has no such key); what one trace can hold is bounded by what its
//! senders send within `decision_wait`.
//!
//! The decision runs on a timer tick (`decision_wait / 5`, at most 1s). Shutdown decides
//! every pending trace and sends the sampled ones. Sampled traces lose the client
//! metadata of their requests, as in Go. Regex results are cached per policy up to
//! `cache_max_size` entries and then started afresh.
//!
//! Dependencies: `regex` (the workspace's, as the other processors) for
//! `enabled_regex_matching`; `prost` to size traces exactly as their OTLP encoding for
//! `bytes_limiting`; `tributary-ottl` for `ottl_condition`. The decision memory (the
//! recent-decisions ring and the LRU decision caches) is a small bounded map of our
//! own rather than an LRU crate: entries are 17 bytes and need no more than
//! insertion-ordered eviction with refresh.

mod config;
mod factory;
mod policy;
mod processor;
#[cfg(test)]
mod tests;

pub use config::{
    AndCfg, BooleanAttributeCfg, BytesLimitingCfg, CompositeCfg, CompositeSubPolicyCfg, Config,
    DecisionCacheConfig, DropCfg, ErrorMode, LatencyCfg, NumericAttributeCfg, OttlConditionCfg,
    PolicyCfg, ProbabilisticCfg, RateAllocationCfg, RateLimitingCfg, SharedPolicyCfg, SpanCountCfg,
    StatusCodeCfg, StringAttributeCfg, SubPolicyCfg, TraceStateCfg,
};
pub use factory::factory;
