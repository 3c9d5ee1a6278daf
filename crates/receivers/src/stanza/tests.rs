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

#[test]
fn key_value_parser_upstream_cases() {
    let out = one(
        "operators:\n  - type: key_value_parser\n",
        Entry::new("name=stanza age=2 \"quoted key\"=\"a b\""),
    );
    assert_eq!(out.attributes["name"], Value::from("stanza"));
    assert_eq!(out.attributes["age"], Value::from("2"));
    assert_eq!(out.attributes["quoted key"], Value::from("a b"));
    let out = one(
        "operators:\n  - {type: key_value_parser, delimiter: ':', pair_delimiter: '|'}\n",
        Entry::new("a:1|b:2"),
    );
    assert_eq!(out.attributes, map(&[("a", "1".into()), ("b", "2".into())]));
    let out = one(
        "operators:\n  - type: key_value_parser\n",
        Entry::new("novalue"),
    );
    assert!(out.attributes.is_empty());
    let error = build_error(
        "operators:\n  - {type: key_value_parser, delimiter: '|', pair_delimiter: '|'}\n",
    );
    assert!(error.contains("must differ"), "{error}");
}

#[test]
fn csv_parser_upstream_cases() {
    let out = one(
        "operators:\n  - {type: csv_parser, header: 'id,severity,message'}\n",
        Entry::new("1,debug,\"Debug, with a comma\""),
    );
    assert_eq!(
        out.attributes,
        map(&[
            ("id", "1".into()),
            ("severity", "debug".into()),
            ("message", "Debug, with a comma".into())
        ])
    );
    let out = one(
        "operators:\n  - {type: csv_parser, header: 'a|b', delimiter: '|'}\n",
        Entry::new("x|\"say \"\"hi\"\"\""),
    );
    assert_eq!(out.attributes["b"], Value::from("say \"hi\""));
    // Wrong field count and a bare quote are errors unless lazy_quotes.
    let out = one(
        "operators:\n  - {type: csv_parser, header: 'a,b'}\n",
        Entry::new("1,2,3"),
    );
    assert!(out.attributes.is_empty());
    let out = one(
        "operators:\n  - {type: csv_parser, header: 'a,b'}\n",
        Entry::new("1,x\"y"),
    );
    assert!(out.attributes.is_empty());
    let out = one(
        "operators:\n  - {type: csv_parser, header: 'a,b', lazy_quotes: true}\n",
        Entry::new("1,x\"y"),
    );
    assert_eq!(out.attributes["b"], Value::from("x\"y"));
    let out = one(
        "operators:\n  - {type: csv_parser, header: 'a,b', ignore_quotes: true}\n",
        Entry::new("\"1,2"),
    );
    assert_eq!(out.attributes["a"], Value::from("\"1"));
    // The header from each entry's attribute.
    let mut entry = Entry::new("1;2");
    entry.attributes.insert("hdr".into(), "x;y".into());
    let out = one(
        "operators:\n  - {type: csv_parser, header_attribute: hdr, delimiter: ';'}\n",
        entry,
    );
    assert_eq!(out.attributes["y"], Value::from("2"));
    let error = build_error("operators:\n  - {type: csv_parser, header: a, header_attribute: b}\n");
    assert!(error.contains("only one of"), "{error}");
}

#[test]
fn syslog_parser_uses_the_syslog_receivers_parsers() {
    let line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut=\"3\"] 'su root' failed";
    let out = one(
        "operators:\n  - {type: syslog_parser, protocol: rfc5424}\n",
        Entry::new(line),
    );
    assert_eq!(out.attributes["appname"], Value::from("su"));
    assert_eq!(
        out.attributes["hostname"],
        Value::from("mymachine.example.com")
    );
    assert_eq!(out.attributes["msg_id"], Value::from("ID47"));
    assert_eq!(out.attributes["priority"], Value::Int(34));
    assert_eq!(out.attributes["facility"], Value::Int(4));
    assert_eq!(out.attributes["message"], Value::from("'su root' failed"));
    assert_eq!(
        Field::parse("attributes.structured_data.exampleSDID@32473.iut")
            .unwrap()
            .get(&out),
        Some(&Value::from("3"))
    );
    assert_eq!(out.timestamp, 1_065_910_455_003_000_000);
    assert_eq!((out.severity, out.severity_text.as_str()), (18, "crit"));
    assert_eq!(out.body, Value::from(line));

    let out = one(
        "operators:\n  - {type: syslog_parser, protocol: rfc3164, location: UTC}\n",
        Entry::new("<34>Oct 11 22:14:15 mymachine su: 'su root' failed"),
    );
    assert_eq!(out.attributes["appname"], Value::from("su"));
    let out = one(
        "operators:\n  - {type: syslog_parser, protocol: rfc5424, enable_octet_counting: true}\n",
        Entry::new("19 <13>1 - - - - - - x"),
    );
    assert_eq!(out.attributes["message"], Value::from("x"));
    let error = build_error(
        "operators:\n  - {type: syslog_parser, protocol: rfc3164, enable_octet_counting: true}\n",
    );
    assert!(error.contains("rfc5424 only"), "{error}");
    let error = build_error("operators:\n  - {type: syslog_parser}\n");
    assert!(error.contains("protocol"), "{error}");
}

#[test]
fn severity_parser_mapping_and_presets() {
    let yaml = r#"operators:
  - type: severity_parser
    parse_from: body.level
    mapping:
      warn: [w, "nooo"]
      error: {min: 500, max: 599}
      info: 2xx
      fatal4: 7
"#;
    let mut p = pipeline(yaml);
    let cases = [
        (Value::from("W"), 13, "W"),
        (Value::from("NOOO"), 13, "NOOO"),
        (Value::Int(503), 17, "503"),
        (Value::from("204"), 9, "204"),
        (Value::Int(7), 24, "7"),
        (Value::from("error"), 17, "error"),
        (Value::from("whatever"), 0, "whatever"),
    ];
    for (level, number, text) in cases {
        let out = run(&mut p, body_map(&[("level", level.clone())]));
        assert_eq!(
            (out[0].severity, out[0].severity_text.as_str()),
            (number, text),
            "{level}"
        );
    }
    let out = one(
        "operators:\n  - {type: severity_parser, preset: none, overwrite_text: true, mapping: {info: ok}}\n",
        Entry::new("OK"),
    );
    assert_eq!((out.severity, out.severity_text.as_str()), (9, "INFO"));
    let error = build_error("operators:\n  - {type: severity_parser, mapping: {loud: x}}\n");
    assert!(error.contains("not a severity"), "{error}");
}

#[test]
fn time_parser_layouts() {
    let cases = [
        (
            "strptime",
            "%Y-%m-%d %H:%M:%S.%L %z",
            "2023-04-05 06:07:08.123 +0200",
            1_680_667_628_123_000_000,
        ),
        (
            "strptime",
            "%d/%b/%Y:%H:%M:%S %z",
            "10/Oct/2000:13:55:36 -0700",
            971_211_336_000_000_000,
        ),
        (
            "gotime",
            "2006-01-02T15:04:05.000Z07:00",
            "2023-04-05T06:07:08.250Z",
            1_680_674_828_250_000_000,
        ),
        (
            "gotime",
            "Jan 2 2006 15:04:05 MST",
            "Apr 5 2023 06:07:08 UTC",
            1_680_674_828_000_000_000,
        ),
        ("epoch", "s", "1136214245", 1_136_214_245_000_000_000),
        ("epoch", "s.ms", "1136214245.123", 1_136_214_245_123_000_000),
        ("epoch", "ms", "1136214245123", 1_136_214_245_123_000_000),
    ];
    for (kind, layout, input, expected) in cases {
        let yaml = format!(
            "operators:\n  - {{type: time_parser, parse_from: body, layout_type: {kind}, layout: '{layout}', location: UTC}}\n"
        );
        let out = one(&yaml, Entry::new(input));
        assert_eq!(out.timestamp, expected, "{kind} {layout} {input}");
    }
    // A number for an epoch, and the zone for a time without one.
    let out = one(
        "operators:\n  - {type: time_parser, parse_from: body.t, layout_type: epoch, layout: s}\n",
        body_map(&[("t", Value::Int(10))]),
    );
    assert_eq!(out.timestamp, 10_000_000_000);
    let out = one(
        "operators:\n  - {type: time_parser, parse_from: body, layout: '%Y-%m-%d %H:%M', location: Asia/Tokyo}\n",
        Entry::new("2023-01-01 09:00"),
    );
    assert_eq!(out.timestamp, 1_672_531_200_000_000_000);
    let error = build_error("operators:\n  - {type: time_parser, layout: '%Q'}\n");
    assert!(error.contains("%Q"), "{error}");
    let error =
        build_error("operators:\n  - {type: time_parser, layout: x, location: Nowhere/City}\n");
    assert!(error.contains("location"), "{error}");
}

#[test]
fn trace_and_scope_name_parsers() {
    let out = one(
        "operators:\n  - {type: trace_parser, trace_id: {parse_from: body.t}}\n  - {type: scope_name_parser, parse_from: body.logger}\n",
        body_map(&[
            ("t", "00000000000000000000000000000001".into()),
            ("logger", "my.logger".into()),
        ]),
    );
    assert_eq!(out.trace_id.last(), Some(&1));
    assert_eq!(out.scope_name, "my.logger");
    // A malformed id is an error and changes nothing.
    let out = one(
        "operators:\n  - {type: trace_parser}\n",
        Entry {
            attributes: map(&[("trace_id", "xyz".into())]),
            ..Entry::default()
        },
    );
    assert!(out.trace_id.is_empty());
}

#[test]
fn filter_drops_matching_entries() {
    let mut p = pipeline("operators:\n  - {type: filter, expr: 'body.level == \"debug\"'}\n");
    assert!(run(&mut p, body_map(&[("level", "debug".into())])).is_empty());
    assert_eq!(run(&mut p, body_map(&[("level", "info".into())])).len(), 1);
    let mut keep = pipeline("operators:\n  - {type: filter, expr: 'true', drop_ratio: 0.0}\n");
    assert_eq!(run(&mut keep, Entry::new("x")).len(), 1);
    let mut half = pipeline("operators:\n  - {type: filter, expr: 'true', drop_ratio: 0.5}\n");
    let kept: usize = (0..1000)
        .map(|_| run(&mut half, Entry::new("x")).len())
        .sum();
    assert!(kept > 0 && kept < 1000, "{kept}");
    let error = build_error("operators:\n  - {type: filter, expr: 'true', drop_ratio: 2}\n");
    assert!(error.contains("drop_ratio"), "{error}");
}

#[test]
fn router_routes_by_expression() {
    let yaml = r#"operators:
  - type: router
    routes:
      - output: json
        expr: 'body startsWith "{"'
        attributes: {format: json}
      - output: kv
        expr: 'body contains "="'
    default: tag
  - {type: json_parser, id: json, output: tag}
  - {type: key_value_parser, id: kv, output: tag}
  - {type: add, id: tag, field: attributes.seen, value: true}
"#;
    let mut p = pipeline(yaml);
    let out = run(&mut p, Entry::new(r#"{"a":"b"}"#));
    assert_eq!(out[0].attributes["a"], Value::from("b"));
    assert_eq!(out[0].attributes["format"], Value::from("json"));
    assert_eq!(out[0].attributes["seen"], Value::Bool(true));
    let out = run(&mut p, Entry::new("k=v"));
    assert_eq!(out[0].attributes["k"], Value::from("v"));
    let out = run(&mut p, Entry::new("plain"));
    assert_eq!(out[0].attributes, map(&[("seen", true.into())]));
    // Without a default, an entry no route takes is dropped.
    let mut p = pipeline(
        "operators:\n  - {type: router, routes: [{expr: 'false', output: end}]}\n  - {type: add, id: end, field: body, value: x}\n",
    );
    assert!(run(&mut p, Entry::new("y")).is_empty());
    let error =
        build_error("operators:\n  - {type: router, routes: [{expr: 'true', output: nowhere}]}\n");
    assert!(error.contains("`nowhere`"), "{error}");
}

fn bodies(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.body.to_text()).collect()
}

fn feed(p: &mut Pipeline, lines: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in lines {
        p.process(Entry::new(*line), &mut out);
    }
    p.flush(i64::MAX, &mut out);
    out
}

#[test]
fn recombine_is_first_entry_stack_traces() {
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'body matches \"^[^\\\\s]\"'}\n",
    );
    let out = feed(
        &mut p,
        &[
            "Log message 1",
            "Error: java.lang.Exception: Stack trace",
            "        at Main.demo3(Main.java:15)",
            "        at Main.main(Main.java:3)",
            "Another log message",
        ],
    );
    assert_eq!(
        bodies(&out),
        [
            "Log message 1",
            "Error: java.lang.Exception: Stack trace\n        at Main.demo3(Main.java:15)\n        at Main.main(Main.java:3)",
            "Another log message"
        ]
    );
}

#[test]
fn recombine_max_unmatched_batch_size_upstream_cases() {
    let lines = [
        "log2", "log3", "log4", "log5", "log1", "log6", "log7", "log1", "log8", "log1",
    ];
    let mut first = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: \"body == 'log1'\", max_unmatched_batch_size: 3}\n",
    );
    assert_eq!(
        bodies(&feed(&mut first, &lines)),
        [
            "log2\nlog3\nlog4",
            "log5",
            "log1\nlog6\nlog7",
            "log1\nlog8",
            "log1"
        ]
    );
    let mut last = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_last_entry: \"body == 'log1'\", max_unmatched_batch_size: 3}\n",
    );
    assert_eq!(
        bodies(&feed(&mut last, &lines)),
        [
            "log2\nlog3\nlog4",
            "log5\nlog1",
            "log6\nlog7\nlog1",
            "log8\nlog1"
        ]
    );
    let lines = [
        "log2", "log3", "log4", "log1", "log5", "log6", "log7", "log1",
    ];
    let mut zero = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: \"body == 'log1'\", max_unmatched_batch_size: 0}\n",
    );
    assert_eq!(
        bodies(&feed(&mut zero, &lines)),
        ["log2\nlog3\nlog4", "log1\nlog5\nlog6\nlog7", "log1"]
    );
}

#[test]
fn recombine_cri_partials_by_source_and_limits() {
    let yaml = r#"operators:
  - type: regex_parser
    regex: '^(?P<timestamp>[^\s]+) (?P<stream>\w+) (?P<logtag>\w) (?P<message>.*)'
    parse_to: body
  - type: recombine
    combine_field: body.message
    combine_with: ""
    is_last_entry: "body.logtag == 'F'"
    source_identifier: body.stream
"#;
    let mut p = pipeline(yaml);
    let out = feed(
        &mut p,
        &[
            "2016-10-06T00:17:09.669794202Z stdout F Single entry log 1",
            "2016-10-06T00:17:10.113242941Z stdout P This is a very very long line th",
            "2016-10-06T00:17:10.113242941Z stderr F err",
            "2016-10-06T00:17:10.113242941Z stdout P at is really really long and spa",
            "2016-10-06T00:17:10.113242941Z stdout F ns across multiple log entries",
        ],
    );
    let messages: Vec<String> = out
        .iter()
        .map(|e| {
            Field::parse("body.message")
                .unwrap()
                .get(e)
                .unwrap()
                .to_text()
        })
        .collect();
    assert_eq!(
        messages,
        [
            "Single entry log 1",
            "err",
            "This is a very very long line that is really really long and spans across multiple log entries"
        ]
    );
    // max_batch_size bounds what one source holds.
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'false', max_batch_size: 2, max_unmatched_batch_size: 0}\n",
    );
    assert_eq!(bodies(&feed(&mut p, &["a", "b", "c"])), ["a\nb", "c"]);
    // max_log_size flushes once the combined field is that large.
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'false', max_log_size: 5, max_unmatched_batch_size: 0}\n",
    );
    assert_eq!(
        bodies(&feed(&mut p, &["abc", "def", "g"])),
        ["abc\ndef", "g"]
    );
}

#[test]
fn recombine_force_flush_period() {
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'true', force_flush_period: 1s}\n",
    );
    let mut out = Vec::new();
    p.process(Entry::new("held"), &mut out);
    assert!(out.is_empty());
    p.flush(now_nanos(), &mut out);
    assert!(out.is_empty(), "not due yet");
    p.flush(now_nanos() + 2_000_000_000, &mut out);
    assert_eq!(bodies(&out), ["held"]);
    let error = build_error("operators:\n  - {type: recombine, combine_field: body}\n");
    assert!(error.contains("exactly one of"), "{error}");
}

#[test]
fn unquote_and_regex_replace() {
    let out = one(
        "operators:\n  - type: unquote\n",
        Entry::new("\"a\\tb\\\"c\""),
    );
    assert_eq!(out.body, Value::from("a\tb\"c"));
    let out = one("operators:\n  - type: unquote\n", Entry::new("no quotes"));
    assert_eq!(out.body, Value::from("no quotes"));
    let out = one(
        "operators:\n  - {type: regex_replace, field: body, regex_name: ansi_control_sequences}\n",
        Entry::new("\u{1b}[31mred\u{1b}[0m text"),
    );
    assert_eq!(out.body, Value::from("red text"));
    let out = one(
        "operators:\n  - {type: regex_replace, field: body, regex: '(?P<d>\\d+)', replace_with: '<${d}>'}\n",
        Entry::new("a1b22"),
    );
    assert_eq!(out.body, Value::from("a<1>b<22>"));
}

#[test]
fn expressions_cover_the_common_subset() {
    let mut entry = body_map(&[
        ("level", "error".into()),
        ("code", Value::Int(503)),
        ("msg", "connection refused".into()),
    ]);
    entry
        .attributes
        .insert("log.file.path".into(), "/var/log/a.log".into());
    entry.resource.insert("env".into(), "prod".into());
    // SAFETY-free: the variable name is unique to this test.
    let holds = |source: &str| Expr::parse(source).unwrap().matches(&entry);
    assert!(holds(r#"body.level == "error" and body.code >= 500"#));
    assert!(holds(r#"body.level != 'info' && !(body.code < 500)"#));
    assert!(holds(r#"body.msg matches "^conn.*refused$""#));
    assert!(holds(r#"body.msg contains "refused" || false"#));
    assert!(holds(r#"attributes["log.file.path"] endsWith ".log""#));
    assert!(holds(r#"body.msg startsWith "conn""#));
    assert!(holds(r#"body.level in ["warn", "error"]"#));
    assert!(holds(r#"body.level not in ["debug"]"#));
    assert!(holds(r#"not (resource.env == "dev")"#));
    assert!(holds(r#"body.missing == nil"#));
    assert!(holds(r#"body.code == 503.0"#));
    assert!(holds(r#"env("TRIBUTARY_STANZA_SURELY_UNSET") == """#));
    assert!(!holds(r#"body.code"#));
    for (bad, position) in [
        ("body.level ==", 13),
        ("body.code + 1", 10),
        ("len(body)", 0),
        ("body.msg matches body.level", 17),
        ("(true", 5),
        ("body.x == 'unterminated", 10),
        ("a < b < c", 0),
    ] {
        let error = Expr::parse(bad).unwrap_err();
        assert_eq!(error.position, position, "{bad}: {error}");
    }
}

const POD_LOG: &str = "/var/log/pods/some_kube-controller-kind-control-plane_49cc7c1fd3702c40b2686ea7486091d6/kube-controller/1.log";

/// Entries for each line of a `testdata/` file, as filelog would read them from a pod log.
fn pod_log_entries(name: &str) -> Vec<Entry> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/stanza/testdata")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|line| {
            let mut entry = Entry::new(line);
            entry
                .attributes
                .insert("log.file.path".into(), POD_LOG.into());
            entry
        })
        .collect()
}

fn run_all(p: &mut Pipeline, entries: Vec<Entry>) -> Vec<Entry> {
    let mut out = Vec::new();
    for entry in entries {
        p.process(entry, &mut out);
    }
    p.flush(i64::MAX, &mut out);
    out
}

#[test]
fn container_docker_fixture_recombines_partial_lines() {
    let mut p = pipeline("operators:\n  - type: container\n");
    let out = run_all(&mut p, pod_log_entries("docker.log"));
    assert_eq!(
        bodies(&out),
        [
            "INFO: starting",
            "ERROR: boom",
            "a very long line that docker split at 16K: part one, part two, and the end"
        ]
    );
    assert_eq!(out[0].timestamp, 1_711_787_480_545_192_187);
    assert_eq!(out[1].attributes["log.iostream"], Value::from("stderr"));
    assert!(!out[0].attributes.contains_key("logtag"));
    assert_eq!(
        out[0].resource,
        map(&[
            ("k8s.pod.name", "kube-controller-kind-control-plane".into()),
            ("k8s.pod.uid", "49cc7c1fd3702c40b2686ea7486091d6".into()),
            ("k8s.container.name", "kube-controller".into()),
            ("k8s.container.restart_count", "1".into()),
            ("k8s.namespace.name", "some".into()),
        ])
    );
    // Nothing of the operator's own bookkeeping leaks out.
    assert!(out.iter().all(|e| e.attributes.len() == 2), "{out:?}");
}

#[test]
fn container_cri_fixture_recombines_partial_lines() {
    let mut p = pipeline("operators:\n  - type: container\n");
    let out = run_all(&mut p, pod_log_entries("cri.log"));
    assert_eq!(
        bodies(&out),
        [
            "standalone containerd line that is super awesome",
            "multiline containerd line that is super awesomne",
            "standalone crio line which is awesome",
            "crio partial, then final"
        ]
    );
    assert_eq!(out[1].timestamp, 1_687_429_645_813_799_277);
    assert_eq!(out[2].timestamp, 1_713_013_177_505_201_169);
    assert_eq!(out[1].attributes["logtag"], Value::from("F"));
    assert_eq!(out[3].attributes["log.iostream"], Value::from("stderr"));
    assert_eq!(out[3].resource["k8s.namespace.name"], Value::from("some"));
}

#[test]
fn container_errors_and_options() {
    // Without log.file.path the metadata cannot be read: sent on unchanged.
    let line = "2023-06-22T10:27:25.813799277Z stdout F x";
    let out = one("operators:\n  - type: container\n", Entry::new(line));
    assert_eq!(out.body, Value::from(line));
    let out = one(
        "operators:\n  - {type: container, add_metadata_from_filepath: false, format: containerd}\n",
        Entry::new(line),
    );
    assert_eq!(out.body, Value::from("x"));
    assert!(out.resource.is_empty());
    // Application JSON without Docker's `time` is not a Docker line.
    let out = one(
        "operators:\n  - {type: container, add_metadata_from_filepath: false}\n",
        Entry::new(r#"{"level":"info"}"#),
    );
    assert_eq!(out.body, Value::from(r#"{"level":"info"}"#));
    // max_log_size bounds a line that never ends.
    let mut p = pipeline(
        "operators:\n  - {type: container, add_metadata_from_filepath: false, max_log_size: 10}\n",
    );
    let partial = "2023-06-22T10:27:25.813799277Z stdout P 123456";
    let out = run_all(
        &mut p,
        vec![
            Entry::new(partial),
            Entry::new(partial),
            Entry::new(partial),
        ],
    );
    assert_eq!(bodies(&out), ["123456123456", "123456"]);
    let error = build_error("operators:\n  - {type: container, format: podman}\n");
    assert!(error.contains("invalid format"), "{error}");
}
