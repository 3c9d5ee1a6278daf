//! `regex_parser`: a regular expression's named groups become a map.

use std::collections::{HashMap, VecDeque};

use regex::Regex;

use super::super::config::OperatorConfig;
use super::super::value::{Map, Value};
use super::parser::Parse;
use super::required;

/// Parses with named capture groups, with an optional cache of recent results.
pub(crate) struct RegexParser {
    regex: Regex,
    cache: Cache,
}

/// The last `size` distinct inputs and their results (Go's `cache.size`): logs repeat,
/// and a lookup is cheaper than a match.
struct Cache {
    size: usize,
    values: HashMap<String, Value>,
    order: VecDeque<String>,
}

impl RegexParser {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let pattern = required(&config.regex, "regex")?;
        let regex = Regex::new(pattern).map_err(|e| format!("regex: {e}"))?;
        if regex.capture_names().flatten().next().is_none() {
            return Err(
                "regex: no named capture groups in the pattern; name them as (?P<name>...)".into(),
            );
        }
        Ok(RegexParser {
            regex,
            cache: Cache {
                size: config.cache.as_ref().map_or(0, |c| c.size as usize),
                values: HashMap::new(),
                order: VecDeque::new(),
            },
        })
    }
}

impl Parse for RegexParser {
    fn parse(&mut self, value: &Value) -> Result<Value, String> {
        let Value::String(text) = value else {
            return Err("type is not a string; cannot match it against a regex".into());
        };
        if let Some(hit) = self.cache.values.get(text) {
            return Ok(hit.clone());
        }
        let parsed = Value::Map(match_named(&self.regex, text)?);
        if self.cache.size > 0 {
            if self.cache.order.len() >= self.cache.size
                && let Some(oldest) = self.cache.order.pop_front()
            {
                self.cache.values.remove(&oldest);
            }
            self.cache.order.push_back(text.clone());
            self.cache.values.insert(text.clone(), parsed.clone());
        }
        Ok(parsed)
    }
}

/// The named groups of `regex` in `text` (a group that took no part is the empty
/// string, as Go's `FindStringSubmatch`).
pub fn match_named(regex: &Regex, text: &str) -> Result<Map, String> {
    let captures = regex
        .captures(text)
        .ok_or_else(|| "regex pattern does not match".to_string())?;
    Ok(regex
        .capture_names()
        .enumerate()
        .filter_map(|(i, name)| {
            let name = name?;
            let matched = captures.get(i).map_or("", |m| m.as_str());
            Some((name.to_string(), Value::String(matched.to_string())))
        })
        .collect())
}
