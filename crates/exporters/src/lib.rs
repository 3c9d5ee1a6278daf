//! Tributary's built-in exporters, one module and one cargo feature each.

use tributary_pipeline_core::graph::Factories;

/// Every exporters enabled in this build.
pub fn factories() -> Factories {
    Factories::new()
}
