//! Field paths, config decoding, building the graph, outputs, expressions and the
//! conversion to OTLP.

use super::*;

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
fn values_round_trip_through_otlp() {
    let value = Value::Map(map(&[
        ("s", "x".into()),
        ("n", Value::Int(-3)),
        ("d", Value::Double(1.5)),
        ("b", Value::Bool(true)),
        ("raw", Value::Bytes(vec![0, 255])),
        ("list", Value::Array(vec![Value::Null, "y".into()])),
    ]));
    assert_eq!(Value::from_any_value(value.clone().into_any_value()), value);
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
    assert!(holds(r#"body.level + "/" + resource.env == "error/prod""#));
    assert!(holds(r#"body.code + 1 == 504"#));
    let out = one(
        "operators:\n  - {type: add, field: attributes.k, value: 'EXPR(body.a + \"-\" + body.b)'}\n",
        body_map(&[("a", "x".into()), ("b", "y".into())]),
    );
    assert_eq!(out.attributes["k"], Value::from("x-y"));
    for (bad, position) in [
        ("body.level ==", 13),
        ("body.code * 2", 10),
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
