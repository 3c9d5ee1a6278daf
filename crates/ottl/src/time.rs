//! Time values: Go-style rendering, `Duration` strings, and the ctime-style directives
//! of OTTL's `Time` and `FormatTime` (mapped onto chrono's, which cover the same set).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use jiff::tz::TimeZone;

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

/// Loads `Time`'s `location` as Go's `time.LoadLocation` does: `""` and `"UTC"` are UTC,
/// `"Local"` the system's zone, any other name an IANA zone of the system's time zone
/// database (`America/New_York`).
pub fn load_location(name: &str) -> Result<TimeZone, String> {
    match name {
        "" | "UTC" => Ok(TimeZone::UTC),
        "Local" => TimeZone::try_system().map_err(|e| format!("the system time zone: {e}")),
        name => TimeZone::get(name).map_err(|e| format!("unknown time zone {name:?}: {e}")),
    }
}

/// Parses a time with an OTTL format. A time without a zone in the format is read in
/// `location` (UTC when `None`), as Go's `time.ParseInLocation`: a local time that a
/// daylight-saving change skips or repeats takes Go's choice (the offset after a skip, the
/// earlier of two). A format without a time of day means midnight
/// (`Time("02/04/2023", "%m/%d/%Y")`).
///
/// A zone abbreviation (`%Z`) is read as Go's OTTL reads it: one that `location` uses (in
/// the same year) gives its offset there; else one that names a fixed zone of the
/// time-zone database (`UTC`, `GMT`, `EST`, `MST`, `HST`) gives that zone's offset, any
/// other a zero offset. A numeric offset (`%z`) beside it wins.
pub fn parse_time(value: &str, format: &str, location: Option<&TimeZone>) -> Result<i64, String> {
    let f = chrono_format(format);
    let error =
        |e: chrono::ParseError| format!("cannot parse {value:?} with format {format:?}: {e}");
    let out_of_range = || format!("{value:?} is out of the range of nanosecond times");
    if f.contains("%z") || f.contains("%:z") {
        return DateTime::parse_from_str(value, &f)
            .map_err(error)?
            .timestamp_nanos_opt()
            .ok_or_else(out_of_range);
    }
    let local = match NaiveDateTime::parse_from_str(value, &f) {
        Ok(local) => local,
        Err(e) if e.kind() == chrono::format::ParseErrorKind::NotEnough => {
            NaiveDate::parse_from_str(value, &f)
                .map_err(|_| error(e))?
                .and_time(NaiveTime::MIN)
        }
        Err(e) => return Err(error(e)),
    };
    let local_seconds = local.and_utc().timestamp();
    let offset_seconds = match (f.contains("%Z"), location) {
        (true, location) => location
            .and_then(|zone| abbreviation_offset(zone, value, local_seconds))
            .unwrap_or_else(|| zone_offset(value)),
        (false, Some(zone)) => local_seconds - local_to_utc(zone, local_seconds),
        (false, None) => 0,
    };
    local
        .and_utc()
        .timestamp_nanos_opt()
        .and_then(|n| n.checked_sub(offset_seconds.checked_mul(1_000_000_000)?))
        .ok_or_else(out_of_range)
}

/// The offset of `zone` at an instant, in seconds east of UTC.
fn offset_at(zone: &TimeZone, utc_seconds: i64) -> i64 {
    jiff::Timestamp::from_second(utc_seconds).map_or(0, |t| i64::from(zone.to_offset(t).seconds()))
}

/// The UTC seconds of a local time (as seconds since the epoch of the local calendar) in
/// `zone`, by Go's `time.Date`: the offset in effect at the local time read as UTC, unless
/// the instant it gives lies outside that offset's span, then the offset at that instant.
fn local_to_utc(zone: &TimeZone, local_seconds: i64) -> i64 {
    let guess = offset_at(zone, local_seconds);
    let utc = local_seconds - guess;
    let at_utc = offset_at(zone, utc);
    if at_utc == guess {
        utc
    } else {
        local_seconds - at_utc
    }
}

/// The offset `zone` has under the zone abbreviation in `value` (its last all-capitals
/// word) around the local time, as Go's `Location.lookupName`: at that time, or half a
/// year before or after (the other side of a daylight-saving change).
fn abbreviation_offset(zone: &TimeZone, value: &str, local_seconds: i64) -> Option<i64> {
    let abbreviation = abbreviation(value)?;
    const HALF_YEAR: i64 = 182 * 86_400;
    [0, -HALF_YEAR, HALF_YEAR].into_iter().find_map(|shift| {
        let instant = local_to_utc(zone, local_seconds + shift);
        let info = zone.to_offset_info(jiff::Timestamp::from_second(instant).ok()?);
        (info.abbreviation() == abbreviation).then(|| i64::from(info.offset().seconds()))
    })
}

/// The zone abbreviation in a time's text: its last all-capitals word of two letters or more.
fn abbreviation(value: &str) -> Option<&str> {
    value
        .split(|c: char| !c.is_ascii_alphabetic())
        .rfind(|word| word.len() >= 2 && word.bytes().all(|b| b.is_ascii_uppercase()))
}

/// The offset of the zone abbreviation in `value` (its last all-capitals word), in
/// seconds east of UTC: the fixed zones Go's `time.LoadLocation` knows by that name, else 0.
fn zone_offset(value: &str) -> i64 {
    match abbreviation(value) {
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
