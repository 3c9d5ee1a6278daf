//! Strict decoding of a [`Value`](crate::Value) into typed configuration structs, with every
//! error naming the key path where it happened, and every problem reported at once.

mod access;
mod deserializer;
mod error;
mod recovery;
mod squash;

pub use error::DecodeError;
pub(crate) use recovery::decode;

#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod tests;
