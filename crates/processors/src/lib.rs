#![warn(missing_docs)]
//! Tributary's built-in processors, one module per processor, each behind a cargo feature
//! of the same name (all on by default).
//!
//! | processor | what it does |
//! |---|---|
//! | [`batch`] | groups telemetry into batches by size and time, optionally per tenant |
//! | [`memory_limiter`] | refuses data, retryably, while the process uses too much memory |
//! | [`transform`] | edits telemetry with OTTL statements |
//!
//! Each module offers `factory()`, to register on a collector's builder (or on
//! [`Factories`]), and its `Config`.

#[cfg(feature = "batch")]
pub mod batch;
#[cfg(feature = "memory_limiter")]
pub mod memory_limiter;
#[cfg(feature = "transform")]
pub mod transform;

use tributary_pipeline_core::graph::Factories;

/// Every processor enabled in this build.
pub fn factories() -> Factories {
    #[allow(unused_mut)]
    let mut factories = Factories::new();
    #[cfg(feature = "batch")]
    factories.add_processor(batch::factory());
    #[cfg(feature = "memory_limiter")]
    factories.add_processor(memory_limiter::factory());
    #[cfg(feature = "transform")]
    factories.add_processor(transform::factory());
    factories
}
