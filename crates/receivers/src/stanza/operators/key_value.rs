//! `key_value_parser`: `key=value` pairs become a map.

use super::super::config::OperatorConfig;
use super::super::value::{Map, Value};
use super::parser::Parse;

/// Splits pairs on `pair_delimiter` (default: whitespace) and each pair on `delimiter`
/// (default `=`); quotes keep delimiters inside a value.
pub(crate) struct KeyValueParser {
    delimiter: String,
    pair_delimiter: Option<String>,
}

impl KeyValueParser {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let delimiter = config.delimiter.clone().unwrap_or_else(|| "=".into());
        if delimiter.is_empty() {
            return Err("`delimiter` must not be empty".into());
        }
        let pair_delimiter = config.pair_delimiter.clone();
        match pair_delimiter.as_deref() {
            Some("") => return Err("`pair_delimiter` must not be empty".into()),
            Some(pair) if pair == delimiter => {
                return Err("`delimiter` and `pair_delimiter` must differ".into());
            }
            None if delimiter.trim().is_empty() => {
                return Err("a whitespace `delimiter` needs a `pair_delimiter`".into());
            }
            _ => {}
        }
        Ok(KeyValueParser {
            delimiter,
            pair_delimiter,
        })
    }
}

impl Parse for KeyValueParser {
    fn parse(&mut self, value: &Value) -> Result<Value, String> {
        let Value::String(text) = value else {
            return Err("type is not a string; cannot parse key-value pairs".into());
        };
        parse_key_values(text, &self.delimiter, self.pair_delimiter.as_deref()).map(Value::Map)
    }
}

/// Parses `text` as key-value pairs: pairs split on `pair_delimiter` (whitespace when
/// `None`) outside quotes, each pair on the first `delimiter`; keys and values are
/// trimmed of spaces and surrounding quotes, as Go's `cleanString`.
pub fn parse_key_values(
    text: &str,
    delimiter: &str,
    pair_delimiter: Option<&str>,
) -> Result<Map, String> {
    let mut map = Map::new();
    for pair in split_pairs(text, pair_delimiter) {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once(delimiter) else {
            return Err(format!("cannot split {pair:?} into 2 items, got 1 item(s)"));
        };
        let key = clean(key);
        if key.is_empty() {
            return Err(format!("the pair {pair:?} has an empty key"));
        }
        map.insert(key.to_string(), Value::String(clean(value).to_string()));
    }
    if map.is_empty() {
        return Err("expected at least one key-value pair".into());
    }
    Ok(map)
}

fn clean(text: &str) -> &str {
    text.trim().trim_matches(['"', '\''])
}

fn split_pairs<'a>(text: &'a str, pair_delimiter: Option<&str>) -> Vec<&'a str> {
    let mut pairs = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => match pair_delimiter {
                None if c.is_whitespace() => {
                    pairs.push(&text[start..i]);
                    start = i + c.len_utf8();
                }
                Some(delimiter) if text[i..].starts_with(delimiter) => {
                    pairs.push(&text[start..i]);
                    start = i + delimiter.len();
                    // Skip the rest of a multi-character delimiter.
                    while chars.peek().is_some_and(|(j, _)| *j < start) {
                        chars.next();
                    }
                }
                _ => {}
            },
        }
    }
    pairs.push(&text[start..]);
    pairs
}
