//! The operators, one file each by concern, and the table that builds them from their
//! configs.

mod helpers;
mod json;
mod parser;
mod regex_parser;
mod transform;

pub use json::parse_json_object;
pub use regex_parser::match_named;

use super::config::OperatorConfig;
use super::expr::Expr;
use super::pipeline::{Common, Operator, Transform, Transformer};

/// Keys every operator takes.
const BASIC: &[&str] = &["id", "output"];
/// Keys of operators that change entries one by one.
const TRANSFORMER: &[&str] = &["id", "output", "if", "on_error"];
/// Keys of parsers.
const PARSER: &[&str] = &[
    "id",
    "output",
    "if",
    "on_error",
    "parse_from",
    "parse_to",
    "body",
    "timestamp",
    "severity",
    "trace",
    "scope_name",
];

/// Every operator type this build knows, with the keys of its own.
const TYPES: &[(&str, &[&str], &[&str])] = &[
    ("json_parser", PARSER, &["parse_ints"]),
    ("regex_parser", PARSER, &["regex", "cache"]),
    ("add", TRANSFORMER, &["field", "value"]),
    ("move", TRANSFORMER, &["from", "to"]),
    ("copy", TRANSFORMER, &["from", "to"]),
    ("remove", TRANSFORMER, &["field"]),
    ("retain", TRANSFORMER, &["fields"]),
    ("flatten", TRANSFORMER, &["field"]),
];

/// Builds the operator `config` describes, or says what is wrong with it.
pub(crate) fn build(config: &OperatorConfig) -> Result<Box<dyn Operator>, String> {
    let Some((_, shared, own)) = TYPES.iter().find(|(kind, _, _)| *kind == config.kind) else {
        let known: Vec<&str> = TYPES.iter().map(|(kind, _, _)| *kind).collect();
        return Err(format!(
            "unknown operator type `{}`; this build has: {}",
            config.kind,
            known.join(", ")
        ));
    };
    let _ = BASIC;
    for key in config.present_keys() {
        if !shared.contains(&key) && !own.contains(&key) {
            let mut valid: Vec<&str> = shared.iter().chain(own.iter()).copied().collect();
            valid.insert(0, "type");
            return Err(format!(
                "unknown key `{key}` for {}; valid keys: {}",
                config.kind,
                valid.join(", ")
            ));
        }
    }
    let common = Common {
        id: config.id().to_string(),
        condition: config
            .if_expr
            .as_deref()
            .map(Expr::parse)
            .transpose()
            .map_err(|e| format!("if: {e}"))?,
        on_error: config.on_error.unwrap_or_default(),
    };
    match config.kind.as_str() {
        "json_parser" => parsed(common, config, json::JsonParser::new(config)?),
        "regex_parser" => parsed(common, config, regex_parser::RegexParser::new(config)?),
        "add" => transformer(common, transform::Add::new(config)?),
        "move" => transformer(common, transform::Move::new(config)?),
        "copy" => transformer(common, transform::Copy::new(config)?),
        "remove" => transformer(common, transform::Remove::new(config)?),
        "retain" => transformer(common, transform::Retain::new(config)?),
        "flatten" => transformer(common, transform::Flatten::new(config)?),
        other => Err(format!("operator type `{other}` has no builder")),
    }
}

fn transformer<T: Transform + 'static>(
    common: Common,
    inner: T,
) -> Result<Box<dyn Operator>, String> {
    Ok(Box::new(Transformer { common, inner }))
}

fn parsed<P: parser::Parse + 'static>(
    common: Common,
    config: &OperatorConfig,
    parse: P,
) -> Result<Box<dyn Operator>, String> {
    let inner = parser::Parser::new(config, parse)?;
    Ok(Box::new(Transformer { common, inner }))
}

/// A required key, or the error naming it.
fn required<'a, T>(value: &'a Option<T>, key: &str) -> Result<&'a T, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("missing required key `{key}`"))
}
