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
