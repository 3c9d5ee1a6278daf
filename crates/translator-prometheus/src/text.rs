//! The Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text, parsed into
//! [`Family`]s: our own line parser (no crate is strong enough, see the crate docs).
//!
//! One pass over the lines, bounded by [`Limits`]; every error names its line. Samples are
//! grouped into the family whose `# TYPE` (or `# HELP`/`# UNIT`) came last when their name is
//! that family's name plus one of its type's suffixes (`_bucket`, `_count`, `_sum`,
//! `_created`, `_total`, `_gcount`, `_gsum`, `_info`); any other sample starts an `unknown`
//! family of its own name, as Prometheus does with untyped samples.

use std::fmt;

/// Which text format an exposition is written in (chosen by the scrape's `Content-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`: timestamps in milliseconds, no `# EOF`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`: timestamps in seconds, exemplars,
    /// `# UNIT`, and a mandatory final `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header names: OpenMetrics for
    /// `application/openmetrics-text`, else the 0.0.4 text format (Prometheus's fallback too).
    pub fn from_content_type(content_type: &str) -> Format {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// A metric family's type, as `# TYPE` declares it (`untyped` reads as [`Unknown`](Self::Unknown)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
    /// `unknown`, `untyped`, or no `# TYPE` at all.
    Unknown,
}

impl MetricType {
    /// The name `# TYPE` uses for it (OpenMetrics spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    fn parse(word: &str, format: Format) -> Option<MetricType> {
        Some(match word {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" if format == Format::Text => MetricType::Unknown,
            "unknown" => MetricType::Unknown,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            _ => return None,
        })
    }

    /// The suffixes a sample name may add to its family's name.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created", ""],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricType::Summary => &["_count", "_sum", "_created", ""],
            MetricType::Info => &["_info", ""],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }
}

/// An OpenMetrics exemplar: `# {trace_id="..."} 0.67 1520879607.789` after a sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Its labels (usually `trace_id` and `span_id`).
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in milliseconds since the Unix epoch, when given.
    pub timestamp_ms: Option<i64>,
}

/// One sample line: a name, its labels, a value and an optional timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample's name, suffix included (`http_requests_total`, `latency_bucket`).
    pub name: String,
    /// Its labels in the order written.
    pub labels: Vec<(String, String)>,
    /// Its value; a stale marker is the NaN [`STALE_NAN_BITS`].
    pub value: f64,
    /// Its timestamp in milliseconds since the Unix epoch, when given.
    pub timestamp_ms: Option<i64>,
    /// Its exemplar, when given (OpenMetrics).
    pub exemplar: Option<Exemplar>,
}

impl Sample {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A metric family: its name, type, metadata and samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The family's name (`# TYPE` name; for an untyped sample, the sample's name).
    pub name: String,
    /// Its type.
    pub metric_type: MetricType,
    /// `# HELP`, unescaped.
    pub help: Option<String>,
    /// `# UNIT` (OpenMetrics).
    pub unit: Option<String>,
    /// Its samples in the order written.
    pub samples: Vec<Sample>,
}

impl Family {
    /// An empty family.
    pub fn new(name: impl Into<String>, metric_type: MetricType) -> Self {
        Family {
            name: name.into(),
            metric_type,
            help: None,
            unit: None,
            samples: Vec::new(),
        }
    }
}

/// The bit pattern of Prometheus's staleness marker, a NaN no computation produces.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `value` is Prometheus's staleness marker (and not any other NaN).
pub fn is_stale_nan(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// The staleness marker as a float.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Bounds on what one exposition may hold; past any of them parsing stops with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line, in bytes.
    pub max_line_bytes: usize,
    /// The most labels on one sample.
    pub max_labels: usize,
    /// The longest label name or value, and metric name, in bytes.
    pub max_label_bytes: usize,
    /// The most samples in one exposition (0: no bound but the input's size).
    pub max_samples: usize,
}

impl Default for Limits {
    /// 1 MiB lines, 512 labels, 64 KiB names and values, any number of samples.
    fn default() -> Self {
        Limits {
            max_line_bytes: 1 << 20,
            max_labels: 512,
            max_label_bytes: 64 << 10,
            max_samples: 0,
        }
    }
}

/// Why an exposition could not be read, with the (1-based) line at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line at fault (1-based); 0 for the input as a whole.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one exposition. Families come out in the order written; see the module docs for
/// how samples are grouped.
///
/// ```
/// use tributary_translator_prometheus::text::{parse, Format, Limits, MetricType};
///
/// let text = "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1027\n";
/// let families = parse(text.as_bytes(), Format::Text, &Limits::default()).unwrap();
/// assert_eq!(families[0].metric_type, MetricType::Counter);
/// assert_eq!(families[0].samples[0].value, 1027.0);
/// ```
pub fn parse(input: &[u8], format: Format, limits: &Limits) -> Result<Vec<Family>, ParseError> {
    parse_with(input, format, limits, None)
}

/// A per-source cache the parser offers each text 0.0.4 sample to before reading its
/// labels (see [`parse_with`]): a scraper that has seen a series' text before knows its
/// labels already, and takes the sample from its text, value and timestamp alone.
pub trait KnownSeries {
    /// Offered a sample of `family` (its samples taken so far are not in it) whose series
    /// (its name and `{labels}`, exactly as written) is `series`. Returns whether it took
    /// the sample: the parser then builds nothing for it. Take only a text reported by
    /// [`missed`](Self::missed) in an earlier parse: the parser checks nothing inside the
    /// braces of a sample taken.
    ///
    /// `family_index` numbers the families of one parse in the order they start (a cache
    /// of what was worked out per family may go by it within one parse).
    fn take(
        &mut self,
        family: &Family,
        family_index: usize,
        series: &str,
        value: f64,
        timestamp_ms: Option<i64>,
    ) -> bool;

    /// A sample was read in full (and pushed to its family's samples): `series` is where
    /// its series text lies in the input (`None` for one never offered: OpenMetrics, a
    /// quoted UTF-8 name). Called in the order the samples were pushed.
    fn missed(&mut self, series: Option<std::ops::Range<usize>>);
}

/// [`parse`], offering each sample to `known` first (text 0.0.4 only; OpenMetrics samples
/// are all read in full and reported as [`missed`](KnownSeries::missed)). Families come
/// out as from `parse`, without the samples `known` took; with `known`, a family left
/// without samples (all taken, or metadata alone) is left out, and its name and help
/// buffers serve the next family.
pub fn parse_with(
    input: &[u8],
    format: Format,
    limits: &Limits,
    mut known: Option<&mut dyn KnownSeries>,
) -> Result<Vec<Family>, ParseError> {
    let text = std::str::from_utf8(input).map_err(|e| ParseError {
        line: 1 + input[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        message: "not valid UTF-8".into(),
    })?;
    let mut parser = Parser {
        format,
        limits,
        families: Vec::new(),
        current: None,
        keep_empty: known.is_none(),
        spare_name: String::new(),
        spare_help: String::new(),
        taken: 0,
        started: 0,
        samples: 0,
        named_by_comment: false,
    };
    let mut eof = false;
    // Where the current line starts; the line a final `\n` leaves empty (the one that
    // starts at the end) is not counted as a blank line by either format.
    let mut offset = 0;
    for (index, line) in lines(text).enumerate() {
        let number = index + 1;
        let last = offset + line.len() == text.len();
        offset += line.len() + 1;
        let err = |message: String| ParseError {
            line: number,
            message,
        };
        if line.len() > limits.max_line_bytes {
            return Err(err(format!(
                "line longer than {} bytes",
                limits.max_line_bytes
            )));
        }
        if eof {
            if line.is_empty() && last {
                break;
            }
            return Err(err("content after # EOF".into()));
        }
        let line = match format {
            // Prometheus's text parser takes `\r\n` and surrounding blanks.
            Format::Text => line.trim_matches(|c| c == ' ' || c == '\t' || c == '\r'),
            Format::OpenMetrics => line,
        };
        if line.is_empty() {
            if format == Format::OpenMetrics && !last {
                return Err(err("empty line (OpenMetrics allows none)".into()));
            }
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if format == Format::OpenMetrics && comment == " EOF" {
                eof = true;
                continue;
            }
            parser.comment(comment).map_err(err)?;
        } else {
            let at = line.as_ptr() as usize - text.as_ptr() as usize;
            parser.sample(line, at, known.as_deref_mut()).map_err(err)?;
        }
    }
    if format == Format::OpenMetrics && !eof {
        return Err(ParseError {
            line: 0,
            message: "OpenMetrics exposition does not end with # EOF".into(),
        });
    }
    parser.finish();
    Ok(parser.families)
}

struct Parser<'a> {
    format: Format,
    limits: &'a Limits,
    families: Vec<Family>,
    /// The family samples are added to while their names fit it.
    current: Option<Family>,
    /// Whether a family without samples is returned (not with a [`KnownSeries`]).
    keep_empty: bool,
    /// The buffers of the last family left out, for the next one's name and help: with a
    /// [`KnownSeries`] most families are, and a scrape allocates nothing per family.
    spare_name: String,
    spare_help: String,
    /// Samples of `current` a [`KnownSeries`] took (they are not in its `samples`).
    taken: usize,
    /// Families started so far (`current` is the last): [`KnownSeries::take`]'s index.
    started: usize,
    samples: usize,
    /// `current` was named by a comment (so its name is a legacy metric name), not by a
    /// sample (whose quoted name may be anything).
    named_by_comment: bool,
}

impl Parser<'_> {
    fn finish(&mut self) {
        self.taken = 0;
        if let Some(family) = self.current.take() {
            if family.samples.is_empty() && !self.keep_empty {
                self.spare_name = family.name;
                if let Some(help) = family.help {
                    self.spare_help = help;
                }
            } else {
                self.families.push(family);
            }
        }
    }

    /// A new `unknown` family named `name`, in the spare buffer if there is one.
    fn new_family(&mut self, name: &str) -> Family {
        self.started += 1;
        let mut family_name = std::mem::take(&mut self.spare_name);
        family_name.clear();
        family_name.push_str(name);
        Family::new(family_name, MetricType::Unknown)
    }

    /// Whether the current family has samples (read or taken).
    fn has_samples(&self) -> bool {
        self.taken > 0 || self.current.as_ref().is_some_and(|f| !f.samples.is_empty())
    }

    /// The current family if it is `name`, else a new one (the current one is finished).
    /// The family `name` (a checked metric name), started unless it is the current one.
    fn family_named(&mut self, name: &str) -> &mut Family {
        if self.current.as_ref().is_none_or(|f| f.name != name) {
            self.finish();
            self.current = Some(self.new_family(name));
        }
        self.named_by_comment = true;
        self.current
            .get_or_insert_with(|| Family::new(name, MetricType::Unknown))
    }

    fn comment(&mut self, comment: &str) -> Result<(), String> {
        let Some(rest) = comment.strip_prefix(' ') else {
            return if self.format == Format::OpenMetrics {
                Err(
                    "malformed comment: OpenMetrics comments are # TYPE, # HELP, # UNIT or # EOF"
                        .into(),
                )
            } else {
                Ok(())
            };
        };
        let (keyword, rest) = split_token(rest);
        if !matches!(keyword, "TYPE" | "HELP" | "UNIT") {
            return if self.format == Format::OpenMetrics {
                Err(format!("unknown comment # {keyword}"))
            } else {
                Ok(()) // any other comment is just a comment in 0.0.4
            };
        }
        let (name, rest) = split_token(rest);
        if name.is_empty() {
            return Err(format!("# {keyword} without a metric name"));
        }
        self.check_name_len(name)?;
        // A `# TYPE` after the family's `# HELP` names it again: checked already.
        let checked =
            self.named_by_comment && self.current.as_ref().is_some_and(|f| f.name == name);
        if !checked && !is_metric_name(name) {
            return Err(format!("invalid metric name {name:?} in # {keyword}"));
        }
        let format = self.format;
        match keyword {
            "TYPE" => {
                let word = rest.trim_end();
                let metric_type = MetricType::parse(word, format)
                    .ok_or_else(|| format!("unknown metric type {word:?} for {name}"))?;
                let family = self.family_named(name);
                family.metric_type = metric_type;
                if self.has_samples() {
                    return Err(format!("# TYPE for {name} after its samples"));
                }
            }
            "HELP" => {
                let mut help = std::mem::take(&mut self.spare_help);
                help.clear();
                if !unescape_into(rest, false, &mut help) {
                    return Err(format!("bad escape in # HELP for {name}"));
                }
                self.family_named(name).help = Some(help);
            }
            _ => {
                if format == Format::Text {
                    return Ok(()); // not metadata in 0.0.4
                }
                let unit = rest.trim_end();
                if !unit.is_empty() && !name.ends_with(&format!("_{unit}")) {
                    return Err(format!("unit {unit:?} is not a suffix of {name}"));
                }
                self.family_named(name).unit = Some(unit.to_owned());
            }
        }
        Ok(())
    }

    fn check_name_len(&self, name: &str) -> Result<(), String> {
        if name.len() > self.limits.max_label_bytes {
            return Err(format!(
                "name longer than {} bytes",
                self.limits.max_label_bytes
            ));
        }
        Ok(())
    }

    /// One sample line, starting at byte `at` of the input.
    fn sample<'k>(
        &mut self,
        line: &str,
        at: usize,
        known: Option<&mut (dyn KnownSeries + 'k)>,
    ) -> Result<(), String> {
        self.samples += 1;
        if self.limits.max_samples != 0 && self.samples > self.limits.max_samples {
            return Err(format!("more than {} samples", self.limits.max_samples));
        }
        let Some(known) = known else {
            return self.read_sample(line);
        };
        let split = if self.format == Format::Text {
            split_known(line)
        } else {
            None
        };
        if let Some((name, series, value, timestamp_ms)) = split {
            self.enter_family_of(name);
            let index = self.started;
            if let Some(family) = &self.current
                && known.take(family, index, series, value, timestamp_ms)
            {
                self.taken += 1;
                return Ok(());
            }
        }
        self.read_sample(line)?;
        known.missed(split.map(|(_, series, ..)| at..at + series.len()));
        Ok(())
    }

    /// One sample line read in full.
    fn read_sample(&mut self, line: &str) -> Result<(), String> {
        let mut cursor = Cursor { rest: line };
        let mut name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let mut labels = Vec::new();
        if cursor.rest.starts_with('{') {
            let quoted_name = self.labels(&mut cursor, &mut labels)?;
            if let Some(quoted) = quoted_name {
                if !name.is_empty() {
                    return Err("metric named twice".into());
                }
                name = quoted;
            }
        } else if name.is_empty() {
            return Err(format!(
                "expected a metric name, found {:?}",
                first_char(line)
            ));
        }
        if name.is_empty() {
            return Err("sample without a metric name".into());
        }
        let name = name.to_owned();
        self.check_name_len(&name)?;
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("invalid metric name {name:?}"));
        }
        cursor.skip_blanks(self.format)?;
        let value_text = cursor.take_while(|c| c != ' ' && c != '\t');
        let value = parse_float(value_text)
            .ok_or_else(|| format!("invalid value {value_text:?} for {name}"))?;
        let mut timestamp_ms = None;
        let mut exemplar = None;
        if !cursor.rest.is_empty() {
            cursor.skip_blanks(self.format)?;
            if !cursor.rest.starts_with('#') {
                let ts = cursor.take_while(|c| c != ' ' && c != '\t');
                timestamp_ms = Some(self.timestamp(ts)?);
                if !cursor.rest.is_empty() {
                    cursor.skip_blanks(self.format)?;
                }
            }
            if !cursor.rest.is_empty() {
                if self.format == Format::Text {
                    return Err(format!("unexpected {:?} after the sample", cursor.rest));
                }
                exemplar = Some(self.exemplar(&mut cursor)?);
            }
        }
        let sample = Sample {
            name,
            labels,
            value,
            timestamp_ms,
            exemplar,
        };
        self.add(sample);
        Ok(())
    }

    fn add(&mut self, sample: Sample) {
        self.enter_family_of(&sample.name);
        if let Some(family) = self.current.as_mut() {
            family.samples.push(sample);
        }
    }

    /// Makes the family a sample named `name` belongs to the current one: the current one
    /// if the name fits it, else a new `unknown` family of that name.
    fn enter_family_of(&mut self, name: &str) {
        let has_samples = self.has_samples();
        let fits = self.current.as_ref().is_some_and(|family| {
            // Most samples are named as their family: the suffix "" decides.
            if name.len() == family.name.len() {
                return name == family.name
                    && (family.metric_type.suffixes().contains(&"")
                        || (family.metric_type == MetricType::Unknown && !has_samples));
            }
            family.metric_type.suffixes().iter().any(|suffix| {
                name.len() == family.name.len() + suffix.len()
                    && name.starts_with(family.name.as_str())
                    && name.ends_with(suffix)
            }) || (family.metric_type == MetricType::Unknown && !has_samples && family.name == name)
        });
        if !fits {
            // An untyped sample, or one of the metadata-only family `name`'s namesakes.
            self.finish();
            self.current = Some(self.new_family(name));
            self.named_by_comment = false;
        }
    }

    fn timestamp(&self, text: &str) -> Result<i64, String> {
        match self.format {
            Format::Text => text
                .parse::<i64>()
                .map_err(|_| format!("invalid timestamp {text:?} (integer milliseconds)")),
            Format::OpenMetrics => {
                let seconds = parse_float(text)
                    .filter(|s| s.is_finite())
                    .ok_or_else(|| format!("invalid timestamp {text:?} (seconds)"))?;
                let ms = (seconds * 1000.0).round();
                if ms.abs() >= 9.2e18 {
                    return Err(format!("timestamp {text:?} out of range"));
                }
                Ok(ms as i64)
            }
        }
    }

    fn exemplar(&self, cursor: &mut Cursor<'_>) -> Result<Exemplar, String> {
        let rest = cursor
            .rest
            .strip_prefix("# ")
            .ok_or_else(|| format!("unexpected {:?} after the sample", cursor.rest))?;
        cursor.rest = rest;
        if !cursor.rest.starts_with('{') {
            return Err("exemplar without labels".into());
        }
        let start = cursor.rest.len();
        let mut labels = Vec::new();
        if self.labels(cursor, &mut labels)?.is_some() {
            return Err("exemplar with a metric name".into());
        }
        let chars: usize = labels
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum();
        if chars > 128 || start - cursor.rest.len() > 4096 {
            return Err("exemplar labels longer than 128 characters".into());
        }
        cursor.skip_blanks(self.format)?;
        let value_text = cursor.take_while(|c| c != ' ');
        let value = parse_float(value_text)
            .ok_or_else(|| format!("invalid exemplar value {value_text:?}"))?;
        let mut timestamp_ms = None;
        if !cursor.rest.is_empty() {
            cursor.skip_blanks(self.format)?;
            let ts = cursor.take_while(|c| c != ' ');
            timestamp_ms = Some(self.timestamp(ts)?);
            if !cursor.rest.is_empty() {
                return Err(format!("unexpected {:?} after the exemplar", cursor.rest));
            }
        }
        Ok(Exemplar {
            labels,
            value,
            timestamp_ms,
        })
    }

    /// Reads `{...}` into `labels`; returns a quoted metric name found inside, if any.
    fn labels<'l>(
        &self,
        cursor: &mut Cursor<'l>,
        labels: &mut Vec<(String, String)>,
    ) -> Result<Option<&'l str>, String> {
        let openmetrics = self.format == Format::OpenMetrics;
        cursor.rest = &cursor.rest[1..];
        let mut quoted_name = None;
        loop {
            if !openmetrics {
                cursor.take_while(|c| c == ' ' || c == '\t');
            }
            if let Some(rest) = cursor.rest.strip_prefix('}') {
                cursor.rest = rest;
                return Ok(quoted_name);
            }
            let name: String = if cursor.rest.starts_with('"') {
                let (raw, value) = self.quoted(cursor)?;
                if !cursor.rest.starts_with('=') {
                    // `{"my.metric", ...}`: the metric's UTF-8 name.
                    if quoted_name.is_some() {
                        return Err("metric named twice".into());
                    }
                    quoted_name = Some(raw);
                    let _ = value;
                    self.after_label(cursor)?;
                    continue;
                }
                value
            } else {
                let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
                if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(format!(
                        "expected a label name, found {:?}",
                        first_char(cursor.rest)
                    ));
                }
                name.to_owned()
            };
            if !openmetrics {
                cursor.take_while(|c| c == ' ' || c == '\t');
            }
            cursor.rest = cursor
                .rest
                .strip_prefix('=')
                .ok_or_else(|| format!("expected '=' after label {name:?}"))?;
            if !openmetrics {
                cursor.take_while(|c| c == ' ' || c == '\t');
            }
            if !cursor.rest.starts_with('"') {
                return Err(format!("label {name:?}: value not quoted"));
            }
            let (_, value) = self.quoted(cursor)?;
            if name.len() > self.limits.max_label_bytes || value.len() > self.limits.max_label_bytes
            {
                return Err(format!(
                    "label {:?}: name or value longer than {} bytes",
                    truncate(&name),
                    self.limits.max_label_bytes
                ));
            }
            if labels.iter().any(|(n, _)| *n == name) {
                return Err(format!("label {name:?} given twice"));
            }
            if labels.len() >= self.limits.max_labels {
                return Err(format!("more than {} labels", self.limits.max_labels));
            }
            labels.push((name, value));
            self.after_label(cursor)?;
        }
    }

    fn after_label(&self, cursor: &mut Cursor<'_>) -> Result<(), String> {
        if self.format == Format::Text {
            cursor.take_while(|c| c == ' ' || c == '\t');
        }
        if let Some(rest) = cursor.rest.strip_prefix(',') {
            cursor.rest = rest;
            if self.format == Format::OpenMetrics && cursor.rest.starts_with('}') {
                return Err("trailing comma in labels".into());
            }
            Ok(())
        } else if cursor.rest.starts_with('}') {
            Ok(())
        } else {
            Err(format!(
                "expected ',' or '}}' in labels, found {:?}",
                first_char(cursor.rest)
            ))
        }
    }

    /// Reads a `"..."` string; returns it raw (without quotes) and unescaped.
    fn quoted<'l>(&self, cursor: &mut Cursor<'l>) -> Result<(&'l str, String), String> {
        let body = &cursor.rest[1..];
        let mut escaped = false;
        for (at, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    let raw = &body[..at];
                    cursor.rest = &body[at + 1..];
                    let value = unescape(raw, self.format == Format::OpenMetrics)
                        .ok_or_else(|| format!("bad escape in {:?}", truncate(raw)))?;
                    return Ok((raw, value));
                }
                _ => {}
            }
        }
        Err("unterminated quoted string".into())
    }
}

struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    /// One space (OpenMetrics) or any run of spaces and tabs (0.0.4), at least one.
    fn skip_blanks(&mut self, format: Format) -> Result<(), String> {
        let skipped = match format {
            Format::OpenMetrics => {
                if let Some(rest) = self.rest.strip_prefix(' ') {
                    self.rest = rest;
                    1
                } else {
                    0
                }
            }
            Format::Text => self.take_while(|c| c == ' ' || c == '\t').len(),
        };
        if skipped == 0 {
            return Err(format!(
                "expected a space, found {:?}",
                first_char(self.rest)
            ));
        }
        Ok(())
    }
}

/// A text 0.0.4 sample line's name, series text (name and `{labels}` as written), value
/// and timestamp, found without reading the labels; `None` for anything unusual (a quoted
/// name, unbalanced braces, a bad value), which the full read then reports.
fn split_known(line: &str) -> Option<(&str, &str, f64, Option<i64>)> {
    let bytes = line.as_bytes();
    let name_end = bytes
        .iter()
        .position(|&b| METRIC_NAME_BYTES[usize::from(b)] & NAME_BYTE == 0)
        .unwrap_or(bytes.len());
    if name_end == 0 || bytes[0].is_ascii_digit() {
        return None;
    }
    let mut end = name_end;
    if bytes.get(end) == Some(&b'{') {
        // Jumps between the bytes that matter (memchr): outside quotes `"` and `}`,
        // inside them `"` and `\` (which escapes the byte after it).
        end += 1;
        loop {
            end += 1 + memchr::memchr2(b'"', b'}', &bytes[end..])?;
            if bytes[end - 1] == b'}' {
                break;
            }
            loop {
                end += 1 + memchr::memchr2(b'"', b'\\', &bytes[end..])?;
                if bytes[end - 1] == b'"' {
                    break;
                }
                end += 1; // the escaped byte
                if end >= bytes.len() {
                    return None;
                }
            }
        }
    }
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let rest = &bytes[end..];
    // The value after at least one blank, then maybe a timestamp, then nothing.
    let value_at = end + rest.iter().position(|b| !is_blank(b))?;
    if value_at == end {
        return None; // no blank before the value
    }
    let (value, after) = split_word(&line[value_at..]);
    let value = parse_float(value)?;
    let after = after.trim_start_matches([' ', '\t']);
    let timestamp_ms = if after.is_empty() {
        None
    } else {
        let (timestamp, after) = split_word(after);
        if !after.trim_start_matches([' ', '\t']).is_empty() {
            return None;
        }
        Some(timestamp.parse::<i64>().ok()?)
    };
    Some((&line[..name_end], &line[..end], value, timestamp_ms))
}

/// `text` up to its first blank, and the rest from that blank.
fn split_word(text: &str) -> (&str, &str) {
    let at = text
        .bytes()
        .position(|b| b == b' ' || b == b'\t')
        .unwrap_or(text.len());
    text.split_at(at)
}

fn first_char(text: &str) -> String {
    text.chars()
        .next()
        .map_or_else(|| "end of line".into(), String::from)
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(64) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The pieces of `text` between `\n`s, as `text.split('\n')` gives them: with a final
/// empty piece after a final `\n`. [`memchr`] finds the line ends (SIMD; the standard
/// library's char search was 2 % of a scraping gateway's CPU).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let piece = rest?;
        match memchr::memchr(b'\n', piece.as_bytes()) {
            Some(end) => {
                rest = Some(&piece[end + 1..]);
                Some(&piece[..end])
            }
            None => {
                rest = None;
                Some(piece)
            }
        }
    })
}

fn split_token(text: &str) -> (&str, &str) {
    match memchr::memchr2(b' ', b'\t', text.as_bytes()) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    }
}

/// What each byte may be in a legacy name: [`NAME_BYTE`] anywhere, [`FIRST_BYTE`] first
/// too. A table: a byte costs one load, not five comparisons (names are checked on every
/// comment line).
const fn name_bytes(colon: bool) -> [u8; 256] {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_alphabetic() || byte == b'_' || (colon && byte == b':') {
            table[b] = NAME_BYTE | FIRST_BYTE;
        } else if byte.is_ascii_digit() {
            table[b] = NAME_BYTE;
        }
        b += 1;
    }
    table
}

const NAME_BYTE: u8 = 1;
const FIRST_BYTE: u8 = 2;
/// Bytes of `[a-zA-Z_:][a-zA-Z0-9_:]*`.
static METRIC_NAME_BYTES: [u8; 256] = name_bytes(true);
/// Bytes of `[a-zA-Z_][a-zA-Z0-9_]*`.
static LABEL_NAME_BYTES: [u8; 256] = name_bytes(false);

/// Whether `name` is made of `table`'s bytes, starting with a first one.
fn is_name(name: &str, table: &[u8; 256]) -> bool {
    // Bytes, not chars: any byte of a multi-byte character fails the test as its char would.
    match name.as_bytes().split_first() {
        Some((&first, rest)) => {
            table[usize::from(first)] & FIRST_BYTE != 0
                && rest.iter().all(|&b| table[usize::from(b)] & NAME_BYTE != 0)
        }
        None => false,
    }
}

/// Whether `name` is a legacy metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_metric_name(name: &str) -> bool {
    is_name(name, &METRIC_NAME_BYTES)
}

/// Whether `name` is a legacy label name, `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(name: &str) -> bool {
    is_name(name, &LABEL_NAME_BYTES)
}

/// Undoes `\\`, `\"` and `\n`. Another escape is kept as written in 0.0.4 (as Prometheus
/// does) and refused in OpenMetrics (`strict`).
fn unescape(raw: &str, strict: bool) -> Option<String> {
    let mut out = String::new();
    unescape_into(raw, strict, &mut out).then_some(out)
}

/// [`unescape`] appending to `out`; `false` for an escape `strict` refuses.
fn unescape_into(raw: &str, strict: bool, out: &mut String) -> bool {
    if !raw.contains('\\') {
        out.push_str(raw);
        return true;
    }
    out.reserve(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(other) if !strict => {
                out.push('\\');
                out.push(other);
            }
            None if !strict => out.push('\\'),
            _ => return false,
        }
    }
    true
}

/// A float as Go's `strconv.ParseFloat` reads the values Prometheus writes: decimal and
/// exponent forms, `NaN`, `+Inf`, `-Inf` (any case).
pub fn parse_float(text: &str) -> Option<f64> {
    if text.is_empty() || text.len() > 256 {
        return None;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    if text.len() - unsigned.len() > 1 {
        return None;
    }
    if unsigned.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests;
