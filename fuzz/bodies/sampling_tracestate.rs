//! The W3C `tracestate` and OpenTelemetry `ot=th:..;rv:..` parser the probabilistic and
//! tail samplers run on every span's trace state: any text parses or fails without
//! panicking, and what parses re-serializes to text that parses to the same state.

use tributary_processors::sampling::W3cTraceState;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(state) = W3cTraceState::parse(&text) {
        let again = W3cTraceState::parse(&state.serialize()).expect("re-parses");
        assert_eq!(again.serialize(), state.serialize());
    }
}
