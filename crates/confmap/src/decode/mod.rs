//! Strict decoding of a [`Value`](crate::Value) into typed configuration structs, with every
//! error naming the key path where it happened.

mod access;
mod deserializer;
mod error;
mod squash;

pub(crate) use deserializer::ValueDeserializer;
pub use error::DecodeError;

#[cfg(test)]
mod tests;
