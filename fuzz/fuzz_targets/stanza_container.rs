//! The stanza `container` parser (Docker json-file, CRI-O, containerd lines): never
//! panics, and what it reads stays within the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::stanza::{k8s_metadata_from_path, parse_container_line};

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Ok(parsed) = parse_container_line(&line, None) {
        assert!(parsed.log.len() <= line.len());
    }
    let _ = k8s_metadata_from_path(&line);
});
