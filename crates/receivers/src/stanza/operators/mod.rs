//! The operators, one file each by concern, and the table that builds them from their
//! configs.

mod container;
mod csv;
mod flow;
mod helpers;
mod json;
mod key_value;
mod parser;
mod recombine;
mod regex_parser;
mod standalone;
mod syslog;
mod text;
mod transform;

pub use container::{
    ContainerFormat, ContainerLine, detect_container_format, k8s_metadata_from_path,
    parse_container_line,
};
pub use csv::{CsvQuotes, parse_csv_line};
pub use json::parse_json_object;
pub use key_value::parse_key_values;
pub use regex_parser::match_named;
pub use syslog::syslog_attributes;
pub use text::unquote;

use super::config::OperatorConfig;
use super::expr::Expr;
use super::pipeline::{Common, Operator, Transform, Transformer};

/// Keys of a router (which has no `output` of its own).
const BASIC: &[&str] = &["id"];
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
    ("key_value_parser", PARSER, &["delimiter", "pair_delimiter"]),
    (
        "csv_parser",
        PARSER,
        &[
            "header",
            "header_delimiter",
            "header_attribute",
            "delimiter",
            "lazy_quotes",
            "ignore_quotes",
        ],
    ),
    (
        "syslog_parser",
        PARSER,
        &[
            "protocol",
            "location",
            "enable_octet_counting",
            "allow_skip_pri_header",
            "non_transparent_framing_trailer",
            "max_octets",
        ],
    ),
    (
        "container",
        &[
            "id",
            "output",
            "if",
            "on_error",
            "parse_from",
            "parse_to",
            "severity",
        ],
        &["format", "add_metadata_from_filepath", "max_log_size"],
    ),
    (
        "recombine",
        TRANSFORMER,
        &[
            "is_first_entry",
            "is_last_entry",
            "combine_field",
            "combine_with",
            "max_batch_size",
            "max_unmatched_batch_size",
            "max_log_size",
            "max_sources",
            "source_identifier",
            "force_flush_period",
            "overwrite_with",
        ],
    ),
    ("filter", TRANSFORMER, &["expr", "drop_ratio"]),
    ("noop", &["id", "output"], &[]),
    ("router", BASIC, &["routes", "default"]),
    (
        "severity_parser",
        TRANSFORMER,
        &["parse_from", "preset", "mapping", "overwrite_text"],
    ),
    (
        "time_parser",
        TRANSFORMER,
        &["parse_from", "layout_type", "layout", "location"],
    ),
    (
        "trace_parser",
        TRANSFORMER,
        &["trace_id", "span_id", "trace_flags"],
    ),
    ("scope_name_parser", TRANSFORMER, &["parse_from"]),
    ("unquote", TRANSFORMER, &["field"]),
    (
        "regex_replace",
        TRANSFORMER,
        &["field", "regex", "regex_name", "replace_with"],
    ),
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
        "key_value_parser" => parsed(common, config, key_value::KeyValueParser::new(config)?),
        "csv_parser" => {
            let parser = parser::Parser::new(config, csv::CsvParser::new(config)?)?;
            transformer(common, csv::Csv { parser })
        }
        "syslog_parser" => {
            let parser = parser::Parser::new(config, syslog::SyslogParser::new(config)?)?;
            transformer(common, syslog::Syslog { parser })
        }
        "container" => Ok(Box::new(container::Container::new(common, config)?)),
        "recombine" => Ok(Box::new(recombine::Recombine::new(common, config)?)),
        "filter" => Ok(Box::new(flow::Filter::new(common, config)?)),
        "router" => Ok(Box::new(flow::Router::new(config)?)),
        "noop" => Ok(Box::new(flow::Noop)),
        "severity_parser" => transformer(common, standalone::severity_parser(config)?),
        "time_parser" => transformer(common, standalone::time_parser(config)?),
        "trace_parser" => transformer(common, standalone::trace_parser(config)),
        "scope_name_parser" => transformer(common, standalone::scope_name_parser(config)?),
        "unquote" => transformer(common, text::Unquote::new(config)?),
        "regex_replace" => transformer(common, text::RegexReplace::new(config)?),
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
