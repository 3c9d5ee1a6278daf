//! OpenTelemetry consistent-probability sampling arithmetic and the W3C `tracestate`
//! carrier, as the Go Collector's `pkg/sampling` has them, shared by
//! `probabilistic_sampler` and `tail_sampling`.
//!
//! - A [`Randomness`] is a 56-bit value: the low 7 bytes of a trace ID, or an explicit
//!   `rv` (14 hex digits) in the `ot` member of the trace state.
//! - A [`Threshold`] is a 56-bit *rejection* threshold: an item is kept when its
//!   randomness is at least the threshold. `th` carries it in 1–14 hex digits with
//!   trailing zeros left out (`th:8` is 50 %, `th:0` is 100 %).
//! - [`W3cTraceState`] parses `key=value` list members (`ot` is parsed further into
//!   [`OtelTraceState`]) and serializes them back with `ot` first.
//!
//! The parsers take peer input (every span's `trace_state`): they never panic and bound
//! their work by the W3C limits (32 members, 256 bytes for `ot`).

use std::fmt;

/// Number of hex digits of a threshold or randomness value.
pub const NUM_HEX_DIGITS: usize = 14;
/// 2^56: the number of distinct randomness values (and the never-sample threshold).
pub const MAX_ADJUSTED_COUNT: u64 = 1 << 56;
/// The smallest probability a threshold can express, 2^-56.
pub const MIN_SAMPLING_PROBABILITY: f64 = 1.0 / MAX_ADJUSTED_COUNT as f64;
/// Largest randomness value.
const MAX_RANDOMNESS: u64 = MAX_ADJUSTED_COUNT - 1;
/// W3C limit on list members.
const MAX_MEMBERS: usize = 32;
/// Go's limit on the encoded `ot` value.
const MAX_OTEL_LENGTH: usize = 256;

/// Why a sampling value or trace state was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplingError(pub &'static str);

impl fmt::Display for SamplingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for SamplingError {}

/// A 56-bit rejection threshold: sampled when randomness ≥ threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(u64);

impl Threshold {
    /// Samples everything (`th:0`).
    pub const ALWAYS: Threshold = Threshold(0);
    /// Samples nothing (no `th` is written for it).
    pub const NEVER: Threshold = Threshold(MAX_ADJUSTED_COUNT);

    /// A threshold from its 56-bit value (clamped to [`Threshold::NEVER`]).
    pub fn from_unsigned(value: u64) -> Threshold {
        Threshold(value.min(MAX_ADJUSTED_COUNT))
    }

    /// The 56-bit value.
    pub fn unsigned(self) -> u64 {
        self.0
    }

    /// Parses a `th` value: 1 to 14 hex digits, trailing zeros implied.
    pub fn from_tvalue(s: &str) -> Result<Threshold, SamplingError> {
        if s.len() > NUM_HEX_DIGITS {
            return Err(SamplingError("t-value exceeds 14 hex digits"));
        }
        if s.is_empty() {
            return Err(SamplingError("t-value is empty"));
        }
        let value = parse_hex(s).ok_or(SamplingError("t-value: invalid syntax"))?;
        Ok(Threshold(value << (4 * (NUM_HEX_DIGITS - s.len()))))
    }

    /// The `th` encoding: `0` for always, empty for never, else the 14 digits without
    /// trailing zeros.
    pub fn tvalue(self) -> String {
        match self {
            Threshold::ALWAYS => "0".to_string(),
            Threshold::NEVER => String::new(),
            Threshold(v) => format!("{v:014x}").trim_end_matches('0').to_string(),
        }
    }

    /// Whether an item with this randomness is kept.
    pub fn should_sample(self, randomness: Randomness) -> bool {
        randomness.0 >= self.0
    }

    /// The sampling probability this threshold stands for.
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// The threshold for `probability` at full precision.
    pub fn from_probability(probability: f64) -> Result<Threshold, SamplingError> {
        if !(MIN_SAMPLING_PROBABILITY..=1.0).contains(&probability) {
            return Err(SamplingError("sampling probability out of range"));
        }
        let scaled = (probability * MAX_ADJUSTED_COUNT as f64).round() as u64;
        Ok(Threshold(MAX_ADJUSTED_COUNT - scaled))
    }

    /// The threshold for `probability` rounded to `precision` significant hex digits
    /// (0: full precision), with one more digit for every leading `0`/`f` so that
    /// probabilities near 0 and 1 keep their relative precision — Go's
    /// `ProbabilityToThresholdWithPrecision`.
    pub fn from_probability_with_precision(
        probability: f64,
        precision: u8,
    ) -> Result<Threshold, SamplingError> {
        if precision == 0 {
            return Threshold::from_probability(probability);
        }
        if !(MIN_SAMPLING_PROBABILITY..=1.0).contains(&probability) {
            return Err(SamplingError("sampling probability out of range"));
        }
        if probability == 1.0 {
            return Ok(Threshold::ALWAYS);
        }
        // One more digit for every leading hex `0` or `f`: both the probability and
        // its complement are normalized, since either near zero needs more digits.
        let extra = |x: f64| (frexp_exponent(x) / -4).max(0) as usize;
        let precision = (precision as usize + extra(probability).max(extra(1.0 - probability)))
            .min(NUM_HEX_DIGITS);
        let scaled = (probability * MAX_ADJUSTED_COUNT as f64).round() as u64;
        let mut rejected = MAX_ADJUSTED_COUNT - scaled;
        let shift = 4 * (NUM_HEX_DIGITS - precision);
        if shift != 0 {
            rejected += 1 << (shift - 1);
            rejected >>= shift;
            rejected <<= shift;
        }
        Ok(Threshold(rejected))
    }
}

/// The exponent `e` of `x = f × 2^e` with `f` in [0.5, 1) (Go's `math.Frexp`), for
/// positive normal `x`.
fn frexp_exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1022
}

/// 56 bits of randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Randomness(u64);

impl Randomness {
    /// The largest randomness, which every threshold but "never" samples: what an item
    /// without randomness is given (Go's `AllProbabilitiesRandomness`).
    pub const ALL_PROBABILITIES: Randomness = Randomness(MAX_RANDOMNESS);

    /// Randomness from its 56-bit value (higher bits are dropped).
    pub fn from_unsigned(value: u64) -> Randomness {
        Randomness(value & MAX_RANDOMNESS)
    }

    /// The 56-bit value.
    pub fn unsigned(self) -> u64 {
        self.0
    }

    /// The W3C Trace Context level 2 randomness: the trace ID's last 7 bytes.
    pub fn from_trace_id(trace_id: &[u8]) -> Randomness {
        let mut bytes = [0u8; 8];
        let n = trace_id.len().min(8);
        bytes[8 - n..].copy_from_slice(&trace_id[trace_id.len() - n..]);
        Randomness(u64::from_be_bytes(bytes) & MAX_RANDOMNESS)
    }

    /// Parses an `rv` value: exactly 14 hex digits.
    pub fn from_rvalue(s: &str) -> Result<Randomness, SamplingError> {
        if s.len() != NUM_HEX_DIGITS {
            return Err(SamplingError("r-value must have 14 hex digits"));
        }
        parse_hex(s)
            .map(Randomness)
            .ok_or(SamplingError("r-value: invalid syntax"))
    }

    /// The `rv` encoding: 14 lower-case hex digits.
    pub fn rvalue(self) -> String {
        format!("{:014x}", self.0)
    }
}

/// Parses up to 16 hex digits, either case; `None` for anything else.
fn parse_hex(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// FNV-1a (32-bit) over the seed's 4 little-endian bytes and then `bytes`: the
/// `probabilistic_sampler`'s hash (Go `computeHash`).
pub fn fnv32a_seeded(bytes: &[u8], seed: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in seed.to_le_bytes().iter().chain(bytes) {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// FNV-1a (64-bit) over `salt` and then `bytes`: the tail sampler's `probabilistic`
/// policy hash (Go `hashTraceID`).
pub fn fnv64a_salted(salt: &[u8], bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in salt.iter().chain(bytes) {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The `ot` member of a trace state: `rv`, `th` and the other sub-keys in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtelTraceState {
    /// The `rv` text as received (case kept) with its value.
    pub rvalue: Option<(String, Randomness)>,
    /// The `th` text with its threshold.
    pub tvalue: Option<(String, Threshold)>,
    /// Other `key:value` pairs, kept in order.
    pub extra: Vec<(String, String)>,
}

impl OtelTraceState {
    /// Parses the value of the `ot` member (`rv:...;th:...;k:v`). An invalid `rv` or
    /// `th` is an error, as in Go.
    pub fn parse(input: &str) -> Result<OtelTraceState, SamplingError> {
        let mut state = OtelTraceState::default();
        if input.len() > MAX_OTEL_LENGTH {
            return Err(SamplingError("tracestate: ot value too long"));
        }
        for member in input.split(';') {
            let (key, value) = member
                .split_once(':')
                .ok_or(SamplingError("tracestate: invalid ot syntax"))?;
            let key_ok = key.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            let value_ok = value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !key_ok || !value_ok {
                return Err(SamplingError("tracestate: invalid ot syntax"));
            }
            match key {
                "rv" => {
                    let r = Randomness::from_rvalue(value)?;
                    state.rvalue = Some((value.to_string(), r));
                }
                "th" => {
                    let t = Threshold::from_tvalue(value)?;
                    state.tvalue = Some((value.to_string(), t));
                }
                _ => state.extra.push((key.to_string(), value.to_string())),
            }
        }
        Ok(state)
    }

    /// The arriving threshold, if any.
    pub fn threshold(&self) -> Option<Threshold> {
        self.tvalue.as_ref().map(|(_, t)| *t)
    }

    /// The explicit randomness, if any.
    pub fn randomness(&self) -> Option<Randomness> {
        self.rvalue.as_ref().map(|(_, r)| *r)
    }

    /// Sets a threshold after sampling; refuses to raise the probability of an existing
    /// one (Go's `ErrInconsistentSampling`). A never threshold removes `th`.
    pub fn update_threshold(&mut self, threshold: Threshold) -> Result<(), SamplingError> {
        let tv = threshold.tvalue();
        if tv.is_empty() {
            self.tvalue = None;
            return Ok(());
        }
        if let Some(existing) = self.threshold()
            && existing > threshold
        {
            return Err(SamplingError("cannot raise existing sampling probability"));
        }
        self.tvalue = Some((tv, threshold));
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.rvalue.is_none() && self.tvalue.is_none() && self.extra.is_empty()
    }

    fn serialize(&self) -> String {
        let mut parts = Vec::new();
        if let Some((rv, _)) = &self.rvalue {
            parts.push(format!("rv:{rv}"));
        }
        if let Some((tv, _)) = &self.tvalue {
            parts.push(format!("th:{tv}"));
        }
        for (k, v) in &self.extra {
            parts.push(format!("{k}:{v}"));
        }
        parts.join(";")
    }
}

/// A W3C `tracestate`: the parsed `ot` member and the others verbatim, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct W3cTraceState {
    /// The OpenTelemetry member.
    pub otel: OtelTraceState,
    /// The other members (`key`, `value`), in order.
    pub others: Vec<(String, String)>,
}

impl W3cTraceState {
    /// Parses a trace state header value. Empty list members and surrounding spaces and
    /// tabs are allowed; more than 32 members, a member without `=`, an invalid key or a
    /// repeated key is an error.
    pub fn parse(input: &str) -> Result<W3cTraceState, SamplingError> {
        let mut state = W3cTraceState::default();
        let mut seen_ot = false;
        let mut count = 0;
        for member in input.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            count += 1;
            if count > MAX_MEMBERS {
                return Err(SamplingError("tracestate: too many list members"));
            }
            let (key, value) = member
                .split_once('=')
                .ok_or(SamplingError("tracestate: member without '='"))?;
            if !valid_key(key) || !valid_value(value) {
                return Err(SamplingError("tracestate: invalid list member"));
            }
            if key == "ot" {
                if seen_ot {
                    return Err(SamplingError("tracestate: duplicate key"));
                }
                seen_ot = true;
                state.otel = OtelTraceState::parse(value)?;
            } else {
                if state.others.iter().any(|(k, _)| k == key) {
                    return Err(SamplingError("tracestate: duplicate key"));
                }
                state.others.push((key.to_string(), value.to_string()));
            }
        }
        Ok(state)
    }

    /// The value of member `key` (the raw `ot` value for `ot`).
    pub fn get(&self, key: &str) -> Option<String> {
        if key == "ot" {
            return (!self.otel.is_empty()).then(|| self.otel.serialize());
        }
        self.others
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// The header value: `ot` first (when it has anything), then the others.
    pub fn serialize(&self) -> String {
        let mut parts = Vec::with_capacity(self.others.len() + 1);
        if !self.otel.is_empty() {
            parts.push(format!("ot={}", self.otel.serialize()));
        }
        for (k, v) in &self.others {
            parts.push(format!("{k}={v}"));
        }
        parts.join(",")
    }
}

/// A W3C key: `[a-z0-9][a-z0-9_\-*/]{0,255}`, or a multi-tenant `tenant@system` form.
fn valid_key(key: &str) -> bool {
    let part_ok = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'-' | b'*' | b'/')
            })
    };
    match key.split_once('@') {
        None => part_ok(key, 256) && !key.starts_with(['_', '-', '*', '/']),
        Some((tenant, system)) => part_ok(tenant, 241) && part_ok(system, 14),
    }
}

/// A W3C value: printable ASCII without `,` and `=`, not ending in a space, ≤ 256 bytes.
fn valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && !value.ends_with(' ')
        && value
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fnv_matches_the_go_vectors() {
        // Go TestEmptyHashFunction: seed 0, empty input and 16 zero bytes.
        assert_eq!(fnv32a_seeded(&[], 0) & 0x3fff, 0x3515);
        assert_eq!(fnv32a_seeded(&[0; 16], 0) & 0x3fff, 0x2455);
        // FNV-1a 64 of "a" (the published test vector).
        assert_eq!(fnv64a_salted(b"a", &[]), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn thresholds_encode_as_go_does() {
        assert_eq!(Threshold::ALWAYS.tvalue(), "0");
        assert_eq!(Threshold::NEVER.tvalue(), "");
        assert_eq!(
            Threshold::from_tvalue("8").unwrap().unsigned(),
            0x80000000000000
        );
        assert_eq!(
            Threshold::from_tvalue("80000000000000").unwrap().tvalue(),
            "8"
        );
        let t = |p: f64, prec: u8| {
            Threshold::from_probability_with_precision(p, prec)
                .unwrap()
                .tvalue()
        };
        assert_eq!(t(0.01, 0), "fd70a3d70a3d71");
        assert_eq!(t(0.01, 4), "fd70a");
        assert_eq!(t(0.01, 3), "fd71");
        assert_eq!(t(0.4, 3), "99a");
        assert_eq!(t(0.4, 6), "99999a");
        assert_eq!(t(0.2, 6), "cccccd");
        assert_eq!(t(0.5, 4), "8");
        assert_eq!(t(1.0, 4), "0");
        assert!(Threshold::from_tvalue("abababababababab").is_err());
        assert!(Threshold::from_tvalue("-1").is_err());
        assert!(Randomness::from_rvalue("abababababababab").is_err());
    }

    #[test]
    fn trace_state_round_trips() {
        let ts = W3cTraceState::parse("ot=rv:FD70A3D70A3D71;x:y , vendor=abc").unwrap();
        assert_eq!(ts.otel.randomness().unwrap().unsigned(), 0xFD70A3D70A3D71);
        assert_eq!(ts.get("vendor").as_deref(), Some("abc"));
        assert_eq!(ts.serialize(), "ot=rv:FD70A3D70A3D71;x:y,vendor=abc");
        assert!(W3cTraceState::parse("ot=th:-1").is_err());
        assert!(W3cTraceState::parse("novalue").is_err());
        assert_eq!(W3cTraceState::parse("").unwrap().serialize(), "");
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_reserializes_stably(input in "\\PC{0,80}") {
            if let Ok(ts) = W3cTraceState::parse(&input) {
                let again = W3cTraceState::parse(&ts.serialize()).unwrap();
                prop_assert_eq!(again.serialize(), ts.serialize());
            }
        }

        #[test]
        fn tvalue_round_trips(v in 1u64..MAX_ADJUSTED_COUNT) {
            let t = Threshold::from_unsigned(v);
            prop_assert_eq!(Threshold::from_tvalue(&t.tvalue()).unwrap(), t);
        }
    }
}
