//! `ParseCLF`: HTTP access log lines, Common and Combined Log Format.

use std::sync::LazyLock;

use regex::Regex;

use super::{Map, text};
use crate::value::Value;

/// Go's regexp `\S` (anything but `\t \n \f \r` and space).
const NOT_SPACE: &str = r"[^\t\n\f\r ]";
/// A quoted CLF field, with backslash escapes.
const QUOTED: &str = r#""((?:[^"\\]|\\.)*)""#;

/// Parses an access log line in `format` (`clf` or `combined`) into the `clf.*` map.
pub(super) fn clf(message: &str, format: &str) -> Result<Map, String> {
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
pub(super) fn unescape_clf(s: &str) -> String {
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
