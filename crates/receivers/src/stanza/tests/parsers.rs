//! The parsers and their embedded steps, with cases from the upstream operator docs.

use super::*;

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
    // An embedded severity block runs after the message's own severity.
    let out = one(
        "operators:\n  - {type: syslog_parser, protocol: rfc5424, severity: {parse_from: attributes.appname, preset: none, mapping: {fatal: su}}}\n",
        Entry::new(line),
    );
    assert_eq!((out.severity, out.severity_text.as_str()), (21, "su"));
    let out = one(
        "operators:\n  - {type: syslog_parser, protocol: rfc5424, enable_octet_counting: true, max_octets: 10}\n",
        Entry::new("19 <13>1 - - - - - - x"),
    );
    assert!(
        out.attributes.is_empty(),
        "over max_octets: sent on unparsed"
    );
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
        (Value::from("Warning"), 13, "Warning"),
        (Value::from("err"), 17, "err"),
        (Value::Int(10), 10, "10"),
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
