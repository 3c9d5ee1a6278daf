//! Feature gates: named switches that let a behaviour ship before it is the default.

#![warn(missing_docs)]

mod error;
mod gate;
mod registry;
mod stage;
#[cfg(test)]
mod test_support;
mod version;

pub use error::{ParseVersionError, RegisterError, SetError, VersionField};
pub use gate::{Gate, GateSpec};
pub use registry::Registry;
pub use stage::Stage;
pub use version::Version;
