//! The line parser: every type and section, malformed lines, and arbitrary bytes.

use proptest::prelude::*;

use super::pairs;
use crate::statsd::{Line, MetricType, Number, ParseOptions, Values, parse_line, parse_packet};

fn parse(line: &str) -> Line {
    parse_line(line, &ParseOptions::default()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn refused(line: &str) -> String {
    match parse_line(line, &ParseOptions::default()) {
        Ok(parsed) => panic!("{line:?} was accepted: {parsed:?}"),
        Err(e) => e.to_string(),
    }
}

fn numbers(values: &[(f64, bool)]) -> Values {
    Values::Numbers(
        values
            .iter()
            .map(|&(value, signed)| Number { value, signed })
            .collect(),
    )
}

#[test]
fn every_type_parses() {
    for (code, metric_type) in [
        ("c", MetricType::Counter),
        ("g", MetricType::Gauge),
        ("ms", MetricType::Timing),
        ("h", MetricType::Histogram),
        ("d", MetricType::Distribution),
    ] {
        let line = parse(&format!("a.b:42.5|{code}"));
        assert_eq!(line.name, "a.b");
        assert_eq!(line.metric_type, metric_type);
        assert_eq!(line.values, numbers(&[(42.5, false)]));
        assert_eq!((line.sample_rate, line.timestamp_unix_nano), (None, None));
        assert!(line.attributes.is_empty());
    }
    let set = parse("users:alice|s");
    assert_eq!(set.metric_type, MetricType::Set);
    assert_eq!(set.values, Values::Members(vec!["alice".into()]));
}

#[test]
fn sample_rates_in_zero_to_one_count_others_are_ignored() {
    assert_eq!(parse("a:1|c|@0.1").sample_rate, Some(0.1));
    assert_eq!(parse("a:1|c|@1").sample_rate, None);
    assert_eq!(parse("a:1|c|@0").sample_rate, None);
    assert_eq!(parse("a:1|c|@-0.5").sample_rate, None);
    assert!(refused("a:1|c|@fast").contains("sample rate"));
}

#[test]
fn signs_mark_relative_gauge_values() {
    assert_eq!(parse("g:+4|g").values, numbers(&[(4.0, true)]));
    assert_eq!(parse("g:-10|g").values, numbers(&[(-10.0, true)]));
    assert_eq!(parse("g:333|g").values, numbers(&[(333.0, false)]));
}

#[test]
fn dogstatsd_tags_container_id_and_timestamp() {
    let line = parse("page.views:1|c|#env:prod,route:/home|c:abc123|T1700000000");
    assert_eq!(
        line.attributes,
        pairs(&[
            ("container.id", "abc123"),
            ("env", "prod"),
            ("route", "/home")
        ])
    );
    assert_eq!(line.timestamp_unix_nano, Some(1_700_000_000_000_000_000));
    // Sections come in any order; a tag value may hold colons; the last of a key wins.
    let line = parse("x:1|g|T5|#url:http://a:8080,env:a,env:b|@0.5");
    assert_eq!(
        line.attributes,
        pairs(&[("env", "b"), ("url", "http://a:8080")])
    );
    assert_eq!(line.sample_rate, Some(0.5));
    // An empty tag section (some clients send one) and an empty container ID add nothing.
    assert!(parse("x:1|c|#|c:").attributes.is_empty());
}

#[test]
fn simple_tags_need_their_option() {
    assert!(refused("x:1|c|#solo").contains("invalid tag format"));
    assert!(refused("x:1|c|#:v").contains("invalid tag format"));
    let options = ParseOptions {
        enable_simple_tags: true,
        ..Default::default()
    };
    let line = parse_line("x:1|c|#solo,k:v", &options).unwrap();
    assert_eq!(line.attributes, pairs(&[("k", "v"), ("solo", "")]));
}

#[test]
fn metric_type_attribute_with_its_option() {
    let options = ParseOptions {
        enable_metric_type: true,
        ..Default::default()
    };
    for (line, name) in [
        ("a:1|c", "counter"),
        ("a:1|g", "gauge"),
        ("a:1|ms", "timing"),
        ("a:1|h", "histogram"),
        ("a:1|d", "distribution"),
        ("a:x|s", "set"),
    ] {
        let parsed = parse_line(line, &options).unwrap();
        assert_eq!(parsed.attributes, pairs(&[("metric_type", name)]), "{line}");
    }
}

#[test]
fn packed_values() {
    assert_eq!(
        parse("lat:1:2.5:-3|h").values,
        numbers(&[(1.0, false), (2.5, false), (-3.0, true)])
    );
    // A set member is one value, colons included.
    assert_eq!(parse("s:a:b|s").values, Values::Members(vec!["a:b".into()]));
}

#[test]
fn timestamps_only_on_counters_and_gauges() {
    assert!(refused("t:1|ms|T1700000000").contains("only gauge and counter"));
    assert!(refused("t:1|c|Tnow").contains("invalid timestamp"));
    assert!(refused("t:1|c|T99999999999999999999").contains("invalid timestamp"));
}

#[test]
fn unknown_sections_are_ignored() {
    let line = parse("a:1|c|card:low|e:it-false|#k:v");
    assert_eq!(line.attributes, pairs(&[("k", "v")]));
}

#[test]
fn malformed_lines_say_why() {
    for (line, why) in [
        ("nopipe", "invalid message format"),
        ("novalue|c", "<name>:<value>"),
        (":1|c", "empty metric name"),
        ("a:|c", "empty metric value"),
        ("a:1|x", "unsupported metric type"),
        ("a:1|", "unsupported metric type"),
        ("a:one|c", "parse metric value"),
        ("a:NaN|g", "not finite"),
        ("a:inf|c", "not finite"),
        ("a:1:x|h", "parse metric value"),
        ("_e{5,4}:title|text", "events and service checks"),
        ("_sc|check|0", "events and service checks"),
    ] {
        let error = refused(line);
        assert!(error.contains(why), "{line:?}: {error}");
    }
}

#[test]
fn a_packet_keeps_its_good_lines() {
    let lines = parse_packet(
        b"good.one:1|c\nbroken\r\n\n  \ngood.two:2|g\r\n",
        &ParseOptions::default(),
    );
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].as_ref().unwrap().name, "good.one");
    assert!(lines[1].is_err());
    assert_eq!(lines[2].as_ref().unwrap().name, "good.two");
}

#[test]
fn bytes_that_are_not_utf8_are_read_lossily() {
    let lines = parse_packet(b"caf\xe9:1|c", &ParseOptions::default());
    assert_eq!(lines[0].as_ref().unwrap().name, "caf\u{fffd}");
}

/// Lines built from the grammar's pieces, good and bad, for mutation.
fn statsd_line() -> impl Strategy<Value = String> {
    let name = "[a-z._:|#@]{0,12}";
    let value = prop_oneof![
        Just("1".to_string()),
        Just("+2.5".to_string()),
        Just("-3".to_string()),
        "[0-9:.eE+-]{0,10}",
    ];
    let code = prop_oneof![
        Just("c"),
        Just("g"),
        Just("ms"),
        Just("h"),
        Just("d"),
        Just("s"),
        Just("zz")
    ];
    let section = prop_oneof![
        "@[0-9.]{0,5}",
        "#[a-z:,]{0,20}",
        "c:[a-f0-9]{0,8}",
        "T[0-9]{0,22}",
        "[a-z:]{0,6}",
    ];
    (name, value, code, prop::collection::vec(section, 0..4)).prop_map(
        |(name, value, code, sections)| {
            let mut line = format!("{name}:{value}|{code}");
            for section in sections {
                line.push('|');
                line.push_str(&section);
            }
            line
        },
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let lines = parse_packet(&bytes, &ParseOptions { enable_metric_type: true, enable_simple_tags: true });
        prop_assert!(lines.len() <= bytes.iter().filter(|b| **b == b'\n').count() + 1);
        for line in lines.into_iter().flatten() {
            let values = match &line.values {
                Values::Numbers(n) => n.len(),
                Values::Members(m) => m.len(),
            };
            prop_assert!(values <= bytes.len());
            prop_assert!(line.name.len() <= bytes.len() * 3);
            if let Values::Numbers(numbers) = &line.values {
                prop_assert!(numbers.iter().all(|n| n.value.is_finite()));
            }
        }
    }

    #[test]
    fn grammar_shaped_lines_never_panic(lines in prop::collection::vec(statsd_line(), 1..20)) {
        let packet = lines.join("\n");
        let parsed = parse_packet(packet.as_bytes(), &ParseOptions::default());
        prop_assert!(parsed.len() <= lines.len());
    }

    #[test]
    fn counters_round_trip(name in "[a-z][a-z0-9_.]{0,20}", value in -1e12f64..1e12, rate in 0.01f64..1.0) {
        let line = parse(&format!("{name}:{value}|c|@{rate}|#k:v"));
        prop_assert_eq!(line.name, name);
        prop_assert_eq!(line.values, numbers(&[(value, value.is_sign_negative())]));
        prop_assert_eq!(line.sample_rate, Some(rate));
    }
}
