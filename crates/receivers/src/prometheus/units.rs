//! Prometheus's units in configuration: durations (`1h30m`, `15s`) and sizes (`10MB`).

use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A Prometheus duration: `1h30m`, `15s`, `100ms`, `1d`, `1w`, `1y`, `0`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total_ms: u128 = 0;
    let mut last_rank = usize::MAX;
    const UNITS: [(&str, u128); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    // Rank orders the units as Prometheus requires them written (largest first).
    let rank = |u: &str| {
        ["y", "w", "d", "h", "m", "s", "ms"]
            .iter()
            .position(|x| *x == u)
    };
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 || digits > 18 {
            return None;
        }
        let number: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, factor) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        let r = rank(unit)?;
        if last_rank != usize::MAX && r <= last_rank {
            return None;
        }
        last_rank = r;
        rest = &rest[unit.len()..];
        total_ms = total_ms.checked_add(number.checked_mul(*factor)?)?;
    }
    u64::try_from(total_ms).ok().map(Duration::from_millis)
}

/// A size as Prometheus's `units.Base2Bytes`: `0`, `512`, `10KB`, `10MiB`, `1GB` (1024-based).
pub fn parse_bytes(text: &str) -> Option<usize> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits == 0 {
        return None;
    }
    let number: usize = text[..digits].parse().ok()?;
    let factor: usize = match &text[digits..] {
        "" | "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text)
        .ok_or_else(|| D::Error::custom(format!("{text:?} is not a duration such as 15s or 1m30s")))
}

pub(crate) fn optional_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}
