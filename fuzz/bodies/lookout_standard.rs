//! The lookout receiver's standard-protocol decoder (and the OpenTSDB importer's, which
//! shares the JSON front): any body gives points or an error naming the measurement,
//! never a panic; a point holds no more entries than the body has bytes.

use tributary_receivers::lookout::{parse_opentsdb, parse_standard};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    if let Ok(points) = parse_standard(data, 1) {
        assert!(points.len() <= data.len());
        for point in &points {
            assert!(point.name.starts_with(|c: char| c.is_ascii_alphabetic()));
        }
    }
    let _ = parse_opentsdb(data);
}
