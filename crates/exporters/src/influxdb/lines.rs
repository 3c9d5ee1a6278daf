//! Writing line protocol: escaping, value syntax, and a buffer that remembers where each
//! line ends so a batch can be cut into requests by lines and bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A field's value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldValue {
    Float(f64),
    Int(i64),
    Str(String),
}

/// Lines of line protocol, one after another, and where each ends.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    text: String,
    ends: Vec<usize>,
}

impl LineBuffer {
    /// Appends one line; tags with an empty key or value and fields that line protocol
    /// cannot carry (NaN, infinities, empty keys) are left out, as the Go exporter does.
    /// A line left without a field, or without a measurement, is not written: `false`.
    pub(crate) fn push(
        &mut self,
        measurement: &str,
        tags: &BTreeMap<String, String>,
        fields: &[(String, FieldValue)],
        time_unix_nano: u64,
    ) -> bool {
        let start = self.text.len();
        if measurement.is_empty() {
            return false;
        }
        escape_into(&mut self.text, measurement, &[',', ' ']);
        // Sorted by key (a BTreeMap): what InfluxDB writes fastest.
        for (key, value) in tags {
            if key.is_empty() || value.is_empty() {
                continue;
            }
            self.text.push(',');
            escape_into(&mut self.text, key, &[',', '=', ' ']);
            self.text.push('=');
            escape_into(&mut self.text, value, &[',', '=', ' ']);
        }
        let mut separator = ' ';
        for (key, value) in fields {
            if key.is_empty() || matches!(value, FieldValue::Float(f) if !f.is_finite()) {
                continue;
            }
            self.text.push(separator);
            separator = ',';
            escape_into(&mut self.text, key, &[',', '=', ' ']);
            self.text.push('=');
            match value {
                FieldValue::Float(f) => {
                    let _ = write!(self.text, "{f}");
                }
                FieldValue::Int(i) => {
                    let _ = write!(self.text, "{i}i");
                }
                FieldValue::Str(s) => {
                    self.text.push('"');
                    for c in s.chars() {
                        if c == '"' || c == '\\' {
                            self.text.push('\\');
                        }
                        self.text.push(c);
                    }
                    self.text.push('"');
                }
            }
        }
        if separator == ' ' {
            self.text.truncate(start);
            return false;
        }
        let _ = writeln!(self.text, " {time_unix_nano}");
        self.ends.push(self.text.len());
        true
    }

    /// How many lines.
    pub(crate) fn lines(&self) -> usize {
        self.ends.len()
    }

    /// The text and where each line ends.
    pub(crate) fn into_parts(self) -> (String, Vec<usize>) {
        (self.text, self.ends)
    }
}

/// Writes `text` with backslashes and `special` characters escaped. Line breaks cannot
/// be escaped in names and tags: they become spaces. InfluxDB refuses a name or tag
/// ending in a backslash, escaped or not: trailing backslashes are left out.
fn escape_into(out: &mut String, text: &str, special: &[char]) {
    for c in text.trim_end_matches('\\').chars() {
        let c = if c == '\n' || c == '\r' { ' ' } else { c };
        if c == '\\' || special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Cuts lines ending at `ends` into runs of at most `max_lines` lines and `max_bytes`
/// bytes (a longer line goes alone). Returns byte ranges, each `(start, end, lines)`.
pub(crate) fn chunks(
    ends: &[usize],
    max_lines: usize,
    max_bytes: usize,
) -> Vec<(usize, usize, usize)> {
    let mut chunks = Vec::new();
    let (mut start, mut lines) = (0, 0);
    let mut previous_end = 0;
    for &end in ends {
        if lines > 0 && (lines == max_lines || end - start > max_bytes) {
            chunks.push((start, previous_end, lines));
            start = previous_end;
            lines = 0;
        }
        lines += 1;
        previous_end = end;
    }
    if lines > 0 {
        chunks.push((start, previous_end, lines));
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        measurement: &str,
        tags: &[(&str, &str)],
        fields: &[(&str, FieldValue)],
        time: u64,
    ) -> String {
        let mut buffer = LineBuffer::default();
        let tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let fields: Vec<(String, FieldValue)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        buffer.push(measurement, &tags, &fields, time);
        buffer.into_parts().0
    }

    #[test]
    fn values_and_escapes() {
        assert_eq!(
            line(
                "my metric,x",
                &[("z", "1"), ("a key", "v=1,2"), ("empty", "")],
                &[
                    ("f", FieldValue::Float(1.5)),
                    ("i", FieldValue::Int(-3)),
                    ("s", FieldValue::Str("say \"hi\" \\ bye".into())),
                    ("nan", FieldValue::Float(f64::NAN)),
                ],
                7
            ),
            "my\\ metric\\,x,a\\ key=v\\=1\\,2,z=1 f=1.5,i=-3i,s=\"say \\\"hi\\\" \\\\ bye\" 7\n"
        );
        assert_eq!(
            line("m", &[], &[("g", FieldValue::Float(1e21))], 1),
            "m g=1000000000000000000000 1\n"
        );
        assert_eq!(
            line("a\\b\nc", &[], &[("g", FieldValue::Float(1.0))], 1),
            "a\\\\b\\ c g=1 1\n"
        );
        assert_eq!(
            line("m", &[], &[("g", FieldValue::Float(f64::INFINITY))], 1),
            "",
            "no field left: no line"
        );
        assert_eq!(line("", &[], &[("g", FieldValue::Int(1))], 1), "");
    }

    #[test]
    fn written_lines_parse_back() {
        let text = line(
            "we,ird",
            &[("t\\a g", "v,a=l ue\\")],
            &[
                ("f ,=\\x", FieldValue::Str("q\"\\\n".into())),
                ("n", FieldValue::Int(i64::MIN)),
            ],
            u64::MAX >> 1,
        );
        let parsed: Vec<_> = influxdb_line_protocol::parse_lines(&text).collect();
        assert_eq!(parsed.len(), 1, "{text}");
        let parsed = parsed.into_iter().next().unwrap().unwrap();
        assert_eq!(parsed.series.measurement.as_str(), "we,ird");
        let tags = parsed.series.tag_set.unwrap();
        assert_eq!(
            (tags[0].0.as_str(), tags[0].1.as_str()),
            ("t\\a g", "v,a=l ue")
        );
        assert_eq!(parsed.field_set[0].0.as_str(), "f ,=\\x");
        assert_eq!(
            parsed.field_set[0].1,
            influxdb_line_protocol::FieldValue::String("q\"\\\n".into())
        );
    }

    #[test]
    fn chunks_respect_lines_and_bytes() {
        // Lines of 10 bytes each.
        let ends: Vec<usize> = (1..=5).map(|i| i * 10).collect();
        assert_eq!(
            chunks(&ends, 2, 1000),
            [(0, 20, 2), (20, 40, 2), (40, 50, 1)]
        );
        assert_eq!(
            chunks(&ends, 100, 25),
            [(0, 20, 2), (20, 40, 2), (40, 50, 1)]
        );
        assert_eq!(
            chunks(&ends, 100, 1),
            [
                (0, 10, 1),
                (10, 20, 1),
                (20, 30, 1),
                (30, 40, 1),
                (40, 50, 1)
            ]
        );
        assert_eq!(chunks(&ends, 100, 1000), [(0, 50, 5)]);
        assert!(chunks(&[], 1, 1).is_empty());
    }

    proptest::proptest! {
        /// Every line lands in exactly one request, in order; no request holds more than
        /// `max_lines` lines, nor more than `max_bytes` bytes unless it is one line alone.
        #[test]
        fn chunks_cover_every_line_once(
            lengths in proptest::collection::vec(1usize..200, 0..60),
            max_lines in 1usize..10,
            max_bytes in 1usize..600,
        ) {
            let ends: Vec<usize> = lengths
                .iter()
                .scan(0, |end, length| {
                    *end += length;
                    Some(*end)
                })
                .collect();
            let cut = chunks(&ends, max_lines, max_bytes);
            let mut next_start = 0;
            let mut lines = 0;
            for (start, end, count) in cut {
                proptest::prop_assert_eq!(start, next_start);
                proptest::prop_assert!(count >= 1 && count <= max_lines);
                proptest::prop_assert!(end - start <= max_bytes || count == 1);
                proptest::prop_assert_eq!(end, ends[lines + count - 1]);
                next_start = end;
                lines += count;
            }
            proptest::prop_assert_eq!(lines, ends.len());
        }
    }
}
