//! Time values: Go-style rendering, `Duration` strings, and the ctime-style directives
//! of OTTL's `Time` and `FormatTime` (mapped onto chrono's, which cover the same set).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// RFC 3339 with nanoseconds, in UTC.
pub fn rfc3339(nanos: i64) -> String {
    Utc.timestamp_nanos(nanos)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A duration as Go prints it (`1h2m3.5s`, `300ms`, `0s`).
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", trim(n as f64 / 1e3));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", trim(n as f64 / 1e6));
    }
    let (h, rest) = (n / 3_600_000_000_000, n % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = trim(rest as f64 / 1e9);
    match (h, m) {
        (0, 0) => format!("{sign}{secs}s"),
        (0, m) => format!("{sign}{m}m{secs}s"),
        (h, m) => format!("{sign}{h}h{m}m{secs}s"),
    }
}

fn trim(f: f64) -> String {
    let s = format!("{f:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Parses a Go duration string (`1h30m`, `1.5s`, `-300ms`).
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("invalid duration {s:?}");
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * unit;
        rest = &rest[unit_end..];
    }
    if total > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(if neg { -(total as i64) } else { total as i64 })
}

/// OTTL's ctime directives in chrono's syntax (`%L` milliseconds, `%f` microseconds,
/// `%s` nanoseconds of the second; the rest are the same letters).
pub fn chrono_format(format: &str) -> String {
    format
        .replace("%L", "%3f")
        .replace("%f", "%6f")
        .replace("%s", "%9f")
}

/// Parses a time with an OTTL format; without a zone in the format, UTC. A format without
/// a time of day means midnight (`Time("02/04/2023", "%m/%d/%Y")`).
///
/// A zone abbreviation (`%Z`) is read as Go's OTTL reads it: one that names a fixed zone of
/// the time-zone database (`UTC`, `GMT`, `EST`, `MST`, `HST`) gives that zone's offset, any
/// other a zero offset; a numeric offset (`%z`) beside it wins.
pub fn parse_time(value: &str, format: &str) -> Result<i64, String> {
    let f = chrono_format(format);
    let error =
        |e: chrono::ParseError| format!("cannot parse {value:?} with format {format:?}: {e}");
    let nanos = if f.contains("%z") || f.contains("%:z") {
        DateTime::parse_from_str(value, &f)
            .map_err(error)?
            .timestamp_nanos_opt()
    } else {
        let offset_seconds = if f.contains("%Z") {
            zone_offset(value)
        } else {
            0
        };
        let local = match NaiveDateTime::parse_from_str(value, &f) {
            Ok(local) => local,
            Err(e) if e.kind() == chrono::format::ParseErrorKind::NotEnough => {
                NaiveDate::parse_from_str(value, &f)
                    .map_err(|_| error(e))?
                    .and_time(NaiveTime::MIN)
            }
            Err(e) => return Err(error(e)),
        };
        local
            .and_utc()
            .timestamp_nanos_opt()
            .and_then(|n| n.checked_sub(offset_seconds * 1_000_000_000))
    };
    nanos.ok_or_else(|| format!("{value:?} is out of the range of nanosecond times"))
}

/// The offset of the zone abbreviation in `value` (its last all-capitals word), in
/// seconds east of UTC: the fixed zones Go's `time.LoadLocation` knows by that name, else 0.
fn zone_offset(value: &str) -> i64 {
    let abbreviation = value
        .split(|c: char| !c.is_ascii_alphabetic())
        .rfind(|word| word.len() >= 2 && word.bytes().all(|b| b.is_ascii_uppercase()));
    match abbreviation {
        Some("EST") => -5 * 3600,
        Some("MST") => -7 * 3600,
        Some("HST") => -10 * 3600,
        _ => 0,
    }
}

/// Formats a time (UTC) with an OTTL format.
pub fn format_time(nanos: i64, format: &str) -> String {
    Utc.timestamp_nanos(nanos)
        .format(&chrono_format(format))
        .to_string()
}
