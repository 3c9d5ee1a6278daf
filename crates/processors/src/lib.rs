//! Tributary's built-in processors, one module and one cargo feature each.

use tributary_pipeline_core::graph::Factories;

/// Every processors enabled in this build.
pub fn factories() -> Factories {
    Factories::new()
}
