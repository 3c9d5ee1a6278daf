//! The extensions the framework provides, bound to its internals.

use crate::graph::Factories;

/// Every extension the framework provides.
pub fn factories() -> Factories {
    Factories::new()
}
