//! What every parser shares: read `parse_from`, write `parse_to`, then the embedded
//! `body`, `timestamp`, `severity`, `trace` and `scope_name` steps.

use super::super::config::OperatorConfig;
use super::super::entry::Entry;
use super::super::field::Field;
use super::super::pipeline::Transform;
use super::super::value::Value;
use super::helpers::{ScopeNameParser, SeverityParser, TimeParser, TraceParser};

/// One parser's own step: a value in, the parsed value out.
pub(crate) trait Parse: Send {
    /// Parses `value`.
    fn parse(&mut self, value: &Value) -> Result<Value, String>;
}

/// A [`Parse`] with the settings all parsers share.
pub(crate) struct Parser<P> {
    parse_from: Field,
    parse_to: Field,
    body: Option<Field>,
    time: Option<TimeParser>,
    severity: Option<SeverityParser>,
    trace: Option<TraceParser>,
    scope_name: Option<ScopeNameParser>,
    pub(crate) parse: P,
}

impl<P: Parse> Parser<P> {
    pub(crate) fn new(config: &OperatorConfig, parse: P) -> Result<Self, String> {
        Ok(Parser {
            parse_from: config.parse_from.clone().unwrap_or_else(Field::body),
            parse_to: config.parse_to.clone().unwrap_or_else(Field::attributes),
            body: config.body.clone(),
            time: config
                .timestamp
                .as_ref()
                .map(|block| {
                    if block.parse_from.is_none() {
                        return Err("timestamp: missing required key `parse_from`".to_string());
                    }
                    TimeParser::new(block).map_err(|e| format!("timestamp: {e}"))
                })
                .transpose()?,
            severity: config
                .severity
                .as_ref()
                .map(|block| {
                    if block.parse_from.is_none() {
                        return Err("severity: missing required key `parse_from`".to_string());
                    }
                    SeverityParser::new(block).map_err(|e| format!("severity: {e}"))
                })
                .transpose()?,
            trace: config.trace.as_ref().map(TraceParser::new),
            scope_name: config
                .scope_name
                .as_ref()
                .map(|block| {
                    block
                        .parse_from
                        .clone()
                        .map(ScopeNameParser::new)
                        .ok_or_else(|| "scope_name: missing required key `parse_from`".to_string())
                })
                .transpose()?,
            parse,
        })
    }
}

impl<P: Parse> Transform for Parser<P> {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        self.transform_with(entry, |parse, value| parse.parse(value), |_, _| {})
    }
}

impl<P> Parser<P> {
    /// Runs the shared steps around `parse`; `parsed` runs right after the parsed value is
    /// written, before the embedded steps (the syslog parser sets the message's time and
    /// severity there, so a `timestamp:` or `severity:` block can still override them).
    pub(crate) fn transform_with(
        &mut self,
        entry: &mut Entry,
        parse: impl FnOnce(&mut P, &Value) -> Result<Value, String>,
        parsed: impl FnOnce(&mut P, &mut Entry),
    ) -> Result<(), String> {
        let Some(value) = self.parse_from.get(entry) else {
            return Err(format!(
                "entry is missing the expected parse_from field `{}`",
                self.parse_from
            ));
        };
        let value = parse(&mut self.parse, value)?;
        self.parse_to.set(entry, value)?;
        parsed(&mut self.parse, entry);
        if let Some(body) = &self.body
            && let Some(value) = body.get(entry)
        {
            entry.body = value.clone();
        }
        // As Go, every embedded step runs before an error of one of them is reported.
        let mut errors = Vec::new();
        if let Some(time) = &self.time
            && let Err(e) = time.apply(entry)
        {
            errors.push(format!("time parser: {e}"));
        }
        if let Some(severity) = &self.severity
            && let Err(e) = severity.apply(entry)
        {
            errors.push(format!("severity parser: {e}"));
        }
        if let Some(trace) = &self.trace
            && let Err(e) = trace.apply(entry)
        {
            errors.push(format!("trace parser: {e}"));
        }
        if let Some(scope) = &self.scope_name
            && let Err(e) = scope.apply(entry)
        {
            errors.push(format!("scope name parser: {e}"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}
