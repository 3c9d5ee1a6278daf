//! Tributary's built-in receivers, one module and one cargo feature each.

use tributary_pipeline_core::graph::Factories;

/// Every receivers enabled in this build.
pub fn factories() -> Factories {
    Factories::new()
}
