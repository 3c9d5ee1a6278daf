#![warn(missing_docs)]
//! Tributary's built-in processors, one module per processor, each behind a cargo feature
//! of the same name (all on by default).
//!
//! | processor | what it does |
//! |---|---|
//! | [`batch`] | groups telemetry into batches by size and time, optionally per tenant |
//! | [`memory_limiter`] | refuses data, retryably, while the process uses too much memory |
//! | [`attributes`] | inserts, updates, deletes, hashes, extracts and converts item attributes |
//! | [`resource`] | the same actions on resource attributes |
//! | [`redaction`] | keeps only allowed attribute keys and masks blocked values |
//! | [`transform`] | edits telemetry with OTTL statements |
//! | [`filter`] | drops spans, metrics, data points and log records by OTTL conditions or match properties |
//!
//! Each module offers `factory()`, to register on a collector's builder (or on
//! [`Factories`]), and its `Config`.

#[cfg(feature = "attraction")]
pub mod attraction;
#[cfg(feature = "attributes")]
pub mod attributes;
#[cfg(feature = "batch")]
pub mod batch;
#[cfg(any(feature = "filterconfig", feature = "attraction"))]
mod config_value;
#[cfg(feature = "filter")]
pub mod filter;
#[cfg(feature = "filterconfig")]
pub mod filterconfig;
#[cfg(feature = "memory_limiter")]
pub mod memory_limiter;
#[cfg(feature = "redaction")]
pub mod redaction;
#[cfg(feature = "resource")]
pub mod resource;
#[cfg(feature = "resourcedetection")]
pub mod resourcedetection;
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
    #[cfg(feature = "resourcedetection")]
    factories.add_processor(resourcedetection::factory());
    #[cfg(feature = "attributes")]
    factories.add_processor(attributes::factory());
    #[cfg(feature = "resource")]
    factories.add_processor(resource::factory());
    #[cfg(feature = "redaction")]
    factories.add_processor(redaction::factory());
    #[cfg(feature = "transform")]
    factories.add_processor(transform::factory());
    #[cfg(feature = "filter")]
    factories.add_processor(filter::factory());
    factories
}
