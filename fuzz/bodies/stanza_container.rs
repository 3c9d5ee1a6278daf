//! The stanza `container` parser (Docker json-file, CRI-O, containerd lines): never
//! panics, and what it reads stays within the line.

use tributary_receivers::stanza::{k8s_metadata_from_path, parse_container_line};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    if let Ok(parsed) = parse_container_line(&line, None) {
        assert!(parsed.log.len() <= line.len());
    }
    let _ = k8s_metadata_from_path(&line);
}
