//! One OpenTSDB data point, checked as a TSD checks it before storing (`TSDB.addPoint`):
//! the timestamp's unit by its size, the value's type by its text, at least one and at
//! most `max_tags` tags, and the characters a name may hold. Shared by `/api/put` and the
//! telnet `put` command, so both refuse exactly the same points with the same words.

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::MetricsBuilder;

/// The scope the receiver's metrics carry.
pub const SCOPE_NAME: &str = "tributary/opentsdb";

/// OpenTSDB's default `tsd.storage.max_tags`.
pub const DEFAULT_MAX_TAGS: usize = 8;

/// A data point that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct DataPoint {
    /// The metric name.
    pub metric: String,
    /// When, in nanoseconds since the epoch.
    pub time_unix_nano: u64,
    /// The value, an integer or a float as its text said.
    pub value: PointValue,
    /// The tags, in the order they came.
    pub tags: Vec<(String, String)>,
}

/// A data point's value: OpenTSDB keeps integers and floats apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointValue {
    /// A value written without `.`, `e` or `E`: a Java long.
    Int(i64),
    /// Any other number.
    Float(f64),
}

/// Why a value's text is not a number, as Java's parsers word it (`put: invalid value:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidNumber(pub String);

/// The nanosecond time of an OpenTSDB timestamp: one that fits 32 bits is seconds, else it
/// must be milliseconds of 13 digits, as `TSDB.addPoint` decides.
pub fn timestamp_nanos(timestamp: i64) -> Result<u64, String> {
    const SECOND_MASK: i64 = !0xFFFF_FFFF;
    if timestamp <= 0 {
        return Err(format!("invalid timestamp: {timestamp}"));
    }
    if timestamp & SECOND_MASK == 0 {
        return Ok(timestamp as u64 * 1_000_000_000);
    }
    if (1_000_000_000_000..=9_999_999_999_999).contains(&timestamp) {
        return Ok(timestamp as u64 * 1_000_000);
    }
    Err(format!(
        "bad timestamp={timestamp}: seconds fit 32 bits, milliseconds have 13 digits"
    ))
}

/// A value's text as a number: a long when it has no `.`, `e` or `E` (OpenTSDB's
/// `looksLikeInteger`), else a float.
pub fn parse_value(text: &str) -> Result<PointValue, InvalidNumber> {
    if text.contains(['.', 'e', 'E']) {
        return text
            .parse::<f64>()
            .map(PointValue::Float)
            .map_err(|_| InvalidNumber(format!("For input string: \"{text}\"")));
    }
    parse_long(text).map(PointValue::Int)
}

/// A Java long in OpenTSDB's strict form: an optional sign, then digits only.
pub fn parse_long(text: &str) -> Result<i64, InvalidNumber> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if text.is_empty() {
        return Err(InvalidNumber("Empty string".into()));
    }
    if digits.is_empty() {
        return Err(InvalidNumber(format!("Just a sign, no value: {text}")));
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(InvalidNumber(format!("Invalid character '{c}' in {text}")));
    }
    text.parse::<i64>()
        .map_err(|_| InvalidNumber(format!("Overflow in {text}")))
}

/// Checks a metric, tag name or tag value (`what`) as `Tags.validateString` does: not
/// empty, and only ASCII letters and digits, `-_./` and Unicode letters.
pub fn validate_name(what: &str, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("Invalid {what}: empty string"));
    }
    match text.chars().find(|c| !name_char(*c)) {
        Some(c) => Err(format!(
            "Invalid {what} (\"{text}\"): illegal character: {c}"
        )),
        None => Ok(()),
    }
}

/// Whether OpenTSDB takes `c` in a metric or tag.
pub fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/') || c.is_alphabetic()
}

/// The checks `TSDB.addPoint` makes once the value is a number: a finite float, the
/// timestamp's range, the tag count and every name's characters.
pub fn check_point(
    metric: &str,
    timestamp: i64,
    value: PointValue,
    tags: Vec<(String, String)>,
    max_tags: usize,
) -> Result<DataPoint, String> {
    if let PointValue::Float(v) = value
        && !v.is_finite()
    {
        return Err(format!(
            "value is NaN or Infinite: {v} for metric={metric} timestamp={timestamp}"
        ));
    }
    let time_unix_nano = timestamp_nanos(timestamp)?;
    if tags.is_empty() {
        return Err(format!(
            "Need at least one tag (metric={metric}, tags={{}})"
        ));
    }
    if tags.len() > max_tags {
        return Err(format!(
            "Too many tags: {} maximum allowed: {max_tags}",
            tags.len()
        ));
    }
    validate_name("metric name", metric)?;
    for (key, value) in &tags {
        validate_name("tag name", key)?;
        validate_name("tag value", value)?;
    }
    Ok(DataPoint {
        metric: metric.to_string(),
        time_unix_nano,
        value,
        tags,
    })
}

/// The points as metrics: one gauge per point, its tags as attributes.
pub fn to_metrics(points: Vec<DataPoint>) -> Metrics {
    let mut builder = MetricsBuilder::new();
    if points.is_empty() {
        return builder.build();
    }
    builder.resource(Vec::new()).scope(SCOPE_NAME, "");
    for point in points {
        let attributes = point
            .tags
            .into_iter()
            .map(|(k, v)| key_value(k, v))
            .collect();
        let mut gauge = builder.gauge(&point.metric, "");
        match point.value {
            PointValue::Int(v) => gauge.int(attributes, point.time_unix_nano, v),
            PointValue::Float(v) => gauge.double(attributes, point.time_unix_nano, v),
        };
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_seconds_or_milliseconds_by_size() {
        assert_eq!(
            timestamp_nanos(1_346_846_400),
            Ok(1_346_846_400_000_000_000)
        );
        assert_eq!(
            timestamp_nanos(1_346_846_400_123),
            Ok(1_346_846_400_123_000_000)
        );
        assert_eq!(
            timestamp_nanos(4_294_967_295),
            Ok(4_294_967_295_000_000_000)
        );
        assert!(timestamp_nanos(4_294_967_296).is_err());
        assert!(timestamp_nanos(99_999_999_999_999).is_err());
        assert!(timestamp_nanos(0).is_err());
        assert!(timestamp_nanos(-5).is_err());
    }

    #[test]
    fn values_are_longs_unless_they_look_like_floats() {
        assert_eq!(parse_value("18"), Ok(PointValue::Int(18)));
        assert_eq!(parse_value("-3"), Ok(PointValue::Int(-3)));
        assert_eq!(parse_value("18.5"), Ok(PointValue::Float(18.5)));
        assert_eq!(parse_value("1e3"), Ok(PointValue::Float(1000.0)));
        assert_eq!(
            parse_value("12a"),
            Err(InvalidNumber("Invalid character 'a' in 12a".into()))
        );
        assert_eq!(
            parse_value("-"),
            Err(InvalidNumber("Just a sign, no value: -".into()))
        );
        assert!(parse_value("99999999999999999999").is_err());
        assert!(parse_value("1.x").is_err());
    }

    #[test]
    fn names_take_letters_digits_and_four_marks() {
        assert!(validate_name("metric name", "sys.cpu-0_a/b").is_ok());
        assert!(validate_name("metric name", "température").is_ok());
        assert_eq!(
            validate_name("tag value", "a b"),
            Err("Invalid tag value (\"a b\"): illegal character:  ".into())
        );
        assert!(validate_name("tag name", "").is_err());
    }

    #[test]
    fn point_checks_follow_add_point() {
        let tags = || vec![("host".to_string(), "web01".to_string())];
        assert!(check_point("m", 1, PointValue::Float(f64::NAN), tags(), 8).is_err());
        assert!(check_point("m", 1, PointValue::Int(1), vec![], 8).is_err());
        let many = (0..9).map(|i| (format!("k{i}"), "v".to_string())).collect();
        assert_eq!(
            check_point("m", 1, PointValue::Int(1), many, 8),
            Err("Too many tags: 9 maximum allowed: 8".into())
        );
        assert!(check_point("m m", 1, PointValue::Int(1), tags(), 8).is_err());
        let point = check_point("m", 2, PointValue::Int(1), tags(), 8).unwrap();
        assert_eq!(point.time_unix_nano, 2_000_000_000);
    }
}
