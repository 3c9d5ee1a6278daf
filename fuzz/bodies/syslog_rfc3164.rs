//! RFC 3164 syslog messages: parsing never panics, in UTC and in a zone with daylight
//! saving time.

use std::sync::OnceLock;

use tributary_receivers::syslog::{Location, parse_rfc3164};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    static ZONES: OnceLock<Vec<Location>> = OnceLock::new();
    let zones = ZONES.get_or_init(|| {
        let mut zones = vec![Location::utc()];
        zones.extend(Location::named("America/New_York").ok());
        zones
    });
    let text = String::from_utf8_lossy(data);
    for zone in zones {
        let _ = parse_rfc3164(&text, false, zone);
        let _ = parse_rfc3164(&text, true, zone);
    }
}
