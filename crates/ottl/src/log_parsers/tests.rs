//! Golden cases of the log converters, from Go's `logparsingfuncs` tests and the README.

use super::clf::unescape_clf;
use super::run;
use crate::value::Value;

use crate::value::{test_map as map, test_str as s};

fn strings(entries: &[(&str, &str)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
}

fn parse(name: &str, text: &str) -> Result<Value, String> {
    run(name, s(text), None)
}

fn field(parsed: &Value, key: &str) -> Value {
    let Value::Map(m) = parsed else {
        panic!("not a map: {parsed:?}")
    };
    m.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Nil)
}

/// A CEF header (vendor Vendor, product Product, version 1.0, class 100, name Event,
/// severity 5) with `extension`; its extensions.
fn extensions(extension: &str) -> Value {
    let parsed = parse(
        "ParseCEF",
        &format!("CEF:0|Vendor|Product|1.0|100|Event|5|{extension}"),
    )
    .unwrap();
    field(&parsed, "cef.extensions")
}

/// The README's example and cases of Go's `Test_parseCEF`.
#[test]
fn cef_messages_parse_as_go_parses_them() {
    let parsed = parse(
        "ParseCEF",
        "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
    )
    .unwrap();
    assert_eq!(
        parsed,
        map(&[
            ("cef.version", s("0")),
            ("cef.device_vendor", s("Security")),
            ("cef.device_product", s("threatmanager")),
            ("cef.device_version", s("1.0")),
            ("cef.device_event_class_id", s("100")),
            ("cef.name", s("worm successfully stopped")),
            ("cef.severity", s("10")),
            (
                "cef.extensions",
                strings(&[("src", "10.0.0.1"), ("dst", "2.1.2.2"), ("spt", "1232")])
            ),
        ])
    );
    let header = |text: &str, key: &str| field(&parse("ParseCEF", text).unwrap(), key);
    assert_eq!(
        header(
            r"CEF:0|Security|threatmanager|1.0|100|detected a \| in name|10|src=1",
            "cef.name"
        ),
        s("detected a | in name")
    );
    assert_eq!(
        header(
            r"CEF:0|Vendor\\Co|Product\|X|1.0|100|Event|5|src=1",
            "cef.device_vendor"
        ),
        s(r"Vendor\Co")
    );
    assert_eq!(
        header(
            r"CEF:0|Vendor\\Co|Product\|X|1.0|100|Event|5|src=1",
            "cef.device_product"
        ),
        s("Product|X")
    );
    assert_eq!(
        header(
            "<134>Sep 19 08:26:10 host CEF:1|A|B|2.4.1|machine:20|New alert|Low|src=1",
            "cef.version"
        ),
        s("1")
    );
    assert_eq!(
        header(
            "CEF:0|Vendor|Product|1.0|EventID|EventName|5",
            "cef.extensions"
        ),
        map(&[])
    );
    assert_eq!(
        header(
            "CEF:0|Vendor|Product|1.0|EventID|EventName|5|",
            "cef.extensions"
        ),
        map(&[])
    );
    assert_eq!(
        extensions("src=10.0.0.1 msg=this is a message with spaces dst=1.2.3.4"),
        strings(&[
            ("src", "10.0.0.1"),
            ("msg", "this is a message with spaces"),
            ("dst", "1.2.3.4")
        ])
    );
    assert_eq!(
        extensions(r"cs1=value with \= equals dst=1"),
        strings(&[("cs1", "value with = equals"), ("dst", "1")])
    );
    assert_eq!(
        extensions(r"fname=C:\\Windows\\cmd.exe"),
        strings(&[("fname", r"C:\Windows\cmd.exe")])
    );
    assert_eq!(
        extensions(r"msg=one\ntwo\rthree"),
        strings(&[("msg", "one\ntwo\rthree")])
    );
    assert_eq!(
        extensions("request=http://example.com?foo=bar&baz=qux src=10.0.0.1"),
        strings(&[
            ("request", "http://example.com?foo=bar&baz=qux"),
            ("src", "10.0.0.1")
        ])
    );
    for (text, error) in [
        ("", "cannot parse empty CEF message"),
        (
            "LEEF:1.0|Vendor|Product|1.0|EventID|src=1.2.3.4",
            "'CEF:' not found",
        ),
        ("CEF:|Vendor|Product|1.0|100|Event|5|", "missing version"),
        (
            "CEF:0|Vendor|Product|1.0",
            "expected at least 7 pipe-delimited fields",
        ),
    ] {
        let e = parse("ParseCEF", text).unwrap_err();
        assert!(e.contains(error), "{text}: {e}");
    }
}

/// The README's examples and Go's escape handling.
#[test]
fn clf_lines_parse_as_go_parses_them() {
    let line =
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
    assert_eq!(
        parse("ParseCLF", line).unwrap(),
        map(&[
            ("clf.remote_host", s("127.0.0.1")),
            ("clf.rfc931", s("-")),
            ("clf.auth_user", s("frank")),
            ("clf.timestamp", s("10/Oct/2000:13:55:36 -0700")),
            ("clf.request", s("GET /apache_pb.gif HTTP/1.0")),
            ("clf.method", s("GET")),
            ("clf.request_uri", s("/apache_pb.gif")),
            ("clf.protocol", s("HTTP/1.0")),
            ("clf.status", Value::Int(200)),
            ("clf.bytes", Value::Int(2326)),
        ])
    );
    let combined =
        format!(r#"{line} "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#);
    let parsed = run("ParseCLF", s(&combined), Some("combined")).unwrap();
    assert_eq!(
        field(&parsed, "clf.referer"),
        s("http://example.com/start.html")
    );
    assert_eq!(
        field(&parsed, "clf.user_agent"),
        s("Mozilla/4.08 [en] (Win98; I ;Nav)")
    );
    // Not combined: the trailing fields do not fit the CLF pattern.
    assert!(
        parse("ParseCLF", &combined)
            .unwrap_err()
            .contains("does not match expected \"clf\" format")
    );
    // A 304 without bytes; a request that is not three parts; escapes.
    let parsed = parse("ParseCLF", r#"h - - [d] "GET \"/a b\" \x41\tx \q" 304 -"#).unwrap();
    assert_eq!(field(&parsed, "clf.bytes"), Value::Nil);
    assert_eq!(field(&parsed, "clf.request"), s("GET \"/a b\" A\tx \\q"));
    assert_eq!(field(&parsed, "clf.method"), s("GET"));
    assert_eq!(field(&parsed, "clf.request_uri"), s("\"/a"));
    let parsed = parse("ParseCLF", r#"h - - [d] "-" 400 0"#).unwrap();
    assert_eq!(field(&parsed, "clf.method"), Value::Nil);
    assert_eq!(unescape_clf(r"\x4"), r"\x4");
    assert_eq!(unescape_clf(r"\xzz"), r"\xzz");
    assert_eq!(unescape_clf(r"\xff"), "\u{fffd}");
    assert!(
        parse("ParseCLF", r#"h - - [d] "GET / HTTP/1.0" OK 1"#)
            .unwrap_err()
            .contains("invalid status code")
    );
}

/// Go's `Test_parseELF` cases, with the `elf.` keys of Go's source.
#[test]
fn elf_blocks_parse_as_go_parses_them() {
    let parsed = parse(
        "ParseELF",
        "#Version: 1.0\n#Date: 12-Jan-1996 00:00:00\n#Fields: time cs-method cs-uri\n00:34:23 GET /foo/bar.html\n12:21:16 GET /baz/index.html",
    )
    .unwrap();
    assert_eq!(
        parsed,
        map(&[
            (
                "elf.entries",
                Value::List(vec![
                    strings(&[
                        ("elf.time", "00:34:23"),
                        ("elf.cs-method", "GET"),
                        ("elf.cs-uri", "/foo/bar.html")
                    ]),
                    strings(&[
                        ("elf.time", "12:21:16"),
                        ("elf.cs-method", "GET"),
                        ("elf.cs-uri", "/baz/index.html")
                    ]),
                ])
            ),
            ("elf.version", s("1.0")),
            ("elf.date", s("12-Jan-1996 00:00:00")),
            (
                "elf.fields",
                Value::List(vec![s("time"), s("cs-method"), s("cs-uri")])
            ),
        ])
    );
    let entries = |text: &str| field(&parse("ParseELF", text).unwrap(), "elf.entries");
    assert_eq!(
        entries("#Version: 1.0\n#Fields: a b c d\nval1 val2"),
        Value::List(vec![strings(&[
            ("elf.a", "val1"),
            ("elf.b", "val2"),
            ("elf.c", "-"),
            ("elf.d", "-")
        ])])
    );
    assert_eq!(
        entries("#Version: 1.0\n#Fields: cs-uri cs(User-Agent)\n/p \"Mozilla/5.0 (\"\"X\"\")\""),
        Value::List(vec![strings(&[
            ("elf.cs-uri", "/p"),
            ("elf.cs(User-Agent)", "Mozilla/5.0 (\"X\")")
        ])])
    );
    let multiple = parse("ParseELF", "#Version: 1.0\n#Fields: time cs-method\n10:00:00 GET\n#Fields: time sc-status\n10:01:00 200").unwrap();
    assert_eq!(
        field(&multiple, "elf.fields"),
        Value::List(vec![s("time"), s("sc-status")])
    );
    assert_eq!(
        field(&multiple, "elf.entries"),
        Value::List(vec![
            strings(&[("elf.time", "10:00:00"), ("elf.cs-method", "GET")]),
            strings(&[("elf.time", "10:01:00"), ("elf.sc-status", "200")]),
        ])
    );
    let directives = parse(
        "ParseELF",
        "#version: 1.0\r\n\r\n#Start-Date: 2024-01-01 00:00:00\r\n#End-Date: 2024-01-01 23:59:59\r\n#Remark: test: log\r\n#Software: IIS\r\n#Remark\r\n#Fields: time\r\n00:00:01\r\n",
    )
    .unwrap();
    assert_eq!(
        field(&directives, "elf.start_date"),
        s("2024-01-01 00:00:00")
    );
    assert_eq!(field(&directives, "elf.end_date"), s("2024-01-01 23:59:59"));
    assert_eq!(field(&directives, "elf.remark"), s("test: log"));
    assert_eq!(field(&directives, "elf.software"), s("IIS"));
    assert_eq!(
        entries("#Version: 1.0\n#Fields: time cs-method"),
        Value::List(vec![])
    );
    for (text, error) in [
        ("", "cannot parse empty ELF message"),
        ("#Fields: time\n00:00:01", "missing #Version directive"),
        (
            "#Version: 1.0\n00:00:01 GET /foo",
            "data entry found before #Fields directive",
        ),
        ("#Version: 1.0\n#Fields time", "malformed #Fields directive"),
        (
            "#Version: 1.0\n#Fields: a\n\"open",
            "unterminated quoted value",
        ),
    ] {
        let e = parse("ParseELF", text).unwrap_err();
        assert!(e.contains(error), "{text:?}: {e}");
    }
}

/// The README's examples and cases of Go's `Test_parseLEEF`.
#[test]
fn leef_messages_parse_as_go_parses_them() {
    assert_eq!(
        parse(
            "ParseLEEF",
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tsev=5"
        )
        .unwrap(),
        map(&[
            ("leef.version", s("1.0")),
            ("leef.vendor", s("Microsoft")),
            ("leef.product.name", s("MSExchange")),
            ("leef.product.version", s("4.0 SP1")),
            ("leef.event.id", s("15345")),
            (
                "leef.attributes",
                strings(&[("src", "10.50.1.1"), ("dst", "2.10.20.20"), ("sev", "5")])
            ),
        ])
    );
    let attributes = |text: &str| field(&parse("ParseLEEF", text).unwrap(), "leef.attributes");
    let two = strings(&[("key1", "val1"), ("key2", "val2")]);
    assert_eq!(
        attributes("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5"),
        strings(&[("src", "10.0.1.8"), ("dst", "10.0.0.5"), ("sev", "5")])
    );
    assert_eq!(
        attributes("LEEF:2.0|V|P|1.0|100|0x09|key1=val1\tkey2=val2"),
        two
    );
    assert_eq!(
        attributes("LEEF:2.0|V|P|1.0|100|0X5E|key1=val1^key2=val2"),
        two
    );
    assert_eq!(
        attributes("LEEF:2.0|V|P|1.0|100||key1=val1\tkey2=val2"),
        two
    );
    assert_eq!(attributes("LEEF:2.0|V|P|1.0|100|key1=val1\tkey2=val2"), two);
    assert_eq!(
        attributes("LEEF:2.0|V|P|1.0|100|^|key1=val1^^key2=val2^"),
        two
    );
    assert_eq!(attributes("LEEF:2.0|V|P|1.0|100"), map(&[]));
    assert_eq!(attributes("LEEF:1.0|V|P|1.0|Event|"), map(&[]));
    assert_eq!(attributes("LEEF:1.0|V|P|1.0|Event"), map(&[]));
    assert_eq!(
        attributes(
            "LEEF:1.0|V|P|1.0|E|url=http://x?a=b\t k = v \tnoequals\t=empty\tkey1=\tk=1\tk=2"
        ),
        strings(&[
            ("url", "http://x?a=b"),
            (" k ", " v "),
            ("key1", ""),
            ("k", "2")
        ])
    );
    // A syslog header before it.
    let parsed = parse("ParseLEEF", "<30>Aug 19 12:33:31 host guard[4486]: LEEF:1.0|IBM|Guardium|8.0|Login failures|ruleID=20026").unwrap();
    assert_eq!(field(&parsed, "leef.event.id"), s("Login failures"));
    for (text, error) in [
        ("", "cannot parse empty LEEF message"),
        ("CEF:0|a", "'LEEF:' not found"),
        ("LEEF:1.0", "missing pipe delimiter"),
        ("LEEF:3.0|V|P|1|E|", "unsupported LEEF version: 3.0"),
        ("LEEF:1.0|V|P", "expected at least 4 fields"),
        (
            "LEEF:2.0|V|P|1.0|100|ab|k=v",
            "single character or 0x-prefixed hex",
        ),
        ("LEEF:2.0|V|P|1.0|100|0x|k=v", "empty hex value"),
        (
            "LEEF:2.0|V|P|1.0|100|0x0909|k=v",
            "single byte, got 2 bytes",
        ),
        ("LEEF:2.0|V|P|1.0|100|0x+9|k=v", "invalid hex delimiter"),
    ] {
        let e = parse("ParseLEEF", text).unwrap_err();
        assert!(e.contains(error), "{text:?}: {e}");
    }
}

#[test]
fn the_converters_are_log_context_only_and_check_their_format() {
    use crate::{ContextKind, compile_statement};
    let compiles = |statement: &str, context| compile_statement(statement, context).map(|_| ());
    assert!(
        compiles(
            r#"set(attributes["p"], ParseCLF(body, "combined"))"#,
            ContextKind::Log
        )
        .is_ok()
    );
    let e = compiles(
        r#"set(attributes["p"], ParseCLF(body, "extended"))"#,
        ContextKind::Log,
    )
    .unwrap_err();
    assert!(e.to_string().contains("invalid format \"extended\""), "{e}");
    let e = compiles(r#"set(attributes["p"], ParseCEF(name))"#, ContextKind::Span).unwrap_err();
    assert!(
        e.to_string().contains("only available in the log context"),
        "{e}"
    );
    let e = run("ParseLEEF", Value::Int(1), None).unwrap_err();
    assert!(e.contains("expected string but got int64"), "{e}");
    // Each runs in a statement (ParseCEF has one parameter, ParseCLF two).
    for (converter, body) in [
        ("ParseCEF(body)", "CEF:0|V|P|1|C|N|5|a=b"),
        ("ParseCLF(body)", r#"h - - [d] "GET / HTTP/1.0" 200 1"#),
        (
            r#"ParseCLF(body, "clf")"#,
            r#"h - - [d] "GET / HTTP/1.0" 200 1"#,
        ),
        ("ParseELF(body)", "#Version: 1.0"),
        ("ParseLEEF(body)", "LEEF:1.0|V|P|1|E|a=b"),
    ] {
        let statement = format!(r#"set(attributes["p"], {converter})"#);
        let compiled = compile_statement(&statement, ContextKind::Log).unwrap();
        let mut log = tributary_pipeline_core::pdata::proto::logs::v1::LogRecord {
            body: Some(s(body).to_any()),
            ..Default::default()
        };
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        let mut ctx = crate::TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: crate::Item::Log(&mut log),
            cache: &mut cache,
        };
        compiled
            .execute(&mut ctx)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        assert_eq!(log.attributes.len(), 1, "{statement}");
    }
}
