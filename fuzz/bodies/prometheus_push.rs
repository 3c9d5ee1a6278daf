//! The `prometheus_push` receiver's decoders: a grouping key from the first line (the URL
//! path after the prefix), the rest as a push body (text, OpenMetrics, delimited
//! protobuf); never a panic, whatever the bytes, and every sample carries the group's
//! labels.

use tributary_receivers::prometheus_push::{parse_grouping_key, parse_push_body};
use tributary_translator_prometheus::text::Limits;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (path, body) = data.split_at(split);
    let path = String::from_utf8_lossy(path);
    let required = ["app".to_string()];
    let group = match parse_grouping_key(&path, &required) {
        Ok(group) => group,
        Err(_) => match parse_grouping_key("/job/fuzz", &[]) {
            Ok(group) => group,
            Err(e) => panic!("a valid key was refused: {e}"),
        },
    };
    let limits = Limits {
        max_samples: 1000,
        ..Limits::default()
    };
    for content_type in [
        None,
        Some("application/openmetrics-text"),
        Some("application/vnd.google.protobuf; encoding=delimited"),
    ] {
        if let Ok(families) = parse_push_body(body, content_type, &group, &limits) {
            let samples: usize = families.iter().map(|f| f.samples.len()).sum();
            assert!(samples <= 1000);
            for sample in families.iter().flat_map(|f| &f.samples) {
                for (name, value) in group.labels() {
                    assert_eq!(sample.label(name), Some(value.as_str()));
                }
            }
        }
    }
}
