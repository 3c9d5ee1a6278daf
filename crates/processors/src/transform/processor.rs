//! Running compiled statement groups over requests.

use tributary_ottl::{
    CompiledCondition, CompiledStatement, ContextKind, Item, TransformContext, compile_condition,
    compile_statement, context::data_point_len, infer::infer_context,
};
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::config::{Config, ErrorMode, StatementsEntry};

/// The signal a statement list is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
    Logs,
}

/// A compiled group.
pub(crate) struct Group {
    context: ContextKind,
    conditions: Vec<CompiledCondition>,
    statements: Vec<CompiledStatement>,
    error_mode: ErrorMode,
}

/// Compiles a signal's groups; errors name their config path.
pub(crate) fn compile_groups(config: &Config, signal: Signal) -> Result<Vec<Group>, ConfigError> {
    let key = signal.key();
    let allowed = signal.contexts();
    let mut groups = Vec::new();
    for (index, entry) in config.entries(signal).iter().enumerate() {
        let (context, conditions, statements, error_mode, path) = match entry {
            StatementsEntry::Statement(s) => (
                "",
                &[][..],
                std::slice::from_ref(s),
                None,
                format!("{key}::{index}"),
            ),
            StatementsEntry::Group(g) => (
                g.context.as_str(),
                &g.conditions[..],
                &g.statements[..],
                g.error_mode,
                format!("{key}::{index}"),
            ),
        };
        let context = if context.is_empty() {
            let s: Vec<&str> = statements.iter().map(String::as_str).collect();
            let c: Vec<&str> = conditions.iter().map(String::as_str).collect();
            infer_context(&s, &c, allowed).map_err(|e| ConfigError::at(path.clone(), e))?
        } else {
            // Go reads the context case-insensitively.
            let context = context.to_ascii_lowercase();
            match ContextKind::from_name(&context).filter(|k| allowed.contains(k)) {
                Some(k) => k,
                None if context == "exemplar" && signal == Signal::Metrics => {
                    return Err(ConfigError::at(
                        format!("{path}::context"),
                        "the exemplar context is not supported by this implementation",
                    ));
                }
                None => {
                    return Err(ConfigError::at(
                        format!("{path}::context"),
                        format!(
                            "unknown context {context:?} for {key}; expected one of: {}",
                            allowed
                                .iter()
                                .map(|k| k.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        };
        let conditions = conditions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                compile_condition(c, context)
                    .map_err(|e| ConfigError::at(format!("{path}::conditions::{i}"), e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let statements = statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let at = if matches!(entry, StatementsEntry::Statement(_)) {
                    path.clone()
                } else {
                    format!("{path}::statements::{i}")
                };
                compile_statement(s, context).map_err(|e| ConfigError::at(at, e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        groups.push(Group {
            context,
            conditions,
            statements,
            error_mode: error_mode.unwrap_or(config.error_mode),
        });
    }
    Ok(groups)
}

impl Group {
    /// Runs the group on one item (conditions, then statements in order).
    fn run(&self, ctx: &mut TransformContext<'_>) -> Result<(), ConsumeError> {
        ctx.cache.clear();
        if !self.conditions.is_empty() {
            let mut any = false;
            for c in &self.conditions {
                match c.matches(ctx) {
                    Ok(true) => {
                        any = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => self.failed(e)?,
                }
            }
            if !any {
                return Ok(());
            }
        }
        for s in &self.statements {
            if let Err(e) = s.execute(ctx) {
                self.failed(e)?;
            }
        }
        Ok(())
    }

    fn failed(&self, e: tributary_ottl::EvalError) -> Result<(), ConsumeError> {
        match self.error_mode {
            ErrorMode::Propagate => Err(ConsumeError::permanent(e.to_string())),
            ErrorMode::Ignore => {
                tracing::warn!(error = %e, "failed to process statement");
                Ok(())
            }
            ErrorMode::Silent => Ok(()),
        }
    }
}

/// Runs one group on a resource (no scope) or a scope.
fn run_upper(
    group: &Group,
    resource: &mut Option<Resource>,
    scope: Option<&mut Option<InstrumentationScope>>,
    cache: &mut Vec<KeyValue>,
) -> Result<(), ConsumeError> {
    let mut ctx = TransformContext {
        resource,
        scope,
        item: Item::None,
        cache,
    };
    group.run(&mut ctx)
}

pub(crate) fn traces(groups: &[Group], traces: &mut Traces) -> Result<(), ConsumeError> {
    let mut cache = Vec::new();
    let request = traces.make_mut();
    for group in groups {
        for rs in &mut request.resource_spans {
            if group.context == ContextKind::Resource {
                run_upper(group, &mut rs.resource, None, &mut cache)?;
                continue;
            }
            for ss in &mut rs.scope_spans {
                if group.context == ContextKind::Scope {
                    run_upper(group, &mut rs.resource, Some(&mut ss.scope), &mut cache)?;
                    continue;
                }
                for span in &mut ss.spans {
                    if group.context == ContextKind::Span {
                        let mut ctx = TransformContext {
                            resource: &mut rs.resource,
                            scope: Some(&mut ss.scope),
                            item: Item::Span(span),
                            cache: &mut cache,
                        };
                        group.run(&mut ctx)?;
                        continue;
                    }
                    for i in 0..span.events.len() {
                        let mut ctx = TransformContext {
                            resource: &mut rs.resource,
                            scope: Some(&mut ss.scope),
                            item: Item::SpanEvent(span, i),
                            cache: &mut cache,
                        };
                        group.run(&mut ctx)?;
                    }
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn logs(groups: &[Group], logs: &mut Logs) -> Result<(), ConsumeError> {
    let mut cache = Vec::new();
    let request = logs.make_mut();
    for group in groups {
        for rl in &mut request.resource_logs {
            if group.context == ContextKind::Resource {
                run_upper(group, &mut rl.resource, None, &mut cache)?;
                continue;
            }
            for sl in &mut rl.scope_logs {
                if group.context == ContextKind::Scope {
                    run_upper(group, &mut rl.resource, Some(&mut sl.scope), &mut cache)?;
                    continue;
                }
                for log in &mut sl.log_records {
                    let mut ctx = TransformContext {
                        resource: &mut rl.resource,
                        scope: Some(&mut sl.scope),
                        item: Item::Log(log),
                        cache: &mut cache,
                    };
                    group.run(&mut ctx)?;
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn metrics(groups: &[Group], metrics: &mut Metrics) -> Result<(), ConsumeError> {
    let mut cache = Vec::new();
    let request = metrics.make_mut();
    for group in groups {
        for rm in &mut request.resource_metrics {
            if group.context == ContextKind::Resource {
                run_upper(group, &mut rm.resource, None, &mut cache)?;
                continue;
            }
            for sm in &mut rm.scope_metrics {
                if group.context == ContextKind::Scope {
                    run_upper(group, &mut rm.resource, Some(&mut sm.scope), &mut cache)?;
                    continue;
                }
                if group.context == ContextKind::Metric {
                    // Metrics a statement adds (`copy_metric`, `extract_sum_metric`) are
                    // not run through the same group: an unconditional `copy_metric()`
                    // would otherwise never end.
                    for index in 0..sm.metrics.len() {
                        let mut ctx = TransformContext {
                            resource: &mut rm.resource,
                            scope: Some(&mut sm.scope),
                            item: Item::MetricIn(&mut sm.metrics, index),
                            cache: &mut cache,
                        };
                        group.run(&mut ctx)?;
                    }
                    continue;
                }
                for metric in &mut sm.metrics {
                    for i in 0..data_point_len(metric) {
                        let mut ctx = TransformContext {
                            resource: &mut rm.resource,
                            scope: Some(&mut sm.scope),
                            item: Item::DataPoint(metric, i),
                            cache: &mut cache,
                        };
                        group.run(&mut ctx)?;
                    }
                }
            }
        }
    }
    Ok(())
}
