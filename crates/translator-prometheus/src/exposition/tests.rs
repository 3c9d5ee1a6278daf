use super::*;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn family(name: &str, kind: FamilyType, value: Value) -> Family {
    Family {
        name: name.into(),
        help: String::new(),
        unit: String::new(),
        kind,
        series: vec![Series {
            labels: labels(&[("job", "api")]),
            value,
            timestamp_ms: None,
            created_ms: None,
        }],
    }
}

fn histogram() -> Value {
    Value::Histogram {
        buckets: vec![
            Bucket {
                upper_bound: 0.1,
                cumulative_count: 2,
                exemplar: None,
            },
            Bucket {
                upper_bound: 1.0,
                cumulative_count: 5,
                exemplar: Some(Exemplar {
                    labels: labels(&[
                        ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
                        ("span_id", "b7ad6b7169203331"),
                    ]),
                    value: 0.67,
                    timestamp_ms: Some(1_520_879_607_789),
                }),
            },
        ],
        count: 7,
        sum: Some(9.5),
    }
}

#[test]
fn text_histogram_has_cumulative_buckets_ending_in_inf() {
    let text = encode(
        &[family(
            "rpc_duration_seconds",
            FamilyType::Histogram,
            histogram(),
        )],
        Format::Text,
    );
    assert_eq!(
        text,
        "# TYPE rpc_duration_seconds histogram\n\
         rpc_duration_seconds_bucket{job=\"api\",le=\"0.1\"} 2\n\
         rpc_duration_seconds_bucket{job=\"api\",le=\"1\"} 5\n\
         rpc_duration_seconds_bucket{job=\"api\",le=\"+Inf\"} 7\n\
         rpc_duration_seconds_sum{job=\"api\"} 9.5\n\
         rpc_duration_seconds_count{job=\"api\"} 7\n"
    );
}

#[test]
fn open_metrics_histogram_carries_exemplars_unit_and_created() {
    let mut fam = family("rpc_duration_seconds", FamilyType::Histogram, histogram());
    fam.unit = "seconds".into();
    fam.series[0].created_ms = Some(1_520_430_000_123);
    let text = encode(&[fam], Format::OpenMetrics);
    assert_eq!(
        text,
        "# TYPE rpc_duration_seconds histogram\n\
         # UNIT rpc_duration_seconds seconds\n\
         rpc_duration_seconds_bucket{job=\"api\",le=\"0.1\"} 2\n\
         rpc_duration_seconds_bucket{job=\"api\",le=\"1\"} 5 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} 0.67 1520879607.789\n\
         rpc_duration_seconds_bucket{job=\"api\",le=\"+Inf\"} 7\n\
         rpc_duration_seconds_sum{job=\"api\"} 9.5\n\
         rpc_duration_seconds_count{job=\"api\"} 7\n\
         rpc_duration_seconds_created{job=\"api\"} 1.520430000123e+09\n\
         # EOF\n"
    );
}

#[test]
fn counters_in_both_formats() {
    let mut fam = family(
        "requests_total",
        FamilyType::Counter,
        Value::Counter {
            value: 17.0,
            exemplar: Some(Exemplar {
                labels: labels(&[("trace_id", "abc")]),
                value: 1.0,
                timestamp_ms: None,
            }),
        },
    );
    fam.help = "Requests.".into();
    fam.series[0].created_ms = Some(1_000);
    fam.series[0].timestamp_ms = Some(2_500);
    assert_eq!(
        encode(std::slice::from_ref(&fam), Format::Text),
        "# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total{job=\"api\"} 17 2500\n"
    );
    assert_eq!(
        encode(&[fam], Format::OpenMetrics),
        "# HELP requests Requests.\n# TYPE requests counter\n\
         requests_total{job=\"api\"} 17 2.500 # {trace_id=\"abc\"} 1\n\
         requests_created{job=\"api\"} 1 2.500\n# EOF\n"
    );
}

#[test]
fn a_counter_without_total_gets_it_on_its_open_metrics_sample() {
    let fam = family(
        "requests",
        FamilyType::Counter,
        Value::Counter {
            value: 1.0,
            exemplar: None,
        },
    );
    assert_eq!(
        encode(&[fam], Format::OpenMetrics),
        "# TYPE requests counter\nrequests_total{job=\"api\"} 1\n# EOF\n"
    );
}

#[test]
fn summaries_gauges_and_unknown() {
    let summary = family(
        "latency",
        FamilyType::Summary,
        Value::Summary {
            quantiles: vec![(0.5, 1.0), (0.99, 4.0)],
            count: 10,
            sum: 15.0,
        },
    );
    assert_eq!(
        encode(&[summary], Format::Text),
        "# TYPE latency summary\nlatency{job=\"api\",quantile=\"0.5\"} 1\nlatency{job=\"api\",quantile=\"0.99\"} 4\n\
         latency_sum{job=\"api\"} 15\nlatency_count{job=\"api\"} 10\n"
    );
    let gauge = family("temp", FamilyType::Unknown, Value::Gauge(f64::NAN));
    assert_eq!(
        encode(std::slice::from_ref(&gauge), Format::Text),
        "# TYPE temp untyped\ntemp{job=\"api\"} NaN\n"
    );
    assert_eq!(
        encode(&[gauge], Format::OpenMetrics),
        "# TYPE temp unknown\ntemp{job=\"api\"} NaN\n# EOF\n"
    );
}

#[test]
fn escaping_of_help_and_label_values() {
    let mut fam = family("g", FamilyType::Gauge, Value::Gauge(f64::NEG_INFINITY));
    fam.help = "a \\ b\n\"c\"".into();
    fam.series[0].labels = labels(&[("path", "C:\\x\n\"y\"")]);
    assert_eq!(
        encode(std::slice::from_ref(&fam), Format::Text),
        "# HELP g a \\\\ b\\n\"c\"\n# TYPE g gauge\ng{path=\"C:\\\\x\\n\\\"y\\\"\"} -Inf\n"
    );
    assert!(encode(&[fam], Format::OpenMetrics).starts_with("# HELP g a \\\\ b\\n\\\"c\\\"\n"));
}

#[test]
fn unit_is_written_only_when_it_is_the_names_suffix() {
    let mut fam = family("memory", FamilyType::Gauge, Value::Gauge(1.0));
    fam.unit = "bytes".into();
    assert!(!encode(&[fam], Format::OpenMetrics).contains("# UNIT"));
}

#[test]
fn utf8_names_are_escaped_for_the_classic_formats() {
    let fam = family("http.server.duration", FamilyType::Gauge, Value::Gauge(1.0));
    assert_eq!(
        encode(&[fam], Format::Text),
        "# TYPE http_server_duration gauge\nhttp_server_duration{job=\"api\"} 1\n"
    );
}

#[test]
fn empty_families_write_nothing() {
    let mut fam = family("g", FamilyType::Gauge, Value::Gauge(1.0));
    fam.series.clear();
    assert_eq!(encode(&[fam], Format::Text), "");
}

#[test]
fn floats_as_go_writes_them() {
    for (value, text) in [
        (0.0, "0"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (123456.0, "123456"),
        (1_000_000.0, "1e+06"),
        (1_234_567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.000025, "2.5e-05"),
        (1e300, "1e+300"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (0.1, "0.1"),
    ] {
        assert_eq!(float_text(value), text, "{value}");
    }
}

#[test]
fn negotiation_follows_expfmt() {
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(
        Format::negotiate(Some(prometheus), true),
        Format::OpenMetrics
    );
    assert_eq!(Format::negotiate(Some(prometheus), false), Format::Text);
    assert_eq!(Format::negotiate(None, true), Format::Text);
    assert_eq!(Format::negotiate(Some("*/*"), true), Format::Text);
    assert_eq!(
        Format::negotiate(
            Some("text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5"),
            true
        ),
        Format::Text
    );
    assert_eq!(
        Format::negotiate(
            Some("application/openmetrics-text; version=2.0.0, application/openmetrics-text"),
            true
        ),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::negotiate(Some("application/openmetrics-text;q=0"), true),
        Format::Text
    );
}

#[test]
fn long_exemplar_label_sets_are_left_out() {
    let long = "x".repeat(130);
    let fam = family(
        "c_total",
        FamilyType::Counter,
        Value::Counter {
            value: 1.0,
            exemplar: Some(Exemplar {
                labels: labels(&[("trace_id", &long)]),
                value: 1.0,
                timestamp_ms: None,
            }),
        },
    );
    assert_eq!(
        encode(&[fam], Format::OpenMetrics),
        "# TYPE c counter\nc_total{job=\"api\"} 1\n# EOF\n"
    );
}
