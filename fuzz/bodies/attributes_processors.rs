//! The `attributes`, `resource` and `redaction` processors' configurations, which carry
//! user-written regular expressions and values: decoding and validating any YAML text
//! never panics, whatever the patterns, actions or match properties say.

use tributary_pipeline_core::component::load_config;
use tributary_processors::{attributes, redaction, resource};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let yaml = String::from_utf8_lossy(data);
    let _ = load_config::<attributes::Config>(&yaml);
    let _ = load_config::<resource::Config>(&yaml);
    let _ = load_config::<redaction::Config>(&yaml);
}
