//! Percent-decoding (`%XX`) of URL path segments and query components: one implementation
//! for every component that reads values out of a URL (the lookout and pushgateway paths,
//! InfluxDB and collectd query strings, `OTEL_RESOURCE_ATTRIBUTES`, gRPC status messages,
//! zPages).
//!
//! ```
//! use tributary_pipeline_core::confighttp::percent::{Plus, decode_lossy, decode_strict};
//!
//! assert_eq!(decode_lossy(b"a%20b+c", Plus::Kept), "a b+c");
//! assert_eq!(decode_lossy(b"a+b%2B%zz", Plus::Space), "a b+%zz");
//! assert_eq!(decode_strict("k%3Dv", Plus::Kept).as_deref(), Some("k=v"));
//! assert_eq!(decode_strict("k%3", Plus::Kept), None);
//! ```

use std::borrow::Cow;

/// What a `+` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plus {
    /// A `+`, as in a path.
    Kept,
    /// A space, as in a query string (`application/x-www-form-urlencoded`, Go's
    /// `url.QueryUnescape`).
    Space,
}

/// Decodes `%XX` escapes; a malformed escape stays as written and bytes that are not
/// UTF-8 once decoded become U+FFFD. Borrows when there is nothing to decode.
pub fn decode_lossy(text: &[u8], plus: Plus) -> Cow<'_, str> {
    let plain = !text.contains(&b'%') && (plus == Plus::Kept || !text.contains(&b'+'));
    if plain {
        return String::from_utf8_lossy(text);
    }
    let decoded = decode(text, plus, false).unwrap_or_default();
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

/// Decodes `%XX` escapes; `None` for a malformed escape (`%` not followed by two hex
/// digits) or text that is not UTF-8 once decoded.
pub fn decode_strict(text: &str, plus: Plus) -> Option<String> {
    String::from_utf8(decode(text.as_bytes(), plus, true)?).ok()
}

/// The decoded bytes; with `strict`, `None` at a malformed escape, which is otherwise kept.
fn decode(text: &[u8], plus: Plus, strict: bool) -> Option<Vec<u8>> {
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'%' => match (hex(text.get(i + 1)), hex(text.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ if strict => return None,
                _ => out.push(b'%'),
            },
            b'+' if plus == Plus::Space => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_malformed_ones_stay_or_fail() {
        assert_eq!(decode_lossy(b"%41%62%2f", Plus::Kept), "Ab/");
        for malformed in ["%", "a%2", "%zz", "%+f", "%-1"] {
            assert_eq!(decode_lossy(malformed.as_bytes(), Plus::Kept), malformed);
            assert_eq!(decode_strict(malformed, Plus::Kept), None, "{malformed}");
        }
        assert!(matches!(
            decode_lossy(b"plain", Plus::Space),
            Cow::Borrowed("plain")
        ));
        assert_eq!(decode_lossy(b"%ff", Plus::Kept), "\u{fffd}");
        assert_eq!(decode_strict("%ff", Plus::Kept), None);
        assert_eq!(
            decode_strict("%C3%A9+x", Plus::Space).as_deref(),
            Some("é x")
        );
        assert_eq!(
            decode_strict("%C3%A9+x", Plus::Kept).as_deref(),
            Some("é+x")
        );
    }
}
