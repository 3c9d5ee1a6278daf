//! `ParseCEF`: ArcSight Common Event Format.

use std::sync::LazyLock;

use regex::Regex;

use super::Map;
use crate::value::Value;

/// Parses a CEF message (from its first `CEF:`) into the `cef.*` map.
pub(super) fn cef(message: &str) -> Result<Map, String> {
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
