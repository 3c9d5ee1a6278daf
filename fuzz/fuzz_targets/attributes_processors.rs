//! The `attributes`, `resource` and `redaction` processors' configurations, which carry
//! user-written regular expressions and values: decoding and validating any YAML text
//! never panics, whatever the patterns, actions or match properties say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_pipeline_core::component::load_config;
use tributary_processors::{attributes, redaction, resource};

fuzz_target!(|data: &[u8]| {
    let yaml = String::from_utf8_lossy(data);
    let _ = load_config::<attributes::Config>(&yaml);
    let _ = load_config::<resource::Config>(&yaml);
    let _ = load_config::<redaction::Config>(&yaml);
});
