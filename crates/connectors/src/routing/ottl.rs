//! OTTL as the routing table's language, as in the Go routing connector: a route's
//! `condition`, or the `where` clause of its `route()` statement, is an OTTL condition
//! compiled by `tributary-ottl` for the route's context.

use std::sync::Arc;

use tributary_ottl::{
    CompiledCondition, ContextKind, TransformContext, compile_condition,
    compile_statement_condition,
};
use tributary_pipeline_core::pdata::ClientMetadata;

use super::condition::{BuiltinLanguage, Condition, ConditionLanguage, Context, EvalError, Item};
use super::parser::ParseError;

/// Full OTTL for the `resource`, `span`, `metric`, `datapoint` and `log` contexts (every
/// path, converter and operator of `tributary-ottl`); the `request` context, whose only
/// path in Go is `request["key"]`, is read by [`BuiltinLanguage`].
#[derive(Clone, Copy, Debug, Default)]
pub struct OttlLanguage;

/// A compiled OTTL condition of a route.
#[derive(Debug)]
pub struct OttlCondition(CompiledCondition);

fn kind(context: Context) -> ContextKind {
    match context {
        Context::Span => ContextKind::Span,
        Context::Metric => ContextKind::Metric,
        Context::Datapoint => ContextKind::DataPoint,
        Context::Log => ContextKind::Log,
        Context::Resource | Context::Request => ContextKind::Resource,
    }
}

/// An OTTL error in the routing table's error type: the column (1-based) and what is
/// wrong there.
fn refused(source: &str, error: tributary_ottl::CompileError) -> ParseError {
    let (pos, message) = match error {
        tributary_ottl::CompileError::Parse(e) => (e.pos, e.message),
        tributary_ottl::CompileError::Invalid { pos, message, .. } => (pos, message),
    };
    ParseError {
        text: source.to_string(),
        column: source.get(..pos).map_or(pos, |s| s.chars().count()) + 1,
        expected: "valid OTTL".to_string(),
        found: message,
    }
}

impl ConditionLanguage for OttlLanguage {
    fn parse_condition(
        &self,
        context: Context,
        source: &str,
    ) -> Result<Arc<dyn Condition>, ParseError> {
        if context == Context::Request {
            return BuiltinLanguage.parse_condition(context, source);
        }
        let compiled = compile_condition(source, kind(context)).map_err(|e| refused(source, e))?;
        Ok(Arc::new(OttlCondition(compiled)))
    }

    fn parse_statement(
        &self,
        context: Context,
        source: &str,
    ) -> Result<Arc<dyn Condition>, ParseError> {
        if context == Context::Request {
            return BuiltinLanguage.parse_statement(context, source);
        }
        let compiled = compile_statement_condition(source, "route", kind(context))
            .map_err(|e| refused(source, e))?;
        Ok(Arc::new(OttlCondition(compiled)))
    }
}

impl Condition for OttlCondition {
    /// OTTL reads the whole item, which the [`Item`] view does not hold: only
    /// [`matches_data`](Condition::matches_data) evaluates it.
    fn matches(&self, _item: &Item<'_>) -> Result<bool, EvalError> {
        Err(EvalError(format!(
            "the OTTL condition {:?} needs the item itself",
            self.0.text()
        )))
    }

    fn matches_data(
        &self,
        data: &mut TransformContext<'_>,
        _metadata: Option<&ClientMetadata>,
    ) -> Result<bool, EvalError> {
        data.cache.clear();
        self.0.matches(data).map_err(|e| EvalError(e.to_string()))
    }
}
