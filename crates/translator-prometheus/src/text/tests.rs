//! The parser's tests: the formats' examples, errors with their lines, limits, and
//! arbitrary or mutated bytes.

use super::*;
use proptest::prelude::*;

fn text(input: &str) -> Vec<Family> {
    parse(input.as_bytes(), Format::Text, &Limits::default()).unwrap()
}

fn om(input: &str) -> Vec<Family> {
    parse(input.as_bytes(), Format::OpenMetrics, &Limits::default()).unwrap()
}

fn error(input: &str, format: Format) -> ParseError {
    parse(input.as_bytes(), format, &Limits::default()).unwrap_err()
}

#[test]
fn reads_the_text_format_example() {
    let families = text(concat!(
        "# HELP http_requests_total The total number of HTTP requests.\n",
        "# TYPE http_requests_total counter\n",
        "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n",
        "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n",
        "\n",
        "# Escaping in label values:\n",
        "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n",
        "metric_without_timestamp_and_labels 12.47\n",
        "something_weird{problem=\"division by zero\"} +Inf -3982045\n",
        "# TYPE rpc_duration_seconds histogram\n",
        "rpc_duration_seconds_bucket{le=\"0.1\"} 33444\n",
        "rpc_duration_seconds_bucket{le=\"+Inf\"} 144320\n",
        "rpc_duration_seconds_sum 53423\n",
        "rpc_duration_seconds_count 144320\n",
        "# TYPE rpc_quantiles summary\n",
        "rpc_quantiles{quantile=\"0.5\",} 4773\n",
        "rpc_quantiles_sum 1.7560473e+07\n",
        "rpc_quantiles_count 2693\n",
    ));
    let names: Vec<_> = families
        .iter()
        .map(|f| (f.name.as_str(), f.metric_type))
        .collect();
    assert_eq!(
        names,
        [
            ("http_requests_total", MetricType::Counter),
            ("msdos_file_access_time_seconds", MetricType::Unknown),
            ("metric_without_timestamp_and_labels", MetricType::Unknown),
            ("something_weird", MetricType::Unknown),
            ("rpc_duration_seconds", MetricType::Histogram),
            ("rpc_quantiles", MetricType::Summary),
        ]
    );
    assert_eq!(
        families[0].help.as_deref(),
        Some("The total number of HTTP requests.")
    );
    assert_eq!(families[0].samples[1].value, 3.0);
    assert_eq!(families[0].samples[1].timestamp_ms, Some(1395066363000));
    assert_eq!(
        families[1].samples[0].labels,
        [
            ("path".to_owned(), "C:\\DIR\\FILE.TXT".to_owned()),
            (
                "error".to_owned(),
                "Cannot find file:\n\"FILE.TXT\"".to_owned()
            )
        ]
    );
    assert_eq!(families[3].samples[0].value, f64::INFINITY);
    assert_eq!(families[3].samples[0].timestamp_ms, Some(-3982045));
    assert_eq!(families[4].samples.len(), 4);
    assert_eq!(families[5].samples[0].label("quantile"), Some("0.5"));
}

#[test]
fn reads_openmetrics_with_units_exemplars_and_created() {
    let families = om(concat!(
        "# TYPE foo counter\n",
        "# HELP foo Some \\\\ help\\n.\n",
        "foo_total{a=\"b\"} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.5\n",
        "foo_created{a=\"b\"} 1520430000.123\n",
        "# TYPE foo_seconds gauge\n",
        "# UNIT foo_seconds seconds\n",
        "foo_seconds 1\n",
        "# TYPE st stateset\n",
        "st{st=\"a\"} 1\n",
        "# TYPE bi info\n",
        "bi_info{version=\"1\"} 1\n",
        "# TYPE gh gaugehistogram\n",
        "gh_bucket{le=\"+Inf\"} 3\n",
        "gh_gcount 3\n",
        "gh_gsum 2\n",
        "# EOF\n",
    ));
    assert_eq!(families[0].name, "foo");
    assert_eq!(families[0].help.as_deref(), Some("Some \\ help\n."));
    let total = &families[0].samples[0];
    assert_eq!(total.timestamp_ms, Some(1520879607789));
    let exemplar = total.exemplar.as_ref().unwrap();
    assert_eq!(exemplar.labels[0].1, "KOO5S4vxi0o");
    assert_eq!(exemplar.timestamp_ms, Some(1520879602500));
    assert_eq!(families[0].samples[1].name, "foo_created");
    assert_eq!(families[1].unit.as_deref(), Some("seconds"));
    assert_eq!(families[2].metric_type, MetricType::StateSet);
    assert_eq!(families[3].metric_type, MetricType::Info);
    assert_eq!(families[4].samples.len(), 3);
}

#[test]
fn errors_name_the_line() {
    let e = error("a 1\nb{x=\"1\" 2\n", Format::Text);
    assert_eq!(e.line, 2, "{e}");
    assert_eq!(error("a 1\n", Format::OpenMetrics).line, 0);
    assert_eq!(error("a 1\n# EOF\nb 2\n", Format::OpenMetrics).line, 3);
    assert_eq!(error("a x\n", Format::Text).line, 1);
    assert_eq!(error("a 1 1.5\n", Format::Text).line, 1);
    assert_eq!(error("# TYPE a frob\n", Format::Text).line, 1);
    assert_eq!(error("a{b=\"1\",b=\"2\"} 1\n", Format::Text).line, 1);
    assert_eq!(
        error("a{b=\"\\q\"} 1\n# EOF\n", Format::OpenMetrics).line,
        1
    );
    assert_eq!(
        parse(b"a 1\n\xff\n", Format::Text, &Limits::default())
            .unwrap_err()
            .line,
        2
    );
    assert_eq!(
        error("# UNIT a_bytes seconds\n# EOF\n", Format::OpenMetrics).line,
        1
    );
}

/// A comment naming the current family again skips the name check only when a comment
/// named (and checked) it: a family a quoted sample named may have any name.
#[test]
fn comments_name_legacy_metric_names() {
    let e = error("{\"a.b\"} 1\n# HELP a.b x\n", Format::Text);
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().contains("invalid metric name"), "{e}");
    let e = error("# HELP 1a x\n# TYPE 1a gauge\n", Format::Text);
    assert_eq!(e.line, 1, "{e}");
    let families = parse(
        b"# HELP a_b x\n# TYPE a_b gauge\na_b 1\n",
        Format::Text,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].metric_type, MetricType::Gauge);
    for name in ["a", "_a:b", "a1"] {
        assert!(is_metric_name(name), "{name}");
    }
    for name in ["", "1a", "a-b", "a.b", "é"] {
        assert!(!is_metric_name(name), "{name}");
    }
    assert!(is_label_name("_a1") && !is_label_name("a:b") && !is_label_name("1a"));
}

#[test]
fn limits_hold() {
    let limits = Limits {
        max_line_bytes: 64,
        max_labels: 2,
        max_label_bytes: 8,
        max_samples: 2,
    };
    let check = |input: &str| parse(input.as_bytes(), Format::Text, &limits).unwrap_err();
    assert!(
        check(&format!("a {}\n", "1".repeat(80)))
            .message
            .contains("longer than 64")
    );
    assert!(
        check("a{x=\"1\",y=\"2\",z=\"3\"} 1\n")
            .message
            .contains("more than 2 labels")
    );
    assert!(
        check("a{x=\"123456789\"} 1\n")
            .message
            .contains("longer than 8")
    );
    assert!(
        check("a 1\nb 1\nc 1\n")
            .message
            .contains("more than 2 samples")
    );
}

#[test]
fn tolerates_what_prometheus_tolerates_in_text() {
    let families =
        text("a{b=\"1\",} 1\r\n\tc{ d = \"x\" }\t2\n# random comment\nquoted_esc{x=\"\\q\"} 3\n");
    assert_eq!(families.len(), 3);
    assert_eq!(families[1].samples[0].labels[0].1, "x");
    assert_eq!(families[2].samples[0].labels[0].1, "\\q");
    let utf8 = text("{\"my.metric\",\"a.b\"=\"x\"} 1\n");
    assert_eq!(utf8[0].name, "my.metric");
    assert_eq!(utf8[0].samples[0].labels[0].0, "a.b");
}

#[test]
fn stale_nan_is_kept_apart_from_nan() {
    assert!(is_stale_nan(stale_nan()));
    assert!(!is_stale_nan(f64::NAN));
    assert!(parse_float("NaN").unwrap().is_nan());
    assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_float("++1"), None);
    assert_eq!(parse_float(""), None);
}

proptest! {
    #[test]
    fn lines_are_the_pieces_split_gives(text in "[a\n\r é#]{0,40}") {
        prop_assert_eq!(lines(&text).collect::<Vec<_>>(), text.split('\n').collect::<Vec<_>>());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let limits = Limits { max_samples: 64, ..Limits::default() };
        for format in [Format::Text, Format::OpenMetrics] {
            if let Ok(families) = parse(&bytes, format, &limits) {
                let samples: usize = families.iter().map(|f| f.samples.len()).sum();
                prop_assert!(samples <= 64);
                prop_assert!(families.len() <= bytes.len() + 1);
            }
        }
    }

    #[test]
    fn mutated_expositions_never_panic(
        cut in 0usize..400,
        flip in 0usize..400,
        byte in any::<u8>(),
    ) {
        let mut input = concat!(
            "# TYPE foo histogram\n# HELP foo x\\n\n",
            "foo_bucket{le=\"0.5\",a=\"x\\\"y\"} 1 # {trace_id=\"ab\"} 0.1 1.5\n",
            "foo_bucket{le=\"+Inf\",a=\"x\\\"y\"} 2\nfoo_count{a=\"x\\\"y\"} 2\n",
            "foo_sum{a=\"x\\\"y\"} 0.7\nbar 1 17\n# EOF\n"
        ).as_bytes().to_vec();
        let flip = flip % input.len();
        input[flip] = byte;
        input.truncate(cut.min(input.len()));
        for format in [Format::Text, Format::OpenMetrics] {
            let _ = parse(&input, format, &Limits::default());
        }
    }
}

/// Remembers the series text of every sample read in full, and takes the samples whose
/// text it knows, noting each taken sample's family, value and timestamp.
#[derive(Default)]
struct Recorder {
    input: Vec<u8>,
    known: std::collections::HashSet<String>,
    learned: Vec<String>,
    taken: Vec<(String, MetricType, String, u64, Option<i64>)>,
    /// The help and the index of each taken sample's family.
    helps: Vec<String>,
    indexes: Vec<usize>,
}

impl KnownSeries for Recorder {
    fn take(
        &mut self,
        family: &Family,
        family_index: usize,
        series: &str,
        value: f64,
        timestamp_ms: Option<i64>,
    ) -> bool {
        if !self.known.contains(series) {
            return false;
        }
        self.helps.push(family.help.clone().unwrap_or_default());
        self.indexes.push(family_index);
        let entry = (family.name.clone(), family.metric_type, series.to_owned());
        self.taken
            .push((entry.0, entry.1, entry.2, value.to_bits(), timestamp_ms));
        true
    }

    fn missed(&mut self, series: Option<std::ops::Range<usize>>) {
        if let Some(bytes) = series.and_then(|range| self.input.get(range)) {
            self.learned
                .push(String::from_utf8(bytes.to_vec()).unwrap());
        }
    }
}

impl Recorder {
    /// Parses text 0.0.4 `input` with default limits, offering its samples to `self`.
    fn parse(&mut self, input: &[u8]) -> Result<Vec<Family>, ParseError> {
        parse_with(input, Format::Text, &Limits::default(), Some(self))
    }
}

/// Parses `input` twice: learning every series text, then taking every known one.
/// Returns what the full parse read, the taken samples, and what the second parse left.
#[allow(clippy::type_complexity)]
fn parse_twice(
    input: &str,
) -> (
    Vec<Family>,
    Vec<(String, MetricType, String, u64, Option<i64>)>,
    Vec<Family>,
    Vec<usize>,
) {
    let mut first = Recorder {
        input: input.as_bytes().to_vec(),
        ..Recorder::default()
    };
    let full = first.parse(input.as_bytes()).unwrap();
    let mut second = Recorder {
        input: input.as_bytes().to_vec(),
        known: first.learned.into_iter().collect(),
        ..Recorder::default()
    };
    let left = second.parse(input.as_bytes()).unwrap();
    (full, second.taken, left, second.indexes)
}

const TRICKY: &str = concat!(
    "# HELP reqs_total Requests \\\\ with \\n escapes.\n# TYPE reqs_total counter\n",
    "reqs_total{code=\"200\",path=\"/a}\"} 10\n",
    "reqs_total{ code = \"500\" ,path=\"x\\\"y\\\\\",} 1 1700000000000\n",
    "  reqs_total{code=\"200\",path=\"/a}\"}\t 11  \r\n",
    "# TYPE lat histogram\nlat_bucket{le=\"1\"} 2\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 2.5\nlat_count 3\n",
    "untyped NaN\nuntyped{a=\"\"} +Inf\nother_untyped -1e-3\n",
    "# a comment\nnamespaced:metric{x=\"é\"} 1\n",
);

/// Every sample the full read finds is, on a second parse knowing its text, taken with
/// the family, value and timestamp the full read gave it, and nothing is left.
#[test]
fn known_series_are_taken_with_their_family_value_and_timestamp() {
    let node = include_str!("../../../../scripts/bench-data/node-exporter-1.5.0.prom");
    for input in [TRICKY, node] {
        let (full, taken, left, indexes) = parse_twice(input);
        let samples: Vec<(&Family, &Sample)> = full
            .iter()
            .flat_map(|f| f.samples.iter().map(move |s| (f, s)))
            .collect();
        assert!(samples.len() > 10);
        assert_eq!(taken.len(), samples.len());
        assert!(
            left.is_empty(),
            "families left without samples are left out: {left:?}"
        );
        // Samples of one family share its index, and no other family has it.
        let families: Vec<*const Family> = samples.iter().map(|(f, _)| *f as *const _).collect();
        for (a, b) in (0..samples.len()).zip(1..samples.len()) {
            assert_eq!(
                families[a] == families[b],
                indexes[a] == indexes[b],
                "{:?} {:?}",
                taken[a],
                taken[b]
            );
        }
        for ((family, sample), (name, metric_type, series, value, timestamp)) in
            samples.iter().zip(&taken)
        {
            assert_eq!((&family.name, family.metric_type), (name, *metric_type));
            assert_eq!(sample.value.to_bits(), *value, "{series}");
            assert_eq!(sample.timestamp_ms, *timestamp, "{series}");
            // The text alone reads as the sample's name and labels.
            let alone = text(&format!("{series} 0\n"));
            assert_eq!(alone[0].samples[0].name, sample.name);
            assert_eq!(alone[0].samples[0].labels, sample.labels);
        }
    }
}

/// With some samples taken, the families read in full come out whole and in order, with
/// their help (the buffers of the families left out are reused, never shared).
#[test]
fn families_read_in_full_come_out_whole_between_taken_ones() {
    let input = concat!(
        "# HELP a First \\\\ help.\n# TYPE a gauge\na 1\n",
        "# HELP b Second help.\n# TYPE b counter\nb{x=\"1\"} 2\nb{x=\"2\"} 3\n",
        "# HELP c Third.\n# TYPE c gauge\nc 4\n",
        "# TYPE d summary\nd{quantile=\"0.5\"} 1\nd_sum 2\nd_count 3\n",
    );
    let full = text(input);
    let mut cache = Recorder {
        known: ["a".to_owned(), "c".to_owned(), "b{x=\"2\"}".to_owned()].into(),
        ..Recorder::default()
    };
    let left = cache.parse(input.as_bytes()).unwrap();
    let names: Vec<&str> = left.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b", "d"]);
    assert_eq!(left[0].help.as_deref(), Some("Second help."));
    assert_eq!(left[0].metric_type, MetricType::Counter);
    assert_eq!(left[0].samples, full[1].samples[..1]);
    assert_eq!(left[1], full[3]);
    assert_eq!(cache.helps, ["First \\ help.", "Second help.", "Third."]);
}

/// Taken samples still count: a `# TYPE` after them is refused, and `max_samples` holds.
#[test]
fn taken_samples_count_as_samples() {
    let mut cache = Recorder {
        known: ["a".to_owned()].into(),
        ..Recorder::default()
    };
    let err = cache.parse(b"a 1\n# TYPE a gauge\n").unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    let limits = Limits {
        max_samples: 1,
        ..Limits::default()
    };
    assert!(parse_with(b"a 1\na 2\n", Format::Text, &limits, Some(&mut cache)).is_err());
}

proptest! {
    /// A parse that takes known texts fails exactly where reading in full fails: the text
    /// it skips was read (and checked) in full before.
    #[test]
    fn taking_known_texts_fails_where_the_full_read_fails(
        flip in 0usize..400,
        byte in any::<u8>(),
        cut in 0usize..400,
    ) {
        let mut known = Recorder { input: TRICKY.as_bytes().to_vec(), ..Recorder::default() };
        known.parse(TRICKY.as_bytes()).unwrap();
        let mut input = TRICKY.as_bytes().to_vec();
        let flip = flip % input.len();
        input[flip] = byte;
        input.truncate(cut.max(1) % (input.len() + 1));
        let full = parse(&input, Format::Text, &Limits::default());
        let mut cache = Recorder { known: known.learned.into_iter().collect(), ..Recorder::default() };
        let taking = cache.parse(&input);
        prop_assert_eq!(full.is_ok(), taking.is_ok(), "{:?} vs {:?}", full.err(), taking.err());
    }
}

proptest! {
    /// What `split_known` makes of a sample line that reads in full is what reading it in
    /// full gives: the same name, value and timestamp; its series text ends at a blank.
    #[test]
    fn a_split_line_reads_as_in_full(
        name in "[a-z_:][a-z0-9_:]{0,6}",
        labels in proptest::collection::vec(("[a-z_]{1,4}", r#"([a-z {}#,]|\\[\\"n}x]){0,8}"#), 0..3),
        braces in any::<bool>(),
        blanks in "[ \t]{0,2}",
        value in "(-?[0-9]{1,4}(\\.[0-9]{1,3})?|NaN|\\+Inf|x)",
        tail in "([ \t]{1,2}-?[0-9]{1,5})?[ \t]{0,2}(x)?",
    ) {
        let labels: Vec<String> = labels.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
        let series = if braces || !labels.is_empty() {
            format!("{name}{{{}}}", labels.join(","))
        } else {
            name.clone()
        };
        // A bare name needs a blank to end it (else the value would run into the name).
        let blanks = if series.ends_with('}') { blanks } else { format!(" {blanks}") };
        let line = format!("{series}{blanks}{value}{tail}");
        // Only texts read in full before are taken (the braces are not checked again).
        let Ok(families) = parse(format!("{line}\n").as_bytes(), Format::Text, &Limits::default())
        else {
            return Ok(());
        };
        let split = split_known(&line);
        // A line that reads in full is split unless its value does not follow a blank.
        prop_assert_eq!(split.is_some(), !blanks.is_empty(), "{:?}", line);
        let Some((split_name, split_series, split_value, split_ts)) = split else {
            return Ok(());
        };
        prop_assert_eq!(split_name, name.as_str());
        prop_assert!(line[split_series.len()..].starts_with([' ', '\t']), "{}", line);
        let sample = &families[0].samples[0];
        prop_assert_eq!(&sample.name, &name);
        prop_assert_eq!(sample.value.to_bits(), split_value.to_bits());
        prop_assert_eq!(sample.timestamp_ms, split_ts);
    }
}
