//! The extensions the framework provides, bound to its internals.
//!
//! * [`health_check`]: serves the collector's health over HTTP, healthy only while every
//!   pipeline runs and makes progress.

pub mod health_check;

use crate::graph::Factories;

/// Every extension the framework provides.
pub fn factories() -> Factories {
    let mut factories = Factories::new();
    factories.add_extension(health_check::factory());
    factories
}
