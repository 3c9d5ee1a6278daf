//! Stanza expressions (`if`, `filter`, `router`, `recombine`): parsing never panics or
//! overflows the stack, whatever the text, and a parsed expression evaluates.

use tributary_receivers::stanza::{Entry, Expr};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let source = String::from_utf8_lossy(data);
    match Expr::parse(&source) {
        Ok(expr) => {
            let _ = expr.evaluate(&Entry::new(source.as_ref()));
        }
        Err(error) => assert!(error.position <= source.len()),
    }
}
