//! The hostmetrics receiver's own /proc text parsers (`/proc/net/tcp` states, `/proc/swaps`):
//! whatever a mounted `root_path` holds, parsing never panics and never yields more
//! entries than lines.

use tributary_receivers::hostmetrics::{count_tcp_states, parse_swaps};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count() as u64;
    let mut counts = Default::default();
    count_tcp_states(&text, &mut counts);
    assert!(counts.values().sum::<u64>() <= lines);
    assert!(parse_swaps(&text).len() as u64 <= lines);
}
