//! Go-style durations (`"200ms"`, `"5s"`, `"1m30s"`, `"1.5h"`) for typed configurations.
//!
//! The grammar is Go's `time.ParseDuration`: a sequence of decimal numbers, each with an
//! optional fraction and a unit (`ns`, `us` or `µs`, `ms`, `s`, `m`, `h`), such as `1h15m`
//! or `2.5s`; a lone `0` is zero. Durations print the way Go's `Duration.String` does.
//!
//! Use the module as a serde `with` helper:
//!
//! ```
//! use std::time::Duration;
//! use serde::Deserialize;
//! use tributary_confmap::Conf;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     #[serde(with = "tributary_confmap::duration")]
//!     timeout: Duration,
//!     #[serde(default, with = "tributary_confmap::duration::option")]
//!     interval: Option<Duration>,
//! }
//!
//! let config: Config = Conf::from_yaml("timeout: 1m30s\n")?.decode()?;
//! assert_eq!(config.timeout, Duration::from_secs(90));
//! assert_eq!(config.interval, None);
//! assert_eq!(tributary_confmap::duration::format(config.timeout), "1m30s");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A bare integer is nanoseconds, as Go reads it (`flush_interval: 5` is 5ns: Go configs
//! run unchanged, surprising value included). Negative durations are refused because
//! `std::time::Duration` cannot hold them.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// The largest value Go's parser accepts, 2^63 - 1 nanoseconds (about 292 years).
const MAX_NANOS: u64 = i64::MAX as u64;

/// A string that is not a valid Go-style duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl DurationError {
    fn new(input: &str, reason: &'static str) -> DurationError {
        DurationError {
            input: input.to_owned(),
            reason,
        }
    }
}

/// Parses a Go-style duration such as `"1m30s"` or `"1.5h"`.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let mut rest = input;
    let mut negative = false;
    if let Some(stripped) = rest.strip_prefix('-') {
        negative = true;
        rest = stripped;
    } else if let Some(stripped) = rest.strip_prefix('+') {
        rest = stripped;
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(DurationError::new(input, "expected a number and a unit"));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let bytes = rest.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return Err(DurationError::new(input, "expected a number"));
        }
        let (whole, after_whole) = leading_int(rest)
            .ok_or_else(|| DurationError::new(input, "the number is too large"))?;
        let has_whole = after_whole.len() != rest.len();
        rest = after_whole;
        let mut fraction = (0u64, 1f64);
        let mut has_fraction = false;
        if let Some(after_dot) = rest.strip_prefix('.') {
            let (digits, scale, after_fraction) = leading_fraction(after_dot);
            has_fraction = after_fraction.len() != after_dot.len();
            fraction = (digits, scale);
            rest = after_fraction;
        }
        if !has_whole && !has_fraction {
            return Err(DurationError::new(
                input,
                "expected digits around the point",
            ));
        }
        let unit_len = rest
            .bytes()
            .position(|b| b == b'.' || b.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(DurationError::new(
                input,
                "missing unit (one of ns, us, µs, ms, s, m, h)",
            ));
        }
        let unit = unit_nanos(&rest[..unit_len]).ok_or_else(|| {
            DurationError::new(input, "unknown unit (expected ns, us, µs, ms, s, m or h)")
        })?;
        rest = &rest[unit_len..];
        let too_large = || DurationError::new(input, "the duration is too large");
        let mut value = whole.checked_mul(unit).ok_or_else(too_large)?;
        if value > MAX_NANOS {
            return Err(too_large());
        }
        if fraction.0 > 0 {
            // A float is precise enough here: the fraction is below one hour in nanoseconds.
            value += (fraction.0 as f64 * (unit as f64 / fraction.1)) as u64;
            if value > MAX_NANOS {
                return Err(too_large());
            }
        }
        total = total
            .checked_add(value)
            .filter(|t| *t <= MAX_NANOS)
            .ok_or_else(too_large)?;
    }
    if negative && total != 0 {
        return Err(DurationError::new(
            input,
            "negative durations are not allowed",
        ));
    }
    Ok(Duration::from_nanos(total))
}

/// Consumes leading decimal digits; `None` on overflow.
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let mut value: u64 = 0;
    for b in s[..end].bytes() {
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if value > MAX_NANOS {
            return None;
        }
    }
    Some((value, &s[end..]))
}

/// Consumes the digits after a decimal point: their value, the power of ten they are scaled
/// by, and the rest. Digits beyond what fits are consumed and ignored, as in Go.
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let mut value: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    for b in s[..end].bytes() {
        if overflow {
            continue;
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(next) if next <= MAX_NANOS => {
                value = next;
                scale *= 10.0;
            }
            _ => overflow = true,
        }
    }
    (value, scale, &s[end..])
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

/// Formats a duration as Go's `Duration.String` does: `"1h30m0s"`, `"1.5s"`, `"200ms"`,
/// `"0s"`.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < u128::from(NANOS_PER_SECOND) {
        let (unit_nanos, unit, precision) = if nanos < u128::from(NANOS_PER_MICRO) {
            (1, "ns", 0)
        } else if nanos < u128::from(NANOS_PER_MILLI) {
            (u128::from(NANOS_PER_MICRO), "\u{b5}s", 3)
        } else {
            (u128::from(NANOS_PER_MILLI), "ms", 6)
        };
        return format!(
            "{}{}{unit}",
            nanos / unit_nanos,
            fraction(nanos % unit_nanos, precision)
        );
    }
    let seconds = nanos / u128::from(NANOS_PER_SECOND);
    let sub_second = fraction(nanos % u128::from(NANOS_PER_SECOND), 9);
    let (hours, minutes, seconds) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}{sub_second}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}{sub_second}s")
    } else {
        format!("{seconds}{sub_second}s")
    }
}

/// `.5` for 500 with precision 3: the fraction with trailing zeros (and an empty fraction's
/// point) left out.
fn fraction(value: u128, precision: usize) -> String {
    if value == 0 {
        return String::new();
    }
    let digits = format!("{value:0precision$}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// Serializes a duration as a Go-style string.
pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

/// Deserializes a Go-style duration string, or an integer number of nanoseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"200ms\", \"5s\" or \"1m30s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(|error| {
            E::custom(format!(
                "{error}; expected a number with a unit, such as \"200ms\", \"5s\" or \"1m30s\""
            ))
        })
    }

    /// Nanoseconds, as Go's `time.Duration` decodes an integer.
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Duration, E> {
        u64::try_from(value).map(Duration::from_nanos).map_err(|_| {
            E::custom(format!(
                "the duration {value}ns is negative; durations must be zero or more"
            ))
        })
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Duration, E> {
        // Go's limit: 2^63 - 1 nanoseconds.
        self.visit_i64(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

/// The same for an `Option<Duration>`: null or absent (with `#[serde(default)]`) is `None`.
pub mod option {
    use std::time::Duration;

    use serde::de::{Deserializer, Visitor};
    use serde::ser::Serializer;

    /// Serializes `Some` as a Go-style string and `None` as null.
    pub fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => super::serialize(duration, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes null as `None` and a Go-style duration as `Some`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        deserializer.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration such as \"5s\", or null")
        }

        fn visit_none<E>(self) -> Result<Option<Duration>, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Option<Duration>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Option<Duration>, D::Error> {
            super::deserialize(deserializer).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("200ms"), Ok(ms(200)));
        assert_eq!(parse("5s"), Ok(ms(5000)));
        assert_eq!(parse("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("-0"), Ok(Duration::ZERO));
        assert_eq!(parse("+3s"), Ok(ms(3000)));
        assert_eq!(parse(".5s"), Ok(ms(500)));
        assert_eq!(parse("1.s"), Ok(ms(1000)));
        assert_eq!(parse("1h2m3s4ms5us6ns"), Ok(Duration::new(3723, 4_005_006)));
        assert_eq!(parse("3µs"), Ok(Duration::from_micros(3)));
        assert_eq!(parse("3\u{3bc}s"), Ok(Duration::from_micros(3)));
        assert_eq!(parse("1.0000000001s"), Ok(Duration::new(1, 0)));
        assert_eq!(
            parse("2562047h47m16.854775807s").map(|d| d.as_nanos()),
            Ok(i64::MAX as u128)
        );
    }

    #[test]
    fn refuses_what_go_refuses_and_negative_values() {
        for bad in [
            "",
            "5",
            "s",
            ".s",
            "1x",
            "1.5",
            "-1s",
            "3000000h",
            "9223372036854775808ns",
            "1s ",
            " 1s",
            "1 s",
            "--1s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            parse("5").unwrap_err().to_string(),
            "invalid duration \"5\": missing unit (one of ns, us, µs, ms, s, m, h)"
        );
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_nanos(1)), "1ns");
        assert_eq!(format(Duration::from_nanos(1100)), "1.1µs");
        assert_eq!(format(ms(200)), "200ms");
        assert_eq!(format(Duration::from_micros(2200)), "2.2ms");
        assert_eq!(format(ms(1500)), "1.5s");
        assert_eq!(format(ms(90_000)), "1m30s");
        assert_eq!(format(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format(Duration::new(3723, 4_005_006)), "1h2m3.004005006s");
    }

    #[test]
    fn formatting_round_trips() {
        for d in [
            1,
            999,
            1_000,
            1_500_000,
            999_999_999,
            1_000_000_000,
            61_000_000_001,
        ] {
            let d = Duration::from_nanos(d);
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
