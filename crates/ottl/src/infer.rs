//! Context inference: which context a group of statements runs in when the config does
//! not say, from the context prefixes of their paths (`span.name` → `span`), as newer
//! Go versions infer it.

use crate::ast::{BoolExpr, Call, Expr, Key};
use crate::context::ContextKind;
use crate::parser::{self, ParseError};

/// The deepest of `allowed` named by a path prefix in the statements and conditions.
/// `Err` when parsing fails or no path names a context (or one names a context outside
/// `allowed`).
///
/// ```
/// use tributary_ottl::ContextKind::*;
/// let allowed = [Resource, Scope, Span, SpanEvent];
/// let inferred = tributary_ottl::infer::infer_context(
///     &[r#"set(span.attributes["x"], resource.attributes["y"])"#], &[], &allowed);
/// assert_eq!(inferred, Ok(Span));
/// ```
pub fn infer_context(
    statements: &[&str],
    conditions: &[&str],
    allowed: &[ContextKind],
) -> Result<ContextKind, String> {
    let mut named = Vec::new();
    let text = |e: ParseError| e.to_string();
    for s in statements {
        let st = parser::parse_statement(s).map_err(text)?;
        call(&st.editor, &mut named);
        if let Some(c) = &st.condition {
            cond(c, &mut named);
        }
        if crate::funcs::METRIC_EDITORS.contains(&st.editor.name.as_str()) {
            named.push(ContextKind::Metric);
        }
        if crate::funcs::DATAPOINT_EDITORS.contains(&st.editor.name.as_str()) {
            named.push(ContextKind::DataPoint);
        }
        if crate::funcs::SPAN_EDITORS.contains(&st.editor.name.as_str()) {
            named.push(ContextKind::Span);
        }
        if uses_root_span(&st.editor) {
            named.push(ContextKind::Span);
        }
        if uses_log_parser(&st.editor) {
            named.push(ContextKind::Log);
        }
    }
    for c in conditions {
        cond(&parser::parse_condition(c).map_err(text)?, &mut named);
    }
    if let Some(bad) = named.iter().find(|k| !allowed.contains(k)) {
        return Err(format!(
            "the {} context is not available here (contexts: {})",
            bad.name(),
            allowed
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    named.into_iter().max_by_key(|k| k.depth()).ok_or_else(|| {
        "cannot infer the context: no path starts with a context name; write paths as `span.name`, `resource.attributes[\"x\"]`, or give the group a `context`".to_string()
    })
}

fn uses_root_span(c: &Call) -> bool {
    c.name == "IsRootSpan"
        || c.args
            .iter()
            .any(|a| matches!(&a.value, Expr::Converter(inner) if uses_root_span(inner)))
}

/// Whether a call uses one of the log converters (`ParseCEF`...), which only the log
/// context has.
fn uses_log_parser(c: &Call) -> bool {
    crate::log_parsers::NAMES.contains(&c.name.as_str())
        || c.args
            .iter()
            .any(|a| matches!(&a.value, Expr::Converter(inner) if uses_log_parser(inner)))
}

fn call(c: &Call, out: &mut Vec<ContextKind>) {
    for a in &c.args {
        expr(&a.value, out);
    }
    keys(&c.keys, out);
}

fn keys(ks: &[Key], out: &mut Vec<ContextKind>) {
    for k in ks {
        if let Key::Expr(e) = k {
            expr(e, out);
        }
    }
}

fn expr(e: &Expr, out: &mut Vec<ContextKind>) {
    match e {
        Expr::Path(p) => {
            if p.fields.len() > 1
                && let Some(k) = ContextKind::from_name(&p.fields[0])
            {
                out.push(k);
            }
            keys(&p.keys, out);
        }
        Expr::Converter(c) => {
            if c.name == "IsRootSpan" {
                out.push(ContextKind::Span);
            }
            call(c, out)
        }
        Expr::Math(l, _, r) => {
            expr(l, out);
            expr(r, out);
        }
        Expr::Map(m) => m.iter().for_each(|(_, v)| expr(v, out)),
        Expr::List(l) => l.iter().for_each(|v| expr(v, out)),
        Expr::Literal(_) | Expr::Enum(..) | Expr::FunctionName(..) => {}
    }
}

fn cond(c: &BoolExpr, out: &mut Vec<ContextKind>) {
    match c {
        BoolExpr::Or(v) | BoolExpr::And(v) => v.iter().for_each(|c| cond(c, out)),
        BoolExpr::Not(c) => cond(c, out),
        BoolExpr::Compare(l, _, r) => {
            expr(l, out);
            expr(r, out);
        }
        BoolExpr::Value(e) => expr(e, out),
    }
}
