//! Falcon telnet lines (the falcon receiver's telnet listener): parsing never panics, and
//! an `update` it takes has a positive step and a timestamp within the transfer's range.

use tributary_translator_falcon::{TelnetLine, parse_telnet_line};

const NOW: i64 = 1_700_000_000;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    for line in String::from_utf8_lossy(data).split('\n') {
        if let TelnetLine::Update(item) = parse_telnet_line(line, NOW) {
            assert!(item.step > 0);
            assert!(item.timestamp > 0 && item.timestamp <= 2 * NOW);
        }
    }
}
