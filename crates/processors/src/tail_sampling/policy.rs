//! The sampling policies and Go's decision semantics (`internal/sampling/*.go`,
//! `processor.go`'s `makeDecision`).

use std::collections::{HashMap, HashSet};

use regex::Regex;
use tokio::time::Instant;
use tributary_ottl::{CompiledCondition, ContextKind, Item, TransformContext, compile_condition};
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, Span, status::StatusCode};

use super::config::{
    AndCfg, CompositeCfg, Config, ErrorMode, OttlConditionCfg, SharedPolicyCfg, SubPolicyCfg,
};
use crate::sampling::{W3cTraceState, fnv64a_salted};

/// A policy's verdict on one trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Decision {
    Sampled,
    NotSampled,
    /// `invert_match` with nothing matching (deprecated in Go).
    InvertSampled,
    /// `invert_match` with something matching (deprecated in Go).
    InvertNotSampled,
    /// A `drop` policy matched: wins over everything.
    Dropped,
    /// The policy failed on this trace; its verdict is left out.
    Error,
}

/// A trace as the policies see it: its spans (by resource), count and encoded size.
pub(crate) struct TraceView<'a> {
    pub trace_id: &'a [u8; 16],
    pub pieces: &'a mut [ResourceSpans],
    pub span_count: u64,
    pub bytes: u64,
}

impl TraceView<'_> {
    fn spans(&self) -> impl Iterator<Item = &Span> {
        self.pieces
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
    }

    /// Go's `hasResourceOrSpanWithCondition`: any resource, else any span, matches.
    fn any_resource_or_span(&self, matches: impl Fn(&[KeyValue]) -> bool) -> Decision {
        for rs in self.pieces.iter() {
            let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes);
            if matches(resource) {
                return Decision::Sampled;
            }
            if rs
                .scope_spans
                .iter()
                .flat_map(|ss| &ss.spans)
                .any(|s| matches(&s.attributes))
            {
                return Decision::Sampled;
            }
        }
        Decision::NotSampled
    }

    /// Go's `invertHasResourceOrSpanWithCondition`: `matches` on anything is
    /// `InvertNotSampled`, else `InvertSampled`.
    fn inverted(&self, matches: impl Fn(&[KeyValue]) -> bool) -> Decision {
        match self.any_resource_or_span(matches) {
            Decision::Sampled => Decision::InvertNotSampled,
            _ => Decision::InvertSampled,
        }
    }
}

/// When a policy runs: the second (for per-second budgets) and the instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub second: u64,
    pub now: Instant,
}

fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<Option<&'a any_value::Value>> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_ref().and_then(|v: &AnyValue| v.value.as_ref()))
}

/// Go's `Value.Int()`: 0 for anything but an int.
fn as_int(v: Option<&any_value::Value>) -> i64 {
    match v {
        Some(any_value::Value::IntValue(i)) => *i,
        _ => 0,
    }
}

/// Go's `Value.Str()`: empty for anything but a string.
fn as_str(v: Option<&any_value::Value>) -> &str {
    match v {
        Some(any_value::Value::StringValue(s)) => s,
        _ => "",
    }
}

/// Go's `Value.Bool()`: false for anything but a bool.
fn as_bool(v: Option<&any_value::Value>) -> bool {
    matches!(v, Some(any_value::Value::BoolValue(true)))
}

/// Matches strings exactly or by regexes, remembering regex results in a bounded map.
#[derive(Debug)]
pub(crate) struct StringMatcher {
    exact: HashSet<String>,
    regexes: Vec<Regex>,
    cache: HashMap<String, bool>,
    cache_max: usize,
}

impl StringMatcher {
    fn matches(&mut self, s: &str) -> bool {
        if self.regexes.is_empty() {
            return self.exact.contains(s);
        }
        if let Some(hit) = self.cache.get(s) {
            return *hit;
        }
        let hit = self.regexes.iter().any(|r| r.is_match(s));
        if self.cache.len() >= self.cache_max {
            // Bounded: start over rather than grow with what peers send.
            self.cache.clear();
        }
        self.cache.insert(s.to_string(), hit);
        hit
    }
}

/// A compiled policy.
#[derive(Debug)]
pub(crate) enum Policy {
    AlwaysSample,
    Latency {
        threshold_ms: i64,
        upper_ms: i64,
    },
    NumericAttribute {
        key: String,
        min: i64,
        max: i64,
        invert: bool,
    },
    Probabilistic {
        salt: String,
        threshold: u64,
    },
    StatusCode(Vec<i32>),
    StringAttribute {
        key: String,
        matcher: StringMatcher,
        invert: bool,
    },
    RateLimiting {
        spans_per_second: i64,
        second: u64,
        spans: i64,
    },
    BytesLimiting {
        rate: f64,
        burst: f64,
        tokens: f64,
        last: Option<Instant>,
    },
    SpanCount {
        min: i64,
        max: i64,
    },
    BooleanAttribute {
        key: String,
        value: bool,
        invert: bool,
    },
    TraceState {
        key: String,
        values: HashSet<String>,
    },
    TraceFlags,
    Ottl(Box<OttlPolicy>),
    And(Vec<Policy>),
    Drop(Vec<Policy>),
    Composite(Box<Composite>),
}

/// `ottl_condition`'s compiled conditions.
#[derive(Debug)]
pub(crate) struct OttlPolicy {
    span: Vec<CompiledCondition>,
    spanevent: Vec<CompiledCondition>,
    error_mode: ErrorMode,
}

/// `composite`'s sub-policies and their per-second budgets.
#[derive(Debug)]
pub(crate) struct Composite {
    max_total: i64,
    subs: Vec<(Policy, i64, i64)>,
    second: u64,
}

/// A named top-level policy.
#[derive(Debug)]
pub(crate) struct Named {
    pub name: String,
    pub policy: Policy,
}

/// Builds every policy of `config`; errors name the policy's path.
pub(crate) fn build_all(config: &Config) -> Result<Vec<Named>, ConfigError> {
    config
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = format!("policies::{i}");
            let policy = match p.shared.policy_type.as_str() {
                "and" => Policy::And(build_subs(
                    &p.and.and_sub_policy,
                    &format!("{at}::and::and_sub_policy"),
                )?),
                "drop" => Policy::Drop(build_subs(
                    &p.drop.drop_sub_policy,
                    &format!("{at}::drop::drop_sub_policy"),
                )?),
                "composite" => build_composite(&p.composite, &format!("{at}::composite"))?,
                _ => build_shared(&p.shared, &at)?,
            };
            let name = if p.shared.name.is_empty() {
                format!("policy-{i}")
            } else {
                p.shared.name.clone()
            };
            Ok(Named { name, policy })
        })
        .collect()
}

fn build_subs(subs: &[SubPolicyCfg], at: &str) -> Result<Vec<Policy>, ConfigError> {
    if subs.is_empty() {
        return Err(ConfigError::at(at, "needs at least one sub-policy"));
    }
    subs.iter()
        .enumerate()
        .map(|(i, s)| build_shared(&s.shared, &format!("{at}::{i}")))
        .collect()
}

fn build_and(cfg: &AndCfg, at: &str) -> Result<Policy, ConfigError> {
    Ok(Policy::And(build_subs(
        &cfg.and_sub_policy,
        &format!("{at}::and::and_sub_policy"),
    )?))
}

fn build_composite(cfg: &CompositeCfg, at: &str) -> Result<Policy, ConfigError> {
    if cfg.composite_sub_policy.is_empty() {
        return Err(ConfigError::at(
            format!("{at}::composite_sub_policy"),
            "needs at least one sub-policy",
        ));
    }
    let names: Vec<&str> = cfg
        .composite_sub_policy
        .iter()
        .map(|s| s.shared.name.as_str())
        .collect();
    let mut total = 0;
    for (i, r) in cfg.rate_allocation.iter().enumerate() {
        if !names.contains(&r.policy.as_str()) {
            return Err(ConfigError::at(
                format!("{at}::rate_allocation::{i}::policy"),
                format!("no composite_sub_policy is named {:?}", r.policy),
            ));
        }
        total += r.percent.max(0);
    }
    if total > 100 {
        return Err(ConfigError::at(
            format!("{at}::rate_allocation"),
            "percents add up to more than 100",
        ));
    }
    // Go: a sub-policy gets its allocated percent of the budget, an equal share when its
    // percent is 0, and nothing when it has no rate_allocation entry.
    let max_total = cfg.max_total_spans_per_second;
    let equal = max_total as f64 / cfg.composite_sub_policy.len() as f64;
    let mut subs = Vec::new();
    for (i, s) in cfg.composite_sub_policy.iter().enumerate() {
        let sub_at = format!("{at}::composite_sub_policy::{i}");
        let policy = match s.shared.policy_type.as_str() {
            "and" => build_and(&s.and, &sub_at)?,
            _ => build_shared(&s.shared, &sub_at)?,
        };
        let allocated = cfg
            .rate_allocation
            .iter()
            .rev()
            .find(|r| r.policy == s.shared.name)
            .map_or(0.0, |r| {
                if r.percent > 0 {
                    r.percent as f64 / 100.0 * max_total as f64
                } else {
                    equal
                }
            }) as i64;
        subs.push((policy, allocated, 0));
    }
    Ok(Policy::Composite(Box::new(Composite {
        max_total,
        subs,
        second: u64::MAX,
    })))
}

fn build_shared(cfg: &SharedPolicyCfg, at: &str) -> Result<Policy, ConfigError> {
    let err = |key: &str, msg: String| ConfigError::at(format!("{at}::{key}"), msg);
    Ok(match cfg.policy_type.as_str() {
        "always_sample" => Policy::AlwaysSample,
        "latency" => {
            let c = &cfg.latency;
            if c.upper_threshold_ms != 0 && c.upper_threshold_ms < c.threshold_ms {
                return Err(err(
                    "latency::upper_threshold_ms",
                    "must not be below threshold_ms".into(),
                ));
            }
            Policy::Latency {
                threshold_ms: c.threshold_ms,
                upper_ms: c.upper_threshold_ms,
            }
        }
        "numeric_attribute" => {
            let c = &cfg.numeric_attribute;
            if c.min_value.is_none() && c.max_value.is_none() {
                return Err(err(
                    "numeric_attribute",
                    "set min_value, max_value or both".into(),
                ));
            }
            let (min, max) = (
                c.min_value.unwrap_or(i64::MIN),
                c.max_value.unwrap_or(i64::MAX),
            );
            if min > max {
                return Err(err(
                    "numeric_attribute::min_value",
                    "must not be above max_value".into(),
                ));
            }
            Policy::NumericAttribute {
                key: c.key.clone(),
                min,
                max,
                invert: c.invert_match,
            }
        }
        "probabilistic" => {
            let c = &cfg.probabilistic;
            if !c.sampling_percentage.is_finite() || c.sampling_percentage < 0.0 {
                return Err(err(
                    "probabilistic::sampling_percentage",
                    "must be a percentage ≥ 0".into(),
                ));
            }
            let salt = if c.hash_salt.is_empty() {
                "default-hash-seed".to_string()
            } else {
                c.hash_salt.clone()
            };
            Policy::Probabilistic {
                salt,
                threshold: probability_threshold(c.sampling_percentage / 100.0),
            }
        }
        "status_code" => {
            let c = &cfg.status_code;
            if c.status_codes.is_empty() {
                return Err(err(
                    "status_code::status_codes",
                    "expected at least one status code to filter on".into(),
                ));
            }
            let codes = c
                .status_codes
                .iter()
                .map(|s| match s.as_str() {
                    "OK" => Ok(StatusCode::Ok as i32),
                    "ERROR" => Ok(StatusCode::Error as i32),
                    "UNSET" => Ok(StatusCode::Unset as i32),
                    other => Err(err(
                        "status_code::status_codes",
                        format!("unknown status code {other:?}, expected OK, ERROR or UNSET"),
                    )),
                })
                .collect::<Result<_, _>>()?;
            Policy::StatusCode(codes)
        }
        "string_attribute" => {
            let c = &cfg.string_attribute;
            let mut matcher = StringMatcher {
                exact: HashSet::new(),
                regexes: Vec::new(),
                cache: HashMap::new(),
                cache_max: if c.cache_max_size == 0 {
                    128
                } else {
                    c.cache_max_size
                },
            };
            if c.enabled_regex_matching {
                for (i, v) in c.values.iter().enumerate() {
                    matcher.regexes.push(Regex::new(v).map_err(|e| {
                        err(&format!("string_attribute::values::{i}"), e.to_string())
                    })?);
                }
            } else {
                matcher.exact = c.values.iter().cloned().collect();
            }
            Policy::StringAttribute {
                key: c.key.clone(),
                matcher,
                invert: c.invert_match,
            }
        }
        "rate_limiting" => Policy::RateLimiting {
            spans_per_second: cfg.rate_limiting.spans_per_second,
            second: u64::MAX,
            spans: 0,
        },
        "bytes_limiting" => {
            let c = &cfg.bytes_limiting;
            if c.bytes_per_second <= 0 {
                return Err(err(
                    "bytes_limiting::bytes_per_second",
                    "must be greater than 0".into(),
                ));
            }
            if c.burst_capacity < 0 {
                return Err(err(
                    "bytes_limiting::burst_capacity",
                    "must not be negative".into(),
                ));
            }
            let burst = if c.burst_capacity == 0 {
                2 * c.bytes_per_second
            } else {
                c.burst_capacity
            } as f64;
            Policy::BytesLimiting {
                rate: c.bytes_per_second as f64,
                burst,
                tokens: burst,
                last: None,
            }
        }
        "span_count" => {
            let c = &cfg.span_count;
            if c.max_spans != 0 && c.max_spans < c.min_spans {
                return Err(err(
                    "span_count::max_spans",
                    "must not be below min_spans".into(),
                ));
            }
            Policy::SpanCount {
                min: c.min_spans.into(),
                max: c.max_spans.into(),
            }
        }
        "boolean_attribute" => {
            let c = &cfg.boolean_attribute;
            Policy::BooleanAttribute {
                key: c.key.clone(),
                value: c.value,
                invert: c.invert_match,
            }
        }
        "trace_state" => {
            let c = &cfg.trace_state;
            if c.values.is_empty() {
                return Err(err(
                    "trace_state::values",
                    "expected at least one value".into(),
                ));
            }
            // Go leaves out values that could not fit a trace state member.
            let values = c
                .values
                .iter()
                .filter(|v| c.key.len() + v.len() < 256)
                .cloned()
                .collect();
            Policy::TraceState {
                key: c.key.clone(),
                values,
            }
        }
        "trace_flags" => Policy::TraceFlags,
        "ottl_condition" => Policy::Ottl(Box::new(build_ottl(
            &cfg.ottl_condition,
            &format!("{at}::ottl_condition"),
        )?)),
        "and" | "drop" | "composite" => {
            return Err(err(
                "type",
                format!("{:?} cannot be a sub-policy here", cfg.policy_type),
            ));
        }
        "" => return Err(err("type", "missing policy type".into())),
        other => {
            return Err(err(
                "type",
                format!("unknown sampling policy type {other:?}"),
            ));
        }
    })
}

fn build_ottl(cfg: &OttlConditionCfg, at: &str) -> Result<OttlPolicy, ConfigError> {
    if cfg.span.is_empty() && cfg.spanevent.is_empty() {
        return Err(ConfigError::at(at, "set span or spanevent conditions"));
    }
    let compile = |list: &[String], kind: ContextKind, key: &str| {
        list.iter()
            .enumerate()
            .map(|(i, c)| {
                compile_condition(c, kind)
                    .map_err(|e| ConfigError::at(format!("{at}::{key}::{i}"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(OttlPolicy {
        span: compile(&cfg.span, ContextKind::Span, "span")?,
        spanevent: compile(&cfg.spanevent, ContextKind::SpanEvent, "spanevent")?,
        error_mode: cfg.error_mode,
    })
}

/// Go's `calculateThreshold`: ⌊(2^64−1) × ratio⌋ with the product rounded to 64
/// significant bits first (`big.Float` at 64-bit precision), saturating.
pub(crate) fn probability_threshold(ratio: f64) -> u64 {
    if ratio <= 0.0 || ratio.is_nan() {
        return 0;
    }
    if ratio >= 1.0 {
        return u64::MAX;
    }
    let bits = ratio.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let (mantissa, e) = if exp == 0 {
        (bits & ((1 << 52) - 1), -1074)
    } else {
        ((bits & ((1 << 52) - 1)) | (1 << 52), exp - 1075)
    };
    let mut product = u128::from(u64::MAX) * u128::from(mantissa);
    let width = 128 - product.leading_zeros() as i32;
    let mut e = e;
    if width > 64 {
        let shift = (width - 64) as u32;
        let q = product >> shift;
        let rem = product & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let q = if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        };
        product = q;
        e += shift as i32;
    }
    // product × 2^e, truncated; e < 0 here because ratio < 1.
    let value = if e >= 0 {
        product.checked_shl(e as u32).unwrap_or(u128::MAX)
    } else if -e >= 128 {
        0
    } else {
        product >> (-e) as u32
    };
    value.min(u128::from(u64::MAX)) as u64
}

impl Policy {
    /// Evaluates the policy on a trace.
    pub fn evaluate(&mut self, trace: &mut TraceView<'_>, clock: Clock) -> Decision {
        match self {
            Policy::AlwaysSample => Decision::Sampled,
            Policy::Latency {
                threshold_ms,
                upper_ms,
            } => {
                // Go checks the running duration after each span, in order.
                let (mut min, mut max) = (0u64, 0u64);
                let hit = trace.spans().any(|s| {
                    if min == 0 || s.start_time_unix_nano < min {
                        min = s.start_time_unix_nano;
                    }
                    if max == 0 || s.end_time_unix_nano > max {
                        max = s.end_time_unix_nano;
                    }
                    let ms = (max as i64).wrapping_sub(min as i64) / 1_000_000;
                    if *upper_ms == 0 {
                        ms >= *threshold_ms
                    } else {
                        *threshold_ms < ms && ms <= *upper_ms
                    }
                });
                sampled_if(hit)
            }
            Policy::NumericAttribute {
                key,
                min,
                max,
                invert,
            } => {
                let (min, max) = (*min, *max);
                let in_range = |attrs: &[KeyValue]| {
                    value(attrs, key).is_some_and(|v| (min..=max).contains(&as_int(v)))
                };
                if *invert {
                    trace.inverted(in_range)
                } else {
                    trace.any_resource_or_span(in_range)
                }
            }
            Policy::Probabilistic { salt, threshold } => {
                sampled_if(fnv64a_salted(salt.as_bytes(), trace.trace_id) <= *threshold)
            }
            Policy::StatusCode(codes) => sampled_if(
                trace
                    .spans()
                    .any(|s| codes.contains(&s.status.as_ref().map_or(0, |st| st.code))),
            ),
            Policy::StringAttribute {
                key,
                matcher,
                invert,
            } => {
                let matcher = std::cell::RefCell::new(matcher);
                let hit = |attrs: &[KeyValue]| {
                    value(attrs, key).is_some_and(|v| matcher.borrow_mut().matches(as_str(v)))
                };
                if *invert {
                    trace.inverted(hit)
                } else {
                    trace.any_resource_or_span(hit)
                }
            }
            Policy::RateLimiting {
                spans_per_second,
                second,
                spans,
            } => {
                if *second != clock.second {
                    *second = clock.second;
                    *spans = 0;
                }
                let if_sampled = *spans + trace.span_count as i64;
                if if_sampled < *spans_per_second {
                    *spans = if_sampled;
                    Decision::Sampled
                } else {
                    Decision::NotSampled
                }
            }
            Policy::BytesLimiting {
                rate,
                burst,
                tokens,
                last,
            } => {
                if let Some(last) = last {
                    *tokens = (*tokens
                        + clock.now.saturating_duration_since(*last).as_secs_f64() * *rate)
                        .min(*burst);
                }
                *last = Some(clock.now);
                let need = trace.bytes as f64;
                if need <= *tokens {
                    *tokens -= need;
                    Decision::Sampled
                } else {
                    Decision::NotSampled
                }
            }
            Policy::SpanCount { min, max } => {
                let n = trace.span_count as i64;
                sampled_if(n >= *min && (*max == 0 || n <= *max))
            }
            Policy::BooleanAttribute {
                key,
                value: wanted,
                invert,
            } => {
                let hit =
                    |attrs: &[KeyValue]| value(attrs, key).is_some_and(|v| as_bool(v) == *wanted);
                if *invert {
                    trace.inverted(hit)
                } else {
                    trace.any_resource_or_span(hit)
                }
            }
            Policy::TraceState { key, values } => sampled_if(trace.spans().any(|s| {
                W3cTraceState::parse(&s.trace_state)
                    .is_ok_and(|ts| values.contains(ts.get(key).as_deref().unwrap_or("")))
            })),
            Policy::TraceFlags => sampled_if(trace.spans().any(|s| s.flags & 0x1 == 0x1)),
            Policy::Ottl(p) => p.evaluate(trace),
            Policy::And(subs) => {
                for sub in subs {
                    match sub.evaluate(trace, clock) {
                        Decision::Error => return Decision::Error,
                        Decision::NotSampled | Decision::InvertNotSampled => {
                            return Decision::NotSampled;
                        }
                        _ => {}
                    }
                }
                Decision::Sampled
            }
            Policy::Drop(subs) => {
                for sub in subs {
                    match sub.evaluate(trace, clock) {
                        Decision::Error => return Decision::Error,
                        Decision::NotSampled | Decision::InvertNotSampled => {
                            return Decision::NotSampled;
                        }
                        _ => {}
                    }
                }
                Decision::Dropped
            }
            Policy::Composite(c) => {
                if c.second != clock.second {
                    c.second = clock.second;
                    for sub in &mut c.subs {
                        sub.2 = 0;
                    }
                }
                for (policy, allocated, used) in &mut c.subs {
                    match policy.evaluate(trace, clock) {
                        Decision::Error => return Decision::Error,
                        Decision::Sampled | Decision::InvertSampled => {
                            let if_sampled = *used + trace.span_count as i64;
                            if if_sampled <= *allocated && if_sampled <= c.max_total {
                                *used = if_sampled;
                                return Decision::Sampled;
                            }
                        }
                        _ => {}
                    }
                }
                Decision::NotSampled
            }
        }
    }
}

fn sampled_if(hit: bool) -> Decision {
    if hit {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

impl OttlPolicy {
    fn evaluate(&self, trace: &mut TraceView<'_>) -> Decision {
        let mut cache = Vec::new();
        for rs in trace.pieces.iter_mut() {
            for ss in &mut rs.scope_spans {
                for span in &mut ss.spans {
                    for c in &self.span {
                        let ctx = TransformContext {
                            resource: &mut rs.resource,
                            scope: Some(&mut ss.scope),
                            item: Item::Span(span),
                            cache: &mut cache,
                        };
                        match self.outcome(c.matches(&ctx)) {
                            Some(d) => return d,
                            None => continue,
                        }
                    }
                    for i in 0..span.events.len() {
                        for c in &self.spanevent {
                            let ctx = TransformContext {
                                resource: &mut rs.resource,
                                scope: Some(&mut ss.scope),
                                item: Item::SpanEvent(span, i),
                                cache: &mut cache,
                            };
                            match self.outcome(c.matches(&ctx)) {
                                Some(d) => return d,
                                None => continue,
                            }
                        }
                    }
                }
            }
        }
        Decision::NotSampled
    }

    /// `Some` ends the evaluation: a match samples, an error under `propagate` fails.
    fn outcome(&self, result: Result<bool, tributary_ottl::EvalError>) -> Option<Decision> {
        match result {
            Ok(true) => Some(Decision::Sampled),
            Ok(false) => None,
            Err(e) => match self.error_mode {
                ErrorMode::Propagate => {
                    tracing::debug!(error = %e, "ottl_condition policy failed");
                    Some(Decision::Error)
                }
                ErrorMode::Ignore => {
                    tracing::warn!(error = %e, "ottl_condition: condition failed, ignored");
                    None
                }
                ErrorMode::Silent => None,
            },
        }
    }
}

/// Go's final decision over the top-level policies' verdicts: a drop wins, then an
/// inverted not-sample, then any sample, then an inverted sample without any plain
/// not-sample; otherwise not sampled.
pub(crate) fn final_decision(verdicts: &[Decision]) -> bool {
    let has = |d| verdicts.contains(&d);
    if has(Decision::Dropped) || has(Decision::InvertNotSampled) {
        return false;
    }
    has(Decision::Sampled) || (has(Decision::InvertSampled) && !has(Decision::NotSampled))
}
