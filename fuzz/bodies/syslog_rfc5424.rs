//! RFC 5424 syslog messages: parsing never panics, with or without a required PRI.

use tributary_receivers::syslog::parse_rfc5424;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_rfc5424(&text, false);
    let _ = parse_rfc5424(&text, true);
}
