//! YAML text to [`Value`] and back, with serde-saphyr: pure Rust, no `unsafe`, and budgets
//! that refuse alias bombs and oversized documents before they are expanded.

use std::fmt;

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{Budget, NonFiniteFloatPolicy};

use crate::value::Value;

/// The largest YAML document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The most nodes (scalars, lists and maps, counting alias expansions) a document may hold.
const MAX_NODES: usize = 250_000;

/// The deepest nesting of lists and maps a document may have.
const MAX_DEPTH: usize = 64;

/// The most events alias expansion may replay in a document. Configuration files reuse
/// anchors a handful of times; a "billion laughs" document needs billions.
const MAX_REPLAYED_EVENTS: usize = 250_000;

/// A YAML document that could not be parsed or was refused, with the line and column where
/// the problem was found when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    message: String,
    line: Option<u64>,
    column: Option<u64>,
}

impl YamlError {
    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the problem, when known.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The 1-based column of the problem, when known.
    pub fn column(&self) -> Option<u64> {
        self.column
    }

    fn from_saphyr(error: &serde_saphyr::Error) -> YamlError {
        let location = error.location().filter(|l| l.line() > 0);
        let message = refusal(error).unwrap_or_else(|| {
            // The user-facing wording ("duplicate mapping key `a` is not allowed here")
            // rather than the developer one, which names serde-saphyr's options.
            strip_location(&error.render_with_formatter(&serde_saphyr::UserMessageFormatter))
        });
        YamlError {
            message,
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "line {line} column {column}: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for YamlError {}

/// Parses one YAML document into a value.
///
/// The schema follows the Go Collector's YAML library: only `true`/`false` are booleans (so
/// `on`, `yes` and `n` stay strings), `0123` is octal, `.inf` and `.nan` are floats, keys are
/// unique and merge keys (`<<: *anchor`) work. An empty document is null.
pub(crate) fn parse(text: &str) -> Result<Value, YamlError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(YamlError {
            message: format!(
                "the document is {} bytes, more than the limit of {MAX_DOCUMENT_BYTES} bytes",
                text.len()
            ),
            line: None,
            column: None,
        });
    }
    let mut budget = Budget::default();
    budget.max_nodes = MAX_NODES;
    budget.max_depth = MAX_DEPTH;
    let mut alias_limits = AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    let options = serde_saphyr::options! {
        budget: Some(budget),
        alias_limits: alias_limits,
        strict_booleans: true,
        legacy_octal_numbers: true,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| YamlError::from_saphyr(&e))
}

/// Writes a value as a YAML document. Strings that would read back as another type
/// (`"0123"`, `"true"`, `"~"`) are quoted.
pub(crate) fn to_string(value: &Value) -> String {
    // Serializing a tree of strings, numbers, lists and maps cannot fail; should the
    // serializer ever refuse a value, say so in the output rather than panic.
    serde_saphyr::to_string(value).unwrap_or_else(|error| format!("# cannot print: {error}\n"))
}

/// A clear message for a document refused by a budget, or `None` for a syntax error.
fn refusal(error: &serde_saphyr::Error) -> Option<String> {
    let mut inner = error.without_snippet();
    while let serde_saphyr::Error::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    let what = match inner {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Nodes { .. } => format!(
                "it expands to more than {MAX_NODES} nodes (aliases included); an alias bomb?"
            ),
            BudgetBreach::Depth { .. } => format!("it nests more than {MAX_DEPTH} levels deep"),
            BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
                "it uses too many aliases; an alias bomb?".to_owned()
            }
            other => format!("it exceeds a parser budget ({other:?})"),
        },
        serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayCounterOverflow { .. }
        | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => {
            "its aliases expand to too much content; an alias bomb?".to_owned()
        }
        _ => return None,
    };
    Some(format!("document refused: {what}"))
}

/// serde-saphyr ends its messages with " at line L, column C"; the location is kept in
/// fields and shown once, in front.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => message[..index].to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_follow_the_collector_schema() {
        let value = parse(
            "a: 1\nb: yes\nc: 0123\nd: 1.5\ne: ~\nf: '0123'\ng: true\nh: on\ni: 0x10\nj: 1_000\n",
        )
        .unwrap();
        let get = |k: &str| value.get(k).cloned();
        assert_eq!(get("a"), Some(Value::Int(1)));
        assert_eq!(get("b"), Some(Value::from("yes")));
        assert_eq!(get("c"), Some(Value::Int(83)));
        assert_eq!(get("d"), Some(Value::Float(1.5)));
        assert_eq!(get("e"), Some(Value::Null));
        assert_eq!(get("f"), Some(Value::from("0123")));
        assert_eq!(get("g"), Some(Value::Bool(true)));
        assert_eq!(get("h"), Some(Value::from("on")));
        assert_eq!(get("i"), Some(Value::Int(16)));
        assert_eq!(get("j"), Some(Value::Int(1000)));
    }

    #[test]
    fn keys_keep_document_order() {
        let value = parse("z: 1\na: 2\nm: 3\n").unwrap();
        let keys: Vec<_> = value.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn merge_keys_and_anchors_work() {
        let value = parse("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n").unwrap();
        assert_eq!(value.get("derived::x"), Some(&Value::Int(1)));
        assert_eq!(value.get("derived::y"), Some(&Value::Int(3)));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let error = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert_eq!(error.line(), Some(2));
        assert!(error.column().is_some());
        assert!(error.to_string().starts_with("line 2 column "), "{error}");
        let duplicate = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(duplicate.line(), Some(2));
        assert!(duplicate.message().contains("duplicate"), "{duplicate}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let mut previous = 'a';
        for name in 'b'..='i' {
            let refs = vec![format!("*{previous}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
            previous = name;
        }
        let error = parse(&text).unwrap_err();
        assert!(error.message().starts_with("document refused: "), "{error}");
        assert!(error.message().contains("alias"), "{error}");
    }

    #[test]
    fn oversized_and_deeply_nested_documents_are_refused() {
        let big = "a".repeat(MAX_DOCUMENT_BYTES + 1);
        let error = parse(&big).unwrap_err();
        assert!(error.message().contains("limit"), "{error}");
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let error = parse(&deep).unwrap_err();
        assert!(
            error.to_string().contains("refused") || error.line().is_some(),
            "{error}"
        );
    }

    #[test]
    fn multiple_documents_are_an_error() {
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn printing_quotes_strings_that_look_like_other_types() {
        let value = parse("a: '0123'\nb: 'true'\nc: '~'\nd: 'yes'\ne: 1\n").unwrap();
        let text = to_string(&value);
        assert_eq!(parse(&text).unwrap(), value, "{text}");
    }
}
