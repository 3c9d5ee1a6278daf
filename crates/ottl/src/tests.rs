//! Parser, evaluation and function tests.

use proptest::prelude::*;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, KeyValue, KeyValueList, any_value,
};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

use crate::ast::{BoolExpr, CompareOp, Expr, Key, MathOp};
use crate::*;

fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    }
}

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    }
}

fn attr(attrs: &[KeyValue], k: &str) -> Option<Value> {
    attrs
        .iter()
        .find(|a| a.key == k)
        .and_then(|a| a.value.as_ref())
        .map(Value::from_any)
}

/// Runs statements on a span, returning it with the resource.
fn on_span(statements: &[&str], mut span: Span) -> (Span, Vec<KeyValue>) {
    let mut resource = Some(Default::default());
    let mut scope = None;
    for text in statements {
        let st = compile_statement(text, ContextKind::Span).unwrap_or_else(|e| panic!("{e}"));
        let mut cache = Vec::new();
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::Span(&mut span),
            cache: &mut cache,
        };
        st.execute(&mut ctx).unwrap_or_else(|e| panic!("{e}"));
    }
    (span, resource.unwrap().attributes)
}

fn on_log(statements: &[&str], mut log: LogRecord) -> LogRecord {
    let mut resource = None;
    let mut scope = None;
    let mut cache = Vec::new();
    for text in statements {
        let st = compile_statement(text, ContextKind::Log).unwrap_or_else(|e| panic!("{e}"));
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::Log(&mut log),
            cache: &mut cache,
        };
        st.execute(&mut ctx).unwrap_or_else(|e| panic!("{e}"));
    }
    log
}

fn eval_on_span(expr_condition: &str, span: &mut Span) -> bool {
    let c = compile_condition(expr_condition, ContextKind::Span).unwrap_or_else(|e| panic!("{e}"));
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    let ctx = TransformContext {
        resource: &mut resource,
        scope: Some(&mut scope),
        item: Item::Span(span),
        cache: &mut cache,
    };
    c.matches(&ctx).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn parses_statements_with_paths_keys_and_where() {
    let st = parse_statement(r#"set(attributes["a"]["b"], resource.attributes["x"]) where name == "n" and not (kind == SPAN_KIND_SERVER or false)"#).unwrap();
    assert_eq!(st.editor.name, "set");
    let Expr::Path(p) = &st.editor.args[0].value else {
        panic!()
    };
    assert_eq!(p.fields, ["attributes"]);
    assert_eq!(p.keys, [Key::String("a".into()), Key::String("b".into())]);
    let Some(BoolExpr::And(terms)) = st.condition else {
        panic!()
    };
    assert!(matches!(&terms[1], BoolExpr::Not(_)));
}

#[test]
fn parses_literals() {
    let lit = |src: &str| match parse_expr(src).unwrap() {
        Expr::Literal(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(lit(r#""a\"b\\c\n""#), Value::Str("a\"b\\c\n".into()));
    assert_eq!(lit("-42"), Value::Int(-42));
    assert_eq!(lit("1.5"), Value::Float(1.5));
    assert_eq!(lit("true"), Value::Bool(true));
    assert_eq!(lit("nil"), Value::Nil);
    assert_eq!(lit("0xa1ff"), Value::Bytes(vec![0xa1, 0xff]));
    assert!(matches!(
        parse_expr(r#"{"a": [1, "b"], "c": {}}"#).unwrap(),
        Expr::Map(_)
    ));
    assert!(matches!(
        parse_expr("SEVERITY_NUMBER_WARN2").unwrap(),
        Expr::Enum(_, 14)
    ));
}

#[test]
fn math_has_precedence_and_go_types() {
    let Expr::Math(_, MathOp::Add, r) = parse_expr("1 + 2 * 3").unwrap() else {
        panic!()
    };
    assert!(matches!(*r, Expr::Math(_, MathOp::Mul, _)));
    assert_eq!(
        eval::math(Value::Int(7), MathOp::Div, Value::Int(2)),
        Ok(Value::Int(3))
    );
    assert!(eval::math(Value::Int(7), MathOp::Add, Value::Float(2.0)).is_err());
    assert!(eval::math(Value::Int(7), MathOp::Div, Value::Int(0)).is_err());
    assert_eq!(
        eval::math(Value::Float(1.5), MathOp::Mul, Value::Float(2.0)),
        Ok(Value::Float(3.0))
    );
}

#[test]
fn errors_name_statement_position_and_expectation() {
    let e = parse_statement(r#"set(attributes["a"] "b")"#).unwrap_err();
    assert_eq!(e.pos, 20);
    assert!(e.to_string().contains("expected \",\" or \")\""), "{e}");
    assert!(e.to_string().contains("set(attributes"), "{e}");
    let e = parse_statement(r#"Set(name, "x")"#).unwrap_err();
    assert!(e.message.contains("converter"), "{e}");
    let e = parse_statement(r#"set(name, "x") where"#).unwrap_err();
    assert_eq!(e.pos, 20);
    assert!(
        parse_statement(r#"set(name, "x"#)
            .unwrap_err()
            .message
            .contains("unterminated")
    );
    // An unknown upper-case name parses (it may be a converter's name, which replace_*
    // take) and is refused by the compiler, at its position.
    let e = compile_statement("set(kind, SPAN_KIND_NOPE)", ContextKind::Span).unwrap_err();
    assert!(e.to_string().contains("unknown enum"), "{e}");
    assert!(matches!(e, CompileError::Invalid { pos: 10, .. }), "{e:?}");
    let e =
        compile_statement(r#"set(attributes["a"], Nope(name))"#, ContextKind::Span).unwrap_err();
    assert!(e.to_string().contains("undefined function \"Nope\""), "{e}");
    let e = compile_statement(r#"set(body, "x")"#, ContextKind::Span).unwrap_err();
    assert!(
        e.to_string().contains("not a path of the span context"),
        "{e}"
    );
    let e = compile_statement(r#"replace_pattern(name, "(", "x")"#, ContextKind::Span).unwrap_err();
    assert!(e.to_string().contains("invalid pattern"), "{e}");
    let e = compile_statement(r#"set(name, x = "y")"#, ContextKind::Span).unwrap_err();
    assert!(e.to_string().contains("no parameter named \"x\""), "{e}");
}

#[test]
fn context_prefixes_resolve_as_newer_go_versions_infer_them() {
    assert_eq!(
        context::resolve(ContextKind::Span, &["span".into(), "name".into()]),
        Ok(Field::SpanName)
    );
    assert_eq!(
        context::resolve(ContextKind::Span, &["name".into()]),
        Ok(Field::SpanName)
    );
    assert_eq!(
        context::resolve(ContextKind::DataPoint, &["metric".into(), "name".into()]),
        Ok(Field::MetricName)
    );
    assert_eq!(
        context::resolve(ContextKind::Log, &["resource".into(), "attributes".into()]),
        Ok(Field::ResourceAttributes)
    );
    assert!(context::resolve(ContextKind::Resource, &["span".into(), "name".into()]).is_err());
}

#[test]
fn set_and_conditions_on_spans() {
    let span = Span {
        name: "GET /users/42".into(),
        kind: 2,
        ..Default::default()
    };
    let (span, resource) = on_span(
        &[
            r#"set(attributes["route"], "/users") where kind == SPAN_KIND_SERVER and IsMatch(name, "^GET ")"#,
            r#"set(attributes["skipped"], true) where kind == SPAN_KIND_CLIENT"#,
            r#"set(resource.attributes["svc"], Concat(["a", attributes["route"]], ":"))"#,
            r#"set(status.code, STATUS_CODE_ERROR)"#,
            r#"set(attributes["n"], 2 * (3 + 4))"#,
            r#"set(span.attributes["len"], Len(name))"#,
        ],
        span,
    );
    assert_eq!(
        attr(&span.attributes, "route"),
        Some(Value::Str("/users".into()))
    );
    assert_eq!(attr(&span.attributes, "skipped"), None);
    assert_eq!(attr(&resource, "svc"), Some(Value::Str("a:/users".into())));
    assert_eq!(span.status.unwrap().code, 2);
    assert_eq!(attr(&span.attributes, "n"), Some(Value::Int(14)));
    assert_eq!(attr(&span.attributes, "len"), Some(Value::Int(13)));
}

#[test]
fn comparisons_follow_go() {
    let mut span = Span {
        name: "a".into(),
        start_time_unix_nano: 5,
        ..Default::default()
    };
    assert!(eval_on_span(r#"name == "a""#, &mut span));
    assert!(eval_on_span(r#"attributes["missing"] == nil"#, &mut span));
    assert!(eval_on_span(r#"name != 1"#, &mut span));
    assert!(!eval_on_span(r#"name < 1"#, &mut span));
    assert!(eval_on_span(r#"start_time_unix_nano > 4.5"#, &mut span));
    assert!(eval_on_span(
        r#"(start_time_unix_nano + 1) == 6"#,
        &mut span
    ));
    assert!(eval_on_span(r#"IsRootSpan()"#, &mut span));
    assert!(eval_on_span(
        r#"not (name == "b" or name == "c")"#,
        &mut span
    ));
}

#[test]
fn map_editors() {
    let log = LogRecord {
        attributes: vec![
            kv("a", s("1")),
            kv("b", s("two")),
            kv("secret.x", s("s")),
            kv("long", s("abcdefgh")),
        ],
        ..Default::default()
    };
    let log = on_log(
        &[
            r#"delete_key(attributes, "a")"#,
            r#"delete_matching_keys(attributes, "^secret\\.")"#,
            r#"truncate_all(attributes, 3)"#,
            r#"merge_maps(attributes, {"b": "x", "c": "y"}, "insert")"#,
            r#"replace_all_patterns(attributes, "value", "^t", "T")"#,
            r#"limit(attributes, 2, ["c"])"#,
        ],
        log,
    );
    let keys: Vec<_> = log.attributes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["b", "c"]);
    assert_eq!(attr(&log.attributes, "b"), Some(Value::Str("Two".into())));
}

#[test]
fn body_json_key_value_and_flatten() {
    let log = LogRecord {
        body: Some(s(r#"{"user": {"id": 7, "tags": ["x"]}, "msg": "hi"}"#)),
        ..Default::default()
    };
    let log = on_log(
        &[
            r#"merge_maps(cache, ParseJSON(body), "upsert")"#,
            r#"set(attributes["msg"], cache["msg"])"#,
            r#"set(attributes["user"], cache["user"])"#,
            r#"flatten(attributes, "p")"#,
            r#"set(attributes["kv"], ParseKeyValue("a=1 b=\"x y\""))"#,
            r#"set(attributes["up"], ToUpperCase(attributes["p.msg"]))"#,
            r#"set(body, "replaced") where attributes["p.user.id"] == 7.0"#,
        ],
        log,
    );
    assert_eq!(
        attr(&log.attributes, "p.user.tags.0"),
        Some(Value::Str("x".into()))
    );
    assert_eq!(attr(&log.attributes, "up"), Some(Value::Str("HI".into())));
    assert_eq!(
        attr(&log.attributes, "kv"),
        Some(Value::Map(vec![
            ("a".into(), Value::Str("1".into())),
            ("b".into(), Value::Str("x y".into()))
        ]))
    );
    assert_eq!(
        log.body.map(|b| Value::from_any(&b)),
        Some(Value::Str("replaced".into()))
    );
}

#[test]
fn string_editors_and_converters() {
    let span = Span {
        name: "user 123 logged in from 10.0.0.1".into(),
        ..Default::default()
    };
    let (span, _) = on_span(
        &[
            r#"replace_pattern(name, "\\d+", "N")"#,
            r#"set(attributes["parts"], Split("a,b", ","))"#,
            r#"set(attributes["sub"], Substring("abcdef", 1, 3))"#,
            r#"set(attributes["case"], ConvertCase("HelloWorld", "snake"))"#,
            r#"set(attributes["fnv"], FNV("hello"))"#,
            r#"set(attributes["sha1"], SHA1("hello"))"#,
            r#"set(attributes["sha256"], SHA256("hello"))"#,
            r#"set(attributes["ex"], ExtractPatterns("id=42", "id=(?P<id>\\d+)"))"#,
            r#"set(attributes["int"], Int("12"))"#,
            r#"append(attributes["parts"], "c")"#,
            r#"set(attributes["i"], Index(attributes["parts"], "b"))"#,
            r#"replace_match(attributes["sub"], "b*", "matched")"#,
            r#"set(attributes["trim"], Trim("  x  "))"#,
            r#"set(attributes["concat"], Concat([attributes["missing"], 1, 0x0a], "|"))"#,
        ],
        span,
    );
    assert_eq!(span.name, "user N logged in from N.N.N.N");
    let a = |k| attr(&span.attributes, k).unwrap();
    assert_eq!(
        a("parts"),
        Value::List(vec![
            Value::Str("a".into()),
            Value::Str("b".into()),
            Value::Str("c".into())
        ])
    );
    assert_eq!(a("sub"), Value::Str("matched".into()));
    assert_eq!(a("case"), Value::Str("hello_world".into()));
    // Go: fnv.New64a over "hello", as int64.
    assert_eq!(a("fnv"), Value::Int(0xa430d84680aabd0bu64 as i64));
    assert_eq!(
        a("sha1"),
        Value::Str("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d".into())
    );
    assert_eq!(
        a("ex"),
        Value::Map(vec![("id".into(), Value::Str("42".into()))])
    );
    assert_eq!(a("int"), Value::Int(12));
    assert_eq!(a("i"), Value::Int(1));
    assert_eq!(a("trim"), Value::Str("x".into()));
    // Go's Concat writes nil as "<nil>" and bytes as hex.
    assert_eq!(a("concat"), Value::Str("<nil>|1|0a".into()));
}

#[test]
fn runtime_errors_name_the_statement() {
    let st = compile_statement(r#"set(attributes["x"], 1 + name)"#, ContextKind::Span).unwrap();
    let mut span = Span::default();
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    let mut ctx = TransformContext {
        resource: &mut resource,
        scope: Some(&mut scope),
        item: Item::Span(&mut span),
        cache: &mut cache,
    };
    let e = st.execute(&mut ctx).unwrap_err();
    assert!(e.to_string().contains("set(attributes"), "{e}");
    assert!(e.message.contains("must be int64"), "{e}");
}

#[test]
fn flatten_refuses_a_resolve_conflicts_that_is_not_a_bool() {
    let st = compile_statement(
        r#"flatten(attributes, resolveConflicts = name)"#,
        ContextKind::Span,
    )
    .unwrap();
    let mut span = Span::default();
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    let mut ctx = TransformContext {
        resource: &mut resource,
        scope: Some(&mut scope),
        item: Item::Span(&mut span),
        cache: &mut cache,
    };
    let e = st.execute(&mut ctx).unwrap_err();
    assert!(e.message.contains("resolveConflicts must be a bool"), "{e}");
}

#[test]
fn nested_body_maps_are_created_on_set() {
    let log = on_log(
        &[
            r#"set(body["a"]["b"], "c")"#,
            r#"keep_keys(body["a"], ["b"])"#,
        ],
        LogRecord::default(),
    );
    let want = AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList {
            values: vec![kv(
                "a",
                AnyValue {
                    value: Some(any_value::Value::KvlistValue(KeyValueList {
                        values: vec![kv("b", s("c"))],
                    })),
                },
            )],
        })),
    };
    assert_eq!(log.body, Some(want));
}

proptest! {
    #[test]
    fn the_parser_never_panics(src in "\\PC{0,80}") {
        let _ = parse_statement(&src);
        let _ = parse_condition(&src);
    }

    #[test]
    fn the_parser_never_panics_on_near_ottl(src in r#"[a-zA-Z_\[\]\(\)\{\}"., =<>!+*/0-9x-]{0,60}"#) {
        let _ = parse_statement(&src);
        let _ = compile_statement(&src, ContextKind::Log);
        let _ = compile_condition(&src, ContextKind::DataPoint);
    }

    #[test]
    fn string_literals_round_trip(text in "[^\"\\\\]{0,40}") {
        let src = format!("set(attributes[\"k\"], \"{text}\")");
        let st = parse_statement(&src).unwrap();
        prop_assert_eq!(&st.editor.args[1].value, &Expr::Literal(Value::Str(text)));
    }

    #[test]
    fn int_literals_round_trip(n in any::<i64>()) {
        let st = parse_condition(&format!("attributes[\"k\"] == {n}")).unwrap();
        let BoolExpr::Compare(_, CompareOp::Eq, Expr::Literal(v)) = st else { panic!() };
        prop_assert_eq!(v, Value::Int(n));
    }
}

#[test]
fn metric_editors() {
    use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value as N;
    use tributary_pipeline_core::pdata::proto::metrics::v1::{
        Gauge, Metric, NumberDataPoint, metric::Data,
    };
    let mut metric = Metric {
        name: "m".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                value: Some(N::AsInt(3)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    for text in [
        r#"scale_metric(1.5, "ms")"#,
        r#"convert_gauge_to_sum("delta", true)"#,
    ] {
        let st = compile_statement(text, ContextKind::Metric).unwrap_or_else(|e| panic!("{e}"));
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::Metric(&mut metric),
            cache: &mut cache,
        };
        st.execute(&mut ctx).unwrap();
    }
    assert_eq!(metric.unit, "ms");
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!("{metric:?}")
    };
    assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (1, true));
    assert_eq!(sum.data_points[0].value, Some(N::AsInt(4)));
    assert!(compile_statement("convert_sum_to_gauge()", ContextKind::DataPoint).is_err());
    assert!(
        compile_statement(
            r#"convert_gauge_to_sum("weekly", true)"#,
            ContextKind::Metric
        )
        .is_err()
    );
}

#[test]
fn time_functions() {
    let log = on_log(
        &[
            r#"set(time, Time("2024-03-05 10:20:30.250", "%Y-%m-%d %H:%M:%S.%L"))"#,
            r#"set(attributes["ms"], UnixMilli(time))"#,
            r#"set(attributes["later"], FormatTime(time + Duration("1h30m"), "%H:%M"))"#,
            r#"set(attributes["secs"], Seconds(Duration("1m30s")))"#,
            r#"set(attributes["fmt"], Format("%s=%d (%.1f)", ["a", 3, 2.25]))"#,
            r#"set(attributes["age"], Milliseconds(Now() - time)) where time < Now()"#,
            r#"set(observed_time, time)"#,
        ],
        LogRecord::default(),
    );
    assert_eq!(
        attr(&log.attributes, "ms"),
        Some(Value::Int(1_709_634_030_250))
    );
    assert_eq!(
        attr(&log.attributes, "later"),
        Some(Value::Str("11:50".into()))
    );
    assert_eq!(attr(&log.attributes, "secs"), Some(Value::Float(90.0)));
    assert_eq!(
        attr(&log.attributes, "fmt"),
        Some(Value::Str("a=3 (2.2)".into()))
    );
    assert!(matches!(attr(&log.attributes, "age"), Some(Value::Int(ms)) if ms > 0));
    assert_eq!(log.observed_time_unix_nano, 1_709_634_030_250_000_000);
    assert_eq!(crate::time::go_duration(5_400_000_000_000), "1h30m0s");
    assert_eq!(crate::time::go_duration(1_500_000), "1.5ms");
}

/// `Time`'s location, as Go's `time.ParseInLocation` reads it (needs the system's time
/// zone database, as Go's `time.LoadLocation` does).
#[test]
fn time_reads_a_time_without_zone_in_its_location() {
    let seconds = |value: &str, format: &str, location: &str| {
        let statement = format!(
            r#"set(attributes["s"], UnixSeconds(Time("{value}", "{format}", "{location}")))"#
        );
        let log = on_log(&[&statement], LogRecord::default());
        match attr(&log.attributes, "s") {
            Some(Value::Int(s)) => s,
            other => panic!("{statement}: {other:?}"),
        }
    };
    let ymd_hms = "%Y-%m-%d %H:%M:%S";
    // Summer and winter in New York.
    assert_eq!(
        seconds("2023-07-15 12:00:00", ymd_hms, "America/New_York"),
        1_689_436_800
    );
    assert_eq!(
        seconds("2023-01-15 12:00:00", ymd_hms, "America/New_York"),
        1_673_802_000
    );
    // A local time the spring change skips takes the offset after it (01:30 EST, as Go);
    // one the autumn change repeats is the earlier (EDT).
    assert_eq!(
        seconds("2023-03-12 02:30:00", ymd_hms, "America/New_York"),
        1_678_602_600
    );
    assert_eq!(
        seconds("2023-11-05 01:30:00", ymd_hms, "America/New_York"),
        1_699_162_200
    );
    // An abbreviation the location uses gives its offset there, in either season.
    let with_zone = "%Y-%m-%d %H:%M:%S %Z";
    assert_eq!(
        seconds("2023-07-15 12:00:00 EST", with_zone, "America/New_York"),
        1_689_440_400
    );
    assert_eq!(
        seconds("2023-07-15 12:00:00 CEST", with_zone, "Europe/Berlin"),
        1_689_415_200
    );
    // Any other abbreviation, and a numeric offset, win over the location.
    assert_eq!(
        seconds("2023-07-15 12:00:00 UTC", with_zone, "Europe/Berlin"),
        1_689_422_400
    );
    assert_eq!(
        seconds(
            "2023-07-15 12:00:00 +0000",
            "%Y-%m-%d %H:%M:%S %z",
            "Asia/Tokyo"
        ),
        1_689_422_400
    );
    // "" and "UTC" are UTC; English locales read as the default.
    assert_eq!(seconds("2023-07-15 12:00:00", ymd_hms, ""), 1_689_422_400);
    assert_eq!(
        seconds("2023-07-15 12:00:00", ymd_hms, "UTC"),
        1_689_422_400
    );
    let log = on_log(
        &[
            r#"set(attributes["s"], UnixSeconds(Time("Saturday Jul 15 2023", "%A %h %e %Y", "UTC", "en-US")))"#,
        ],
        LogRecord::default(),
    );
    assert_eq!(attr(&log.attributes, "s"), Some(Value::Int(1_689_379_200)));
}

#[test]
fn time_refuses_unknown_locations_and_other_languages_at_compile_time() {
    let refused = |statement: &str, expected: &str| {
        let e = compile_statement(statement, ContextKind::Log)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains(expected), "{statement}: {e}");
        e
    };
    let e = refused(
        r#"set(time, Time("x", "%Y", "Mars/Olympus_Mons"))"#,
        "unknown time zone \"Mars/Olympus_Mons\"",
    );
    assert!(matches!(e, CompileError::Invalid { pos: 10, .. }), "{e:?}");
    refused(
        r#"set(time, Time("x", "%Y", attributes["tz"]))"#,
        "location must be a string literal",
    );
    refused(
        r#"set(time, Time("mercoledì set 4 2024", "%A %h %e %Y", "", "it"))"#,
        "locale \"it\" is not supported",
    );
}

#[test]
fn the_function_lists_name_every_function_and_nothing_else() {
    for name in funcs::CONVERTERS.iter().chain(funcs::EDITORS) {
        let call = format!("{name}()");
        let e = parse_expr(&call)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!e.contains("undefined"), "{name}");
        let compiled = if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            compile_condition(&format!("{call} == nil"), ContextKind::Span).err()
        } else {
            compile_statement(&call, ContextKind::Metric).err()
        };
        if let Some(e) = compiled {
            assert!(
                !e.to_string().contains("undefined function"),
                "{name} is listed but unknown: {e}"
            );
        }
    }
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e6f64..1e6).prop_map(Value::Float),
        "[a-c]{0,3}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..3).prop_map(Value::Bytes),
    ]
}

proptest! {
    #[test]
    fn comparisons_are_consistent(a in value(), b in value()) {
        use CompareOp::*;
        prop_assert_eq!(eval::compare(&a, Eq, &b), !eval::compare(&a, Ne, &b));
        prop_assert_eq!(eval::compare(&a, Eq, &b), eval::compare(&b, Eq, &a));
        prop_assert_eq!(eval::compare(&a, Lt, &b), eval::compare(&b, Gt, &a));
        if eval::compare(&a, Lt, &b) {
            prop_assert!(!eval::compare(&a, Ge, &b));
        }
    }

    #[test]
    fn int_math_matches_go(a in any::<i64>(), b in any::<i64>()) {
        prop_assert_eq!(eval::math(Value::Int(a), MathOp::Add, Value::Int(b)), Ok(Value::Int(a.wrapping_add(b))));
        if b != 0 {
            // Go's integer division truncates toward zero.
            prop_assert_eq!(eval::math(Value::Int(a), MathOp::Div, Value::Int(b)), Ok(Value::Int(a.wrapping_div(b))));
        }
    }

    #[test]
    fn set_then_read_round_trips(v in value()) {
        prop_assume!(v != Value::Nil);
        let mut span = Span::default();
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        let mut ctx = TransformContext { resource: &mut resource, scope: Some(&mut scope), item: Item::Span(&mut span), cache: &mut cache };
        ctx.set(Field::SpanAttributes, &[KeyVal::Str("k".into())], v.clone()).unwrap();
        prop_assert_eq!(ctx.get(Field::SpanAttributes, &[KeyVal::Str("k".into())]).unwrap(), v.clone());
        let read = ctx.get_ref(Field::SpanAttributes, &[KeyVal::Str("k".into())]).unwrap();
        prop_assert_eq!(read, context::Scalar::of(&v));
    }
}

/// Found by the `ottl_statement` fuzz target: deep nesting overflowed the stack.
#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_stack_overflow() {
    for text in [
        format!(
            "set(attributes[\"x\"], {}1{})",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
        format!(
            "set(attributes[\"x\"], 1) where {}true",
            "not ".repeat(5000)
        ),
        format!(
            "set(attributes[\"x\"], 1) where {}true{}",
            "(".repeat(5000),
            ")".repeat(5000)
        ),
    ] {
        let error = compile_statement(&text, ContextKind::Span).unwrap_err();
        assert!(
            error.to_string().contains("nesting deeper than 64"),
            "{error}"
        );
    }
    // The fuzzer's input, as an expression.
    let error = parse_expr(&format!("{}((fal", "[".repeat(5000))).unwrap_err();
    assert!(
        error.to_string().contains("nesting deeper than 64"),
        "{error}"
    );
    // Nesting within the limit still parses.
    let nested = format!(
        "set(attributes[\"x\"], {}1{})",
        "[".repeat(30),
        "]".repeat(30)
    );
    compile_statement(&nested, ContextKind::Span).unwrap();
}

/// Data-point fields set through the datapoint context, for a number and a histogram
/// point: the fields every point has, and those of its kind.
#[test]
fn datapoint_fields_are_set_on_every_kind() {
    use tributary_pipeline_core::pdata::proto::metrics::v1::{
        Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, metric, number_data_point,
    };
    let run = |statement: &str, mut m: Metric| -> Result<Metric, String> {
        let st = compile_statement(statement, ContextKind::DataPoint).map_err(|e| e.to_string())?;
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::DataPoint(&mut m, 0),
            cache: &mut cache,
        };
        st.execute(&mut ctx).map_err(|e| e.to_string())?;
        Ok(m)
    };
    let gauge = Metric {
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint::default()],
        })),
        ..Default::default()
    };
    let histogram = Metric {
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint::default()],
            ..Default::default()
        })),
        ..Default::default()
    };
    let m = run("set(time_unix_nano, 7)", gauge.clone()).unwrap();
    let m = run("set(start_time_unix_nano, 3)", m).unwrap();
    let m = run("set(flags, 1)", m).unwrap();
    let m = run("set(value_double, 2.5)", m).unwrap();
    let Some(metric::Data::Gauge(g)) = &m.data else {
        panic!("a gauge")
    };
    let p = &g.data_points[0];
    assert_eq!(
        (p.time_unix_nano, p.start_time_unix_nano, p.flags),
        (7, 3, 1)
    );
    assert_eq!(p.value, Some(number_data_point::Value::AsDouble(2.5)));
    assert!(run("set(count, 1)", gauge).is_err());

    let m = run("set(time_unix_nano, 9)", histogram.clone()).unwrap();
    let m = run("set(count, 4)", m).unwrap();
    let m = run("set(sum, 1.5)", m).unwrap();
    let Some(metric::Data::Histogram(h)) = &m.data else {
        panic!("a histogram")
    };
    let p = &h.data_points[0];
    assert_eq!((p.time_unix_nano, p.count, p.sum), (9, 4, Some(1.5)));
    assert!(run("set(value_int, 1)", histogram).is_err());
}
