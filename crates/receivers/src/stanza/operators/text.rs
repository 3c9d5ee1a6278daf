//! The operators that rewrite a string field: `unquote` and `regex_replace`.

use regex::Regex;

use super::super::config::OperatorConfig;
use super::super::entry::Entry;
use super::super::field::Field;
use super::super::pipeline::Transform;
use super::super::value::Value;

/// Go's `regex_name: ansi_control_sequences`.
const ANSI_CONTROL_SEQUENCES: &str = r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])";

/// `unquote`: removes one level of quotes as Go's `strconv.Unquote` (`"…"` with escapes,
/// `` `…` `` raw, `'c'` one character).
pub(crate) struct Unquote {
    field: Field,
}

impl Unquote {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        Ok(Unquote {
            field: config.field.clone().unwrap_or_else(Field::body),
        })
    }
}

impl Transform for Unquote {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        let text = match self.field.get(entry) {
            Some(Value::String(text)) => text,
            Some(_) => return Err(format!("unquote: field `{}` is not a string", self.field)),
            None => return Err(format!("unquote: field does not exist: {}", self.field)),
        };
        let unquoted = unquote(text).ok_or_else(|| format!("unquote: invalid syntax: {text}"))?;
        self.field.set(entry, Value::String(unquoted))
    }
}

/// Unquotes `text` as Go's `strconv.Unquote`, or `None` when it is not quoted validly.
pub fn unquote(text: &str) -> Option<String> {
    let quote = text.chars().next()?;
    // Only ASCII quotes, so slicing one byte off each end stays on char boundaries.
    if !matches!(quote, '"' | '\'' | '`') || text.len() < 2 || !text.ends_with(quote) {
        return None;
    }
    let inner = &text[1..text.len() - 1];
    match quote {
        '`' => (!inner.contains('`')).then(|| inner.to_string()),
        '"' | '\'' => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == quote || c == '\n' {
                    return None;
                }
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                let escaped = chars.next()?;
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'v' => '\u{b}',
                    '\\' | '"' | '\'' => escaped,
                    'u' | 'U' | 'x' => {
                        let len = match escaped {
                            'u' => 4,
                            'U' => 8,
                            _ => 2,
                        };
                        let hex: String = chars.by_ref().take(len).collect();
                        if hex.len() != len {
                            return None;
                        }
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    _ => return None,
                });
            }
            if quote == '\'' && out.chars().count() != 1 {
                return None;
            }
            Some(out)
        }
        _ => None,
    }
}

/// `regex_replace`: replaces every match in a string field.
pub(crate) struct RegexReplace {
    field: Field,
    regex: Regex,
    replace_with: String,
}

impl RegexReplace {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let pattern = match (config.regex.as_deref(), config.regex_name.as_deref()) {
            (Some(regex), None) => regex,
            (None, Some("ansi_control_sequences")) => ANSI_CONTROL_SEQUENCES,
            (None, Some(other)) => {
                return Err(format!(
                    "unknown regex_name `{other}`; use ansi_control_sequences"
                ));
            }
            _ => return Err("exactly one of `regex` and `regex_name` must be set".into()),
        };
        let field = config.field.clone().ok_or("missing required key `field`")?;
        Ok(RegexReplace {
            field,
            regex: Regex::new(pattern).map_err(|e| format!("regex: {e}"))?,
            replace_with: config.replace_with.clone().unwrap_or_default(),
        })
    }
}

impl Transform for RegexReplace {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        let text = match self.field.get(entry) {
            Some(Value::String(text)) => text,
            // As Go: a field that is absent or not a string is left alone.
            _ => return Ok(()),
        };
        let replaced = self
            .regex
            .replace_all(text, self.replace_with.as_str())
            .into_owned();
        self.field.set(entry, Value::String(replaced))
    }
}
