//! The pipeline, fields, config decoding and the operators, with cases from the upstream
//! operator docs (`pkg/stanza/docs/operators/*.md`).

use serde::Deserialize;
use tributary_confmap::Conf;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Receiver {
    operators: Vec<OperatorConfig>,
}

/// Decodes an `operators:` list as a receiver would.
fn decode(yaml: &str) -> Result<Vec<OperatorConfig>, String> {
    let conf = Conf::from_yaml(yaml).map_err(|e| e.to_string())?;
    conf.decode::<Receiver>()
        .map(|r| r.operators)
        .map_err(|e| e.to_string())
}

fn pipeline(yaml: &str) -> Pipeline {
    Pipeline::build(&decode(yaml).unwrap()).unwrap()
}

fn build_error(yaml: &str) -> String {
    Pipeline::build(&decode(yaml).unwrap())
        .unwrap_err()
        .to_string()
}

/// Runs one entry through and returns what comes out.
fn run(pipeline: &mut Pipeline, entry: Entry) -> Vec<Entry> {
    let mut out = Vec::new();
    pipeline.process(entry, &mut out);
    out
}

fn one(yaml: &str, entry: Entry) -> Entry {
    let mut out = run(&mut pipeline(yaml), entry);
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0)
}

fn map(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn body_map(pairs: &[(&str, Value)]) -> Entry {
    Entry {
        body: Value::Map(map(pairs)),
        ..Entry::default()
    }
}

#[test]
fn field_paths_parse_as_go_writes_them() {
    let field = Field::parse(r#"attributes["k8s.pod.name"]"#).unwrap();
    assert_eq!(field.root, Root::Attributes);
    assert_eq!(field.keys, ["k8s.pod.name"]);
    let field = Field::parse("body.a.b").unwrap();
    assert_eq!(
        (field.root, field.keys.clone()),
        (Root::Body, vec!["a".into(), "b".into()])
    );
    assert_eq!(field.to_string(), "body.a.b");
    assert_eq!(Field::parse("resource").unwrap().keys.len(), 0);
    assert_eq!(
        Field::parse(r#"body.one["two.three"]"#).unwrap().keys,
        ["one", "two.three"]
    );
    for bad in [
        "",
        "foo.bar",
        "body.",
        "body[x]",
        "body[\"x\"",
        "attributes..x",
    ] {
        assert!(Field::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn set_creates_maps_and_delete_removes() {
    let mut entry = Entry::default();
    Field::parse("body.a.b")
        .unwrap()
        .set(&mut entry, "x".into())
        .unwrap();
    assert_eq!(
        entry.body,
        Value::Map(map(&[("a", Value::Map(map(&[("b", "x".into())])))]))
    );
    let field = Field::parse(r#"attributes["log.file.name"]"#).unwrap();
    field.set(&mut entry, "f".into()).unwrap();
    assert_eq!(entry.attributes["log.file.name"], Value::from("f"));
    assert_eq!(field.delete(&mut entry), Some("f".into()));
    assert!(entry.attributes.is_empty());
    assert_eq!(field.delete(&mut entry), None);
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    let error =
        decode("operators:\n  - type: move\n    from: body\n    tooo: attributes.x\n").unwrap_err();
    assert!(error.contains("operators::0::tooo"), "{error}");
    let error = decode("operators:\n  - type: move\n    from: bogus.x\n").unwrap_err();
    assert!(error.contains("operators::0::from"), "{error}");
    // A key of another operator type: refused when building, naming the operator.
    let error = build_error("operators:\n  - type: json_parser\n    regex: x\n");
    assert!(
        error.contains("operators[0]") && error.contains("unknown key `regex` for json_parser"),
        "{error}"
    );
}

#[test]
fn build_checks_ids_outputs_and_types() {
    // Default ids are numbered as Go numbers them; explicit duplicates are refused.
    let error = build_error(
        "operators:\n  - {type: json_parser, id: p}\n  - {type: regex_parser, id: p, regex: '(?P<a>.)'}\n",
    );
    assert!(
        error.contains("operators[1]") && error.contains("duplicate id `p`"),
        "{error}"
    );
    // `json_parser1` is taken, so the second default one becomes `json_parser2`.
    let p = pipeline(
        "operators:\n  - {type: json_parser, output: json_parser2}\n  - {type: json_parser, id: json_parser1}\n  - type: json_parser\n",
    );
    assert!(!p.is_empty());
    let error = build_error(
        "operators:\n  - type: json_parser\n  - {type: json_parser, output: json_parser2}\n",
    );
    assert!(
        error.contains("operators[1] (`json_parser1`") && error.contains("`json_parser2` is not"),
        "{error}"
    );
    let error = build_error("operators:\n  - type: json_parser\n    output: nowhere\n");
    assert!(error.contains("output `nowhere` is not the id"), "{error}");
    let error = build_error("operators:\n  - type: nosuch\n");
    assert!(error.contains("unknown operator type `nosuch`"), "{error}");
    let error = build_error("operators:\n  - type: regex_parser\n");
    assert!(error.contains("missing required key `regex`"), "{error}");
    let error = build_error(
        "operators:\n  - {type: move, id: a, from: body.x, to: body.y, output: b}\n  - {type: move, id: b, from: body.y, to: body.x, output: a}\n",
    );
    assert!(error.contains("cycle"), "{error}");
    let error =
        build_error("operators:\n  - {type: add, field: body.x, value: 1, if: 'body.x ==='}\n");
    assert!(
        error.contains("if: expression") && error.contains("position"),
        "{error}"
    );
}

#[test]
fn an_empty_pipeline_passes_entries_through() {
    let mut pipeline = Pipeline::build(&[]).unwrap();
    assert!(pipeline.is_empty());
    assert_eq!(run(&mut pipeline, Entry::new("x")).len(), 1);
}

#[test]
fn outputs_skip_operators_and_fan_out() {
    let yaml = "operators:
  - {type: add, id: first, field: attributes.a, value: 1, output: [third, fourth]}
  - {type: add, id: second, field: attributes.b, value: 2}
  - {type: add, id: third, field: attributes.c, value: 3, output: fourth}
  - {type: add, id: fourth, field: attributes.d, value: 4}
";
    let out = run(&mut pipeline(yaml), Entry::new("x"));
    assert_eq!(out.len(), 2);
    let keys: Vec<Vec<&str>> = out
        .iter()
        .map(|e| e.attributes.keys().map(String::as_str).collect())
        .collect();
    assert_eq!(keys, [vec!["a", "c", "d"], vec!["a", "d"]]);
}

#[test]
fn json_parser_upstream_cases() {
    let yaml = "operators:\n  - type: json_parser\n";
    let out = one(yaml, Entry::new(r#"{"key": "val", "n": 1}"#));
    assert_eq!(out.attributes["key"], Value::from("val"));
    // Go decodes numbers as float64 unless parse_ints.
    assert_eq!(out.attributes["n"], Value::Double(1.0));
    assert_eq!(out.body, Value::from(r#"{"key": "val", "n": 1}"#));

    let out = one(
        "operators:\n  - {type: json_parser, parse_from: body.message, parse_to: body.parsed, parse_ints: true}\n",
        body_map(&[("message", r#"{"a": {"b": 2}}"#.into())]),
    );
    assert_eq!(
        Field::parse("body.parsed.a.b").unwrap().get(&out),
        Some(&Value::Int(2))
    );

    // A bad document is sent on unchanged (on_error: send) or dropped.
    let out = one(yaml, Entry::new("{not json"));
    assert!(out.attributes.is_empty());
    let dropped = run(
        &mut pipeline("operators:\n  - {type: json_parser, on_error: drop_quiet}\n"),
        Entry::new("[1, 2]"),
    );
    assert!(dropped.is_empty());
}

#[test]
fn regex_parser_upstream_cases() {
    let yaml = r#"operators:
  - type: regex_parser
    regex: '^Host=(?P<host>[^,]+), Type=(?P<type>.*)$'
    cache: {size: 10}
"#;
    let mut p = pipeline(yaml);
    for _ in 0..2 {
        let out = run(&mut p, Entry::new("Host=127.0.0.1, Type=HTTP"));
        assert_eq!(out[0].attributes["host"], Value::from("127.0.0.1"));
        assert_eq!(out[0].attributes["type"], Value::from("HTTP"));
    }
    let out = run(&mut p, Entry::new("nothing to see"));
    assert!(out[0].attributes.is_empty());
    let error = build_error("operators:\n  - {type: regex_parser, regex: 'a(b)'}\n");
    assert!(error.contains("no named capture groups"), "{error}");
}

#[test]
fn parser_if_skips_entries() {
    let yaml = "operators:\n  - {type: json_parser, if: 'body matches \"^\\\\{\"'}\n";
    let out = one(yaml, Entry::new(r#"{"a":"b"}"#));
    assert_eq!(out.attributes["a"], Value::from("b"));
    let out = one(yaml, Entry::new("plain"));
    assert!(out.attributes.is_empty());
}

#[test]
fn add_move_copy_remove() {
    let out = one(
        "operators:\n  - {type: add, field: resource.env, value: prod}\n  - {type: add, field: attributes.n, value: 'EXPR(body.key)'}\n",
        body_map(&[("key", "val".into())]),
    );
    assert_eq!(out.resource["env"], Value::from("prod"));
    assert_eq!(out.attributes["n"], Value::from("val"));

    let out = one(
        "operators:\n  - {type: move, from: body.key, to: attributes.k}\n",
        body_map(&[("key", "val".into()), ("other", 1.into())]),
    );
    assert_eq!(out.attributes["k"], Value::from("val"));
    assert_eq!(out.body, Value::Map(map(&[("other", 1.into())])));

    let out = one(
        "operators:\n  - {type: move, from: body.msg, to: body}\n",
        body_map(&[("msg", "hello".into())]),
    );
    assert_eq!(out.body, Value::from("hello"));

    let out = one(
        "operators:\n  - {type: copy, from: body.key, to: resource.key}\n",
        body_map(&[("key", "val".into())]),
    );
    assert_eq!(out.resource["key"], Value::from("val"));
    assert_eq!(out.body, Value::Map(map(&[("key", "val".into())])));

    let out = one(
        "operators:\n  - {type: remove, field: body.key}\n  - {type: remove, field: attributes}\n",
        Entry {
            attributes: map(&[("a", 1.into())]),
            ..body_map(&[("key", "val".into()), ("k2", "v".into())])
        },
    );
    assert_eq!(out.body, Value::Map(map(&[("k2", "v".into())])));
    assert!(out.attributes.is_empty());

    // A missing field is an error: the entry goes on unchanged.
    let entry = body_map(&[("x", 1.into())]);
    let out = one(
        "operators:\n  - {type: move, from: body.nope, to: body.y}\n",
        entry.clone(),
    );
    assert_eq!(out, entry);
}

#[test]
fn retain_and_flatten() {
    let out = one(
        "operators:\n  - {type: retain, fields: [body.key, attributes.keep]}\n",
        Entry {
            attributes: map(&[("keep", 1.into()), ("drop", 2.into())]),
            resource: map(&[("r", 1.into())]),
            ..body_map(&[("key", "val".into()), ("other", "x".into())])
        },
    );
    assert_eq!(out.body, Value::Map(map(&[("key", "val".into())])));
    assert_eq!(out.attributes, map(&[("keep", 1.into())]));
    assert_eq!(out.resource, map(&[("r", 1.into())]));

    let out = one(
        "operators:\n  - {type: flatten, field: body.key1}\n",
        body_map(&[
            (
                "key1",
                Value::Map(map(&[("nested1", "a".into()), ("nested2", "b".into())])),
            ),
            ("key2", "c".into()),
        ]),
    );
    assert_eq!(
        out.body,
        Value::Map(map(&[
            ("nested1", "a".into()),
            ("nested2", "b".into()),
            ("key2", "c".into())
        ]))
    );
}

#[test]
fn embedded_timestamp_severity_trace_and_scope() {
    let yaml = r#"operators:
  - type: json_parser
    timestamp: {parse_from: attributes.time, layout_type: gotime, layout: '2006-01-02T15:04:05Z07:00'}
    severity: {parse_from: attributes.level}
    trace: {}
    scope_name: {parse_from: attributes.logger}
"#;
    let out = one(
        yaml,
        Entry::new(
            r#"{"time":"2023-04-05T06:07:08Z","level":"WARN","logger":"app.db","trace_id":"480140f3d770a5ae32f0a22b6a812cff","span_id":"92c3792d54b5edb1","trace_flags":"01"}"#,
        ),
    );
    assert_eq!(out.timestamp, 1_680_674_828_000_000_000);
    assert_eq!((out.severity, out.severity_text.as_str()), (13, "WARN"));
    assert_eq!(out.scope_name, "app.db");
    assert_eq!(out.trace_id.len(), 16);
    assert_eq!(
        out.span_id,
        [0x92, 0xc3, 0x79, 0x2d, 0x54, 0xb5, 0xed, 0xb1]
    );
    assert_eq!(out.trace_flags, 1);
}

#[test]
fn entries_become_log_records_grouped_by_resource_and_scope() {
    let mut a = Entry::new("a");
    a.resource = map(&[("host", "h1".into())]);
    let mut b = a.clone();
    b.scope_name = "s".into();
    let mut c = Entry::new("c");
    c.resource = map(&[("host", "h2".into())]);
    let resource_logs = group_entries([a.clone(), b, c, a]);
    assert_eq!(resource_logs.len(), 2);
    assert_eq!(resource_logs[0].scope_logs.len(), 2);
    assert_eq!(resource_logs[0].scope_logs[0].log_records.len(), 2);
    assert_eq!(
        resource_logs[0].scope_logs[1].scope.as_ref().unwrap().name,
        "s"
    );
    assert_eq!(resource_logs[1].scope_logs[0].log_records.len(), 1);
}
