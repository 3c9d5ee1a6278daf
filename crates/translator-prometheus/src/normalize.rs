//! OTLP metric names → Prometheus metric names, as the Go `otlptranslator` (`MetricNamer`,
//! `UnitNamer`) builds them, and the reverse trimming the receivers offer
//! (`trim_metric_suffixes`, Go's `TrimPromSuffixes`).
//!
//! With suffixes and escaping (the default, `UnderscoreEscapingWithSuffixes`), a name is
//! split into tokens at every character outside `[a-zA-Z0-9:]` (so runs of `_` collapse),
//! the unit's suffix is appended unless a token already says it (`s`→`seconds`,
//! `By/s`→`bytes_per_second`, `{packets}` annotations dropped), then `total` for a monotonic
//! counter and `ratio` for a gauge of unit `1`, then the namespace in front, and a name
//! starting with a digit gets a `_` in front.
//!
//! ```
//! use tributary_translator_prometheus::normalize::{MetricNamer, MetricType, TranslationStrategy};
//!
//! let namer = MetricNamer::new("", TranslationStrategy::UnderscoreEscapingWithSuffixes);
//! assert_eq!(namer.build("http.server.duration", "s", MetricType::Histogram)?, "http_server_duration_seconds");
//! assert_eq!(namer.build("requests", "1", MetricType::MonotonicCounter)?, "requests_total");
//! assert_eq!(namer.build("cpu.utilization", "1", MetricType::Gauge)?, "cpu_utilization_ratio");
//! # Ok::<(), tributary_translator_prometheus::normalize::NameError>(())
//! ```

use std::fmt;
use std::str::FromStr;

/// The Prometheus-relevant kind of an OTLP metric, which decides the type suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// An OTLP gauge.
    Gauge,
    /// A monotonic sum: a Prometheus counter, named with `_total`.
    MonotonicCounter,
    /// A non-monotonic sum: a Prometheus gauge.
    NonMonotonicCounter,
    /// An explicit-bucket histogram.
    Histogram,
    /// An exponential histogram (a Prometheus native histogram).
    ExponentialHistogram,
    /// A summary.
    Summary,
    /// Anything else (Prometheus `unknown`/`untyped`).
    Unknown,
}

/// How OTLP names become Prometheus names: the Go `translation_strategy` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TranslationStrategy {
    /// Invalid characters become `_`; unit and type suffixes are added (the default).
    #[default]
    UnderscoreEscapingWithSuffixes,
    /// Invalid characters become `_`; no suffixes.
    UnderscoreEscapingWithoutSuffixes,
    /// Names keep their UTF-8 characters; unit and type suffixes are added.
    NoUTF8EscapingWithSuffixes,
    /// Names pass through unchanged.
    NoTranslation,
}

impl TranslationStrategy {
    /// Every strategy, in the order Go documents them.
    pub const ALL: [TranslationStrategy; 4] = [
        TranslationStrategy::UnderscoreEscapingWithSuffixes,
        TranslationStrategy::UnderscoreEscapingWithoutSuffixes,
        TranslationStrategy::NoUTF8EscapingWithSuffixes,
        TranslationStrategy::NoTranslation,
    ];

    /// The strategy as Go spells it in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            TranslationStrategy::UnderscoreEscapingWithSuffixes => "UnderscoreEscapingWithSuffixes",
            TranslationStrategy::UnderscoreEscapingWithoutSuffixes => {
                "UnderscoreEscapingWithoutSuffixes"
            }
            TranslationStrategy::NoUTF8EscapingWithSuffixes => "NoUTF8EscapingWithSuffixes",
            TranslationStrategy::NoTranslation => "NoTranslation",
        }
    }

    /// Whether unit and type suffixes are added.
    pub fn adds_suffixes(self) -> bool {
        matches!(
            self,
            TranslationStrategy::UnderscoreEscapingWithSuffixes
                | TranslationStrategy::NoUTF8EscapingWithSuffixes
        )
    }

    /// Whether characters outside the classic Prometheus name set become `_`.
    pub fn escapes(self) -> bool {
        matches!(
            self,
            TranslationStrategy::UnderscoreEscapingWithSuffixes
                | TranslationStrategy::UnderscoreEscapingWithoutSuffixes
        )
    }

    /// The strategy the older `add_metric_suffixes` flag stands for: escaping, with or
    /// without suffixes.
    pub fn from_add_metric_suffixes(add_metric_suffixes: bool) -> Self {
        if add_metric_suffixes {
            TranslationStrategy::UnderscoreEscapingWithSuffixes
        } else {
            TranslationStrategy::UnderscoreEscapingWithoutSuffixes
        }
    }
}

impl fmt::Display for TranslationStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `translation_strategy` that is none of the four Go knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid translation_strategy {0:?}: one of UnderscoreEscapingWithSuffixes, \
     UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes, NoTranslation"
)]
pub struct UnknownStrategy(pub String);

impl FromStr for TranslationStrategy {
    type Err = UnknownStrategy;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TranslationStrategy::ALL
            .into_iter()
            .find(|strategy| strategy.as_str() == text)
            .ok_or_else(|| UnknownStrategy(text.to_string()))
    }
}

/// A metric name that translates to nothing usable (empty, or only underscores), which Go
/// refuses too; the metric is dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("metric name {original:?} normalises to the invalid name {normalized:?}")]
pub struct NameError {
    /// The OTLP name.
    pub original: String,
    /// What normalising made of it.
    pub normalized: String,
}

/// Builds Prometheus metric names from OTLP ones: Go's `otlptranslator.MetricNamer`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricNamer {
    /// Put in front of every name, joined by `_` (the exporters' `namespace`).
    pub namespace: String,
    /// Add unit and type suffixes.
    pub with_suffixes: bool,
    /// Keep UTF-8 characters instead of escaping them to `_`.
    pub utf8_allowed: bool,
}

impl MetricNamer {
    /// A namer for `namespace` (may be empty) and `strategy`.
    pub fn new(namespace: impl Into<String>, strategy: TranslationStrategy) -> Self {
        MetricNamer {
            namespace: namespace.into(),
            with_suffixes: strategy.adds_suffixes(),
            utf8_allowed: !strategy.escapes(),
        }
    }

    /// The Prometheus name of an OTLP metric `name` of `unit` and `kind`.
    pub fn build(&self, name: &str, unit: &str, kind: MetricType) -> Result<String, NameError> {
        if self.utf8_allowed {
            let built = self.build_utf8(name, unit, kind);
            return if built.is_empty() {
                Err(NameError {
                    original: name.into(),
                    normalized: built,
                })
            } else {
                Ok(built)
            };
        }
        let built = if self.with_suffixes {
            normalize_name(name, unit, kind, &self.namespace)
        } else {
            let metric = join_valid_runs(name, is_name_char);
            if self.namespace.is_empty() {
                prefix_leading_digit(metric)
            } else {
                format!(
                    "{}_{metric}",
                    join_valid_runs(&self.namespace, is_name_char)
                )
            }
        };
        let invalid = built.is_empty() || (built != name && built.bytes().all(|b| b == b'_'));
        if invalid {
            return Err(NameError {
                original: name.into(),
                normalized: built,
            });
        }
        Ok(built)
    }

    /// Suffixes without escaping (`NoUTF8EscapingWithSuffixes`, `NoTranslation`): each
    /// suffix is trimmed and put back so it ends up once and in Go's order
    /// (`<name>_<unit>_<per unit>_total|_ratio`).
    fn build_utf8(&self, name: &str, unit: &str, kind: MetricType) -> String {
        let mut name = if self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}_{name}", self.namespace)
        };
        if !self.with_suffixes {
            return name;
        }
        let mut tail = Vec::new();
        if unit == "1" && kind == MetricType::Gauge {
            name = trim_suffix_and_delimiter(&name, "ratio");
            tail.push("ratio".to_string());
        }
        if kind == MetricType::MonotonicCounter {
            name = trim_suffix_and_delimiter(&name, "total");
            tail.push("total".to_string());
        }
        let (main, per) = unit_suffixes(unit);
        if !per.is_empty() {
            name = trim_suffix_and_delimiter(&name, &per);
            tail.push(per);
        }
        if !main.is_empty() && !name.ends_with(&main) {
            name = format!("{name}_{main}");
        }
        for suffix in tail.iter().rev() {
            name.push('_');
            name.push_str(suffix);
        }
        name
    }
}

/// The Prometheus unit an OTLP unit stands for, as `# UNIT` and name suffixes spell it
/// (Go's `UnitNamer.Build` with escaping): `s`→`seconds`, `By/s`→`bytes_per_second`,
/// `1`→``, `{requests}`→``.
pub fn unit_name(unit: &str) -> String {
    let (main, per) = unit_suffixes(unit);
    let (main, per) = (clean_up_unit(&main), clean_up_unit(&per));
    let joined = match (main.is_empty(), per.is_empty()) {
        (false, false) => format!("{main}_{per}"),
        (false, true) => main,
        _ => per,
    };
    joined.trim_matches('_').to_string()
}

/// `name` with the type and unit suffixes a Prometheus exposition adds taken off again
/// (Go's `TrimPromSuffixes`, for the receivers' `trim_metric_suffixes`): `_total` from a
/// counter (`is_counter`), then the tokens of `unit` (the Prometheus unit from `# UNIT`,
/// e.g. `seconds` or `ratio`) from the end. A name of one token is left alone.
///
/// ```
/// use tributary_translator_prometheus::normalize::trim_metric_suffixes;
///
/// assert_eq!(trim_metric_suffixes("http_duration_seconds_total", true, "seconds"), "http_duration");
/// assert_eq!(trim_metric_suffixes("cpu_ratio", false, "ratio"), "cpu");
/// assert_eq!(trim_metric_suffixes("seconds", false, "seconds"), "seconds");
/// ```
pub fn trim_metric_suffixes(name: &str, is_counter: bool, unit: &str) -> String {
    let mut tokens: Vec<&str> = name.split('_').collect();
    if tokens.len() == 1 {
        return name.to_string();
    }
    if is_counter && tokens.last() == Some(&"total") {
        tokens.pop();
    }
    let unit_tokens: Vec<&str> = unit.split('_').collect();
    if !unit.is_empty() && tokens.len() > unit_tokens.len() && tokens.ends_with(&unit_tokens) {
        tokens.truncate(tokens.len() - unit_tokens.len());
    }
    tokens.join("_")
}

/// Whether `name` is a classic Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// `name` made a classic metric name by escaping: each character outside
/// `[a-zA-Z0-9_:]` becomes `_`, and a leading digit gets a `_` in front. For names built
/// under a UTF-8 strategy, written for a scraper that did not ask for UTF-8.
pub fn escape_metric_name(name: &str) -> String {
    let escaped: String = name
        .chars()
        .map(|c| if is_name_char(c) || c == '_' { c } else { '_' })
        .collect();
    if escaped.is_empty() {
        return "_".into();
    }
    prefix_leading_digit(escaped)
}

/// The unit map of the Go `otlptranslator` (UCUM → Prometheus base unit words).
fn unit_map(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        _ => return None,
    })
}

/// The singular words of a "per" unit (`x/s` is `x_per_second`).
fn per_unit_map(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// The main and `per_...` suffixes of a unit, unescaped (Go's `buildUnitSuffixes`): the
/// unit splits at the first `/`; a part that is blank or holds `{` or `}` adds nothing.
fn unit_suffixes(unit: &str) -> (String, String) {
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main, Some(per)),
        None => (unit, None),
    };
    let annotation = |part: &str| part.contains(['{', '}']);
    let main = main.trim();
    let main_suffix = if main.is_empty() || annotation(main) {
        String::new()
    } else {
        unit_map(main).unwrap_or(main).to_string()
    };
    let per_suffix = match per.map(str::trim) {
        Some(per) if !per.is_empty() && !annotation(per) => {
            format!("per_{}", per_unit_map(per).unwrap_or(per))
        }
        _ => String::new(),
    };
    (main_suffix, per_suffix)
}

/// Go's `normalizeName`: the escaped name with suffixes.
fn normalize_name(name: &str, unit: &str, kind: MetricType, namespace: &str) -> String {
    let mut tokens: Vec<String> = name
        .split(|c: char| !is_name_char(c))
        .filter(|token| !token.is_empty())
        .map(str::to_string)
        .collect();
    let (main, per) = unit_suffixes(unit);
    add_unit_tokens(&mut tokens, clean_up_unit(&main), clean_up_unit(&per));
    if kind == MetricType::MonotonicCounter {
        tokens.retain(|token| token != "total");
        tokens.push("total".into());
    }
    if unit == "1" && kind == MetricType::Gauge {
        tokens.retain(|token| token != "ratio");
        tokens.push("ratio".into());
    }
    if !namespace.is_empty() {
        tokens.insert(0, namespace.to_string());
    }
    prefix_leading_digit(tokens.join("_"))
}

/// Go's `addUnitTokens`: each suffix is added unless a token already is it.
fn add_unit_tokens(tokens: &mut Vec<String>, main: String, per: String) {
    let mut main = if tokens.contains(&main) {
        String::new()
    } else {
        main
    };
    let per = if per == "per_" {
        String::new()
    } else {
        let per = per.strip_suffix('_').unwrap_or(&per).to_string();
        if tokens.contains(&per) {
            String::new()
        } else {
            per
        }
    };
    if !per.is_empty() {
        main = main.strip_suffix('_').unwrap_or(&main).to_string();
    }
    if !main.is_empty() {
        tokens.push(main);
    }
    if !per.is_empty() {
        tokens.push(per);
    }
}

/// Go's `cleanUpUnit`: invalid characters to `_`, runs of `_` collapsed, no leading `_`.
fn clean_up_unit(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    for c in unit.chars() {
        let c = if is_name_char(c) { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.strip_prefix('_').map(str::to_string).unwrap_or(out)
}

/// `name` without `_<suffix>` (or any one character and `suffix`) at its end, when
/// something would be left (Go's `trimSuffixAndDelimiter`).
fn trim_suffix_and_delimiter(name: &str, suffix: &str) -> String {
    if name.ends_with(suffix) && name.len() > suffix.len() + 1 {
        let cut = name.len() - suffix.len() - 1;
        if name.is_char_boundary(cut) {
            return name[..cut].to_string();
        }
    }
    name.to_string()
}

/// The runs of characters `valid` accepts, joined by `_` (Go's `FieldsFunc` + `Join`).
fn join_valid_runs(text: &str, valid: fn(char) -> bool) -> String {
    text.split(|c: char| !valid(c) && c != '_')
        .filter(|run| !run.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn prefix_leading_digit(name: String) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// `[a-zA-Z0-9:]`: the characters a metric name token keeps.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricType::*;

    fn escaped(name: &str, unit: &str, kind: MetricType) -> String {
        MetricNamer::new("", TranslationStrategy::UnderscoreEscapingWithSuffixes)
            .build(name, unit, kind)
            .unwrap()
    }

    #[test]
    fn unit_suffixes_follow_the_unit_map() {
        assert_eq!(
            escaped("system.io", "By", NonMonotonicCounter),
            "system_io_bytes"
        );
        assert_eq!(escaped("latency", "ms", Histogram), "latency_milliseconds");
        assert_eq!(escaped("temp", "Cel", Gauge), "temp_celsius");
        assert_eq!(escaped("freq", "Hz", Gauge), "freq_hertz");
        assert_eq!(escaped("mem", "MiBy", Gauge), "mem_mebibytes");
        assert_eq!(escaped("disk", "%", Gauge), "disk_percent");
        // An unknown unit is used as it is, cleaned.
        assert_eq!(escaped("x", "widgets", Gauge), "x_widgets");
        assert_eq!(escaped("x", "a.b", Gauge), "x_a_b");
    }

    #[test]
    fn per_units_annotations_and_unit_one() {
        assert_eq!(
            escaped("throughput", "By/s", Gauge),
            "throughput_bytes_per_second"
        );
        assert_eq!(escaped("requests", "1/s", Gauge), "requests_per_second");
        assert_eq!(
            escaped("requests", "{request}/s", Gauge),
            "requests_per_second"
        );
        assert_eq!(
            escaped("packets", "{packets}", MonotonicCounter),
            "packets_total"
        );
        assert_eq!(escaped("rate", "km/h", Gauge), "rate_km_per_hour");
        assert_eq!(escaped("x", "1/{call}", Gauge), "x");
        // `1`: nothing for a counter, `_ratio` for a gauge only.
        assert_eq!(
            escaped("cpu.utilization", "1", Gauge),
            "cpu_utilization_ratio"
        );
        assert_eq!(escaped("hits", "1", MonotonicCounter), "hits_total");
        assert_eq!(escaped("hits", "1", NonMonotonicCounter), "hits");
        assert_eq!(escaped("cache_ratio", "1", Gauge), "cache_ratio");
    }

    #[test]
    fn suffixes_already_in_the_name_are_not_repeated() {
        assert_eq!(
            escaped("duration_seconds", "s", Histogram),
            "duration_seconds"
        );
        assert_eq!(
            escaped("requests_total", "", MonotonicCounter),
            "requests_total"
        );
        // `total` moves to the end.
        assert_eq!(
            escaped("total_bytes", "By", MonotonicCounter),
            "bytes_total"
        );
        // Go compares the per unit with single tokens, so it is added again (kept as Go).
        assert_eq!(
            escaped("io_bytes_per_second", "By/s", Gauge),
            "io_bytes_per_second_per_second"
        );
    }

    #[test]
    fn escaping_collapses_and_prefixes_digits() {
        assert_eq!(
            escaped("http.server..request__size", "", Gauge),
            "http_server_request_size"
        );
        assert_eq!(escaped("2xx.count", "", Gauge), "_2xx_count");
        assert_eq!(escaped("ключ.temp", "", Gauge), "temp");
        assert_eq!(escaped("a:b", "", Gauge), "a:b");
        assert_eq!(escaped("_leading", "", Gauge), "leading");
        let err = MetricNamer::new("", TranslationStrategy::UnderscoreEscapingWithSuffixes)
            .build("...", "", Gauge)
            .unwrap_err();
        assert_eq!(err.original, "...");
    }

    #[test]
    fn namespace_goes_first() {
        let namer = MetricNamer::new("otel", TranslationStrategy::UnderscoreEscapingWithSuffixes);
        assert_eq!(
            namer.build("calls", "", MonotonicCounter).unwrap(),
            "otel_calls_total"
        );
        assert_eq!(namer.build("9lives", "", Gauge).unwrap(), "otel_9lives");
        let plain = MetricNamer::new(
            "my.ns",
            TranslationStrategy::UnderscoreEscapingWithoutSuffixes,
        );
        assert_eq!(
            plain.build("a.b", "s", MonotonicCounter).unwrap(),
            "my_ns_a_b"
        );
    }

    #[test]
    fn without_suffixes_keeps_underscores_and_adds_nothing() {
        let namer = MetricNamer::new("", TranslationStrategy::UnderscoreEscapingWithoutSuffixes);
        assert_eq!(
            namer.build("http.duration", "s", Histogram).unwrap(),
            "http_duration"
        );
        assert_eq!(
            namer.build("calls", "1", MonotonicCounter).unwrap(),
            "calls"
        );
        assert_eq!(namer.build("1st", "", Gauge).unwrap(), "_1st");
        assert!(namer.build("", "", Gauge).is_err());
    }

    #[test]
    fn utf8_strategies() {
        let suffixed = MetricNamer::new("", TranslationStrategy::NoUTF8EscapingWithSuffixes);
        assert_eq!(
            suffixed
                .build("http.server.duration", "s", Histogram)
                .unwrap(),
            "http.server.duration_seconds"
        );
        assert_eq!(
            suffixed.build("calls", "1", MonotonicCounter).unwrap(),
            "calls_total"
        );
        assert_eq!(
            suffixed.build("calls_total", "", MonotonicCounter).unwrap(),
            "calls_total"
        );
        assert_eq!(suffixed.build("load", "1", Gauge).unwrap(), "load_ratio");
        assert_eq!(
            suffixed.build("io", "By/s", MonotonicCounter).unwrap(),
            "io_bytes_per_second_total"
        );
        let none = MetricNamer::new("", TranslationStrategy::NoTranslation);
        assert_eq!(
            none.build("http.server.duration", "s", Histogram).unwrap(),
            "http.server.duration"
        );
    }

    #[test]
    fn strategies_parse_as_go_spells_them() {
        for strategy in TranslationStrategy::ALL {
            assert_eq!(
                strategy.as_str().parse::<TranslationStrategy>().unwrap(),
                strategy
            );
        }
        assert!(
            "underscoreescapingwithsuffixes"
                .parse::<TranslationStrategy>()
                .is_err()
        );
        assert_eq!(
            TranslationStrategy::from_add_metric_suffixes(false),
            TranslationStrategy::UnderscoreEscapingWithoutSuffixes
        );
    }

    #[test]
    fn unit_names() {
        assert_eq!(unit_name("s"), "seconds");
        assert_eq!(unit_name("By/s"), "bytes_per_second");
        assert_eq!(unit_name("1"), "");
        assert_eq!(unit_name("{packets}"), "");
        assert_eq!(unit_name("1/s"), "per_second");
    }

    #[test]
    fn trimming_reverses_the_suffixes() {
        assert_eq!(trim_metric_suffixes("requests_total", true, ""), "requests");
        assert_eq!(
            trim_metric_suffixes("requests_total", false, ""),
            "requests_total"
        );
        assert_eq!(
            trim_metric_suffixes("io_bytes_per_second", false, "bytes_per_second"),
            "io"
        );
        assert_eq!(
            trim_metric_suffixes("latency_seconds", false, "seconds"),
            "latency"
        );
        assert_eq!(
            trim_metric_suffixes("seconds_total", true, "seconds"),
            "seconds"
        );
        assert_eq!(trim_metric_suffixes("up", false, ""), "up");
    }

    #[test]
    fn metric_name_validity_and_escaping() {
        assert!(is_valid_metric_name("a:b_c1"));
        assert!(!is_valid_metric_name("1a"));
        assert!(!is_valid_metric_name("a.b"));
        assert!(!is_valid_metric_name(""));
        assert_eq!(
            escape_metric_name("http.server.duration"),
            "http_server_duration"
        );
        assert_eq!(escape_metric_name("1x"), "_1x");
    }

    proptest::proptest! {
        #[test]
        fn escaped_names_are_always_valid(name in "\\PC{0,20}", unit in "\\PC{0,6}") {
            for kind in [Gauge, MonotonicCounter, Histogram] {
                for strategy in [
                    TranslationStrategy::UnderscoreEscapingWithSuffixes,
                    TranslationStrategy::UnderscoreEscapingWithoutSuffixes,
                ] {
                    if let Ok(built) = MetricNamer::new("", strategy).build(&name, &unit, kind) {
                        proptest::prop_assert!(is_valid_metric_name(&built), "{built:?}");
                    }
                }
            }
        }
    }
}
