//! The sampling decision for one span or log record: randomness, carrier, threshold —
//! the structure of Go's `sampler_mode.go`, `tracesprocessor.go` and `logsprocessor.go`.

use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;
use tributary_pipeline_core::pdata::value_text::as_string;

use super::config::{AttributeSource, Config, Mode};
use crate::sampling::{
    MIN_SAMPLING_PROBABILITY, Randomness, SamplingError, Threshold, W3cTraceState, fnv32a_seeded,
};

const HASH_BUCKETS_LG2: u32 = 14;
const HASH_BUCKETS: u64 = 1 << HASH_BUCKETS_LG2;
/// Go's `percentageScaleFactor` (`numHashBuckets / 100.0`), as the float32 Go multiplies in.
const PERCENTAGE_SCALE_FACTOR: f32 = 163.84;
/// The log record attributes carrying `th` and `rv`.
const LOG_THRESHOLD: &str = "sampling.threshold";
const LOG_RANDOMNESS: &str = "sampling.randomness";

/// Where an item's randomness came from; `Missing` when there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Missing,
    Found(Randomness),
}

impl Source {
    fn randomness(self) -> Randomness {
        match self {
            Source::Missing => Randomness::ALL_PROBABILITIES,
            Source::Found(r) => r,
        }
    }
}

/// The configured sampler.
#[derive(Clone, Debug)]
pub(crate) enum Sampler {
    /// Percentage 0, or a hash-seed percentage that rounds to no bucket.
    Never,
    /// The legacy FNV hash.
    Hashing { threshold: Threshold },
    /// Consistent sampling at an absolute threshold.
    Equalizing { threshold: Threshold },
    /// Consistent sampling relative to the arriving probability.
    Proportional { ratio: f64, precision: u8 },
}

/// A sampler and what the items' randomness is taken from.
#[derive(Clone, Debug)]
pub(crate) struct Decider {
    sampler: Sampler,
    hashing: bool,
    hash_seed: u32,
    fail_closed: bool,
    precision: u8,
    /// Logs: hash the trace ID (hash-seed mode with `attribute_source: traceID`).
    logs_trace_id: bool,
    from_attribute: String,
    sampling_priority: String,
}

impl Decider {
    pub fn new(config: &Config, logs: bool) -> Decider {
        let pct = config.sampling_percentage.min(100.0);
        let mode = config.effective_mode(logs);
        let ratio = (f64::from(pct) / 100.0).max(MIN_SAMPLING_PROBABILITY);
        let sampler = if pct == 0.0 {
            Sampler::Never
        } else {
            match mode {
                Mode::Equalizing => Sampler::Equalizing {
                    threshold: Threshold::from_probability_with_precision(
                        ratio,
                        config.sampling_precision,
                    )
                    .unwrap_or(Threshold::ALWAYS),
                },
                Mode::Proportional | Mode::Unset => Sampler::Proportional {
                    ratio,
                    precision: config.sampling_precision,
                },
                Mode::HashSeed => {
                    // Go multiplies in float32 and truncates: kept for identical decisions.
                    let scaled = (pct * PERCENTAGE_SCALE_FACTOR) as u64;
                    if scaled == 0 {
                        Sampler::Never
                    } else {
                        Sampler::Hashing {
                            threshold: Threshold::from_unsigned((HASH_BUCKETS - scaled) << 42),
                        }
                    }
                }
            }
        };
        Decider {
            hashing: matches!(sampler, Sampler::Hashing { .. }),
            sampler,
            hash_seed: config.hash_seed,
            fail_closed: config.fail_closed,
            precision: config.sampling_precision,
            logs_trace_id: config.attribute_source == AttributeSource::TraceId,
            from_attribute: config.from_attribute.clone(),
            sampling_priority: config.sampling_priority.clone(),
        }
    }

    fn decide(&self, arriving: Option<Threshold>) -> Threshold {
        match &self.sampler {
            Sampler::Never => Threshold::NEVER,
            Sampler::Hashing { threshold } | Sampler::Equalizing { threshold } => *threshold,
            Sampler::Proportional { ratio, precision } => {
                let incoming = arriving.map_or(1.0, Threshold::probability);
                Threshold::from_probability_with_precision(incoming * ratio, *precision)
                    .unwrap_or(Threshold::NEVER)
            }
        }
    }

    /// The threshold for an item, from the sampler or, on error, from `fail_closed`.
    fn threshold(&self, error: Option<SamplingError>, arriving: Option<Threshold>) -> Threshold {
        if matches!(self.sampler, Sampler::Never) {
            // Percentage 0 needs no randomness: nothing to fail open or closed about.
            return Threshold::NEVER;
        }
        match error {
            Some(e) => {
                tracing::debug!(error = %e, "probabilistic sampler");
                if self.fail_closed {
                    Threshold::NEVER
                } else {
                    Threshold::ALWAYS
                }
            }
            None => self.decide(arriving),
        }
    }

    /// Decides one span; a kept span's trace state gets the new `th` (and, in hash-seed
    /// mode, the `rv` the decision used).
    pub fn span(&self, span: &mut Span) -> bool {
        let (source, mut carrier, mut error) = if self.hashing {
            let rnd = Source::Found(randomness_from_bytes(
                &trace_id16(&span.trace_id),
                self.hash_seed,
            ));
            match W3cTraceState::parse(&span.trace_state) {
                Err(e) => (rnd, None, Some(e)),
                Ok(mut ts) => {
                    let error = if ts.otel.rvalue.is_some() {
                        Some(RANDOMNESS_IN_USE)
                    } else if ts.otel.tvalue.is_some() {
                        Some(THRESHOLD_IN_USE)
                    } else {
                        let r = rnd.randomness();
                        ts.otel.rvalue = Some((r.rvalue(), r));
                        None
                    };
                    (rnd, Some(ts), error)
                }
            }
        } else {
            match W3cTraceState::parse(&span.trace_state) {
                Err(e) => (Source::Missing, None, Some(e)),
                Ok(ts) => {
                    let source = match ts.otel.randomness() {
                        Some(r) => Source::Found(r),
                        None if is_empty_id(&span.trace_id) => Source::Missing,
                        None => {
                            Source::Found(Randomness::from_trace_id(&trace_id16(&span.trace_id)))
                        }
                    };
                    (source, Some(ts), None)
                }
            }
        };
        if error.is_none()
            && let Some(ts) = carrier.as_mut()
        {
            error = consistency_check(source, &mut ts.otel.tvalue);
        }
        let arriving = carrier.as_ref().and_then(|ts| ts.otel.threshold());
        let mut threshold = self.threshold(error, arriving);
        match span_priority(&span.attributes) {
            Some(false) => threshold = Threshold::NEVER,
            Some(true) => threshold = Threshold::ALWAYS,
            None => {}
        }
        let sampled = threshold.should_sample(source.randomness());
        if sampled && let Some(mut ts) = carrier {
            // Refused when it would raise an arriving probability: the state stays as it
            // was, as in Go.
            let _ = ts.otel.update_threshold(threshold);
            span.trace_state = ts.serialize();
        }
        sampled
    }

    /// Decides one log record; a kept record gets `sampling.threshold` (and, in
    /// hash-seed mode, `sampling.randomness`).
    pub fn log(&self, record: &mut LogRecord) -> bool {
        let (carrier, parse_error) = LogCarrier::parse(record);
        let mut carrier = Some(carrier);
        let mut error = parse_error;
        if error.is_some() {
            carrier = None;
        }
        let mut source = Source::Missing;
        if self.hashing {
            if self.logs_trace_id {
                // Go admits an empty trace ID here (16 zero bytes).
                source = Source::Found(randomness_from_bytes(
                    &trace_id16(&record.trace_id),
                    self.hash_seed,
                ));
            }
            if source == Source::Missing {
                source = self.attribute_randomness(record);
            }
            if let Some(c) = carrier.as_ref() {
                if c.randomness.is_some() {
                    error = Some(RANDOMNESS_IN_USE);
                } else if c.threshold.is_some() {
                    error = Some(THRESHOLD_IN_USE);
                } else if let Source::Found(r) = source {
                    put_str(&mut record.attributes, LOG_RANDOMNESS, r.rvalue());
                }
            }
        } else if let Some(c) = carrier.as_ref() {
            source = match c.randomness {
                Some(r) => Source::Found(r),
                None if !is_empty_id(&record.trace_id) => {
                    Source::Found(Randomness::from_trace_id(&trace_id16(&record.trace_id)))
                }
                None => self.attribute_randomness(record),
            };
        }
        if error.is_none()
            && let Some(c) = carrier.as_mut()
        {
            error = consistency_check(source, &mut c.threshold);
            if c.threshold.is_none() {
                remove(&mut record.attributes, LOG_THRESHOLD);
            }
        }
        let arriving = carrier
            .as_ref()
            .and_then(|c| c.threshold.as_ref().map(|(_, t)| *t));
        let mut threshold = self.threshold(error, arriving);
        if !self.sampling_priority.is_empty() {
            match self.log_priority(record) {
                Some(Threshold::NEVER) => threshold = Threshold::NEVER,
                Some(priority) if priority < threshold => threshold = priority,
                _ => {}
            }
        }
        let sampled = threshold.should_sample(source.randomness());
        if sampled && let Some(c) = carrier {
            let lowers = c.threshold.is_some_and(|(_, t)| threshold < t);
            if !lowers {
                let tv = threshold.tvalue();
                if tv.is_empty() {
                    remove(&mut record.attributes, LOG_THRESHOLD);
                } else {
                    put_str(&mut record.attributes, LOG_THRESHOLD, tv);
                }
            }
        }
        sampled
    }

    /// Randomness from the `from_attribute` record attribute, hashed with the seed.
    fn attribute_randomness(&self, record: &LogRecord) -> Source {
        if self.from_attribute.is_empty() {
            return Source::Missing;
        }
        match record
            .attributes
            .iter()
            .find(|kv| kv.key == self.from_attribute)
        {
            Some(kv) => {
                let bytes = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(any_value::Value::BytesValue(b)) => b.clone(),
                    _ => as_string(kv.value.as_ref()).into_bytes(),
                };
                Source::Found(randomness_from_bytes(&bytes, self.hash_seed))
            }
            None => Source::Missing,
        }
    }

    /// The record's own minimum sampling percentage (`sampling_priority`): 0 drops it.
    fn log_priority(&self, record: &LogRecord) -> Option<Threshold> {
        let kv = record
            .attributes
            .iter()
            .find(|kv| kv.key == self.sampling_priority)?;
        let pct = match kv.value.as_ref().and_then(|v| v.value.as_ref())? {
            any_value::Value::DoubleValue(d) => *d,
            any_value::Value::IntValue(i) => *i as f64,
            _ => return None,
        };
        if pct == 0.0 {
            return Some(Threshold::NEVER);
        }
        Threshold::from_probability_with_precision((pct / 100.0).min(1.0), self.precision).ok()
    }
}

const RANDOMNESS_IN_USE: SamplingError =
    SamplingError("item has sampling randomness, equalizing or proportional mode recommended");
const THRESHOLD_IN_USE: SamplingError =
    SamplingError("item has sampling threshold, equalizing or proportional mode recommended");

/// Go's `consistencyCheck`: no randomness is an error; an arriving threshold that this
/// randomness would not have passed is cleared and is an error.
fn consistency_check(
    source: Source,
    threshold: &mut Option<(String, Threshold)>,
) -> Option<SamplingError> {
    let Source::Found(r) = source else {
        return Some(SamplingError("missing randomness"));
    };
    if let Some((_, t)) = threshold
        && !t.should_sample(r)
    {
        *threshold = None;
        return Some(SamplingError(
            "inconsistent arriving threshold: item should not have been sampled",
        ));
    }
    None
}

/// The hash-seed randomness of `bytes` (Go `randomnessFromBytes`): the 14-bit bucket,
/// reflected, on top, so that `rv ≥ th` decides exactly as the legacy `bucket < rate`.
pub(crate) fn randomness_from_bytes(bytes: &[u8], seed: u32) -> Randomness {
    let hashed32 = fnv32a_seeded(bytes, seed);
    let hashed = u64::from(hashed32) & (HASH_BUCKETS - 1);
    let rprime14 = HASH_BUCKETS - 1 - hashed;
    let unused18 = u64::from(hashed32 >> (32 - HASH_BUCKETS_LG2));
    let mixed28 = unused18 ^ (unused18 << 10);
    Randomness::from_unsigned((rprime14 << 42) | (mixed28 << 14) | hashed)
}

/// A trace ID as Go's 16-byte array: short or missing IDs are zero-padded.
fn trace_id16(id: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = id.len().min(16);
    out[..n].copy_from_slice(&id[..n]);
    out
}

fn is_empty_id(id: &[u8]) -> bool {
    id.iter().all(|b| *b == 0)
}

/// The span's `sampling.priority` (OpenTracing): `Some(false)` for 0, `Some(true)` above.
fn span_priority(attributes: &[KeyValue]) -> Option<bool> {
    let kv = attributes.iter().find(|kv| kv.key == "sampling.priority")?;
    let value = match kv.value.as_ref().and_then(|v| v.value.as_ref())? {
        any_value::Value::IntValue(i) => *i as f64,
        any_value::Value::DoubleValue(d) => *d,
        any_value::Value::StringValue(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if value == 0.0 {
        Some(false)
    } else if value > 0.0 {
        Some(true)
    } else {
        None
    }
}

/// The `sampling.threshold` and `sampling.randomness` string attributes of a record.
struct LogCarrier {
    threshold: Option<(String, Threshold)>,
    randomness: Option<Randomness>,
}

impl LogCarrier {
    fn parse(record: &LogRecord) -> (LogCarrier, Option<SamplingError>) {
        let get = |key: &str| {
            record
                .attributes
                .iter()
                .find(|kv| kv.key == key)
                .and_then(
                    |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) if !s.is_empty() => Some(s.clone()),
                        _ => None,
                    },
                )
        };
        let mut carrier = LogCarrier {
            threshold: None,
            randomness: None,
        };
        let mut error = None;
        if let Some(tv) = get(LOG_THRESHOLD) {
            match Threshold::from_tvalue(&tv) {
                Ok(t) => carrier.threshold = Some((tv, t)),
                Err(e) => error = Some(e),
            }
        }
        if let Some(rv) = get(LOG_RANDOMNESS) {
            match Randomness::from_rvalue(&rv) {
                Ok(r) => carrier.randomness = Some(r),
                Err(e) => error = Some(e),
            }
        }
        (carrier, error)
    }
}

fn put_str(attributes: &mut Vec<KeyValue>, key: &str, value: String) {
    let value = Some(AnyValue {
        value: Some(any_value::Value::StringValue(value)),
    });
    match attributes.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attributes.push(KeyValue {
            key: key.to_string(),
            value,
            ..Default::default()
        }),
    }
}

fn remove(attributes: &mut Vec<KeyValue>, key: &str) {
    attributes.retain(|kv| kv.key != key);
}
