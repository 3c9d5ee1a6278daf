//! The jsonpb form of a span: written as Go writes it, read as Go reads it.

use proptest::prelude::*;

use super::*;
use crate::model::{Duration, Log, Process, SpanRef, SpanRefType, Timestamp};
use crate::{span_from_json, span_to_json};

/// A span as Go's `jsonpb.Marshaler{}` writes it.
#[test]
fn json_is_what_jsonpb_writes() {
    let span = Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, 3],
        operation_name: "GET /cart".into(),
        references: vec![
            SpanRef {
                trace_id: TRACE.to_vec(),
                span_id: vec![0, 0, 0, 0, 0, 0, 0, 4],
                ref_type: SpanRefType::ChildOf as i32,
            },
            SpanRef {
                trace_id: vec![9; 16],
                span_id: vec![0, 0, 0, 0, 0, 0, 0, 5],
                ref_type: SpanRefType::FollowsFrom as i32,
            },
        ],
        flags: 1,
        start_time: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000,
        }),
        duration: Some(Duration {
            seconds: 0,
            nanos: 250_000_000,
        }),
        tags: vec![
            int_tag("http.status_code", 200),
            KeyValue {
                key: "ratio".into(),
                v_type: ValueType::Float64 as i32,
                v_float64: 0.5,
                ..KeyValue::default()
            },
            bool_tag("ok", true),
            string_tag("name", "x"),
            KeyValue {
                key: "raw".into(),
                v_type: ValueType::Binary as i32,
                v_binary: vec![1, 2, 3],
                ..KeyValue::default()
            },
        ],
        logs: vec![Log {
            timestamp: Some(Timestamp {
                seconds: 1_700_000_000,
                nanos: 1_000,
            }),
            fields: vec![string_tag("event", "retry")],
        }],
        process: Some(Process {
            service_name: "checkout".into(),
            tags: vec![string_tag("host.name", "web-1")],
        }),
        ..Span::default()
    };
    let expected = concat!(
        r#"{"traceId":"AAAAAAAAAAEAAAAAAAAAAg==","spanId":"AAAAAAAAAAM=","operationName":"GET /cart","#,
        r#""references":[{"traceId":"AAAAAAAAAAEAAAAAAAAAAg==","spanId":"AAAAAAAAAAQ="},"#,
        r#"{"traceId":"CQkJCQkJCQkJCQkJCQkJCQ==","spanId":"AAAAAAAAAAU=","refType":"FOLLOWS_FROM"}],"#,
        r#""flags":1,"startTime":"2023-11-14T22:13:20.000005Z","duration":"0.250s","#,
        r#""tags":[{"key":"http.status_code","vType":"INT64","vInt64":"200"},"#,
        r#"{"key":"ratio","vType":"FLOAT64","vFloat64":0.5},{"key":"ok","vType":"BOOL","vBool":true},"#,
        r#"{"key":"name","vStr":"x"},{"key":"raw","vType":"BINARY","vBinary":"AQID"}],"#,
        r#""logs":[{"timestamp":"2023-11-14T22:13:20.000001Z","fields":[{"key":"event","vStr":"retry"}]}],"#,
        r#""process":{"serviceName":"checkout","tags":[{"key":"host.name","vStr":"web-1"}]}}"#,
    );
    assert_eq!(String::from_utf8(span_to_json(&span)).unwrap(), expected);
    assert_eq!(span_from_json(expected.as_bytes()).unwrap(), span);
}

#[test]
fn json_times_and_durations_have_zero_three_six_or_nine_digits() {
    for ((seconds, nanos), time, duration) in [
        ((0, 0), "1970-01-01T00:00:00Z", None),
        ((1, 0), "1970-01-01T00:00:01Z", Some("1s")),
        ((1, 500_000_000), "1970-01-01T00:00:01.500Z", Some("1.500s")),
        ((0, 1_000), "1970-01-01T00:00:00.000001Z", Some("0.000001s")),
        (
            (0, 1),
            "1970-01-01T00:00:00.000000001Z",
            Some("0.000000001s"),
        ),
    ] {
        let span = Span {
            start_time: Some(Timestamp { seconds, nanos }),
            duration: Some(Duration { seconds, nanos }),
            ..Span::default()
        };
        let json: serde_json::Value = serde_json::from_slice(&span_to_json(&span)).unwrap();
        assert_eq!(json["startTime"], time);
        assert_eq!(json["duration"].as_str(), duration);
    }
    let negative = Span {
        duration: Some(Duration {
            seconds: 0,
            nanos: -500_000_000,
        }),
        ..Span::default()
    };
    let json: serde_json::Value = serde_json::from_slice(&span_to_json(&negative)).unwrap();
    assert_eq!(json["duration"], "-0.500s");
    assert_eq!(
        span_from_json(&span_to_json(&negative)).unwrap().duration,
        negative.duration
    );
}

#[test]
fn json_doubles_as_go_writes_them() {
    for (value, written) in [
        (1e21, "1e+21"),
        (1.0, "1"),
        (f64::NAN, "\"NaN\""),
        (f64::INFINITY, "\"Infinity\""),
        (f64::NEG_INFINITY, "\"-Infinity\""),
    ] {
        let kv = KeyValue {
            key: "d".into(),
            v_type: ValueType::Float64 as i32,
            v_float64: value,
            ..KeyValue::default()
        };
        let span = Span {
            tags: vec![kv],
            ..Span::default()
        };
        let json = String::from_utf8(span_to_json(&span)).unwrap();
        assert!(json.contains(&format!("\"vFloat64\":{written}")), "{json}");
        let back = span_from_json(json.as_bytes()).unwrap().tags[0].v_float64;
        assert!(back == value || (back.is_nan() && value.is_nan()), "{back}");
    }
}

#[test]
fn json_is_read_as_jsonpb_reads_it() {
    // Proto names, enums by number, integers as numbers, nulls, any offset, Go durations.
    let span = span_from_json(
        br#"{"trace_id":"AAAAAAAAAAEAAAAAAAAAAg","span_id":3,"operation_name":"op",
            "references":[{"trace_id":"AAAAAAAAAAEAAAAAAAAAAg==","span_id":"AAAAAAAAAAQ=","ref_type":1}],
            "flags":"1","start_time":"2023-11-15T00:13:20.000005+02:00","duration":"1m2.5s",
            "tags":[{"key":"n","v_type":2,"v_int64":200},{"key":"f","vType":"FLOAT64","vFloat64":"2.5"},
                    {"key":"s","vStr":null}],
            "logs":null,"process":{"service_name":"svc"},"unknown":{"ignored":true}}"#,
    )
    .unwrap();
    assert_eq!(span.trace_id, TRACE);
    assert_eq!(span.span_id, 3u64.to_be_bytes());
    assert_eq!(span.references[0].ref_type, SpanRefType::FollowsFrom as i32);
    assert_eq!(span.flags, 1);
    assert_eq!(
        span.start_time,
        Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000,
        })
    );
    assert_eq!(
        span.duration,
        Some(Duration {
            seconds: 62,
            nanos: 500_000_000,
        })
    );
    assert_eq!(span.tags[0], int_tag("n", 200));
    assert_eq!(span.tags[1].v_float64, 2.5);
    assert_eq!(
        span.tags[2],
        KeyValue {
            key: "s".into(),
            ..KeyValue::default()
        }
    );
    assert!(span.logs.is_empty());
    assert_eq!(span.process.unwrap().service_name, "svc");
}

#[test]
fn json_errors_name_the_field() {
    for (json, field) in [
        (&br#"[1]"#[..], "span"),
        (br#"{"traceId":"%%"}"#, "traceId"),
        (br#"{"flags":-1}"#, "flags"),
        (br#"{"startTime":"yesterday"}"#, "startTime"),
        (br#"{"duration":"5 parsecs"}"#, "duration"),
        (
            br#"{"references":[{"refType":"SIBLING_OF"}]}"#,
            "references[0].refType",
        ),
        (br#"{"tags":[{"key":"k","vBool":"yes"}]}"#, "tags[0].vBool"),
        (
            br#"{"process":{"tags":[{"vType":"TEXT"}]}}"#,
            "process.tags[0].vType",
        ),
        (br#"{"logs":[{"fields":{}}]}"#, "logs[0].fields"),
        (b"{", "not a JSON Jaeger span"),
    ] {
        let error = span_from_json(json).unwrap_err().to_string();
        assert!(
            error.starts_with(field),
            "{}: {error}",
            String::from_utf8_lossy(json)
        );
    }
}

#[test]
fn go_durations_are_read() {
    use crate::go_duration::parse_go_duration;
    for (text, nanos) in [
        ("0", Some(0)),
        ("1.5s", Some(1_500_000_000)),
        ("-0.5s", Some(-500_000_000)),
        ("250ms", Some(250_000_000)),
        ("1h2m3s", Some(3_723_000_000_000)),
        ("3us", Some(3_000)),
        ("3µs", Some(3_000)),
        (".5s", Some(500_000_000)),
        ("7ns", Some(7)),
        ("", None),
        ("5", None),
        ("1.5", None),
        ("1.2.3s", None),
        ("1..s", None),
        ("s", None),
        ("3d", None),
        ("99999999999h", None),
    ] {
        assert_eq!(parse_go_duration(text), nanos, "{text:?}");
    }
}

fn arbitrary_key_value() -> impl Strategy<Value = KeyValue> {
    (
        "[a-z.<>&\"\\\\é]{0,8}",
        prop_oneof![
            "[ -~é\\n]{0,12}".prop_map(|s| (ValueType::String, s, false, 0i64, 0.0f64, vec![])),
            any::<bool>().prop_map(|b| (ValueType::Bool, String::new(), b, 0, 0.0, vec![])),
            any::<i64>().prop_map(|i| (ValueType::Int64, String::new(), false, i, 0.0, vec![])),
            any::<f64>()
                .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                .prop_map(|f| (ValueType::Float64, String::new(), false, 0, f, vec![])),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| (
                ValueType::Binary,
                String::new(),
                false,
                0,
                0.0,
                b
            )),
        ],
    )
        .prop_map(
            |(key, (v_type, v_str, v_bool, v_int64, v_float64, v_binary))| KeyValue {
                key,
                v_type: v_type as i32,
                v_str,
                v_bool,
                v_int64,
                v_float64,
                v_binary,
            },
        )
}

fn arbitrary_timestamp() -> impl Strategy<Value = Timestamp> {
    // Up to the year 9999, as jsonpb allows.
    (0i64..253_402_300_799, 0i32..1_000_000_000)
        .prop_map(|(seconds, nanos)| Timestamp { seconds, nanos })
}

fn arbitrary_span() -> impl Strategy<Value = Span> {
    let id = |len: usize| {
        proptest::collection::vec(any::<u8>(), len)
            .prop_filter("IDs of zero are left out", |id| id.iter().any(|b| *b != 0))
    };
    (
        (id(16), id(8), "[ -~]{0,10}", any::<u32>()),
        proptest::collection::vec(
            (id(16), id(8), 0i32..2).prop_map(|(trace_id, span_id, ref_type)| SpanRef {
                trace_id,
                span_id,
                ref_type,
            }),
            0..3,
        ),
        (arbitrary_timestamp(), -1_000_000_000i64..1_000_000_000),
        proptest::collection::vec(arbitrary_key_value(), 0..4),
        proptest::collection::vec(
            (
                arbitrary_timestamp(),
                proptest::collection::vec(arbitrary_key_value(), 0..3),
            )
                .prop_map(|(timestamp, fields)| Log {
                    timestamp: Some(timestamp),
                    fields,
                }),
            0..3,
        ),
        proptest::option::of(
            (
                "[a-z]{0,6}",
                proptest::collection::vec(arbitrary_key_value(), 0..3),
            )
                .prop_map(|(service_name, tags)| Process { service_name, tags }),
        ),
    )
        .prop_map(
            |(
                (trace_id, span_id, operation_name, flags),
                references,
                (start, micros),
                tags,
                logs,
                process,
            )| {
                let nanos = micros * 1_000 + 7;
                Span {
                    trace_id,
                    span_id,
                    operation_name,
                    references,
                    flags,
                    start_time: Some(start),
                    duration: Some(Duration {
                        seconds: nanos / 1_000_000_000,
                        nanos: (nanos % 1_000_000_000) as i32,
                    }),
                    tags,
                    logs,
                    process,
                    ..Span::default()
                }
            },
        )
}

proptest! {
    #[test]
    fn any_span_reads_back_from_its_json(span in arbitrary_span()) {
        let json = span_to_json(&span);
        prop_assert_eq!(span_from_json(&json).unwrap(), span);
    }

    #[test]
    fn any_duration_text_is_read_or_refused(text in "[-+0-9.a-zµ]{0,14}") {
        let _ = crate::go_duration::parse_go_duration(&text);
        let json = serde_json::json!({ "duration": text, "startTime": text });
        let _ = span_from_json(json.to_string().as_bytes());
    }
}
