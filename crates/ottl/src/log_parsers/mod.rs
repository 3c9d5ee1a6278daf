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

mod cef;
mod clf;
mod elf;
mod leef;
#[cfg(test)]
mod tests;

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
        "ParseCEF" => cef::cef(&text)?,
        "ParseCLF" => clf::clf(&text, format.unwrap_or("clf"))?,
        "ParseELF" => elf::elf(&text)?,
        _ => leef::leef(&text)?,
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
