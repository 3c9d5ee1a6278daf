//! The lookout receiver's Metricbeat importer (Elasticsearch bulk NDJSON): any body gives
//! one response item per action and the points of the events, or an error, never a panic.

use tributary_receivers::lookout::parse_bulk;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    if let Ok(bulk) = parse_bulk(data, 1) {
        let lines = data.split(|b| *b == b'\n').count();
        assert!(bulk.items.len() <= lines);
        let response = bulk.response(0);
        assert_eq!(
            response["items"].as_array().map(Vec::len),
            Some(bulk.items.len())
        );
    }
}
