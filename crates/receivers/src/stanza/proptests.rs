//! Property tests: the parsers of untrusted text never panic and their output stays
//! within their input, whatever it is.

use proptest::prelude::*;

use super::*;

/// Valid input with characters changed, dropped or inserted.
fn mutated(valid: &'static str) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec((0..valid.len() + 1, any::<char>(), 0..3u8), 0..6),
        Just(valid.to_string()),
    )
        .prop_map(|(edits, text)| {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, c, how) in edits {
                let at = at.min(chars.len());
                match how {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = c,
                    _ => chars.push(c),
                }
            }
            chars.into_iter().collect()
        })
}

fn text_size(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::Map(map) => map.iter().map(|(k, v)| k.len() + text_size(v)).sum(),
        Value::Array(items) => items.iter().map(text_size).sum(),
        _ => 0,
    }
}

fn container_input() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        mutated(r#"{"log":"INFO: x\n","stream":"stdout","time":"2024-03-30T08:31:20.545192187Z"}"#),
        mutated("2023-06-22T10:27:25.813799277Z stdout P partial line"),
        mutated("2024-04-13T07:59:37.505201169-05:00 stderr F crio line"),
    ]
}

fn expression_input() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,120}",
        "[a-z\"'()\\[\\]=!<>&|. 0-9]{0,80}",
        mutated(r#"body.level == "error" and attributes["k8s.pod.name"] matches "^web-""#),
        mutated(r#"not (body.code in [500, 503]) || env("X") startsWith 'a'"#),
    ]
}

proptest! {
    #[test]
    fn the_container_parser_never_panics(line in container_input()) {
        if let Ok(parsed) = parse_container_line(&line, None) {
            prop_assert!(parsed.log.len() <= line.len());
            prop_assert!(parsed.stream.len() <= line.len());
        }
        let mut pipeline = Pipeline::build(&[OperatorConfig {
            add_metadata_from_filepath: Some(false),
            ..OperatorConfig::new("container")
        }]).unwrap();
        let mut out = Vec::new();
        pipeline.process(Entry::new(line.as_str()), &mut out);
        pipeline.flush(i64::MAX, &mut out);
        prop_assert!(out.len() <= 1);
    }

    #[test]
    fn the_expression_parser_never_panics(source in expression_input()) {
        if let Ok(expr) = Expr::parse(&source) {
            // Evaluating any parsed expression is total.
            let mut entry = Entry::new("body text");
            entry.attributes.insert("k8s.pod.name".into(), "web-1".into());
            let _ = expr.evaluate(&entry);
        } else {
            let error = Expr::parse(&source).unwrap_err();
            prop_assert!(error.position <= source.len());
        }
    }

    #[test]
    fn deep_expressions_are_refused_not_overflowed(depth in 60usize..400) {
        let nested = format!("{}true{}", "(".repeat(depth), ")".repeat(depth));
        let chain = vec!["true"; depth].join(" and ");
        let nots = format!("{}true", "!".repeat(depth));
        for source in [nested, chain, nots] {
            let _ = Expr::parse(&source).map(|e| e.matches(&Entry::default()));
        }
    }

    #[test]
    fn the_text_parsers_never_panic_and_stay_within_their_input(
        text in prop_oneof![
            ".{0,200}",
            mutated(r#"{"a": 1, "b": [true, null], "c": {"d": "e"}}"#),
            mutated(r#"name=stanza "quoted key"="a b" x='y'"#),
            mutated(r#"1,"two, quoted","say ""hi""",4"#),
        ]
    ) {
        if let Ok(parsed) = parse_json_object(&Value::from(text.as_str()), true) {
            prop_assert!(text_size(&parsed) <= text.len());
        }
        for pair in [None, Some("|"), Some(", ")] {
            if let Ok(map) = parse_key_values(&text, "=", pair) {
                prop_assert!(text_size(&Value::Map(map)) <= text.len());
            }
        }
        for quotes in [CsvQuotes::default(), CsvQuotes { lazy: true, ignore: false }, CsvQuotes { lazy: false, ignore: true }] {
            if let Ok(fields) = parse_csv_line(&text, ',', quotes) {
                prop_assert!(fields.iter().map(String::len).sum::<usize>() <= text.len());
                prop_assert!(fields.len() <= text.len() + 1);
            }
        }
        if let Some(unquoted) = unquote(&text) {
            prop_assert!(unquoted.len() <= text.len());
        }
        let _ = Field::parse(&text);
    }

    #[test]
    fn every_parser_operator_survives_any_body(
        text in ".{0,160}",
        kind in prop::sample::select(vec!["json_parser", "key_value_parser", "csv_parser", "syslog_parser", "regex_parser"]),
    ) {
        let mut config = OperatorConfig::new(kind);
        config.header = (kind == "csv_parser").then(|| "a,b,c".to_string());
        config.protocol = (kind == "syslog_parser").then(|| "rfc5424".to_string());
        config.regex = (kind == "regex_parser").then(|| "^(?P<a>\\w+) (?P<b>.*)$".to_string());
        let mut pipeline = Pipeline::build(&[config]).unwrap();
        let mut out = Vec::new();
        pipeline.process(Entry::new(text.as_str()), &mut out);
        // on_error: send: one entry out, parsed or not.
        prop_assert_eq!(out.len(), 1);
    }
}

/// What `json_parser` gave when it went through serde_json's own tree: the reference the
/// one-pass parse must match.
fn json_through_tree(text: &str, parse_ints: bool) -> Result<Value, String> {
    fn doubles(value: Value) -> Value {
        match value {
            Value::Int(i) => Value::Double(i as f64),
            Value::Array(items) => Value::Array(items.into_iter().map(doubles).collect()),
            Value::Map(map) => Value::Map(map.into_iter().map(|(k, v)| (k, doubles(v))).collect()),
            other => other,
        }
    }
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON object: {e}"))?;
    let parsed = Value::from_json(serde_json::Value::Object(json));
    Ok(if parse_ints { parsed } else { doubles(parsed) })
}

const JSON_LINE: &str = r#"{"time":"2025-11-21T10:00:00.001Z","level":"info","status":200,"neg":-5,"big":18446744073709551615,"ratio":0.25,"e":1e3,"ok":true,"none":null,"list":[1,"a",{"k":[]}],"dup":1,"dup":"last","nested":{"a":{"b":2}}}"#;

proptest! {
    #[test]
    fn json_parser_matches_the_json_tree_it_replaced(
        text in prop_oneof![mutated(JSON_LINE), Just(JSON_LINE.to_string()), any::<String>()],
        parse_ints in any::<bool>(),
    ) {
        let one_pass = operators::parse_json_object(&Value::String(text.clone()), parse_ints);
        prop_assert_eq!(one_pass, json_through_tree(&text, parse_ints));
    }
}
