//! The transform processor's log converters (log context), as the Go Collector's
//! `processor/transformprocessor/internal/logparsingfuncs` has them: each parses a string
//! into a map.
//!
//! | converter | parses | keys |
//! |---|---|---|
//! | `ParseCEF(target)` | ArcSight Common Event Format, from the first `CEF:` | `cef.version`, `cef.device_vendor`, `cef.device_product`, `cef.device_version`, `cef.device_event_class_id`, `cef.name`, `cef.severity`, `cef.extensions` (a map) |
//! | `ParseCLF(target, format?)` | an HTTP access log line, `"clf"` (default) or `"combined"` | `clf.remote_host`, `clf.rfc931`, `clf.auth_user`, `clf.timestamp`, `clf.request`, `clf.method`, `clf.request_uri`, `clf.protocol`, `clf.status` (int), `clf.bytes` (int), `clf.referer`, `clf.user_agent` |
//! | `ParseELF(target)` | a W3C Extended Log Format block | `elf.entries` (a list of maps), `elf.version`, `elf.software`, `elf.date`, `elf.start_date`, `elf.end_date`, `elf.remark`, `elf.fields` (a list) |
//! | `ParseLEEF(target)` | IBM Log Event Extended Format 1.0 and 2.0, from the first `LEEF:` | `leef.version`, `leef.vendor`, `leef.product.name`, `leef.product.version`, `leef.event.id`, `leef.attributes` (a map) |
//!
//! All values are strings but the CLF status and bytes. An empty target, or one that does
//! not parse, is an error.
//!
//! - CEF: in the header `\|` and `\\` are unescaped; in extension values `\\`, `\=`, `\n`
//!   and `\r`. A value runs to the next ` key=` (keys are a letter then letters, digits
//!   or `_`), trailing spaces cut.
//! - CLF: the quoted fields (request, referer, user agent) are unescaped as Apache and
//!   nginx escape them (`\"`, `\\`, `\n`, `\t`, `\r`, `\b`, `\f`, `\v`, `\xhh`; anything
//!   else is kept); `clf.method`, `clf.request_uri` and `clf.protocol` are set when the
//!   request has three space-separated parts, `clf.bytes` when it is not `-`, the referer
//!   and user agent with `"combined"`.
//! - ELF: directives are case-insensitive; each `#Fields` applies to the lines after it and
//!   `elf.fields` is the last one; the entries are keyed `elf.<field>` (as Go's source
//!   writes them), a missing value is `-`; double-quoted values (`""` for a quote) may hold
//!   spaces. A data line before any `#Fields`, a `#Fields` without a colon, an unclosed
//!   quote, or no `#Version` is an error. (Go also logs a warning for a short line.)
//! - LEEF: 1.0 attributes are tab-separated; 2.0 takes the delimiter from the header (one
//!   character, or `0x`-prefixed hex of one byte; empty or left out means tab; a field
//!   holding `=` there is the first attribute). Pairs without `=` or with an empty key are
//!   skipped, the last of a repeated key wins, whitespace is kept.
//!
//! Where Go keeps bytes that are not UTF-8 (a `\xhh` escape, a hex LEEF delimiter above
//! 0x7f), the text here has U+FFFD in their place, since a string must be UTF-8. Attribute
//! and extension maps keep the order in which keys first appear (Go's map order is random).

use std::sync::LazyLock;

use regex::Regex;

use crate::value::Value;

/// The converters of this module.
pub(crate) const NAMES: &[&str] = &["ParseCEF", "ParseCLF", "ParseELF", "ParseLEEF"];

/// The formats of `ParseCLF`.
pub const CLF_FORMATS: &[&str] = &["clf", "combined"];

/// Runs converter `name` on `target`; `format` is `ParseCLF`'s (checked at compile time).
pub(crate) fn run(name: &str, target: Value, format: Option<&str>) -> Result<Value, String> {
    let Value::Str(text) = target else {
        return Err(format!(
            "{name}: expected string but got {}",
            target.type_name()
        ));
    };
    let kind = &name[5..];
    if text.is_empty() {
        return Err(format!("cannot parse empty {kind} message"));
    }
    let map = match name {
        "ParseCEF" => cef(&text)?,
        "ParseCLF" => clf(&text, format.unwrap_or("clf"))?,
        "ParseELF" => elf(&text)?,
        _ => leef(&text)?,
    };
    Ok(Value::Map(map.0))
}

/// A map built as `pcommon.Map` builds one: a key put twice keeps its first place.
#[derive(Default)]
struct Map(Vec<(String, Value)>);

impl Map {
    fn put(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    fn put_str(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.put(key, Value::Str(value.into()));
    }
}

/// Bytes as text, with U+FFFD for what is not UTF-8.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn cef(message: &str) -> Result<Map, String> {
    let start = message
        .find("CEF:")
        .ok_or("invalid CEF message: 'CEF:' not found")?;
    let fields = split_cef_header(&message[start..])?;
    let version = fields[0].strip_prefix("CEF:").unwrap_or_default();
    if version.is_empty() {
        return Err("invalid CEF message: missing version".into());
    }
    let mut out = Map::default();
    out.put_str("cef.version", version);
    for (key, field) in [
        "cef.device_vendor",
        "cef.device_product",
        "cef.device_version",
        "cef.device_event_class_id",
        "cef.name",
        "cef.severity",
    ]
    .into_iter()
    .zip(&fields[1..7])
    {
        out.put_str(key, unescape_cef_header(field));
    }
    let mut extensions = Map::default();
    if let Some(extension) = fields.get(7).filter(|e| !e.is_empty()) {
        static KEY: LazyLock<Regex> =
            LazyLock::new(|| Regex::new("(?:^| )([A-Za-z][A-Za-z0-9_]*)=").expect("a valid regex"));
        let keys: Vec<_> = KEY.captures_iter(extension).collect();
        for (i, caps) in keys.iter().enumerate() {
            let (whole, key) = (caps.get(0).expect("match"), caps.get(1).expect("group"));
            let end = keys
                .get(i + 1)
                .map_or(extension.len(), |next| next.get(0).expect("match").start());
            let value = extension[whole.end()..end].trim_end_matches(' ');
            extensions.put_str(key.as_str(), unescape_cef_value(value));
        }
    }
    out.put("cef.extensions", Value::Map(extensions.0));
    Ok(out)
}

/// The prefix (`CEF:Version`) and the six header fields, split on pipes that are not
/// escaped, and the extension (what follows the seventh pipe) when there is one.
fn split_cef_header(message: &str) -> Result<Vec<String>, String> {
    const HEADER_FIELDS: usize = 7;
    let mut fields = Vec::with_capacity(HEADER_FIELDS + 1);
    let mut current = String::new();
    let mut chars = message.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\'
            && let Some(&(_, next @ ('|' | '\\'))) = chars.peek()
        {
            current.push(c);
            current.push(next);
            chars.next();
            continue;
        }
        if c == '|' {
            fields.push(std::mem::take(&mut current));
            if fields.len() == HEADER_FIELDS {
                fields.push(message[i + 1..].to_string());
                return Ok(fields);
            }
            continue;
        }
        current.push(c);
    }
    fields.push(current);
    if fields.len() < HEADER_FIELDS {
        return Err(format!(
            "invalid CEF header: expected at least {HEADER_FIELDS} pipe-delimited fields (CEF:Version, Device Vendor, Device Product, Device Version, Device Event Class ID, Name, Severity), got {}",
            fields.len()
        ));
    }
    Ok(fields)
}

/// Unescapes a sequence of `\` and one of `escapes` (mapped to their text).
fn unescape(s: &str, escape: impl Fn(char) -> Option<char>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(unescaped) = chars.peek().and_then(|&next| escape(next))
        {
            out.push(unescaped);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

fn unescape_cef_header(s: &str) -> String {
    unescape(s, |c| matches!(c, '|' | '\\').then_some(c))
}

fn unescape_cef_value(s: &str) -> String {
    unescape(s, |c| match c {
        '\\' | '=' => Some(c),
        'n' => Some('\n'),
        'r' => Some('\r'),
        _ => None,
    })
}

/// Go's regexp `\S` (anything but `\t \n \f \r` and space).
const NOT_SPACE: &str = r"[^\t\n\f\r ]";
/// A quoted CLF field, with backslash escapes.
const QUOTED: &str = r#""((?:[^"\\]|\\.)*)""#;

fn clf(message: &str, format: &str) -> Result<Map, String> {
    static CLF: LazyLock<Regex> = LazyLock::new(|| {
        let s = format!("{NOT_SPACE}+");
        Regex::new(&format!(
            r"^({s}) ({s}) ({s}) \[([^\]]+)\] {QUOTED} ({s}) ({s})$"
        ))
        .expect("a valid regex")
    });
    static COMBINED: LazyLock<Regex> = LazyLock::new(|| {
        let s = format!("{NOT_SPACE}+");
        Regex::new(&format!(
            r"^({s}) ({s}) ({s}) \[([^\]]+)\] {QUOTED} ({s}) ({s}) {QUOTED} {QUOTED}$"
        ))
        .expect("a valid regex")
    });
    let combined = format == "combined";
    let re = if combined { &*COMBINED } else { &*CLF };
    let caps = re
        .captures(message.trim())
        .ok_or_else(|| format!("invalid CLF message: does not match expected {format:?} format"))?;
    let group = |i: usize| caps.get(i).map_or("", |m| m.as_str());
    let mut out = Map::default();
    out.put_str("clf.remote_host", group(1));
    out.put_str("clf.rfc931", group(2));
    out.put_str("clf.auth_user", group(3));
    out.put_str("clf.timestamp", group(4));
    let request = unescape_clf(group(5));
    if let [method, uri, protocol] = request.splitn(3, ' ').collect::<Vec<_>>()[..] {
        let (method, uri, protocol) = (method.to_string(), uri.to_string(), protocol.to_string());
        out.put_str("clf.request", request);
        out.put_str("clf.method", method);
        out.put_str("clf.request_uri", uri);
        out.put_str("clf.protocol", protocol);
    } else {
        out.put_str("clf.request", request);
    }
    let status = group(6);
    let status = status
        .parse::<i64>()
        .map_err(|e| format!("invalid status code {status:?}: {e}"))?;
    out.put("clf.status", Value::Int(status));
    let bytes = group(7);
    if bytes != "-" {
        let bytes = bytes
            .parse::<i64>()
            .map_err(|e| format!("invalid bytes value {bytes:?}: {e}"))?;
        out.put("clf.bytes", Value::Int(bytes));
    }
    if combined {
        out.put_str("clf.referer", unescape_clf(group(8)));
        out.put_str("clf.user_agent", unescape_clf(group(9)));
    }
    Ok(out)
}

/// Reverses Apache's (and nginx's) escaping of quoted log fields.
fn unescape_clf(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != b'\\' || i + 1 == bytes.len() {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let next = bytes[i];
        match next {
            b'\\' | b'"' => out.push(next),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'v' => out.push(0x0b),
            b'x' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .filter(|h| i + 2 < bytes.len() && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            _ => out.extend_from_slice(&[b'\\', next]),
        }
        i += 1;
    }
    text(out)
}

fn elf(input: &str) -> Result<Map, String> {
    let mut out = Map::default();
    let mut entries = Vec::new();
    let mut has_version = false;
    let mut fields: Vec<String> = Vec::new();
    let lines = input
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty());
    // The entries come first in Go's map: it puts the list before reading.
    out.put("elf.entries", Value::List(Vec::new()));
    for line in lines {
        if let Some(body) = line.strip_prefix('#') {
            let Some((key, value)) = body.split_once(':') else {
                let trimmed = body.trim();
                if trimmed
                    .get(..6)
                    .is_some_and(|k| k.eq_ignore_ascii_case("fields"))
                {
                    return Err(format!(
                        "invalid ELF: malformed #Fields directive {line:?}: directive {line:?} has no colon separator"
                    ));
                }
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let put = match key.to_ascii_lowercase().as_str() {
                "version" => {
                    has_version = true;
                    Some("elf.version")
                }
                "fields" => {
                    fields = value.split_whitespace().map(str::to_string).collect();
                    None
                }
                "software" => Some("elf.software"),
                "date" => Some("elf.date"),
                "start-date" => Some("elf.start_date"),
                "end-date" => Some("elf.end_date"),
                "remark" => Some("elf.remark"),
                _ => None,
            };
            if let Some(key) = put {
                out.put_str(key, value);
            }
            continue;
        }
        if fields.is_empty() {
            return Err("invalid ELF: data entry found before #Fields directive".into());
        }
        let values = elf_values(line)?;
        let entry = fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let value = values.get(i).cloned().unwrap_or_else(|| "-".to_string());
                (format!("elf.{field}"), Value::Str(value))
            })
            .collect();
        entries.push(Value::Map(entry));
    }
    if !has_version {
        return Err("invalid ELF: missing #Version directive".into());
    }
    out.put("elf.entries", Value::List(entries));
    out.put(
        "elf.fields",
        Value::List(fields.into_iter().map(Value::Str).collect()),
    );
    Ok(out)
}

/// The values of an ELF data line: separated by spaces or tabs, double-quoted ones may
/// hold them (`""` is a quote inside).
fn elf_values(line: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(values);
        };
        let mut value = String::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => value.push('"'),
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(format!(
                            "invalid ELF: unterminated quoted value in data line: {line:?}"
                        ));
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
                value.push(c);
            }
        }
        values.push(value);
    }
}

fn leef(message: &str) -> Result<Map, String> {
    let start = message
        .find("LEEF:")
        .ok_or("invalid LEEF message: 'LEEF:' not found")?;
    let (version_field, rest) = message[start..]
        .split_once('|')
        .ok_or("invalid LEEF message: missing pipe delimiter in header")?;
    let version = version_field.strip_prefix("LEEF:").unwrap_or_default();
    if version != "1.0" && version != "2.0" {
        return Err(format!(
            "unsupported LEEF version: {version} (supported: 1.0, 2.0)"
        ));
    }
    let parts: Vec<&str> = rest
        .splitn(if version == "1.0" { 5 } else { 6 }, '|')
        .collect();
    if parts.len() < 4 {
        return Err(format!(
            "invalid LEEF {version} header: expected at least 4 fields (vendor, product, version, eventID), got {}",
            parts.len()
        ));
    }
    let (delimiter, attributes): (u8, &str) = if version == "1.0" {
        (b'\t', parts.get(4).copied().unwrap_or_default())
    } else {
        match parts.get(4) {
            None => (b'\t', ""),
            // No delimiter field: the fifth field is the first attribute.
            Some(spec) if spec.contains('=') => {
                (b'\t', rest.splitn(5, '|').nth(4).unwrap_or_default())
            }
            Some(spec) => (
                leef_delimiter(spec).map_err(|e| format!("invalid LEEF 2.0 delimiter: {e}"))?,
                parts.get(5).copied().unwrap_or_default(),
            ),
        }
    };
    let mut out = Map::default();
    out.put_str("leef.version", version);
    out.put_str("leef.vendor", parts[0]);
    out.put_str("leef.product.name", parts[1]);
    out.put_str("leef.product.version", parts[2]);
    out.put_str("leef.event.id", parts[3]);
    let mut pairs = Map::default();
    for pair in attributes.as_bytes().split(|b| *b == delimiter) {
        let pair = text(pair.to_vec());
        if let Some((key, value)) = pair.split_once('=')
            && !key.is_empty()
        {
            pairs.put_str(key, value);
        }
    }
    out.put("leef.attributes", Value::Map(pairs.0));
    Ok(out)
}

/// A LEEF 2.0 delimiter: one character, or one byte in `0x` hex; empty means tab.
fn leef_delimiter(spec: &str) -> Result<u8, String> {
    if spec.is_empty() {
        return Ok(b'\t');
    }
    if let Some(hex) = spec.strip_prefix("0x").or_else(|| spec.strip_prefix("0X")) {
        if hex.is_empty() {
            return Err("empty hex value".into());
        }
        let bytes = Some(hex)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(crate::context::decode_hex)
            .ok_or_else(|| format!("invalid hex delimiter {spec:?}"))?;
        return match bytes[..] {
            [byte] => Ok(byte),
            _ => Err(format!(
                "hex delimiter must decode to a single byte, got {} bytes",
                bytes.len()
            )),
        };
    }
    match spec.as_bytes() {
        [byte] => Ok(*byte),
        _ => Err(format!(
            "delimiter must be a single character or 0x-prefixed hex value, got {spec:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

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
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
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
        let combined = format!(
            r#"{line} "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#
        );
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
            entries(
                "#Version: 1.0\n#Fields: cs-uri cs(User-Agent)\n/p \"Mozilla/5.0 (\"\"X\"\")\""
            ),
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
}
