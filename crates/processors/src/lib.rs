//! Tributary's built-in processors, one module per processor, each behind a cargo feature
//! of the same name (all on by default).
//!
//! | processor | what it does |
//! |---|---|
//! | [`batch`] | groups telemetry into batches by size and time, optionally per tenant |
//!
//! Each module offers `factory()`, to register on a collector's builder:
//!
//! ```
//! use tributary_pipeline_core::graph::Factories;
//!
//! let mut factories = Factories::new();
//! factories.add_processor(tributary_processors::batch::factory());
//! assert!(factories.problems().is_empty());
//! ```

#[cfg(feature = "batch")]
pub mod batch;
