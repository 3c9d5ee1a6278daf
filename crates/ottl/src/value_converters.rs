//! Converters that are pure functions of their argument values, with nothing to prepare
//! at config time: string tests and trims, encodings, hashes, parts of times, numbers,
//! collections, URLs and UUIDs. Names, parameters and results follow
//! `pkg/ottl/ottlfuncs` (the golden tests in `tests/function_docs.rs` hold the examples).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{Datelike, TimeZone, Timelike, Utc};
use sha2::Digest;

use crate::ast::CompareOp;
use crate::eval::compare;
use crate::value::{Value, hex};

/// The converters of this module.
pub(crate) const NAMES: &[&str] = &[
    "HasPrefix",
    "HasSuffix",
    "TrimPrefix",
    "TrimSuffix",
    "IsEmpty",
    "IsInCIDR",
    "ContainsValue",
    "Coalesce",
    "Base64Encode",
    "Base64Decode",
    "Decode",
    "Year",
    "Month",
    "Day",
    "Hour",
    "Minute",
    "Second",
    "Nanosecond",
    "Weekday",
    "Unix",
    "TruncateTime",
    "SHA512",
    "Log",
    "IsValidLuhn",
    "ParseInt",
    "ToSnakeCase",
    "ToCamelCase",
    "Sort",
    "ToKeyValueString",
    "SliceToMap",
    "UUID",
    "UUIDv7",
    "URL",
];

type Params = (&'static str, &'static [(&'static str, bool)]);

/// The parameters of a converter of this module: names, and whether each is optional.
pub(crate) fn params(name: &str) -> Option<Params> {
    let value: &'static [(&'static str, bool)] = &[("value", false)];
    Some(match name {
        "HasPrefix" => ("HasPrefix", &[("value", false), ("prefix", false)]),
        "HasSuffix" => ("HasSuffix", &[("value", false), ("suffix", false)]),
        "TrimPrefix" => ("TrimPrefix", &[("value", false), ("prefix", false)]),
        "TrimSuffix" => ("TrimSuffix", &[("value", false), ("suffix", false)]),
        "IsEmpty" => ("IsEmpty", value),
        "IsInCIDR" => ("IsInCIDR", &[("target", false), ("networks", false)]),
        "ContainsValue" => ("ContainsValue", &[("target", false), ("item", false)]),
        "Coalesce" => ("Coalesce", &[("values", false)]),
        "Base64Encode" => ("Base64Encode", &[("value", false), ("variant", true)]),
        "Base64Decode" => ("Base64Decode", value),
        "Decode" => ("Decode", &[("value", false), ("encoding", false)]),
        "Year" => ("Year", value),
        "Month" => ("Month", value),
        "Day" => ("Day", value),
        "Hour" => ("Hour", value),
        "Minute" => ("Minute", value),
        "Second" => ("Second", value),
        "Nanosecond" => ("Nanosecond", value),
        "Weekday" => ("Weekday", value),
        "Unix" => ("Unix", &[("seconds", false), ("nanoseconds", true)]),
        "TruncateTime" => ("TruncateTime", &[("time", false), ("duration", false)]),
        "SHA512" => ("SHA512", &[("input", false)]),
        "Log" => ("Log", value),
        "IsValidLuhn" => ("IsValidLuhn", value),
        "ParseInt" => ("ParseInt", &[("target", false), ("base", false)]),
        "ToSnakeCase" => ("ToSnakeCase", &[("target", false)]),
        "ToCamelCase" => ("ToCamelCase", &[("target", false)]),
        "Sort" => ("Sort", &[("target", false), ("order", true)]),
        "ToKeyValueString" => (
            "ToKeyValueString",
            &[
                ("target", false),
                ("delimiter", true),
                ("pair_delimiter", true),
                ("sort_output", true),
            ],
        ),
        "SliceToMap" => (
            "SliceToMap",
            &[("target", false), ("keyPath", true), ("valuePath", true)],
        ),
        "UUID" => ("UUID", &[]),
        "UUIDv7" => ("UUIDv7", &[]),
        "URL" => ("URL", &[("url_string", false)]),
        _ => return None,
    })
}

/// Runs converter `name` on its argument values (an absent optional argument is nil).
pub(crate) fn run(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let mut args = args.into_iter();
    let mut next = || args.next().unwrap_or(Value::Nil);
    let string = |v: Value, what: &str| match v {
        Value::Str(s) => Ok(s),
        other => Err(format!(
            "{name}: {what} must be a string, got a {}",
            other.type_name()
        )),
    };
    let time = |v: Value| match v {
        Value::Time(t) => Ok(Utc.timestamp_nanos(t)),
        other => Err(format!(
            "{name}: expected a time.Time, got a {}",
            other.type_name()
        )),
    };
    Ok(match name {
        "HasPrefix" | "HasSuffix" => {
            let value = string(next(), "value")?;
            let affix = string(next(), "the affix")?;
            Value::Bool(if name == "HasPrefix" {
                value.starts_with(&affix)
            } else {
                value.ends_with(&affix)
            })
        }
        "TrimPrefix" | "TrimSuffix" => {
            let value = string(next(), "value")?;
            let affix = string(next(), "the affix")?;
            let trimmed = if name == "TrimPrefix" {
                value.strip_prefix(&affix)
            } else {
                value.strip_suffix(&affix)
            };
            Value::Str(trimmed.unwrap_or(&value).to_string())
        }
        "IsEmpty" => Value::Bool(match next() {
            Value::Nil => true,
            Value::Bool(b) => !b,
            Value::Int(i) => i == 0,
            Value::Float(f) => f == 0.0,
            Value::Str(s) => s.is_empty(),
            // Bytes, and trace/span IDs that are all zero (unset).
            Value::Bytes(b) => b.iter().all(|&x| x == 0),
            Value::Map(m) => m.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Time(t) => t == 0,
            Value::Duration(d) => d == 0,
        }),
        "IsInCIDR" => {
            let target = next();
            let Value::List(networks) = next() else {
                return Err("IsInCIDR: networks must be a list of CIDR strings".into());
            };
            let Value::Str(address) = target else {
                return Ok(Value::Bool(false));
            };
            let Ok(address) = address.parse::<std::net::IpAddr>() else {
                return Ok(Value::Bool(false));
            };
            let mut inside = false;
            for network in networks {
                let network = string(network, "a network")?;
                inside |= cidr_contains(&network, address)?;
            }
            Value::Bool(inside)
        }
        "ContainsValue" => {
            let Value::List(items) = next() else {
                return Err("ContainsValue: target must be a slice".into());
            };
            let item = next();
            Value::Bool(items.iter().any(|v| compare(v, CompareOp::Eq, &item)))
        }
        "Coalesce" => {
            let Value::List(values) = next() else {
                return Err("Coalesce: values must be a list".into());
            };
            values
                .into_iter()
                .find(|v| !matches!(v, Value::Nil))
                .unwrap_or(Value::Nil)
        }
        "Base64Encode" => {
            let bytes = match next() {
                Value::Str(s) => s.into_bytes(),
                Value::Bytes(b) => b,
                other => {
                    return Err(format!(
                        "Base64Encode: expected a string, got a {}",
                        other.type_name()
                    ));
                }
            };
            let variant = match next() {
                Value::Nil => "base64".to_string(),
                v => string(v, "variant")?,
            };
            Value::Str(base64_engine(&variant)?.encode(bytes))
        }
        "Base64Decode" => {
            let text = string(next(), "value")?;
            let bytes = STANDARD
                .decode(text.as_bytes())
                .map_err(|e| format!("Base64Decode: {e}"))?;
            Value::Str(String::from_utf8_lossy(&bytes).into_owned())
        }
        "Decode" => {
            let bytes = match next() {
                Value::Str(s) => s.into_bytes(),
                Value::Bytes(b) => b,
                other => {
                    return Err(format!(
                        "Decode: expected a string or bytes, got a {}",
                        other.type_name()
                    ));
                }
            };
            let encoding = string(next(), "encoding")?.to_ascii_lowercase();
            Value::Str(decode(&bytes, &encoding)?)
        }
        "Year" => Value::Int(time(next())?.year() as i64),
        "Month" => Value::Int(time(next())?.month() as i64),
        "Day" => Value::Int(time(next())?.day() as i64),
        "Hour" => Value::Int(time(next())?.hour() as i64),
        "Minute" => Value::Int(time(next())?.minute() as i64),
        "Second" => Value::Int(time(next())?.second() as i64),
        "Nanosecond" => Value::Int(time(next())?.nanosecond() as i64),
        "Weekday" => Value::Int(time(next())?.weekday().num_days_from_sunday() as i64),
        "Unix" => {
            let Value::Int(seconds) = next() else {
                return Err("Unix: seconds must be an int64".into());
            };
            let nanos = match next() {
                Value::Nil => 0,
                Value::Int(n) => n,
                _ => return Err("Unix: nanoseconds must be an int64".into()),
            };
            seconds
                .checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(nanos))
                .map(Value::Time)
                .ok_or("Unix: the time is out of range")?
        }
        "TruncateTime" => {
            let Value::Time(t) = next() else {
                return Err("TruncateTime: time must be a time.Time".into());
            };
            let Value::Duration(d) = next() else {
                return Err("TruncateTime: duration must be a time.Duration".into());
            };
            Value::Time(truncate_time(t, d))
        }
        "SHA512" => Value::Str(hex(&sha2::Sha512::digest(
            string(next(), "input")?.as_bytes(),
        ))),
        "Log" => {
            let x = match next() {
                Value::Float(f) => f,
                Value::Int(i) => i as f64,
                Value::Bool(b) => b as i64 as f64,
                Value::Str(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("Log: {s:?} is not a number"))?,
                other => return Err(format!("Log: cannot take a {}", other.type_name())),
            };
            if x <= 0.0 {
                return Err(format!("Log: the logarithm of {x} is undefined"));
            }
            Value::Float(x.ln())
        }
        "IsValidLuhn" => {
            let digits = match next() {
                Value::Int(i) if i >= 0 => i.to_string(),
                Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s,
                other => {
                    return Err(format!(
                        "IsValidLuhn: expected digits or a non-negative int, got {}",
                        other.to_display()
                    ));
                }
            };
            Value::Bool(luhn(&digits))
        }
        "ParseInt" => {
            let text = string(next(), "target")?;
            let Value::Int(base) = next() else {
                return Err("ParseInt: base must be an int64".into());
            };
            Value::Int(parse_int(&text, base)?)
        }
        "ToSnakeCase" => Value::Str(crate::funcs::snake(&string(next(), "target")?)),
        "ToCamelCase" => Value::Str(crate::funcs::camel(&string(next(), "target")?)),
        "Sort" => {
            let Value::List(items) = next() else {
                return Err("Sort: target must be a slice".into());
            };
            let descending = match next() {
                Value::Nil => false,
                v => match string(v, "order")?.as_str() {
                    "asc" => false,
                    "desc" => true,
                    other => {
                        return Err(format!("Sort: order must be asc or desc, not {other:?}"));
                    }
                },
            };
            Value::List(sort(items, descending)?)
        }
        "ToKeyValueString" => {
            let Value::Map(map) = next() else {
                return Err("ToKeyValueString: target must be a map".into());
            };
            let delimiter = optional_string(next(), "=", "delimiter")?;
            let pair_delimiter = optional_string(next(), " ", "pair_delimiter")?;
            if delimiter == pair_delimiter {
                return Err("ToKeyValueString: delimiter and pair_delimiter must differ".into());
            }
            let sorted = matches!(next(), Value::Bool(true));
            Value::Str(key_value_string(map, &delimiter, &pair_delimiter, sorted))
        }
        "SliceToMap" => {
            let Value::List(items) = next() else {
                return Err("SliceToMap: target must be a slice".into());
            };
            let key_path = path_arg(next(), "keyPath")?;
            let value_path = path_arg(next(), "valuePath")?;
            Value::Map(slice_to_map(items, &key_path, &value_path)?)
        }
        "UUID" => Value::Str(uuid::Uuid::new_v4().to_string()),
        "UUIDv7" => Value::Str(uuid::Uuid::now_v7().to_string()),
        "URL" => Value::Map(url_parts(&string(next(), "url_string")?)?),
        other => unreachable!("converter {other} is compiled but not implemented"),
    })
}

fn optional_string(v: Value, default: &str, what: &str) -> Result<String, String> {
    match v {
        Value::Nil => Ok(default.to_string()),
        Value::Str(s) if !s.is_empty() => Ok(s),
        other => Err(format!(
            "{what} must be a non-empty string, got {}",
            other.to_display()
        )),
    }
}

fn path_arg(v: Value, what: &str) -> Result<Vec<String>, String> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(l) => l
            .into_iter()
            .map(|k| match k {
                Value::Str(s) => Ok(s),
                other => Err(format!(
                    "SliceToMap: {what} holds a {}, not a string",
                    other.type_name()
                )),
            })
            .collect(),
        other => Err(format!(
            "SliceToMap: {what} must be a list of strings, got a {}",
            other.type_name()
        )),
    }
}

fn base64_engine(variant: &str) -> Result<&'static base64::engine::GeneralPurpose, String> {
    Ok(match variant {
        "base64" => &STANDARD,
        "base64-raw" => &STANDARD_NO_PAD,
        "base64-url" => &URL_SAFE,
        "base64-raw-url" => &URL_SAFE_NO_PAD,
        other => {
            return Err(format!(
                "unknown base64 variant {other:?} (base64, base64-raw, base64-url, base64-raw-url)"
            ));
        }
    })
}

/// Go's `Decode`: the base64 variants, and the character sets that need no table (UTF-8,
/// US-ASCII, ISO-8859-1); any other IANA name is an error that names it.
fn decode(bytes: &[u8], encoding: &str) -> Result<String, String> {
    if encoding.starts_with("base64") {
        let decoded = base64_engine(encoding)?
            .decode(bytes)
            .map_err(|e| format!("Decode: {e}"))?;
        return Ok(String::from_utf8_lossy(&decoded).into_owned());
    }
    Ok(match encoding {
        "utf-8" | "utf8" => String::from_utf8_lossy(bytes).into_owned(),
        "us-ascii" | "ascii" => bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
            .collect(),
        "iso-8859-1" | "latin1" | "iso_8859-1" => bytes.iter().map(|&b| b as char).collect(),
        other => return Err(format!("Decode: the encoding {other:?} is not supported")),
    })
}

/// Whether `network` (`a.b.c.d/n` or an IPv6 CIDR) holds `address`.
fn cidr_contains(network: &str, address: std::net::IpAddr) -> Result<bool, String> {
    use std::net::IpAddr;
    let bad = || format!("IsInCIDR: {network:?} is not a CIDR network");
    let (base, bits) = network.split_once('/').ok_or_else(bad)?;
    let base: IpAddr = base.parse().map_err(|_| bad())?;
    let bits: u32 = bits.parse().map_err(|_| bad())?;
    Ok(match (base, address) {
        (IpAddr::V4(base), IpAddr::V4(address)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(base) & mask == u32::from(address) & mask
        }
        (IpAddr::V6(base), IpAddr::V6(address)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(base) & mask == u128::from(address) & mask
        }
        (IpAddr::V4(_), _) if bits > 32 => return Err(bad()),
        (IpAddr::V6(_), _) if bits > 128 => return Err(bad()),
        _ => false,
    })
}

/// Go's `time.Truncate`: down to a multiple of `d` since Go's zero time (year 1), not
/// since the Unix epoch — the two differ for durations that do not divide a day.
fn truncate_time(t: i64, d: i64) -> i64 {
    if d <= 0 {
        return t;
    }
    const ZERO_TO_UNIX: i128 = 62_135_596_800 * 1_000_000_000;
    let since_zero = t as i128 + ZERO_TO_UNIX;
    (t as i128 - since_zero.rem_euclid(d as i128)) as i64
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Go's `strconv.ParseInt(text, base, 64)`: base 0 reads a `0b`, `0o`, `0` or `0x`
/// prefix and allows underscores between digits.
fn parse_int(text: &str, base: i64) -> Result<i64, String> {
    let bad = || format!("ParseInt: cannot parse {text:?} in base {base}");
    if base < 0 || base == 1 || base > 36 {
        return Err(format!("ParseInt: invalid base {base}"));
    }
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if base == 0 {
        let lower = unsigned.to_ascii_lowercase();
        let (radix, skip) = if lower.starts_with("0x") {
            (16, 2)
        } else if lower.starts_with("0b") {
            (2, 2)
        } else if lower.starts_with("0o") {
            (8, 2)
        } else if lower.starts_with('0') && lower.len() > 1 {
            (8, 1)
        } else {
            (10, 0)
        };
        let digits = &unsigned[skip..];
        // Underscores only between digits (or after the prefix), as Go's literals.
        if digits.starts_with('_') && skip == 0 || digits.ends_with('_') || digits.contains("__") {
            return Err(bad());
        }
        (radix, digits.replace('_', ""))
    } else {
        (base as u32, unsigned.to_string())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(bad());
    }
    let magnitude = u64::from_str_radix(&digits, radix).map_err(|_| bad())?;
    if negative {
        0i64.checked_sub_unsigned(magnitude).ok_or_else(bad)
    } else {
        i64::try_from(magnitude).map_err(|_| bad())
    }
}

/// Go's `Sort`: numbers as numbers (ints and doubles together as doubles, types kept),
/// strings as strings, and booleans or mixed kinds by their string forms.
fn sort(mut items: Vec<Value>, descending: bool) -> Result<Vec<Value>, String> {
    let number = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    if items.iter().all(|v| number(v).is_some()) {
        items.sort_by(|a, b| number(a).unwrap().total_cmp(&number(b).unwrap()));
    } else if items.iter().all(|v| {
        matches!(
            v,
            Value::Str(_) | Value::Bool(_) | Value::Int(_) | Value::Float(_)
        )
    }) {
        items.sort_by_key(Value::to_display);
    } else {
        return Err("Sort: only ints, doubles, strings and booleans can be sorted".into());
    }
    if descending {
        items.reverse();
    }
    Ok(items)
}

fn key_value_string(
    mut map: Vec<(String, Value)>,
    delimiter: &str,
    pair_delimiter: &str,
    sorted: bool,
) -> String {
    if sorted {
        map.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let quote = |text: String| {
        if text.contains(delimiter) || text.contains(pair_delimiter) {
            format!("\"{}\"", text.replace('"', "\\\""))
        } else {
            text
        }
    };
    map.into_iter()
        .map(|(k, v)| format!("{}{delimiter}{}", quote(k), quote(v.to_display())))
        .collect::<Vec<_>>()
        .join(pair_delimiter)
}

fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    })
}

fn slice_to_map(
    items: Vec<Value>,
    key_path: &[String],
    value_path: &[String],
) -> Result<Vec<(String, Value)>, String> {
    let mut out: Vec<(String, Value)> = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let key = if key_path.is_empty() {
            index.to_string()
        } else {
            match lookup(&item, key_path) {
                Some(Value::Str(k)) => k.clone(),
                _ => {
                    return Err(format!(
                        "SliceToMap: item {index} has no string at keyPath {key_path:?}"
                    ));
                }
            }
        };
        let value = if value_path.is_empty() {
            item
        } else {
            lookup(&item, value_path).cloned().ok_or_else(|| {
                format!("SliceToMap: item {index} has no value at valuePath {value_path:?}")
            })?
        };
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

/// Go's `URL`: the parts of a URL under the semantic-convention `url.*` names; `original`,
/// `scheme`, `domain` and `path` always, the others when present.
fn url_parts(text: &str) -> Result<Vec<(String, Value)>, String> {
    let url = url::Url::parse(text).map_err(|e| format!("URL: {text:?}: {e}"))?;
    let mut parts = vec![
        ("url.original".to_string(), Value::Str(text.to_string())),
        ("url.scheme".into(), Value::Str(url.scheme().to_string())),
        (
            "url.domain".into(),
            Value::Str(url.host_str().unwrap_or_default().to_string()),
        ),
    ];
    // Go keeps the path as written: none after the host is "", where the url crate
    // normalises it to "/".
    let after_authority = text
        .split_once("://")
        .map_or(text, |(_, rest)| rest)
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let path = if after_authority.contains('/') {
        url.path().to_string()
    } else {
        String::new()
    };
    if let Some(extension) = path
        .rsplit('/')
        .next()
        .and_then(|file| file.rsplit_once('.'))
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty())
    {
        parts.push(("url.extension".into(), Value::Str(extension.to_string())));
    }
    parts.push(("url.path".into(), Value::Str(path)));
    if let Some(fragment) = url.fragment().filter(|f| !f.is_empty()) {
        parts.push(("url.fragment".into(), Value::Str(fragment.to_string())));
    }
    if let Some(query) = url.query().filter(|q| !q.is_empty()) {
        parts.push(("url.query".into(), Value::Str(query.to_string())));
    }
    if let Some(port) = url.port_or_known_default().filter(|_| has_port(text)) {
        parts.push(("url.port".into(), Value::Int(port as i64)));
    }
    if !url.username().is_empty() {
        let user = url.username().to_string();
        let user_info = match url.password() {
            Some(password) => {
                parts.push(("url.password".into(), Value::Str(password.to_string())));
                format!("{user}:{password}")
            }
            None => user.clone(),
        };
        parts.push(("url.user_info".into(), Value::Str(user_info)));
        parts.push(("url.username".into(), Value::Str(user)));
    }
    Ok(parts)
}

/// Whether the authority of `text` names a port (the url crate drops a scheme's default).
fn has_port(text: &str) -> bool {
    let authority = text
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    // An IPv6 host is bracketed: a port follows the closing bracket.
    let port = match host_port.rsplit_once(']') {
        Some((_, rest)) => rest.strip_prefix(':'),
        None => host_port.rsplit_once(':').map(|(_, port)| port),
    };
    port.is_some_and(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_time_counts_from_go_zero_time() {
        let hour = 3_600_000_000_000;
        // 1970-01-01 is 7200 s past a multiple of 7 h counted from year 1.
        assert_eq!(truncate_time(0, 7 * hour), -7_200_000_000_000);
        assert_eq!(truncate_time(5 * hour + 3, hour), 5 * hour);
        assert_eq!(truncate_time(-1, hour), -hour);
    }

    #[test]
    fn parse_int_follows_strconv() {
        assert_eq!(parse_int("0777", 0), Ok(511));
        assert_eq!(parse_int("1_000", 0), Ok(1000));
        assert!(parse_int("1_000", 10).is_err());
        assert!(parse_int("_1", 0).is_err());
        assert!(parse_int("1__0", 0).is_err());
        assert!(parse_int("--1", 10).is_err());
        assert_eq!(parse_int("-9223372036854775808", 10), Ok(i64::MIN));
        assert!(parse_int("9223372036854775808", 10).is_err());
        assert!(parse_int("z", 36).is_ok());
        assert!(parse_int("1", 37).is_err());
    }

    #[test]
    fn cidrs_match_v4_and_v6_and_refuse_nonsense() {
        let ip = |s: &str| s.parse().unwrap();
        assert_eq!(cidr_contains("10.0.0.0/8", ip("10.9.9.9")), Ok(true));
        assert_eq!(cidr_contains("10.0.0.0/8", ip("11.0.0.1")), Ok(false));
        assert_eq!(cidr_contains("0.0.0.0/0", ip("1.2.3.4")), Ok(true));
        assert_eq!(cidr_contains("2001:db8::/32", ip("2001:db8::1")), Ok(true));
        assert_eq!(cidr_contains("2001:db8::/32", ip("10.0.0.1")), Ok(false));
        assert!(cidr_contains("10.0.0.0/33", ip("10.0.0.1")).is_err());
        assert!(cidr_contains("10.0.0.0", ip("10.0.0.1")).is_err());
    }

    #[test]
    fn ports_are_reported_only_when_written() {
        assert!(has_port("http://h:80/x"));
        assert!(!has_port("http://h/x"));
        assert!(has_port("http://u:p@h:8080"));
        assert!(!has_port("http://u:p@h"));
        assert!(has_port("http://[::1]:9000/"));
        assert!(!has_port("http://[::1]/"));
    }
}
