//! The opentsdb receiver's `/api/put` decoder: any body must give points and failures (one
//! per object) or a body error, never a panic.

use tributary_receivers::opentsdb::decode_put_body;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    if let Ok(put) = decode_put_body(data, 8) {
        assert!(put.points.len() + put.failures.len() <= data.len());
        assert!(
            put.points
                .iter()
                .all(|p| !p.tags.is_empty() && p.tags.len() <= 8)
        );
    }
}
