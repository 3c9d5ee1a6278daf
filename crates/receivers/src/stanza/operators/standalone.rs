//! `time_parser`, `severity_parser`, `trace_parser` and `scope_name_parser`: the embedded
//! parser steps as operators of their own.

use super::super::config::{OperatorConfig, SeverityConfig, TimeConfig, TraceConfig};
use super::super::entry::Entry;
use super::super::pipeline::Transform;
use super::helpers::{ScopeNameParser, SeverityParser, TimeParser, TraceParser};
use super::required;

impl Transform for TimeParser {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        self.apply(entry)
    }
}

impl Transform for SeverityParser {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        self.apply(entry)
    }
}

impl Transform for TraceParser {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        self.apply(entry)
    }
}

impl Transform for ScopeNameParser {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        self.apply(entry)
    }
}

/// `time_parser` (`parse_from` defaults to `body`).
pub(crate) fn time_parser(config: &OperatorConfig) -> Result<TimeParser, String> {
    TimeParser::new(&TimeConfig {
        parse_from: config.parse_from.clone(),
        layout_type: config.layout_type.clone(),
        layout: config.layout.clone(),
        location: config.location.clone(),
    })
}

/// `severity_parser` (`parse_from` defaults to `body`).
pub(crate) fn severity_parser(config: &OperatorConfig) -> Result<SeverityParser, String> {
    SeverityParser::new(&SeverityConfig {
        parse_from: config.parse_from.clone(),
        preset: config.preset.clone(),
        mapping: config.mapping.clone(),
        overwrite_text: config.overwrite_text,
    })
}

/// `trace_parser`.
pub(crate) fn trace_parser(config: &OperatorConfig) -> TraceParser {
    TraceParser::new(&TraceConfig {
        trace_id: config.trace_id.clone(),
        span_id: config.span_id.clone(),
        trace_flags: config.trace_flags.clone(),
    })
}

/// `scope_name_parser` (`parse_from` required).
pub(crate) fn scope_name_parser(config: &OperatorConfig) -> Result<ScopeNameParser, String> {
    Ok(ScopeNameParser::new(
        required(&config.parse_from, "parse_from")?.clone(),
    ))
}
