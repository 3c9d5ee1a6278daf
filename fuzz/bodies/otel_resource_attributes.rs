//! `OTEL_RESOURCE_ATTRIBUTES` as the resourcedetection `env` detector parses it: never a
//! panic, at most one attribute per comma-separated pair, never more text than it was given.

use tributary_processors::resourcedetection::parse_resource_attributes;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(attributes) = parse_resource_attributes(&text) {
        assert!(attributes.len() <= text.matches(',').count() + 1);
    }
}
