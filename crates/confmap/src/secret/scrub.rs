//! [`Scrubber`]: takes secrets and referenced values out of messages about a configuration.

use std::borrow::Cow;

use super::url::userinfo_range;
use super::{REDACTED, SecretKind, SecretPaths};
use crate::value::{Expanded, Value};

/// The shortest text removed where it stands bare in a message; shorter values are
/// removed only where they are quoted. A bare `1` or `a` would otherwise eat ordinary words
/// and numbers of the message, and no secret is that short.
const MIN_BARE_LEN: usize = 4;

/// Removes from messages the text of every secret and of every value a `${...}` reference
/// produced in a configuration value, so an error about a misplaced `${file:token}` names
/// the key and the problem, not the token.
///
/// A secret is replaced by `[REDACTED]` (for a [`SecretUrl`](super::SecretUrl), only its
/// userinfo); a referenced value by a note naming the provider,
/// `(value from a ${file:...} reference not shown)`. Each is found as written, trimmed and
/// escaped (`"TOKEN\n"`), quoted or not; a value shorter than four characters only where it
/// is quoted. Text inside a longer word is left alone.
///
/// [`Value::decode`](crate::Value::decode) scrubs its errors this way; use a scrubber for
/// messages of checks that run after decoding (a config's `validate`).
///
/// ```
/// use tributary_confmap::{Expanded, Scrubber, SecretPaths, Value};
///
/// let section = Value::from_iter([(
///     "timeout",
///     Value::from(Expanded::new(Value::from("T0KEN\n"), "T0KEN\n").with_scheme("file")),
/// )]);
/// let scrubber = Scrubber::new(&section, &SecretPaths::new());
/// assert_eq!(
///     scrubber.scrub(r#"invalid duration "T0KEN\n""#),
///     "invalid duration (value from a ${file:...} reference not shown)"
/// );
/// ```
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    /// Longest first, so a quoted form wins over the bare text inside it.
    needles: Vec<Needle>,
}

#[derive(Clone, Debug)]
struct Needle {
    text: String,
    replacement: String,
}

impl Scrubber {
    /// A scrubber for messages about `value`: its secrets at `secrets` (paths relative to
    /// `value`) and every value in it that a reference produced.
    pub fn new(value: &Value, secrets: &SecretPaths) -> Scrubber {
        let mut scrubber = Scrubber::default();
        for (path, kind) in secrets.iter() {
            let Some(secret) = value.get(path) else {
                continue;
            };
            match kind {
                SecretKind::Value => scrubber.add_secret(secret),
                SecretKind::Userinfo => {
                    let url = secret.as_str().unwrap_or_default();
                    if let Some((start, end)) = userinfo_range(url) {
                        scrubber.add_text(&url[start..end], REDACTED);
                    }
                }
            }
        }
        scrubber.add_references(value);
        scrubber
            .needles
            .sort_by_key(|needle| std::cmp::Reverse(needle.text.len()));
        scrubber
    }

    /// Whether there is nothing to remove.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `message` without the scrubber's values.
    pub fn scrub<'m>(&self, message: &'m str) -> Cow<'m, str> {
        if self.needles.is_empty() {
            return Cow::Borrowed(message);
        }
        let mut out = String::with_capacity(message.len());
        let mut changed = false;
        let mut at = 0;
        while let Some(rest) = message.get(at..).filter(|rest| !rest.is_empty()) {
            let found = self.needles.iter().find(|needle| {
                rest.starts_with(&needle.text)
                    && stands_alone(message, at, at + needle.text.len(), &needle.text)
            });
            if let Some(needle) = found {
                out.push_str(&needle.replacement);
                at += needle.text.len();
                changed = true;
            } else if let Some(ch) = rest.chars().next() {
                out.push(ch);
                at += ch.len_utf8();
            }
        }
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(message)
        }
    }

    /// Every scalar below a secret value.
    fn add_secret(&mut self, value: &Value) {
        match value {
            Value::Map(map) => map.values().for_each(|v| self.add_secret(v)),
            Value::List(items) => items.iter().for_each(|v| self.add_secret(v)),
            scalar => {
                for text in scalar_texts(scalar) {
                    self.add_text(&text, REDACTED);
                }
            }
        }
    }

    /// Every value below `value` that a reference produced.
    fn add_references(&mut self, value: &Value) {
        match value {
            Value::Map(map) => map.values().for_each(|v| self.add_references(v)),
            Value::List(items) => items.iter().for_each(|v| self.add_references(v)),
            Value::Expanded(expanded) => {
                let note = reference_note(expanded);
                for text in scalar_texts(value) {
                    self.add_text(&text, &note);
                }
            }
            _ => {}
        }
    }

    /// `text` in the forms a message may show it in.
    fn add_text(&mut self, text: &str, replacement: &str) {
        let trimmed = text.trim();
        for form in [text, trimmed] {
            if form.is_empty() {
                continue;
            }
            let escaped = format!("{form:?}");
            let inner = &escaped[1..escaped.len() - 1];
            self.add_needle(escaped.clone(), replacement, true);
            self.add_needle(format!("`{form}`"), replacement, true);
            self.add_needle(inner.to_owned(), replacement, false);
            self.add_needle(form.to_owned(), replacement, false);
        }
    }

    fn add_needle(&mut self, text: String, replacement: &str, quoted: bool) {
        if !quoted && text.chars().count() < MIN_BARE_LEN {
            return;
        }
        if self.needles.iter().all(|needle| needle.text != text) {
            self.needles.push(Needle {
                text,
                replacement: replacement.to_owned(),
            });
        }
    }
}

/// The note that replaces a referenced value.
fn reference_note(expanded: &Expanded) -> String {
    match expanded.scheme() {
        Some(scheme) => format!("(value from a ${{{scheme}:...}} reference not shown)"),
        None => "(value from a ${...} reference not shown)".to_owned(),
    }
}

/// The texts a scalar may appear as: its text, and for a referenced scalar both the text it
/// was written as and its typed value's (`0123` and `83`).
fn scalar_texts(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Int(i) => vec![i.to_string()],
        Value::Float(f) => vec![f.to_string()],
        Value::Expanded(expanded) => {
            let mut texts = scalar_texts(expanded.value());
            texts.push(expanded.original().to_owned());
            texts
        }
        Value::Null | Value::List(_) | Value::Map(_) => Vec::new(),
    }
}

/// Whether `needle`, found at `start..end` of `message`, is not part of a longer word: a
/// needle that begins (ends) with a word character must not follow (precede) one.
fn stands_alone(message: &str, start: usize, end: usize, needle: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_word = needle.chars().next().is_some_and(is_word);
    let ends_word = needle.chars().next_back().is_some_and(is_word);
    let before = message[..start].chars().next_back().is_some_and(is_word);
    let after = message[end..].chars().next().is_some_and(is_word);
    !(starts_word && before || ends_word && after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referenced(text: &str, scheme: &str) -> Value {
        Value::from(Expanded::new(Value::from(text), text).with_scheme(scheme))
    }

    #[test]
    fn referenced_values_are_removed_in_every_form() {
        let section = Value::from_iter([
            ("timeout", referenced("TOKENFILESECRET777\n", "file")),
            (
                "port",
                Value::from(Expanded::new(Value::Int(83), "0123").with_scheme("env")),
            ),
        ]);
        let scrubber = Scrubber::new(&section, &SecretPaths::new());
        let note = "(value from a ${file:...} reference not shown)";
        for message in [
            r#"invalid duration "TOKENFILESECRET777\n""#,
            "invalid duration TOKENFILESECRET777\n",
            "invalid duration TOKENFILESECRET777",
            r#"invalid duration TOKENFILESECRET777\n"#,
        ] {
            assert_eq!(
                scrubber.scrub(message),
                format!("invalid duration {note}"),
                "{message}"
            );
        }
        assert_eq!(
            scrubber.scrub("invalid value: integer `83`, expected u8; 0123"),
            "invalid value: integer (value from a ${env:...} reference not shown), expected u8; (value from a ${env:...} reference not shown)"
        );
    }

    #[test]
    fn secrets_and_url_userinfo_are_redacted() {
        let section = Value::from_iter([
            ("token", Value::from("s3cretT0ken")),
            ("endpoint", Value::from("http://user:PASS@host:4318")),
        ]);
        let mut secrets = SecretPaths::new();
        secrets.insert("token", SecretKind::Value);
        secrets.insert("endpoint", SecretKind::Userinfo);
        let scrubber = Scrubber::new(&section, &secrets);
        assert_eq!(
            scrubber.scrub(r#"bad token "s3cretT0ken" for http://user:PASS@host:4318"#),
            "bad token [REDACTED] for http://[REDACTED]@host:4318"
        );
    }

    #[test]
    fn short_values_go_only_where_quoted_and_words_are_left_whole() {
        let section = Value::from_iter([
            ("a", referenced("1", "env")),
            ("b", referenced("host", "env")),
        ]);
        let scrubber = Scrubber::new(&section, &SecretPaths::new());
        assert_eq!(
            scrubber.scrub(r#"expected 1 to 10 in u16, found "1"; hostname host"#),
            "expected 1 to 10 in u16, found (value from a ${env:...} reference not shown); hostname (value from a ${env:...} reference not shown)"
        );
        assert!(matches!(scrubber.scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn values_written_in_the_document_are_kept() {
        let section = Value::from_iter([("timeout", Value::from("soon"))]);
        let scrubber = Scrubber::new(&section, &SecretPaths::new());
        assert!(scrubber.is_empty());
        assert_eq!(
            scrubber.scrub(r#"invalid duration "soon""#),
            r#"invalid duration "soon""#
        );
    }
}
