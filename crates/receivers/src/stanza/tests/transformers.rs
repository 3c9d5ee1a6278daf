//! The operators that move data around an entry or decide where it goes.

use super::*;

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
    // A noop joins routes.
    let mut p = pipeline(
        "operators:\n  - {type: router, routes: [{expr: 'true', output: join}], default: join}\n  - {type: noop, id: join}\n",
    );
    assert_eq!(run(&mut p, Entry::new("y")).len(), 1);
    let error =
        build_error("operators:\n  - {type: router, routes: [{expr: 'true', output: nowhere}]}\n");
    assert!(error.contains("`nowhere`"), "{error}");
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
