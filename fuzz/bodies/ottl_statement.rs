//! OTTL statements and conditions (the transform processor's config, later filter and
//! routing): parsing and compiling never panic, whatever the text, in every context.

use tributary_ottl::{ContextKind, compile_condition, compile_statement};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for kind in [
        ContextKind::Resource,
        ContextKind::Scope,
        ContextKind::Span,
        ContextKind::SpanEvent,
        ContextKind::Metric,
        ContextKind::DataPoint,
        ContextKind::Log,
    ] {
        let _ = compile_statement(&text, kind);
        let _ = compile_condition(&text, kind);
    }
}
